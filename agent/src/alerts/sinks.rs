//! The sinks: Alertmanager (API v2), signed webhooks and Slack incoming webhooks. A sink turns a
//! [`Notice`] into its request and says whether the delivery succeeded, should be retried, or was
//! refused for good. Secrets are read once at start and never logged: errors carry the sink's name,
//! never its URL.

use super::config::{read_secret, SinkConfig, SinkType};
use super::detect::{list, Alert, Notice, NoticeStatus};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::Duration;

/// The header carrying `sha256=<hex HMAC-SHA256 of the body>` on webhook requests.
pub const SIGNATURE_HEADER: &str = "X-Maturity-Signature-256";
/// The header carrying the notification id (the same across retries; receivers deduplicate on it).
pub const DELIVERY_HEADER: &str = "X-Maturity-Delivery";

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Delivered,
    /// Down, 5xx, throttled or timed out: try again (after `after` when the sink said so).
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// The sink refused the request (4xx): retrying the same request cannot help.
    Rejected {
        error: String,
    },
}

/// A configured sink, secrets resolved.
pub struct Sink {
    pub name: String,
    pub kind: SinkType,
    min_severity: maturity_checks::model::Severity,
    match_labels: BTreeMap<String, String>,
    client: reqwest::Client,
    /// Alertmanager base URLs; for webhook and Slack one entry, `url`, whose value is `url` below.
    destinations: Vec<String>,
    url: Option<String>,
    secret: Option<Vec<u8>>,
    headers: BTreeMap<String, String>,
    basic_auth: Option<(String, String)>,
    /// How long a firing alert sent to Alertmanager stays valid without a re-send.
    firing_validity: Duration,
}

impl Sink {
    /// Builds a sink, reading its secrets; the error names the sink and the missing secret.
    pub fn new(c: &SinkConfig, resend_interval: Duration) -> Result<Sink, String> {
        let name = c.name();
        let what = |key: &str| format!("alerts sink \"{name}\" {key}");
        let url = match (&c.url, c.url_env.as_deref(), c.url_file.as_deref()) {
            (Some(u), _, _) => Some(u.clone()),
            (None, env, file) => read_secret(&what("url"), env, file)?,
        };
        if let Some(u) = &url {
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                return Err(format!("{}: is not an http(s) URL", what("url")));
            }
        }
        let secret = read_secret(
            &what("secret"),
            c.secret_env.as_deref(),
            c.secret_file.as_deref(),
        )?
        .map(String::into_bytes);
        let basic_auth = match &c.basic_auth_user {
            Some(user) => read_secret(
                &what("basic auth password"),
                c.basic_auth_password_env.as_deref(),
                c.basic_auth_password_file.as_deref(),
            )?
            .map(|p| (user.clone(), p)),
            None => None,
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(c.timeout_seconds))
            .user_agent(concat!("maturity-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("alerts sink \"{name}\": HTTP client: {e}"))?;
        let destinations = match c.kind {
            SinkType::Alertmanager => c
                .urls
                .iter()
                .map(|u| u.trim_end_matches('/').to_owned())
                .collect(),
            _ => vec!["url".to_owned()],
        };
        Ok(Sink {
            name,
            kind: c.kind,
            min_severity: c.min_severity,
            match_labels: c.match_labels.clone(),
            client,
            destinations,
            url,
            secret,
            headers: c.headers.clone(),
            basic_auth,
            firing_validity: resend_interval * 4,
        })
    }

    /// Where this sink delivers: one queue per destination.
    pub fn destinations(&self) -> &[String] {
        &self.destinations
    }

    /// Whether the sink takes this alert (severity and label filters).
    pub fn wants(&self, alert: &Alert) -> bool {
        alert.severity() >= self.min_severity
            && self
                .match_labels
                .iter()
                .all(|(k, v)| alert.labels.get(k) == Some(v))
    }

    /// Delivers notices to one destination.
    pub async fn send(&self, destination: &str, notices: &[Notice], now: DateTime<Utc>) -> Outcome {
        let request = match self.kind {
            SinkType::Alertmanager => {
                let body: Vec<Value> = notices
                    .iter()
                    .map(|n| alertmanager_alert(&n.alert, now, self.firing_validity))
                    .collect();
                let mut r = self
                    .client
                    .post(format!("{destination}/api/v2/alerts"))
                    .json(&body);
                if let Some((user, password)) = &self.basic_auth {
                    r = r.basic_auth(user, Some(password));
                }
                r
            }
            SinkType::Webhook => {
                let Some(n) = notices.first() else {
                    return Outcome::Delivered;
                };
                let body = webhook_body(n, now).to_string();
                let mut r = self
                    .client
                    .post(self.url.clone().unwrap_or_default())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(DELIVERY_HEADER, &n.id);
                if let Some(secret) = &self.secret {
                    r = r.header(SIGNATURE_HEADER, signature(secret, body.as_bytes()));
                }
                for (k, v) in &self.headers {
                    r = r.header(k, v);
                }
                r.body(body)
            }
            SinkType::Slack => {
                let Some(n) = notices.first() else {
                    return Outcome::Delivered;
                };
                self.client
                    .post(self.url.clone().unwrap_or_default())
                    .json(&slack_message(n))
            }
        };
        match request.send().await {
            Err(e) => Outcome::Retry {
                error: cause(e),
                after: None,
            },
            Ok(resp) => {
                let status = resp.status();
                let after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                if status.is_success() {
                    return Outcome::Delivered;
                }
                let text = resp.text().await.unwrap_or_default();
                let text: String = text.chars().take(300).collect();
                let error = format!("HTTP {status}: {}", text.trim());
                if status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT
                {
                    Outcome::Retry { error, after }
                } else {
                    Outcome::Rejected { error }
                }
            }
        }
    }
}

/// Why a request failed, without its URL (a Slack URL is a secret): the kind (timed out,
/// connection failed, …) and the chain of causes, e.g. "connection failed: error sending request:
/// client error (Connect): tcp connect error: Connection refused (os error 111)".
pub fn cause(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "bad response"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let part = s.to_string();
        // hyper-util and reqwest repeat a cause's text in its parent's; keep each part once.
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// `sha256=<hex>` of the body under the key.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One alert of Alertmanager's API v2. A firing alert says when it ends unless re-sent, so that an
/// agent that stops leaves no alert stuck; a resolved one says when it ended.
pub fn alertmanager_alert(a: &Alert, now: DateTime<Utc>, validity: Duration) -> Value {
    let ends = a.ends_at.unwrap_or_else(|| {
        now + chrono::Duration::from_std(validity).unwrap_or(chrono::Duration::minutes(4))
    });
    let mut v = json!({
        "labels": a.labels,
        "annotations": a.annotations,
        "startsAt": a.starts_at.to_rfc3339(),
        "endsAt": ends.to_rfc3339(),
    });
    if let Some(url) = a.annotations.get("agent_url") {
        v["generatorURL"] = json!(url);
    }
    v
}

/// The webhook's JSON body (documented in docs/alerts.md).
pub fn webhook_body(n: &Notice, now: DateTime<Utc>) -> Value {
    json!({
        "version": 1,
        "id": n.id,
        "status": n.status,
        "sent_at": now.to_rfc3339(),
        "alert": {
            "key": n.alert.key,
            "labels": n.alert.labels,
            "annotations": n.alert.annotations,
            "starts_at": n.alert.starts_at.to_rfc3339(),
            "ends_at": n.alert.ends_at.map(|t| t.to_rfc3339()),
            "resources": n.alert.resources,
        },
        "regressions": n.regressions,
    })
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook message: the account, what dropped and the failing resources.
pub fn slack_message(n: &Notice) -> Value {
    let a = &n.alert;
    let label = |k: &str| a.labels.get(k).map(String::as_str).unwrap_or("");
    let (icon, verb) = match n.status {
        NoticeStatus::Firing => (":rotating_light:", "Regression"),
        NoticeStatus::Resolved => (":white_check_mark:", "Resolved"),
    };
    let summary = a.annotations.get("summary").cloned().unwrap_or_default();
    let mut lines = vec![format!(
        "{icon} *{verb}* ({}) in *{}* `{}`",
        label("severity"),
        slack_escape(label("account_name")),
        label("account_id")
    )];
    lines.push(slack_escape(&summary));
    if n.status == NoticeStatus::Firing {
        let resources: Vec<String> = n
            .regressions
            .iter()
            .flat_map(|r| r.resources.iter().cloned())
            .collect();
        if !resources.is_empty() {
            lines.push(format!("*Resources:* {}", slack_escape(&list(&resources))));
        }
        if let Some(r) = a.annotations.get("remediation") {
            lines.push(format!("*Fix:* {}", slack_escape(r)));
        }
    } else if let Some(r) = a.annotations.get("resolution") {
        lines.push(slack_escape(r));
    }
    if let Some(url) = a.annotations.get("agent_url") {
        lines.push(format!("<{url}|Account in maturity-agent>"));
    }
    let mut text = lines.join("\n");
    // Slack truncates section text past 3000 characters.
    if text.chars().count() > 2900 {
        text = text.chars().take(2900).collect::<String>() + "…";
    }
    json!({
        "text": format!("{verb}: {summary}"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::detect::{Alert, Notice, NoticeStatus};

    fn notice(status: NoticeStatus, resources: usize) -> Notice {
        let t = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let alert = Alert {
            key: "check/111111111111/x".into(),
            account_id: "111111111111".into(),
            labels: [
                ("alertname", "MaturityCheckRegressed"),
                ("severity", "high"),
                ("account_name", "prod <main>"),
                ("account_id", "111111111111"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            annotations: [
                ("summary".to_owned(), "x fails".to_owned()),
                (
                    "agent_url".to_owned(),
                    "https://m.example/api/v1/accounts/111111111111".to_owned(),
                ),
            ]
            .into(),
            starts_at: t,
            ends_at: (status == NoticeStatus::Resolved).then_some(t + chrono::Duration::hours(1)),
            from_level: None,
            resources: vec![],
        };
        let regression = crate::alerts::detect::Regression {
            kind: crate::alerts::detect::RegressionKind::CheckFailed,
            account_id: "111111111111".into(),
            account_name: "prod".into(),
            practice: None,
            check: Some("x".into()),
            severity: maturity_checks::model::Severity::High,
            from_level: None,
            to_level: None,
            resources: (0..resources)
                .map(|i| format!("arn:aws:iam::111111111111:user/u{i:04}-{}", "x".repeat(100)))
                .collect(),
            summary: "x fails".into(),
        };
        Notice {
            id: "n1".into(),
            status,
            alert,
            regressions: vec![regression],
        }
    }

    /// The webhook signature is HMAC-SHA256 of the body (RFC 4231-style known answer).
    #[test]
    fn signature_is_hmac_sha256() {
        assert_eq!(
            signature(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    /// A firing alert ends four re-send intervals from now unless re-sent; a resolved one at its end.
    #[test]
    fn alertmanager_end_times() {
        let now = Utc::now();
        let firing = alertmanager_alert(
            &notice(NoticeStatus::Firing, 0).alert,
            now,
            Duration::from_secs(240),
        );
        assert_eq!(
            firing["endsAt"],
            (now + chrono::Duration::minutes(4)).to_rfc3339()
        );
        assert_eq!(
            firing["generatorURL"],
            "https://m.example/api/v1/accounts/111111111111"
        );
        assert_eq!(firing["labels"]["alertname"], "MaturityCheckRegressed");
        let resolved = alertmanager_alert(
            &notice(NoticeStatus::Resolved, 0).alert,
            now,
            Duration::from_secs(240),
        );
        assert_eq!(resolved["endsAt"], "2026-11-22T11:00:00+00:00");
    }

    /// A Slack message escapes the account name, lists the resources and stays under Slack's limit.
    #[test]
    fn slack_message_is_bounded_and_escaped() {
        let m = slack_message(&notice(NoticeStatus::Firing, 100));
        let text = m["blocks"][0]["text"]["text"].as_str().unwrap();
        assert!(text.contains("prod &lt;main&gt;"), "{text}");
        assert!(text.contains("user/u0000"));
        assert!(text.chars().count() <= 2901);
        assert_eq!(m["text"], "Regression: x fails");
        let r = slack_message(&notice(NoticeStatus::Resolved, 0));
        assert!(r["text"].as_str().unwrap().starts_with("Resolved"));
    }

    /// The webhook body carries the notice id, status, labels and regressions.
    #[test]
    fn webhook_body_fields() {
        let b = webhook_body(&notice(NoticeStatus::Firing, 2), Utc::now());
        assert_eq!(b["id"], "n1");
        assert_eq!(b["status"], "firing");
        assert_eq!(b["alert"]["labels"]["severity"], "high");
        assert_eq!(b["regressions"][0]["kind"], "check_failed");
        assert_eq!(
            b["regressions"][0]["resources"].as_array().unwrap().len(),
            2
        );
    }

    /// A delivery error says why (here: the connection was refused) and never the URL.
    #[tokio::test]
    async fn delivery_errors_name_the_cause_without_the_url() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/secret-token-path");
        let e = reqwest::Client::new().get(&url).send().await.unwrap_err();
        let text = cause(e);
        assert!(text.starts_with("connection failed: "), "{text}");
        assert!(text.contains("Connection refused"), "{text}");
        assert!(!text.contains("secret-token-path"), "{text}");
    }
}
