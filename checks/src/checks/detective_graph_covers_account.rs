//! Amazon Detective correlates the account's security events in every audited region: the account
//! administers a behavior graph there, or is an enabled member of the organization's.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::facts::FactError;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "detective_graph_covers_account",
        title: "Amazon Detective correlates the account's security events in every audited region",
        practice: Practice::Monitoring,
        severity: Severity::Low,
        activity: dsomm::CORRELATION_OF_SECURITY_EVENTS,
        remediation: "From the Detective administrator account (the delegated administrator of \
                      detective.amazonaws.com), enable the account in the organization's behavior \
                      graph of each region (aws detective create-members, or \
                      update-organization-configuration --auto-enable).",
        needs: &[Need::DetectiveGraphs, Need::OrganizationDetectiveGraphs],
        notes: "**Judges** in every audited region whether Amazon Detective builds the account's activity into a behavior graph, which links CloudTrail management events, VPC flow logs, GuardDuty findings and EKS audit logs across accounts and time: the region passes when the account administers a graph there (`ListGraphs` in the account: an administrator is always a member of its own graph), or when a graph of an account that administers the organization's (a delegated administrator of `detective.amazonaws.com`, or the management account; `ListGraphs` and `ListMembers` there, read once per run through its audit role) lists the account with status `ENABLED`. It fails otherwise, naming the member status when the account is listed but not enabled. Never not_applicable.\n\n\
**Edge cases**: a member whose status is `INVITED`, `VERIFICATION_IN_PROGRESS`, `VERIFICATION_FAILED` or `ACCEPTED_BUT_DISABLED` (the graph's data volume limit) contributes no data and fails; a graph of another region does not cover the region; an account outside the organization is covered only by a graph it administers. A region that is not covered is `unknown`, not failed, while the organization, its accounts, its delegated administrators or an administrator's graphs cannot be read. Correlation in a SIEM outside AWS, or in Security Lake queried by other tools, is invisible to the AWS APIs and fails here: accept the finding (`[[exceptions]]`) where that is how the team correlates. A membership changed in the administrator account re-checks the administrator at once; the members are judged again at the next scheduled audit.\n\n\
**Differs from Prowler**: Prowler and Security Hub have no check of Detective coverage (Security Hub's Detective.1 only asks that graphs be tagged).",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    snap.regional
        .iter()
        .map(|(region, facts)| {
            if let Ok(Some(arn)) = facts.detective_graphs.as_ref().map(|g| g.first()) {
                return Verdict::pass(
                    arn,
                    Some(region),
                    format!(
                        "Account {} administers the Detective behavior graph {arn} in {region}.",
                        snap.account_id
                    ),
                );
            }
            let account = super::account_in(snap, region);
            match (member_of(snap, region), &facts.detective_graphs) {
                (Membership::Enabled(arn, admin), _) => Verdict::pass(
                    arn,
                    Some(region),
                    format!(
                        "Account {} is an enabled member of the Detective behavior graph of account {admin} in {region}.",
                        snap.account_id
                    ),
                ),
                (_, Err(e)) => {
                    super::unknown(&format!("Detective graphs of {region}"), Some(region), e)
                }
                (Membership::Unknown(e), _) => Verdict::unknown(
                    &account,
                    Some(region),
                    format!(
                        "Account {} administers no Detective graph in {region}, and whether the organization's graph holds it is unknown: {e}.",
                        snap.account_id
                    ),
                ),
                (Membership::Not(why), _) => Verdict::fail(
                    &account,
                    Some(region),
                    format!(
                        "Detective does not correlate the events of account {} in {region}: {why}.",
                        snap.account_id
                    ),
                ),
            }
        })
        .collect()
}

enum Membership<'a> {
    /// An enabled member of this graph of this administrator.
    Enabled(&'a str, &'a str),
    /// Not an enabled member anywhere; why.
    Not(String),
    Unknown(&'a FactError),
}

fn member_of<'a>(snap: &'a AccountSnapshot, region: &str) -> Membership<'a> {
    let org = match snap.organization.as_deref() {
        Ok(o) => o,
        Err(e) => return Membership::Unknown(e),
    };
    if !org.in_use {
        return Membership::Not(
            "it administers no behavior graph and belongs to no organization".into(),
        );
    }
    match &org.accounts {
        Err(e) => return Membership::Unknown(e),
        Ok(members) if !members.contains_key(&snap.account_id) => {
            return Membership::Not(format!(
                "it administers no behavior graph, and organization {} does not list it",
                org.id
            ))
        }
        Ok(_) => {}
    }
    let holders = match &org.detective {
        Ok(g) => &g.holders,
        Err(e) => return Membership::Unknown(e),
    };
    let (mut unreadable, mut listed) = (None, None);
    for (admin, read) in holders {
        match read {
            Ok(by_region) => {
                for g in by_region.get(region).into_iter().flatten() {
                    match g.members.get(&snap.account_id).map(String::as_str) {
                        Some("ENABLED") => return Membership::Enabled(&g.arn, admin),
                        Some(status) => {
                            listed = listed.or(Some(format!(
                                "it is a member of the behavior graph of account {admin} with status {status}, which contributes no data"
                            )))
                        }
                        None => {}
                    }
                }
            }
            Err(e) => unreadable = unreadable.or(Some(e)),
        }
    }
    match (unreadable, listed) {
        (Some(e), _) => Membership::Unknown(e),
        (None, Some(why)) => Membership::Not(why),
        (None, None) => Membership::Not(
            "it administers no behavior graph, and no graph of the organization's Detective administrator holds it".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{DetectiveGraph, OrganizationGraphs};
    use std::collections::BTreeMap;

    const ADMIN: &str = "444455556666";
    const GRAPH: &str = "arn:aws:detective:eu-west-1:444455556666:graph:abc";

    /// A member of `o-demo` administering no graph, whose Detective administrator `ADMIN` holds
    /// `graphs` in `region`.
    fn run(region: &str, graphs: crate::facts::Fact<Vec<DetectiveGraph>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().detective_graphs = Ok(vec![]);
        let mut org = organization(
            &[(ACCOUNT, "shop", &[]), (ADMIN, "security", &[])],
            &[("detective.amazonaws.com", &[ADMIN])],
        );
        let mut holders = BTreeMap::new();
        holders.insert(MANAGEMENT.to_owned(), Ok(BTreeMap::new()));
        holders.insert(
            ADMIN.to_owned(),
            graphs.map(|g| BTreeMap::from([(region.to_owned(), g)])),
        );
        org.detective = Ok(OrganizationGraphs { holders });
        s.organization = Ok(std::sync::Arc::new(org));
        evaluate(&s, &Settings::default())
    }

    fn graph(status: &str) -> DetectiveGraph {
        DetectiveGraph {
            arn: GRAPH.into(),
            members: BTreeMap::from([
                (ADMIN.to_owned(), "ENABLED".to_owned()),
                (ACCOUNT.to_owned(), status.to_owned()),
            ]),
        }
    }

    #[test]
    fn passes_as_an_enabled_member_of_the_organization_graph() {
        let v = run(REGION, Ok(vec![graph("ENABLED")]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                GRAPH,
                Some(REGION),
                format!("Account {ACCOUNT} is an enabled member of the Detective behavior graph of account {ADMIN} in {REGION}.")
            )]
        );
    }

    #[test]
    fn passes_when_the_account_administers_a_graph() {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().detective_graphs = Ok(vec![GRAPH.into()]);
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(v[0].resource, GRAPH);
    }

    /// Listed but not enabled, not listed, or a graph of another region: fail.
    #[test]
    fn fails_when_no_graph_takes_the_account_in() {
        let v = run(REGION, Ok(vec![graph("ACCEPTED_BUT_DISABLED")]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            format!("Detective does not correlate the events of account {ACCOUNT} in {REGION}: it is a member of the behavior graph of account {ADMIN} with status ACCEPTED_BUT_DISABLED, which contributes no data.")
        );
        let mut other = graph("ENABLED");
        other.members.remove(ACCOUNT);
        for v in [
            run(REGION, Ok(vec![other])),
            run("us-east-1", Ok(vec![graph("ENABLED")])),
        ] {
            assert_eq!(v[0].status, Status::Fail, "{v:?}");
            assert!(
                v[0].reason
                    .ends_with("no graph of the organization's Detective administrator holds it."),
                "{}",
                v[0].reason
            );
        }
    }

    #[test]
    fn unknown_when_the_administrator_cannot_be_read_or_the_account_listing_fails() {
        let v = run(REGION, Err(denied("detective", "ListGraphs", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert!(
            v[0].reason.contains(
                "whether the organization's graph holds it is unknown: detective:ListGraphs"
            ),
            "{}",
            v[0].reason
        );
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().detective_graphs =
            Err(denied("detective", "ListGraphs", Some(REGION)));
        s.organization = Ok(std::sync::Arc::new(
            crate::snapshot::Organization::not_in_use(),
        ));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Unknown);
    }

    #[test]
    fn an_account_without_organization_or_graph_fails() {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().detective_graphs = Ok(vec![]);
        s.organization = Ok(std::sync::Arc::new(
            crate::snapshot::Organization::not_in_use(),
        ));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Fail);
        assert!(v[0]
            .reason
            .ends_with("it administers no behavior graph and belongs to no organization."));
    }
}
