//! A CloudWatch alarm with an action fires on root account usage: a CloudWatch Logs metric filter
//! on the log group that a logging multi-region trail delivers to (the trail's
//! `CloudWatchLogsLogGroupArn`, in that log group's region), whose pattern *matches* root usage —
//! evaluated against CloudTrail events of the root user, so quoted or unquoted values and any
//! spacing count, and a pattern that also matches other users' events does not — feeds a metric,
//! and an alarm on that metric has actions enabled and at least one alarm action.
//!
//! Limitation: the agent does not read SNS (`ListSubscriptionsByTopic` is not collected), so an alarm
//! whose action is an SNS topic without subscribers still passes; the passing reason says so.
//! Every account has a root user, so this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::filter_pattern::Pattern;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, MetricAlarm, MetricFilter, Need};
use serde_json::{json, Value};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudwatch_root_usage_alarm",
        title: "An alarm fires on root account usage",
        practice: Practice::Monitoring,
        severity: Severity::Medium,
        activity: dsomm::ALERTING,
        remediation: "Deliver a multi-region trail to a CloudWatch Logs log group; on that log group \
                      create a metric filter { $.userIdentity.type = \"Root\" && \
                      $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }, \
                      an alarm on its metric (threshold >= 1) and an SNS topic action with a \
                      subscribed responder.",
        needs: &[Need::CloudWatchMetricAlarms, Need::CloudTrailTrails],
        notes: "**Judges** the metric filters (`DescribeMetricFilters`) and alarms (`DescribeAlarms`) \
of every audited region: a filter counts when it sits on the log group of a trail that is \
multi-region, logging and records management events (as `cloudtrail_multi_region_logging` judges), \
in that log group's region, and its pattern matches the root user's API calls and console sign-ins \
but not an IAM user's call; an alarm on one of its metrics must have actions enabled and an alarm \
action.\n\n\
**Edge cases**: patterns are parsed (`&&`, `||`, parentheses, quoted or unquoted values, `NOT EXISTS`, \
wildcards) and evaluated, never compared as text; a filter on a log group no logging trail delivers \
to receives no events and does not count; a pattern that matches every event is not a root alarm. \
SNS subscriptions are not read (the passing reason says so).\n\n\
**Differs from Prowler** `cloudwatch_log_metric_filter_root_usage` (CIS 4.3), which searches the \
pattern text with a regular expression and checks the trail's log group: ours evaluates the pattern's \
meaning, so spacing and quoting variants pass and over-broad patterns fail.",
        module: module_path!(),
    },
    evaluate,
};

/// CloudTrail events of root usage (an API call, a console sign-in) that a root-usage filter must
/// match, and one of an IAM user that it must not.
fn sample_events() -> (Vec<Value>, Value) {
    let root = json!({"type": "Root", "principalId": "111122223333",
        "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"});
    let call = |identity: &Value| {
        json!({"eventVersion": "1.09", "userIdentity": identity, "eventTime": "2025-06-01T00:00:00Z",
            "eventSource": "iam.amazonaws.com", "eventName": "CreateAccessKey",
            "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7", "readOnly": false,
            "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": "111122223333"})
    };
    let signin = json!({"eventVersion": "1.09", "userIdentity": root, "eventTime": "2025-06-01T00:00:00Z",
        "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7", "eventType": "AwsConsoleSignIn",
        "responseElements": {"ConsoleLogin": "Success"}, "managementEvent": true,
        "recipientAccountId": "111122223333"});
    let user = json!({"type": "IAMUser", "principalId": "AIDAEXAMPLE",
        "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"});
    (vec![call(&root), signin], call(&user))
}

fn matches_root(f: &MetricFilter) -> bool {
    let Ok(p) = Pattern::parse(&f.pattern) else {
        return false;
    };
    let (root, user) = sample_events();
    root.iter().all(|e| p.matches(e)) && !p.matches(&user)
}

/// The alarm with an action on a metric of a root-usage filter, if any.
fn root_alarm<'a>(filters: &[&MetricFilter], alarms: &'a [MetricAlarm]) -> Option<&'a MetricAlarm> {
    filters
        .iter()
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

/// (region, log group name) of a log group ARN
/// (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`).
fn log_group(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    (parts.len() >= 7 && parts[5] == "log-group")
        .then(|| (parts[3], parts[6].trim_end_matches(":*")))
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let trails = match &snap.cloudtrail {
        Err(e) => return vec![super::unknown(&account, None, e)],
        Ok(t) => t,
    };
    // The log groups that receive the account's management events.
    let mut trail_error = trails.listing_errors.first();
    let mut groups: Vec<(&str, &str)> = Vec::new();
    for t in &trails.trails {
        match t.logging_gap() {
            Ok(None) => groups.extend(t.log_group_arn.as_deref().and_then(log_group)),
            Ok(Some(_)) => {}
            Err(e) => trail_error = trail_error.or(Some(e)),
        }
    }
    let mut first_error = None;
    let mut has_filter = false;
    let mut filter_elsewhere = false;
    for (region, facts) in &snap.regional {
        let filters = match &facts.metric_filters {
            Err(e) => {
                first_error = first_error.or(Some(e));
                continue;
            }
            Ok(f) => f,
        };
        let root_filters: Vec<&MetricFilter> = filters.iter().filter(|f| matches_root(f)).collect();
        let on_trail: Vec<&MetricFilter> = root_filters
            .iter()
            .copied()
            .filter(|f| groups.contains(&(region.as_str(), f.log_group.as_str())))
            .collect();
        filter_elsewhere |= on_trail.len() < root_filters.len();
        if on_trail.is_empty() {
            continue;
        }
        has_filter = true;
        match &facts.alarms {
            Err(e) => first_error = first_error.or(Some(e)),
            Ok(alarms) => {
                if let Some(a) = root_alarm(&on_trail, alarms) {
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
    if let Some(e) = first_error.or(trail_error) {
        return vec![super::unknown(&account, None, e)];
    }
    let why = if has_filter {
        "no alarm with an action watches its root-usage metric filter"
    } else if filter_elsewhere {
        "its root-usage metric filter is not on the log group of a logging multi-region trail"
    } else if groups.is_empty() {
        "no logging multi-region trail delivers to CloudWatch Logs"
    } else {
        "it has no metric filter that matches root usage on its trail's log group"
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
    use crate::snapshot::{CloudTrailFacts, ManagementEvents, Trail};

    fn filter(pattern: &str) -> MetricFilter {
        MetricFilter {
            name: "root".into(),
            log_group: "trail".into(),
            pattern: pattern.into(),
            metrics: vec![("CIS".into(), "RootUsage".into())],
        }
    }

    const CIS: &str = "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }";

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

    fn trail(group: Option<&str>, logging: bool) -> Trail {
        Trail {
            name: "org".into(),
            arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/org"),
            home_region: REGION.into(),
            multi_region: true,
            organization_trail: false,
            s3_bucket: Some("logs".into()),
            kms_key_id: None,
            log_file_validation: true,
            is_logging: Ok(logging),
            management_events: Ok(ManagementEvents::all()),
            log_group_arn: group
                .map(|g| format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{g}:*")),
        }
    }

    fn run_with(
        trails: Vec<Trail>,
        f: crate::facts::Fact<Vec<MetricFilter>>,
        a: crate::facts::Fact<Vec<MetricAlarm>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        s.cloudtrail = Ok(CloudTrailFacts {
            trails,
            listing_errors: vec![],
        });
        let r = s.regional.get_mut(REGION).unwrap();
        r.metric_filters = f;
        r.alarms = a;
        evaluate(&s, &Settings::default())
    }

    fn run(
        f: crate::facts::Fact<Vec<MetricFilter>>,
        a: crate::facts::Fact<Vec<MetricAlarm>>,
    ) -> Vec<Verdict> {
        run_with(vec![trail(Some("trail"), true)], f, a)
    }

    #[test]
    fn passes_with_filter_and_alarm_action() {
        let v = run(Ok(vec![filter(CIS)]), Ok(vec![alarm(&["arn:aws:sns:t"])]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:root-usage",
                Some(REGION),
                "Alarm root-usage fires on root usage of account 111122223333 with 1 action(s) (SNS subscriptions not verified)."
            )]
        );
    }

    /// Unquoted values and other spacing pass; a pattern that matches every user, or one that
    /// narrows root usage to one event, does not.
    #[test]
    fn filters_are_matched_by_meaning() {
        let ok = run(
            Ok(vec![filter("{$.userIdentity.type=Root&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!=AwsServiceEvent}")]),
            Ok(vec![alarm(&["arn:aws:sns:t"])]),
        );
        assert_eq!(ok[0].status, Status::Pass);
        for broad_or_narrow in [
            "{ $.eventName = * }",
            "{ $.userIdentity.type = \"Root\" && $.eventName = \"ConsoleLogin\" }",
            "Root",
        ] {
            let v = run(
                Ok(vec![filter(broad_or_narrow)]),
                Ok(vec![alarm(&["arn:aws:sns:t"])]),
            );
            assert_eq!(v[0].status, Status::Fail, "{broad_or_narrow}");
        }
    }

    /// The filter must sit on the log group of a logging multi-region trail.
    #[test]
    fn filter_must_be_on_the_trails_log_group() {
        let a = || Ok(vec![alarm(&["arn:aws:sns:t"])]);
        let v = run_with(vec![trail(Some("other"), true)], Ok(vec![filter(CIS)]), a());
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no alarm on root usage: its root-usage metric filter is not on the log group of a logging multi-region trail."
        );
        let v = run_with(
            vec![trail(Some("trail"), false)],
            Ok(vec![filter(CIS)]),
            a(),
        );
        assert_eq!(v[0].status, Status::Fail);
        let v = run_with(vec![trail(None, true)], Ok(vec![]), a());
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no alarm on root usage: no logging multi-region trail delivers to CloudWatch Logs."
        );
    }

    /// Never not_applicable: every account has a root user to watch.
    #[test]
    fn fails_without_action_or_filter() {
        let v = run(Ok(vec![filter(CIS)]), Ok(vec![alarm(&[])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no alarm on root usage: no alarm with an action watches its root-usage metric filter."
        );
        let v = run(Ok(vec![]), Ok(vec![alarm(&["arn:aws:sns:t"])]));
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no alarm on root usage: it has no metric filter that matches root usage on its trail's log group."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(
            Ok(vec![filter(CIS)]),
            Err(denied("cloudwatch", "DescribeAlarms", Some(REGION))),
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: cloudwatch:DescribeAlarms in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
