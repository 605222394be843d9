//! IAM Access Analyzer has an active external-access analyzer in every audited region.
//!
//! Analyzers are regional: a region without one leaves resources shared outside the account
//! unreported. Unused-access analyzers do not count (they do not test for exposure). Every account
//! has regions, so this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::facts::FactError;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Analyzer, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "accessanalyzer_enabled",
        title: "IAM Access Analyzer is enabled in every audited region",
        practice: Practice::LeastPrivilege,
        severity: Severity::Medium,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Create an external-access analyzer in every region (aws accessanalyzer \
                      create-analyzer --type ACCOUNT, or ORGANIZATION from the delegated administrator).",
        needs: &[Need::AccessAnalyzers, Need::OrganizationAnalyzers],
        notes: "**Judges** `ListAnalyzers` in every audited region: a region passes when it holds an `ACTIVE` analyzer of type `ACCOUNT` or `ORGANIZATION` (external access), or when an `ACTIVE` analyzer of type `ORGANIZATION` in that region of an account that can hold one (a delegated administrator of `access-analyzer.amazonaws.com`, or the management account) covers it as a member of the organization; it fails otherwise, naming the region. The holders' organization analyzers are read once per run (`ListAnalyzers` with `type=ORGANIZATION` in each audited region, through the holder's audit role, or the organization role when that is the holder's). Every account has regions, so the check is never not_applicable.\n\n\
**Edge cases**: unused-access analyzers (`ACCOUNT_UNUSED_ACCESS`, `ORGANIZATION_UNUSED_ACCESS`) do not count: they report unused permissions, not resources shared outside the zone of trust; an analyzer being created or disabled (`CREATING`, `DISABLED`, `FAILED`) does not count; an organization analyzer covers only the accounts the organization lists (an audited account outside it is not covered) and only its own region. A region without an analyzer of its own is `unknown`, not failed, when the organization, its accounts, its delegated administrators or a holder's analyzers cannot be read (for instance a delegated administrator that is neither audited nor reachable through the members' role), since an organization analyzer may cover it. An analyzer created or deleted in the holder re-checks the holder at once; the members it covers are judged again at the next scheduled audit.\n\n\
**Differs from Prowler** (`accessanalyzer_enabled`) and Security Hub IAM.28: both judge only the account's own analyzers, so every member covered by the delegated administrator's organization analyzer fails there although its resources shared outside the organization are reported; ours counts that coverage, and refuses unused-access analyzers explicitly.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    snap.regional
        .iter()
        .map(|(region, facts)| {
            let own = facts.analyzers.as_ref().map(|analyzers| {
                analyzers.iter().find(|a| {
                    a.status == "ACTIVE" && (a.kind == "ACCOUNT" || a.kind == "ORGANIZATION")
                })
            });
            if let Ok(Some(a)) = own {
                return Verdict::pass(
                    &a.arn,
                    Some(region),
                    format!("Analyzer {} ({}) is active in {region}.", a.name, a.kind),
                );
            }
            let account = super::account_in(snap, region);
            match (organization_analyzer(snap, region), own) {
                (Covered::Yes(holder, a), _) => Verdict::pass(
                    &a.arn,
                    Some(region),
                    format!(
                        "Organization analyzer {} of account {holder} covers account {} in {region}.",
                        a.name, snap.account_id
                    ),
                ),
                (_, Err(e)) => super::unknown(&format!("analyzers of {region}"), Some(region), e),
                (Covered::Unknown(e), _) => Verdict::unknown(
                    &account,
                    Some(region),
                    format!(
                        "Account {} has no active external-access analyzer in {region}, and whether an organization analyzer covers it is unknown: {e}.",
                        snap.account_id
                    ),
                ),
                (Covered::No(why), _) => Verdict::fail(
                    &account,
                    Some(region),
                    format!(
                        "Account {} has no active external-access analyzer in {region}{why}.",
                        snap.account_id
                    ),
                ),
            }
        })
        .collect()
}

/// Whether an active organization analyzer covers the account in `region`.
enum Covered<'a> {
    /// By the analyzer of this holder account.
    Yes(&'a str, &'a Analyzer),
    /// Not covered; the text says why beyond "no analyzer of its own".
    No(String),
    Unknown(&'a FactError),
}

fn organization_analyzer<'a>(snap: &'a AccountSnapshot, region: &str) -> Covered<'a> {
    let org = match snap.organization.as_deref() {
        Ok(o) => o,
        Err(e) => return Covered::Unknown(e),
    };
    if !org.in_use {
        return Covered::No(", and it belongs to no organization".into());
    }
    match &org.accounts {
        Err(e) => return Covered::Unknown(e),
        Ok(members) if !members.contains_key(&snap.account_id) => {
            return Covered::No(format!(
                ", and organization {} does not list it (its analyzers do not cover it)",
                org.id
            ))
        }
        Ok(_) => {}
    }
    let holders = match &org.analyzers {
        Ok(h) => &h.holders,
        Err(e) => return Covered::Unknown(e),
    };
    let mut unreadable = None;
    for (holder, read) in holders {
        match read {
            Ok(by_region) => {
                let active = (by_region.get(region).into_iter().flatten())
                    .find(|a| a.status == "ACTIVE" && a.kind == "ORGANIZATION");
                if let Some(a) = active {
                    return Covered::Yes(holder, a);
                }
            }
            Err(e) => unreadable = unreadable.or(Some(e)),
        }
    }
    match unreadable {
        Some(e) => Covered::Unknown(e),
        None => Covered::No(", nor does an organization analyzer cover it there".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Analyzer;

    fn analyzer(kind: &str, status: &str) -> Analyzer {
        Analyzer {
            name: "main".into(),
            arn: format!("arn:aws:access-analyzer:{REGION}:{ACCOUNT}:analyzer/main"),
            kind: kind.into(),
            status: status.into(),
        }
    }

    /// The account's own analyzers, in an organization whose management account holds none.
    fn run(a: crate::facts::Fact<Vec<Analyzer>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().analyzers = a;
        let mut org = organization(&[(ACCOUNT, "shop", &[])], &[]);
        let mut holders = std::collections::BTreeMap::new();
        holders.insert(MANAGEMENT.to_owned(), Ok(Default::default()));
        org.analyzers = Ok(crate::snapshot::OrganizationAnalyzers { holders });
        s.organization = Ok(std::sync::Arc::new(org));
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_active_account_analyzer() {
        let v = run(Ok(vec![analyzer("ACCOUNT", "ACTIVE")]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:access-analyzer:eu-west-1:111122223333:analyzer/main",
                Some(REGION),
                "Analyzer main (ACCOUNT) is active in eu-west-1."
            )]
        );
    }

    /// No analyzer fails; so does an unused-access analyzer, which does not test for exposure.
    /// Never not_applicable: every audited region is judged.
    #[test]
    fn fails_without_external_access_analyzer() {
        for analyzers in [vec![], vec![analyzer("ACCOUNT_UNUSED_ACCESS", "ACTIVE")]] {
            let v = run(Ok(analyzers));
            assert_eq!(v[0].status, Status::Fail);
            assert_eq!(v[0].resource, "account 111122223333 in eu-west-1");
            assert_eq!(
                v[0].reason,
                "Account 111122223333 has no active external-access analyzer in eu-west-1, nor does an organization analyzer cover it there."
            );
        }
    }

    const ADMIN: &str = "444455556666";

    /// A member of `o-demo` without analyzers of its own, whose delegated administrator `ADMIN`
    /// holds `held` (by region).
    fn covered_by(held: crate::facts::Fact<Vec<(&str, Analyzer)>>) -> Vec<Verdict> {
        use crate::snapshot::OrganizationAnalyzers;
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().analyzers = Ok(vec![]);
        let mut org = organization(
            &[(ACCOUNT, "shop", &[]), (ADMIN, "security", &[])],
            &[("access-analyzer.amazonaws.com", &[ADMIN])],
        );
        let mut holders = std::collections::BTreeMap::new();
        holders.insert(MANAGEMENT.to_owned(), Ok(Default::default()));
        holders.insert(
            ADMIN.to_owned(),
            held.map(|list| {
                let mut by_region = std::collections::BTreeMap::<String, Vec<Analyzer>>::new();
                for (region, a) in list {
                    by_region.entry(region.into()).or_default().push(a);
                }
                by_region
            }),
        );
        org.analyzers = Ok(OrganizationAnalyzers { holders });
        s.organization = Ok(std::sync::Arc::new(org));
        evaluate(&s, &Settings::default())
    }

    fn org_analyzer(status: &str, kind: &str) -> Analyzer {
        Analyzer {
            name: "org".into(),
            arn: format!("arn:aws:access-analyzer:{REGION}:{ADMIN}:analyzer/org"),
            kind: kind.into(),
            status: status.into(),
        }
    }

    /// The delegated administrator's active organization analyzer in the region covers a member
    /// without analyzers of its own.
    #[test]
    fn passes_when_an_organization_analyzer_covers_the_member() {
        let v = covered_by(Ok(vec![(REGION, org_analyzer("ACTIVE", "ORGANIZATION"))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                format!("arn:aws:access-analyzer:{REGION}:{ADMIN}:analyzer/org"),
                Some(REGION),
                format!("Organization analyzer org of account {ADMIN} covers account {ACCOUNT} in {REGION}.")
            )]
        );
    }

    /// An organization analyzer of another region, an unused-access one or one not active does
    /// not cover the member.
    #[test]
    fn fails_when_no_active_organization_analyzer_covers_the_region() {
        for held in [
            vec![("us-east-1", org_analyzer("ACTIVE", "ORGANIZATION"))],
            vec![(REGION, org_analyzer("ACTIVE", "ORGANIZATION_UNUSED_ACCESS"))],
            vec![(REGION, org_analyzer("CREATING", "ORGANIZATION"))],
        ] {
            let v = covered_by(Ok(held));
            assert_eq!(v[0].status, Status::Fail, "{v:?}");
            assert_eq!(
                v[0].reason,
                format!("Account {ACCOUNT} has no active external-access analyzer in {REGION}, nor does an organization analyzer cover it there.")
            );
        }
    }

    /// Whether the member is covered cannot be told while a holder's analyzers cannot be read.
    #[test]
    fn unknown_when_a_holder_cannot_be_read() {
        let v = covered_by(Err(denied(
            "access-analyzer",
            "ListAnalyzers",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown, "{v:?}");
        assert!(
            v[0].reason.starts_with(&format!("Account {ACCOUNT} has no active external-access analyzer in {REGION}, and whether an organization analyzer covers it is unknown: access-analyzer:ListAnalyzers")),
            "{}",
            v[0].reason
        );
    }

    /// An account outside the organization is not covered by its analyzers; one that belongs to
    /// no organization fails as before.
    #[test]
    fn accounts_outside_the_organization_are_not_covered() {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().analyzers = Ok(vec![]);
        let mut org = organization(&[(ADMIN, "security", &[])], &[]);
        org.analyzers = Ok(Default::default());
        s.organization = Ok(std::sync::Arc::new(org));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Fail);
        assert!(
            v[0].reason.ends_with(
                "and organization o-demo does not list it (its analyzers do not cover it)."
            ),
            "{}",
            v[0].reason
        );
        s.organization = Ok(std::sync::Arc::new(
            crate::snapshot::Organization::not_in_use(),
        ));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Fail);
        assert!(
            v[0].reason
                .ends_with(", and it belongs to no organization."),
            "{}",
            v[0].reason
        );
    }

    /// The member's own listing denied, but an organization analyzer covers it: pass; not
    /// covered: unknown on the denied listing.
    #[test]
    fn own_listing_denied_but_covered_passes() {
        let run = |held| {
            let mut s = snapshot();
            let mut org = organization(
                &[(ACCOUNT, "shop", &[]), (ADMIN, "security", &[])],
                &[("access-analyzer.amazonaws.com", &[ADMIN])],
            );
            let mut holders = std::collections::BTreeMap::new();
            holders.insert(ADMIN.to_owned(), Ok(held));
            org.analyzers = Ok(crate::snapshot::OrganizationAnalyzers { holders });
            s.organization = Ok(std::sync::Arc::new(org));
            s.regional.get_mut(REGION).unwrap().analyzers =
                Err(denied("access-analyzer", "ListAnalyzers", Some(REGION)));
            evaluate(&s, &Settings::default())
        };
        let mut held = std::collections::BTreeMap::new();
        held.insert(
            REGION.to_owned(),
            vec![org_analyzer("ACTIVE", "ORGANIZATION")],
        );
        assert_eq!(run(held)[0].status, Status::Pass);
        assert_eq!(run(Default::default())[0].status, Status::Unknown);
    }

    #[test]
    fn unknown_when_listing_denied() {
        let v = run(Err(denied(
            "access-analyzer",
            "ListAnalyzers",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge analyzers of eu-west-1: access-analyzer:ListAnalyzers in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
