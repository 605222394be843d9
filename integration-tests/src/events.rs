//! What AWS sends the agent's event queue, for tests and benchmarks: the SQS queue (in moto, in
//! the management account or another), the EventBridge event of a CloudTrail management event,
//! and the shipped EventBridge wiring built in moto (member rules → central bus → queue).

use crate::seed;
use serde_json::json;

/// The EventBridge event AWS emits for a CloudTrail management event, with `source` as given (a
/// spoofed one may differ from what `event_source` implies).
pub fn event(id: &str, account: &str, source: &str, event_source: &str, name: &str) -> String {
    event_at(id, account, source, event_source, name, chrono::Utc::now())
}

/// [`event`] with its `eventTime` (and EventBridge `time`) at `at`.
pub fn event_at(
    id: &str,
    account: &str,
    source: &str,
    event_source: &str,
    name: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> String {
    let now = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "version": "0",
        "id": format!("eb-{id}"),
        "detail-type": "AWS API Call via CloudTrail",
        "source": source,
        "account": account,
        "time": now,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "eventSource": event_source,
            "eventName": name,
            "awsRegion": "us-east-1",
            "eventID": id,
            "eventTime": now,
            "eventType": "AwsApiCall",
            "readOnly": false,
            "recipientAccountId": account,
            "userIdentity": {"type": "AssumedRole", "accountId": account}
        }
    })
    .to_string()
}

pub struct Queue {
    pub client: aws_sdk_sqs::Client,
    pub url: String,
}

impl Queue {
    /// The queue in the management account.
    pub async fn create(endpoint: &str) -> Queue {
        Queue::create_in(&seed::management_config(endpoint).await).await
    }

    /// The queue in the account of `cfg`.
    pub async fn create_in(cfg: &aws_config::SdkConfig) -> Queue {
        let client = aws_sdk_sqs::Client::new(cfg);
        let url = client
            .create_queue()
            .queue_name("maturity-agent-events")
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_owned();
        Queue { client, url }
    }

    pub async fn send(&self, body: &str) {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    pub async fn send_batch(&self, bodies: &[String]) {
        for chunk in bodies.chunks(10) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(b)
                        .build()
                        .unwrap()
                })
                .collect();
            self.client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .unwrap();
        }
    }

    /// Messages still in the queue, visible or in flight.
    pub async fn depth(&self) -> u64 {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap();
        let attrs = out.attributes().cloned().unwrap_or_default();
        [
            A::ApproximateNumberOfMessages,
            A::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .map(|k| {
            attrs
                .get(k)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
    }
}

/// The shipped wiring in the account of `cfg` (its region): the central bus with its rule
/// (`central_pattern`) sending to `queue`, and on the default bus every member rule (`member_rules`
/// of `maturity-agent event-pattern`) forwarding to the central bus. The organization's bus
/// policy is left out: moto forwards between buses of one account without it.
///
/// moto 5.2.5 writes a target's default input without `account` (its default template lacks the
/// field that its paths map reads), where AWS always sends the whole event. The queue target
/// therefore gets an input transformer that writes the event as AWS documents it, every field
/// taken from the event EventBridge matched.
pub async fn wire(cfg: &aws_config::SdkConfig, patterns: &serde_json::Value, queue: &Queue) {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let events = aws_sdk_eventbridge::Client::new(cfg);
    let queue_arn = queue
        .client
        .get_queue_attributes()
        .queue_url(&queue.url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| a.get(&A::QueueArn).cloned())
        .unwrap();
    let bus = events
        .create_event_bus()
        .name("maturity-agent-events")
        .send()
        .await
        .unwrap()
        .event_bus_arn()
        .unwrap()
        .to_owned();
    let fields = [
        "id",
        "version",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    ];
    let whole_event = aws_sdk_eventbridge::types::InputTransformer::builder()
        .set_input_paths_map(Some(
            fields
                .iter()
                .map(|k| (k.replace('-', "_"), format!("$.{k}")))
                .collect(),
        ))
        .input_template(
            r#"{"version": "<version>", "id": "<id>", "detail-type": "<detail_type>", "source": "<source>", "account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}"#,
        )
        .build()
        .unwrap();
    let rule = |name: &str,
                bus: &str,
                pattern: &serde_json::Value,
                target: &str,
                input: Option<aws_sdk_eventbridge::types::InputTransformer>| {
        let events = events.clone();
        let (name, bus, pattern, target) = (
            name.to_owned(),
            bus.to_owned(),
            pattern.to_string(),
            target.to_owned(),
        );
        async move {
            events
                .put_rule()
                .name(&name)
                .event_bus_name(&bus)
                .event_pattern(pattern)
                .send()
                .await
                .unwrap();
            events
                .put_targets()
                .rule(&name)
                .event_bus_name(&bus)
                .targets(
                    aws_sdk_eventbridge::types::Target::builder()
                        .id("next")
                        .arn(target)
                        .set_input_transformer(input)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    };
    rule(
        "maturity-agent-to-queue",
        "maturity-agent-events",
        &patterns["central_pattern"],
        &queue_arn,
        Some(whole_event),
    )
    .await;
    for r in patterns["member_rules"].as_array().unwrap() {
        let name = r["logical_id"].as_str().unwrap();
        rule(name, "default", &r["pattern"], &bus, None).await;
    }
}

/// Puts the CloudTrail record of `event` (an [`event`] body) on the default bus of `cfg`'s account,
/// as CloudTrail does: EventBridge builds the envelope.
pub async fn put_cloudtrail_event(cfg: &aws_config::SdkConfig, event: &str) {
    let e: serde_json::Value = serde_json::from_str(event).unwrap();
    let out = aws_sdk_eventbridge::Client::new(cfg)
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .source(e["source"].as_str().unwrap())
                .detail_type(e["detail-type"].as_str().unwrap())
                .detail(e["detail"].to_string())
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.failed_entry_count(), 0, "{out:?}");
}
