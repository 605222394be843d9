//! A CloudWatch alarm with an action fires on root account usage: a CloudWatch Logs metric filter
//! matching `$.userIdentity.type = "Root"` (on the log group CloudTrail delivers to) feeds a metric,
//! and an alarm on that metric has actions enabled and at least one alarm action.
//!
//! Limitation: the agent does not read SNS (`ListSubscriptionsByTopic` is not collected), so an alarm
//! whose action is an SNS topic without subscribers still passes; the passing reason says so.
//! The trail's log group lives in one region, so any audited region proving it passes the account;
//! every account has a root user, so this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, MetricAlarm, MetricFilter, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudwatch_root_usage_alarm",
        title: "An alarm fires on root account usage",
        practice: Practice::Monitoring,
        severity: Severity::Medium,
        activity: dsomm::ALERTING,
        remediation: "On the CloudTrail log group, create a metric filter { $.userIdentity.type = \
                      \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \
                      \"AwsServiceEvent\" }, an alarm on its metric (threshold >= 1) and an SNS \
                      topic action with a subscribed responder.",
        needs: &[Need::CloudWatchMetricAlarms],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn matches_root(f: &MetricFilter) -> bool {
    let p: String = f.pattern.chars().filter(|c| !c.is_whitespace()).collect();
    p.contains("$.userIdentity.type=\"Root\"")
}

/// The alarm with an action on a metric of a root-usage filter, if any.
fn root_alarm<'a>(filters: &[MetricFilter], alarms: &'a [MetricAlarm]) -> Option<&'a MetricAlarm> {
    filters
        .iter()
        .filter(|f| matches_root(f))
        .flat_map(|f| f.metrics.iter())
        .find_map(|(ns, name)| {
            alarms.iter().find(|a| {
                a.namespace.as_deref() == Some(ns.as_str())
                    && a.metric_name.as_deref() == Some(name.as_str())
                    && a.actions_enabled
                    && !a.alarm_actions.is_empty()
            })
        })
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let mut first_error = None;
    let mut has_filter = false;
    for (region, facts) in &snap.regional {
        let filters = match &facts.metric_filters {
            Err(e) => {
                first_error = first_error.or(Some(e));
                continue;
            }
            Ok(f) => f,
        };
        has_filter |= filters.iter().any(matches_root);
        if !filters.iter().any(matches_root) {
            continue;
        }
        match &facts.alarms {
            Err(e) => first_error = first_error.or(Some(e)),
            Ok(alarms) => {
                if let Some(a) = root_alarm(filters, alarms) {
                    return vec![Verdict::pass(
                        &a.arn,
                        Some(region),
                        format!(
                            "Alarm {} fires on root usage of account {} with {} action(s) \
                             (SNS subscriptions not verified).",
                            a.name,
                            snap.account_id,
                            a.alarm_actions.len()
                        ),
                    )];
                }
            }
        }
    }
    if let Some(e) = first_error {
        return vec![super::unknown(&account, None, e)];
    }
    let why = if has_filter {
        "no alarm with an action watches its root-usage metric filter"
    } else {
        "it has no root-usage metric filter"
    };
    vec![Verdict::fail(
        &account,
        None,
        format!(
            "Account {} has no alarm on root usage: {why}.",
            snap.account_id
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;

    fn filter() -> MetricFilter {
        MetricFilter {
            name: "root".into(),
            log_group: "trail".into(),
            pattern: "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS }"
                .into(),
            metrics: vec![("CIS".into(), "RootUsage".into())],
        }
    }

    fn alarm(actions: &[&str]) -> MetricAlarm {
        MetricAlarm {
            name: "root-usage".into(),
            arn: format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:root-usage"),
            namespace: Some("CIS".into()),
            metric_name: Some("RootUsage".into()),
            actions_enabled: true,
            alarm_actions: actions.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn run(
        f: crate::facts::Fact<Vec<MetricFilter>>,
        a: crate::facts::Fact<Vec<MetricAlarm>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.metric_filters = f;
        r.alarms = a;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_filter_and_alarm_action() {
        let v = run(Ok(vec![filter()]), Ok(vec![alarm(&["arn:aws:sns:t"])]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:root-usage",
                Some(REGION),
                "Alarm root-usage fires on root usage of account 111122223333 with 1 action(s) (SNS subscriptions not verified)."
            )]
        );
    }

    /// Never not_applicable: every account has a root user to watch.
    #[test]
    fn fails_without_action_or_filter() {
        let v = run(Ok(vec![filter()]), Ok(vec![alarm(&[])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no alarm on root usage: no alarm with an action watches its root-usage metric filter."
        );
        let v = run(Ok(vec![]), Ok(vec![alarm(&["arn:aws:sns:t"])]));
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no alarm on root usage: it has no root-usage metric filter."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(
            Ok(vec![filter()]),
            Err(denied("cloudwatch", "DescribeAlarms", Some(REGION))),
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: cloudwatch:DescribeAlarms in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
