//! What AWS sends the agent's event queue, for tests and benchmarks: the SQS queue (in moto, in
//! the management account) and the EventBridge event of a CloudTrail management event.

use crate::seed;
use serde_json::json;

/// The EventBridge event AWS emits for a CloudTrail management event, with `source` as given (a
/// spoofed one may differ from what `event_source` implies).
pub fn event(id: &str, account: &str, source: &str, event_source: &str, name: &str) -> String {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
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
    pub async fn create(endpoint: &str) -> Queue {
        let cfg = seed::management_config(endpoint).await;
        let client = aws_sdk_sqs::Client::new(&cfg);
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
