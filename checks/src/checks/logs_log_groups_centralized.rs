//! The account's CloudWatch logs reach a central place in every region that has logs: an
//! account-level subscription filter policy ships them to another account, or a cross-account
//! observability link shares them with a monitoring account.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, OamLink, SubscriptionPolicy};

/// The resource type of a cross-account observability link that shares log groups.
const LOG_GROUP_TYPE: &str = "AWS::Logs::LogGroup";

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "logs_log_groups_centralized",
        title: "Application logs are shipped to or shared with a central account in every region with logs",
        practice: Practice::Logging,
        severity: Severity::Medium,
        activity: dsomm::CENTRALIZED_APPLICATION_LOGGING,
        remediation: "In every region with log groups, either create an account-level \
                      subscription filter policy to the log archive account's CloudWatch Logs \
                      destination (aws logs put-account-policy --policy-type \
                      SUBSCRIPTION_FILTER_POLICY --scope ALL --policy-document \
                      '{\"DestinationArn\":\"arn:aws:logs:REGION:LOG_ACCOUNT:destination:NAME\"}'), \
                      or link the account to the monitoring account's sink sharing log groups \
                      (aws oam create-link --resource-types AWS::Logs::LogGroup \
                      --sink-identifier SINK_ARN --label-template '$AccountName').",
        needs: &[Need::LogsSubscriptionPolicies, Need::OamLinks],
        notes: "**Judges** per audited region: CloudWatch Logs' `DescribeLogGroups` (one group: \
does the region have any), `DescribeAccountPolicies` of type `SUBSCRIPTION_FILTER_POLICY` (every \
page) and Observability Access Manager's `ListLinks` (every page). A region with log groups \
passes when an account-level subscription filter policy's `DestinationArn` belongs to another \
account (a CloudWatch Logs destination there, which AWS requires for cross-account delivery), \
or a link shares `AWS::Logs::LogGroup` with a sink of another account; it fails otherwise, \
naming policies that deliver inside the account. A region without log groups is \
not_applicable. An unreadable listing is unknown, unless the other one already passes the \
region.\n\n\
**Edge cases**: central means another account, where the logs of many accounts meet and \
where the applications' own account cannot alter them: a policy to a Kinesis stream, a Firehose \
delivery stream or a Lambda function of the account itself fails, because where it delivers \
is not visible from CloudWatch Logs (if it reaches a central store such as a SIEM, record an \
exception naming it). A policy's filter pattern and its `selectionCriteria` (log groups left \
out) are named in the reason, not judged: shipping part of the logs on purpose is still \
shipping. Subscription filters of single log groups (`DescribeSubscriptionFilters`, one call \
per log group) are not read, nor the log group filter of a link (`GetLink`), nor CloudWatch's \
organization-wide centralization rules (read in the management account only), nor agents that \
ship logs elsewhere (Fluent Bit to a SIEM): such accounts fail and record an exception. A \
cross-account observability link lets the monitoring account search the logs, which stay in \
the account: that is central viewing, and it counts.\n\n\
**Differs from Prowler / Security Hub**: neither has such a check as far as we know; Prowler's \
`cloudwatch_cross_account_sharing_disabled` treats cross-account sharing as a risk to the \
monitoring account, which is another question.",
        module: module_path!(),
    },
    evaluate,
};

/// The account of an ARN (`arn:aws:logs:REGION:ACCOUNT:…`), if it has one.
fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// What a policy ships, for a reason: its filter and the log groups it leaves out.
fn scope_of(p: &SubscriptionPolicy) -> String {
    let mut parts = Vec::new();
    if !p.filter_pattern.trim().is_empty() {
        parts.push(format!("events matching {:?}", p.filter_pattern));
    }
    if let Some(s) = &p.selection_criteria {
        parts.push(format!("log groups {s}"));
    }
    match parts.is_empty() {
        true => String::new(),
        false => format!(" ({})", parts.join(", ")),
    }
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let own = snap.account_id.as_str();
    let foreign = |arn: &str| account_of(arn).is_some_and(|a| a != own);
    let mut verdicts = Vec::new();
    for (region, facts) in &snap.regional {
        let resource = super::account_in(snap, region);
        let shipping = match &facts.log_shipping {
            Err(e) => {
                verdicts.push(super::unknown(
                    &format!("CloudWatch Logs of {region}"),
                    Some(region),
                    e,
                ));
                continue;
            }
            Ok(s) => s,
        };
        if !shipping.has_log_groups {
            verdicts.push(Verdict::not_applicable(
                resource,
                Some(region),
                format!("Account {own} has no log group in {region}."),
            ));
            continue;
        }
        let mut central: Vec<String> = shipping
            .policies
            .iter()
            .filter_map(|p| {
                let d = p.destination.as_deref()?;
                foreign(d).then(|| {
                    format!(
                        "subscription filter policy {} ships to {d}{}",
                        p.name,
                        scope_of(p)
                    )
                })
            })
            .collect();
        let sharing = |l: &&OamLink| {
            l.resource_types.iter().any(|t| t == LOG_GROUP_TYPE) && foreign(&l.sink_arn)
        };
        match &facts.oam_links {
            Ok(links) => central.extend(links.iter().filter(sharing).map(|l| {
                format!(
                    "observability link {} shares log groups with {}",
                    l.label, l.sink_arn
                )
            })),
            Err(e) if central.is_empty() => {
                verdicts.push(super::unknown(&resource, Some(region), e));
                continue;
            }
            Err(_) => {}
        }
        if !central.is_empty() {
            verdicts.push(Verdict::pass(
                resource,
                Some(region),
                format!(
                    "Logs of {region} reach a central account: {}.",
                    central.join("; ")
                ),
            ));
            continue;
        }
        let local: Vec<String> = shipping
            .policies
            .iter()
            .map(|p| match &p.destination {
                Some(d) => format!("{} ships to {d} in the account itself", p.name),
                None => format!("{} names no destination", p.name),
            })
            .collect();
        let why = match local.is_empty() {
            true => "no account-level subscription filter policy ships them to another account and no observability link shares them".to_owned(),
            false => format!(
                "no policy ships them to another account (subscription filter policy {}) and no observability link shares them",
                local.join(", ")
            ),
        };
        verdicts.push(Verdict::fail(
            resource,
            Some(region),
            format!("Logs of account {own} in {region} stay in the account: {why}."),
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::Fact;
    use crate::model::Status;
    use crate::snapshot::LogShipping;

    const ARCHIVE: &str = "444455556666";

    fn policy(destination: &str, pattern: &str) -> SubscriptionPolicy {
        SubscriptionPolicy {
            name: "to-archive".into(),
            destination: Some(destination.into()),
            filter_pattern: pattern.into(),
            selection_criteria: None,
        }
    }

    fn link(sink_account: &str, types: &[&str]) -> OamLink {
        OamLink {
            arn: format!("arn:aws:oam:{REGION}:{ACCOUNT}:link/1"),
            label: "prod".into(),
            sink_arn: format!("arn:aws:oam:{REGION}:{sink_account}:sink/s1"),
            resource_types: types.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    fn run(policies: Vec<SubscriptionPolicy>, links: Fact<Vec<OamLink>>) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.log_shipping = Ok(LogShipping {
            has_log_groups: true,
            policies,
        });
        r.oam_links = links;
        evaluate(&s, &Settings::default())
    }

    /// A policy to another account's destination, or a link sharing log groups with another
    /// account's sink, passes the region.
    #[test]
    fn passes_shipping_or_sharing_with_another_account() {
        let dest = format!("arn:aws:logs:{REGION}:{ARCHIVE}:destination:central");
        let v = run(vec![policy(&dest, "")], Ok(vec![]));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            format!("Logs of eu-west-1 reach a central account: subscription filter policy to-archive ships to {dest}.")
        );
        let v = run(
            vec![],
            Ok(vec![link(
                ARCHIVE,
                &["AWS::CloudWatch::Metric", LOG_GROUP_TYPE],
            )]),
        );
        assert_eq!(v[0].status, Status::Pass);
        assert!(v[0]
            .reason
            .contains("observability link prod shares log groups"));
        // Filtered shipping still ships; the filter is named.
        let v = run(
            vec![policy(&dest, "ERROR")],
            Err(denied("oam", "ListLinks", Some(REGION))),
        );
        assert_eq!(v[0].status, Status::Pass);
        assert!(
            v[0].reason.ends_with("(events matching \"ERROR\")."),
            "{}",
            v[0].reason
        );
    }

    /// Shipping inside the account, or a link that shares only metrics, does not centralize.
    #[test]
    fn fails_without_a_central_account() {
        let v = run(vec![], Ok(vec![]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Logs of account 111122223333 in eu-west-1 stay in the account: no account-level subscription filter policy ships them to another account and no observability link shares them."
        );
        let firehose = format!("arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/logs");
        let v = run(
            vec![policy(&firehose, "")],
            Ok(vec![
                link(ARCHIVE, &["AWS::CloudWatch::Metric"]),
                link(ACCOUNT, &[LOG_GROUP_TYPE]),
            ]),
        );
        assert_eq!(v[0].status, Status::Fail);
        assert!(
            v[0].reason.contains(&format!(
                "to-archive ships to {firehose} in the account itself"
            )),
            "{}",
            v[0].reason
        );
    }

    /// A region without log groups has no application logs to centralize.
    #[test]
    fn not_applicable_without_log_groups() {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().log_shipping = Ok(LogShipping::default());
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::NotApplicable);
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(vec![], Err(denied("oam", "ListLinks", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("oam:ListLinks"), "{}", v[0].reason);
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().log_shipping =
            Err(denied("logs", "DescribeAccountPolicies", Some(REGION)));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("logs:DescribeAccountPolicies"));
    }
}
