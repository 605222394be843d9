//! Event-driven re-checks: CloudTrail events of the member accounts reach an SQS queue through
//! EventBridge (`deploy/cloudformation/events-*.yaml`); the agent verifies each message's envelope,
//! drops repeated deliveries, gathers bursts, and re-checks only the affected facts of one account
//! and region between the scheduled audits.
//!
//! # Layout
//! - [`config`]: the `[events]` section.
//! - [`envelope`]: parsing and verifying one message (source, account, region, CloudTrail fields).
//! - [`dedup`]: the bounded memory of CloudTrail `eventID`s already handled.
//! - [`debounce`]: bursts of events for the same account, region and facts become one re-check.
//! - [`consumer`]: the SQS long-poll with backoff, the processor, the re-check saved as a partial
//!   run with its regressions and alerts; [`metrics`]: its series.
//!
//! The triggers themselves (which events change which facts) are declared by the engine,
//! [`maturity_checks::triggers`]; [`pattern_document`] is what `maturity-agent event-pattern`
//! prints and what the deploy kit's templates are generated from.

pub mod config;
pub mod consumer;
pub mod debounce;
pub mod dedup;
pub mod envelope;
pub mod metrics;

use maturity_checks::catalog;
use maturity_checks::snapshot::Operation;
use maturity_checks::triggers;
use serde_json::{json, Value};

/// Starts the consumer when `[events]` names a queue: its receiver and processor tasks (none
/// otherwise). The event series are registered beside the audit's.
pub fn start(
    shared: std::sync::Arc<crate::daemon::Shared>,
    config: std::sync::Arc<crate::config::Config>,
    base: aws_config::SdkConfig,
) -> Vec<tokio::task::JoinHandle<()>> {
    use std::sync::Arc;
    let Some(sqs) = consumer::Sqs::new(&base, &config) else {
        return vec![];
    };
    let metrics = Arc::new(metrics::EventMetrics::new(shared.metrics.registry()));
    let queue = Arc::new(sqs);
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let e = &config.events;
    let s = shared.clone();
    let receiver = tokio::spawn(consumer::receive_loop(
        queue.clone(),
        tx,
        metrics.clone(),
        std::time::Duration::from_secs_f64(e.retry_initial_seconds),
        std::time::Duration::from_secs_f64(e.retry_max_seconds),
        move || s.is_active(),
    ));
    tracing::info!(queue_url = %queue.url, debounce_seconds = e.debounce_seconds, "event-driven re-checks started");
    let ctx = Arc::new(consumer::Context {
        shared,
        config,
        base,
        metrics,
    });
    let processor = tokio::spawn(consumer::process(ctx, queue, rx));
    vec![receiver, processor]
}

/// The SQS calls of the consumer: exactly these, on the configured queue only.
pub const SQS_OPERATIONS: &[Operation] = &[
    Operation {
        service: "sqs",
        operation: "ReceiveMessage",
        iam_action: "sqs:ReceiveMessage",
    },
    Operation {
        service: "sqs",
        operation: "DeleteMessage",
        iam_action: "sqs:DeleteMessage",
    },
];

/// The statement id of the queue permissions in `iam-policy`.
pub const QUEUE_SID: &str = "EventsQueue";

/// The EventBridge rules for the enabled checks (every check without a config): the member
/// accounts' rules, one per event source, and the central bus's rule.
pub fn pattern_document(config: Option<&crate::config::Config>) -> Value {
    let disabled = config
        .map(crate::config::Config::disabled)
        .unwrap_or_default();
    let needs = catalog::needs_of(&catalog::enabled(&disabled));
    let rules = triggers::member_rules(&needs);
    let sources: Vec<String> = rules
        .iter()
        .map(|r| triggers::eventbridge_source(r.event_source))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    json!({
        "member_rules": rules.iter().map(|r| json!({
            "logical_id": triggers::rule_logical_id(r.event_source),
            "event_source": r.event_source,
            "global_events_region_only": r.global,
            "pattern": r.pattern,
        })).collect::<Vec<_>>(),
        "central_pattern": {
            "source": sources,
            "detail-type": [triggers::DETAIL_TYPE],
        },
    })
}

/// The IAM statement of the consumer when `[events]` names an AWS queue.
pub fn queue_statement(config: &crate::config::Config) -> Option<Value> {
    let arn = config.events.queue_arn()?;
    let actions: Vec<&str> = SQS_OPERATIONS.iter().map(|o| o.iam_action).collect();
    Some(json!({ "Sid": QUEUE_SID, "Effect": "Allow", "Action": actions, "Resource": arn }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Disabling every check that reads security groups drops the EC2 security-group events from
    /// the EC2 rule, and the central rule lists the sources of the member rules.
    #[test]
    fn pattern_follows_the_enabled_checks() {
        let all = pattern_document(None);
        let ec2_names = |doc: &Value| -> Vec<String> {
            doc["member_rules"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["event_source"] == "ec2.amazonaws.com")
                .map(|r| {
                    r["pattern"]["detail"]["eventName"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        assert!(ec2_names(&all).contains(&"AuthorizeSecurityGroupIngress".to_owned()));
        let text = r#"
[[accounts]]
id = "111111111111"
name = "prod"
[checks]
disabled = ["ec2_security_group_no_world_admin_ports", "ec2_default_security_group_closed",
            "ec2_security_group_egress_restricted", "ec2_security_group_no_world_high_risk_ports",
            "rds_instance_not_publicly_accessible"]
"#;
        let config = crate::config::Config::parse(text).unwrap();
        let fewer = pattern_document(Some(&config));
        assert!(!ec2_names(&fewer).contains(&"AuthorizeSecurityGroupIngress".to_owned()));
        assert!(ec2_names(&fewer).contains(&"ModifyInstanceMetadataOptions".to_owned()));
        let sources = all["central_pattern"]["source"].as_array().unwrap();
        assert!(sources.contains(&json!("aws.iam")) && sources.contains(&json!("aws.ec2")));
    }

    /// The queue statement grants exactly the consumer's calls on the configured queue.
    #[test]
    fn queue_statement_is_exactly_the_consumer_calls() {
        let text = r#"
[[accounts]]
id = "111111111111"
name = "prod"
[events]
queue_url = "https://sqs.eu-west-1.amazonaws.com/222222222222/maturity-agent-events"
"#;
        let config = crate::config::Config::parse(text).unwrap();
        let s = queue_statement(&config).unwrap();
        assert_eq!(
            s["Action"],
            json!(["sqs:ReceiveMessage", "sqs:DeleteMessage"])
        );
        assert_eq!(
            s["Resource"],
            "arn:aws:sqs:eu-west-1:222222222222:maturity-agent-events"
        );
    }
}
