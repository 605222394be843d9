//! The account's costs are monitored for anomalies: a Cost Anomaly Detection monitor whose
//! anomalies an alert subscription sends to someone.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ce_anomaly_detection_alerting",
        title: "Cost anomalies are detected and alerted on",
        practice: Practice::Monitoring,
        severity: Severity::Low,
        activity: dsomm::MONITORING_OF_COSTS,
        remediation: "Create a Cost Anomaly Detection monitor (aws ce create-anomaly-monitor, \
                      e.g. type DIMENSIONAL on SERVICE) and an alert subscription of it that \
                      notifies an email address or an SNS topic someone watches (aws ce \
                      create-anomaly-subscription).",
        needs: &[Need::CostAnomalyDetection],
        notes: "**Judges** Cost Explorer's `GetAnomalyMonitors` and `GetAnomalySubscriptions` \
(every page, once for the account): it passes when a subscription names an existing monitor and \
has a subscriber (`EMAIL` or `SNS`) that did not decline, naming them; it fails when there is no \
monitor, or no monitor's anomalies reach anyone. A read error is unknown. Never not_applicable: \
every account has costs.\n\n\
**Edge cases**: a monitor without a subscription still lists anomalies in the console, but \
nobody is told: it does not count, and neither does a subscription whose only email subscriber \
declined. The alert threshold is not judged. Monitors that the organization's management \
account keeps for linked accounts are not visible from a member account: such a member fails \
and should record an exception naming the management account's monitor (the management account \
itself is judged on its own monitors). Budgets, which `budgets_budget_with_notification` judges, \
alert on totals crossing a limit; anomaly detection alerts on spend unlike the account's \
history, which is what DSOMM's cost monitoring asks for.\n\n\
**Differs from Prowler / Security Hub**: neither has such a check as far as we know.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let resource = snap.account_resource();
    let facts = match &snap.cost_anomaly {
        Err(e) => return vec![super::unknown(&resource, None, e)],
        Ok(f) => f,
    };
    let name = |arn: &str| {
        facts
            .monitors
            .iter()
            .find(|(a, _)| a == arn)
            .map(|(_, n)| n.clone())
    };
    let alerting: Vec<String> = facts
        .subscriptions
        .iter()
        .filter(|s| !s.subscribers.is_empty())
        .filter_map(|s| {
            let monitors: Vec<String> = s.monitors.iter().filter_map(|m| name(m)).collect();
            (!monitors.is_empty()).then(|| {
                format!(
                    "subscription {} of monitor {} to {}",
                    s.name,
                    monitors.join(", "),
                    s.subscribers.join(", ")
                )
            })
        })
        .collect();
    if let Some(first) = alerting.first() {
        let more = match alerting.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        return vec![Verdict::pass(
            resource,
            None,
            format!(
                "Account {} alerts on cost anomalies: {first}{more}.",
                snap.account_id
            ),
        )];
    }
    let why = if facts.monitors.is_empty() {
        "has no Cost Anomaly Detection monitor".to_owned()
    } else {
        let names: Vec<&str> = facts.monitors.iter().map(|(_, n)| n.as_str()).collect();
        format!(
            "has anomaly monitors ({}) but no subscription sends their anomalies to anyone",
            names.join(", ")
        )
    };
    vec![Verdict::fail(
        resource,
        None,
        format!("Account {} {why}.", snap.account_id),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::Fact;
    use crate::model::Status;
    use crate::snapshot::{AnomalySubscription, CostAnomalyDetection};

    const MONITOR: &str = "arn:aws:ce::111122223333:anomalymonitor/1";

    fn run(facts: Fact<CostAnomalyDetection>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.cost_anomaly = facts;
        evaluate(&s, &Settings::default())
    }

    fn subscription(monitors: &[&str], subscribers: &[&str]) -> AnomalySubscription {
        AnomalySubscription {
            name: "finance".into(),
            monitors: monitors.iter().map(|m| (*m).to_owned()).collect(),
            subscribers: subscribers.iter().map(|m| (*m).to_owned()).collect(),
        }
    }

    fn facts(subscriptions: Vec<AnomalySubscription>) -> Fact<CostAnomalyDetection> {
        Ok(CostAnomalyDetection {
            monitors: vec![(MONITOR.into(), "services".into())],
            subscriptions,
        })
    }

    #[test]
    fn passes_a_monitor_whose_anomalies_reach_someone() {
        let v = run(facts(vec![subscription(
            &[MONITOR],
            &["EMAIL finops@example.com"],
        )]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} alerts on cost anomalies: subscription finance of monitor services to EMAIL finops@example.com.")
        );
    }

    #[test]
    fn fails_without_monitor_or_without_a_subscriber() {
        let v = run(Ok(CostAnomalyDetection::default()));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} has no Cost Anomaly Detection monitor.")
        );
        for subs in [
            vec![],
            vec![subscription(&[MONITOR], &[])],
            vec![subscription(
                &["arn:aws:ce::111122223333:anomalymonitor/gone"],
                &["SNS t"],
            )],
        ] {
            let v = run(facts(subs));
            assert_eq!(v[0].status, Status::Fail);
            assert_eq!(
                v[0].reason,
                format!("Account {ACCOUNT} has anomaly monitors (services) but no subscription sends their anomalies to anyone.")
            );
        }
    }

    #[test]
    fn unknown_when_unreadable() {
        let v = run(Err(denied("ce", "GetAnomalyMonitors", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert!(
            v[0].reason.contains("GetAnomalyMonitors"),
            "{}",
            v[0].reason
        );
    }
}
