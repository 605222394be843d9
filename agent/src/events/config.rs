//! The `[events]` section: the SQS queue of CloudTrail events (EventBridge → SQS) that triggers
//! targeted re-checks between the scheduled audits. Absent or without `queue_url`, the agent only
//! audits on schedule.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventsConfig {
    /// The queue the central event bus's rule sends to (`deploy/cloudformation/events-central.yaml`
    /// output `QueueUrl`), e.g. `https://sqs.eu-west-1.amazonaws.com/111111111111/maturity-agent-events`.
    /// Unset: no event-driven re-checks.
    pub queue_url: Option<Spanned<String>>,
    /// The queue's region; default: the region in the queue URL's host, else `aws.regions[0]`.
    pub region: Option<String>,
    /// Events for the same account, region and facts within this window make one re-check; the
    /// window starts at the first event. Trail events (`StopLogging`, `DeleteTrail`, `UpdateTrail`)
    /// do not wait.
    pub debounce_seconds: f64,
    /// Long-poll wait of one `ReceiveMessage` (0–20 s).
    pub wait_time_seconds: i32,
    /// Messages per `ReceiveMessage` (1–10).
    pub max_messages: i32,
    /// How long a received message stays invisible to other consumers; it must cover the debounce
    /// window plus a re-check, or the message comes back while it is being handled.
    pub visibility_timeout_seconds: i32,
    /// How many CloudTrail `eventID`s are remembered to drop repeated deliveries.
    pub dedup_capacity: usize,
    /// First delay after SQS could not be reached or refused; it doubles up to `retry_max_seconds`.
    pub retry_initial_seconds: f64,
    pub retry_max_seconds: f64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            queue_url: None,
            region: None,
            debounce_seconds: 5.0,
            wait_time_seconds: 20,
            max_messages: 10,
            visibility_timeout_seconds: 120,
            dedup_capacity: 100_000,
            retry_initial_seconds: 1.0,
            retry_max_seconds: 60.0,
        }
    }
}

impl EventsConfig {
    /// Whether event-driven re-checks are on.
    pub fn enabled(&self) -> bool {
        self.queue_url.is_some()
    }

    /// The queue's region: `region`, else the one in an AWS queue URL's host
    /// (`sqs.<region>.amazonaws.com`), else `fallback`.
    pub fn queue_region(&self, fallback: &str) -> String {
        if let Some(r) = &self.region {
            return r.clone();
        }
        self.queue_url
            .as_ref()
            .and_then(|u| queue_url_parts(u.get_ref()))
            .and_then(|p| p.region)
            .unwrap_or_else(|| fallback.to_owned())
    }

    /// The queue's ARN for the IAM policy, when the URL is an AWS queue URL.
    pub fn queue_arn(&self) -> Option<String> {
        let parts = queue_url_parts(self.queue_url.as_ref()?.get_ref())?;
        Some(format!(
            "arn:aws:sqs:{}:{}:{}",
            parts.region.as_deref().or(self.region.as_deref())?,
            parts.account,
            parts.name
        ))
    }

    pub fn validate(&self, at: &dyn Fn(std::ops::Range<usize>) -> String) -> Result<(), String> {
        if let Some(u) = &self.queue_url {
            if queue_url_parts(u.get_ref()).is_none() {
                return Err(format!(
                    "{}: events.queue_url \"{}\" is not an SQS queue URL (http(s)://host/ACCOUNT_ID/QUEUE_NAME)",
                    at(u.span()),
                    u.get_ref()
                ));
            }
        }
        let d = self.debounce_seconds;
        if !(0.0..=300.0).contains(&d) {
            return Err(format!(
                "events.debounce_seconds is {d}; it must be between 0 and 300"
            ));
        }
        if !(0..=20).contains(&self.wait_time_seconds) {
            return Err(format!(
                "events.wait_time_seconds is {}; SQS allows 0 to 20",
                self.wait_time_seconds
            ));
        }
        if !(1..=10).contains(&self.max_messages) {
            return Err(format!(
                "events.max_messages is {}; SQS allows 1 to 10",
                self.max_messages
            ));
        }
        if f64::from(self.visibility_timeout_seconds) < d + 30.0
            || self.visibility_timeout_seconds > 43_200
        {
            return Err(format!(
                "events.visibility_timeout_seconds is {}; it must be at least debounce_seconds + 30 and at most 43200",
                self.visibility_timeout_seconds
            ));
        }
        if self.dedup_capacity == 0 {
            return Err("events.dedup_capacity must be at least 1".into());
        }
        let (a, b) = (self.retry_initial_seconds, self.retry_max_seconds);
        if a.is_nan() || b.is_nan() || a <= 0.0 || b < a {
            return Err(
                "events.retry_initial_seconds must be above 0 and retry_max_seconds at least that"
                    .into(),
            );
        }
        Ok(())
    }
}

/// An SQS queue URL's parts: `https://sqs.<region>.amazonaws.com/<account>/<name>` (any host for
/// an endpoint override, whose region is then unknown).
pub struct QueueUrlParts {
    pub region: Option<String>,
    pub account: String,
    pub name: String,
}

pub fn queue_url_parts(url: &str) -> Option<QueueUrlParts> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let mut parts = rest.split('/');
    let host = parts.next()?;
    let account = parts.next()?;
    let name = parts.next()?;
    if parts.next().is_some_and(|p| !p.is_empty())
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
        || name.is_empty()
        || name.len() > 80
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let region = host
        .strip_prefix("sqs.")
        .and_then(|h| h.split_once(".amazonaws.com"))
        .map(|(r, _)| r.to_owned());
    Some(QueueUrlParts {
        region,
        account: account.to_owned(),
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<EventsConfig, String> {
        let c: EventsConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate(&|_| "line ?".to_owned())?;
        Ok(c)
    }

    /// The defaults are valid and off; an AWS queue URL gives the region and the ARN.
    #[test]
    fn queue_url_gives_region_and_arn() {
        assert!(!parse("").unwrap().enabled());
        let c = parse(
            r#"queue_url = "https://sqs.eu-west-1.amazonaws.com/111111111111/maturity-agent-events""#,
        )
        .unwrap();
        assert!(c.enabled());
        assert_eq!(c.queue_region("us-east-1"), "eu-west-1");
        assert_eq!(
            c.queue_arn().unwrap(),
            "arn:aws:sqs:eu-west-1:111111111111:maturity-agent-events"
        );
        let local = parse(r#"queue_url = "http://127.0.0.1:5000/123456789012/q""#).unwrap();
        assert_eq!(local.queue_region("eu-central-1"), "eu-central-1");
        assert_eq!(local.queue_arn(), None);
    }

    /// Out-of-range values name the key.
    #[test]
    fn bad_values_name_the_key() {
        for (text, key) in [
            (r#"queue_url = "sqs-queue""#, "events.queue_url"),
            (
                r#"queue_url = "https://sqs.x.amazonaws.com/12/q""#,
                "events.queue_url",
            ),
            ("debounce_seconds = -1", "events.debounce_seconds"),
            ("wait_time_seconds = 21", "events.wait_time_seconds"),
            ("max_messages = 0", "events.max_messages"),
            (
                "visibility_timeout_seconds = 10",
                "events.visibility_timeout_seconds",
            ),
            ("dedup_capacity = 0", "events.dedup_capacity"),
            ("retry_initial_seconds = 0", "events.retry_initial_seconds"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.contains(key), "{text}: {e}");
        }
        assert!(parse("queue = 1").unwrap_err().contains("unknown field"));
    }
}
