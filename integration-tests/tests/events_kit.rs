//! The deploy kit's event wiring (`deploy/cloudformation/events-*.yaml`) agrees with the code: the
//! member rules are exactly `maturity-agent event-pattern`'s, the global services' rules exist in
//! us-east-1 only, every rule forwards to the central bus, the central bus admits the organization
//! only, its rule feeds a queue with a dead-letter queue, and the agent's policy on that queue is
//! exactly the consumer's calls. `deploy/regenerate` rewrites the generated parts.

use integration_tests::deploy::yaml_file;
use maturity_agent::events::{self, pattern_document};
use serde_json::{json, Value};

fn resources(template: &Value) -> &serde_json::Map<String, Value> {
    template["Resources"].as_object().unwrap()
}

/// Each member rule of the template is the generated one (pattern, global condition), and the
/// template has no rule the generator does not make.
#[test]
fn member_rules_are_exactly_the_generated_ones() {
    let template = yaml_file("deploy/cloudformation/events-member.yaml");
    let generated = pattern_document(None);
    let rules = generated["member_rules"].as_array().unwrap();
    let shipped: Vec<(&String, &Value)> = resources(&template)
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Events::Rule")
        .collect();
    assert_eq!(shipped.len(), rules.len(), "run deploy/regenerate");
    for rule in rules {
        let id = rule["logical_id"].as_str().unwrap();
        let r = &template["Resources"][id];
        assert_eq!(
            r["Type"], "AWS::Events::Rule",
            "{id}: run deploy/regenerate"
        );
        assert_eq!(
            r["Properties"]["EventPattern"], rule["pattern"],
            "{id}: run deploy/regenerate"
        );
        assert_eq!(r["Properties"]["EventBusName"], "default");
        let global = rule["global_events_region_only"].as_bool().unwrap();
        assert_eq!(
            r["Condition"] == "GlobalEventsRegion",
            global,
            "{id}: global services' rules exist in us-east-1 only"
        );
        assert_eq!(
            r["Properties"]["Targets"],
            json!([{ "Id": "central-bus", "Arn": "CentralEventBusArn", "RoleArn": "ForwardRole.Arn" }])
        );
    }
    // The condition is us-east-1, where CloudTrail records IAM's, CloudFront's, Organizations'
    // and Budgets' events.
    assert_eq!(
        template["Conditions"]["GlobalEventsRegion"],
        json!(["AWS::Region", "us-east-1"])
    );
    for source in ["iam.amazonaws.com", "organizations.amazonaws.com"] {
        assert!(rules
            .iter()
            .any(|r| r["event_source"] == source && r["global_events_region_only"] == true));
    }
    let forward = &template["Resources"]["ForwardRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"][0];
    assert_eq!(forward["Action"], "events:PutEvents");
    assert_eq!(forward["Resource"], "CentralEventBusArn");
}

/// The central bus admits principals of the organization only; its rule's pattern is the
/// generated one and targets the queue, whose dead-letter queue and long poll are set; the
/// consumer's policy is exactly the SQS calls the agent makes, on that queue.
#[test]
fn central_side_is_organization_only_with_a_dead_letter_queue() {
    let template = yaml_file("deploy/cloudformation/events-central.yaml");
    let r = &template["Resources"];
    let policy = &r["EventBusPolicy"]["Properties"]["Statement"];
    assert_eq!(policy["Action"], "events:PutEvents");
    assert_eq!(
        policy["Condition"],
        json!({ "StringEquals": { "aws:PrincipalOrgID": "OrganizationId" } })
    );
    let rule = &r["ToQueueRule"]["Properties"];
    assert_eq!(
        rule["EventPattern"],
        pattern_document(None)["central_pattern"],
        "run deploy/regenerate"
    );
    assert_eq!(rule["Targets"][0]["Arn"], "Queue.Arn");
    assert_eq!(
        rule["Targets"][0]["DeadLetterConfig"]["Arn"],
        "DeadLetterQueue.Arn"
    );
    let queue = &r["Queue"]["Properties"];
    assert_eq!(queue["ReceiveMessageWaitTimeSeconds"], 20);
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        "DeadLetterQueue.Arn"
    );
    let defaults = maturity_agent::events::config::EventsConfig::default();
    assert_eq!(
        queue["VisibilityTimeout"],
        defaults.visibility_timeout_seconds
    );
    let consumer = &r["ConsumerPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    assert_eq!(consumer.as_array().unwrap().len(), 1);
    assert_eq!(consumer[0]["Sid"], events::QUEUE_SID);
    let actions: Vec<&str> = events::SQS_OPERATIONS
        .iter()
        .map(|o| o.iam_action)
        .collect();
    assert_eq!(consumer[0]["Action"], json!(actions));
    assert_eq!(consumer[0]["Resource"], "Queue.Arn");
    for p in ["QueuePolicy", "DeadLetterQueuePolicy"] {
        let s = &r[p]["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(s["Principal"], json!({ "Service": "events.amazonaws.com" }));
        assert_eq!(
            s["Condition"]["ArnEquals"]["aws:SourceArn"],
            "ToQueueRule.Arn"
        );
    }
}

/// `maturity-agent event-pattern` prints the document the templates are generated from, and
/// `iam-policy` with `[events]` adds exactly the queue statement.
#[test]
fn commands_print_patterns_and_the_queue_statement() {
    let out = std::process::Command::new(integration_tests::agent::binary())
        .arg("event-pattern")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, pattern_document(None));

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        r#"
[[accounts]]
id = "111111111111"
name = "prod"
[events]
queue_url = "https://sqs.eu-west-1.amazonaws.com/222222222222/maturity-agent-events"
"#,
    )
    .unwrap();
    let out = std::process::Command::new(integration_tests::agent::binary())
        .args(["iam-policy", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();
    let queue = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == events::QUEUE_SID)
        .expect("EventsQueue statement");
    assert_eq!(
        queue["Resource"],
        "arn:aws:sqs:eu-west-1:222222222222:maturity-agent-events"
    );
}
