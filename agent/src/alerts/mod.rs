//! Regression alerting. After each run the agent compares every account with its persisted previous
//! state ([`detect`]), records the regressions, raises and resolves alerts, and queues one
//! notification per sink and destination in the state store's outbox, all in the run's own
//! transaction ([`store`]). A delivery task ([`deliver`]) empties the outbox in order per
//! destination, retrying with exponential backoff and jitter while a sink is down; notifications
//! survive restarts. Alertmanager also gets every active alert again on an interval.
//!
//! Delivery is at least once: a crash between a sink's answer and the outbox update sends that one
//! notification again after the restart, with the same id (`X-Maturity-Delivery`) for receivers to
//! deduplicate; Alertmanager deduplicates by labels.

pub mod config;
pub mod detect;
pub mod sinks;
pub mod store;

use crate::daemon::Shared;
use chrono::Utc;
use config::AlertsConfig;
use detect::{Alert, Notice, Rules};
use sinks::{Outcome, Sink};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The configured alerting: rules and sinks (secrets read).
pub struct Alerting {
    pub sinks: Vec<Sink>,
    pub rules: Rules,
    resend_interval: Duration,
    retry_initial: Duration,
    retry_max: Duration,
    /// Wakes the delivery task when a run queued notifications.
    pub wake: Notify,
}

impl Alerting {
    /// Builds the sinks; the error names the sink whose secret is missing.
    pub fn new(c: &AlertsConfig) -> Result<Alerting, String> {
        let resend_interval = Duration::from_secs(c.resend_interval_seconds);
        let sinks = c
            .sinks
            .iter()
            .map(|s| Sink::new(s.get_ref(), resend_interval))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Alerting {
            sinks,
            rules: Rules {
                new_failing_resources_min_severity: c.new_failing_resources_min_severity,
                audit_failing_after_runs: c.audit_failing_after_runs,
                agent_url: c.agent_url.clone(),
            },
            resend_interval,
            retry_initial: Duration::from_secs_f64(c.retry_initial_seconds),
            retry_max: Duration::from_secs_f64(c.retry_max_seconds),
            wake: Notify::new(),
        })
    }

    /// The (sink, destination) queues a notice goes to.
    pub fn routes(&self, n: &Notice) -> Vec<(String, String)> {
        self.sinks
            .iter()
            .filter(|s| s.wants(&n.alert))
            .flat_map(|s| s.destinations().iter().map(|d| (s.name.clone(), d.clone())))
            .collect()
    }

    fn sink(&self, name: &str) -> Option<&Sink> {
        self.sinks.iter().find(|s| s.name == name)
    }

    /// The delay before attempt `attempts + 1`: doubling from the initial delay up to the maximum,
    /// drawn between half and all of it (jitter, so that many agents do not retry in step), and
    /// never shorter than what the sink asked for.
    pub fn backoff(&self, attempts: u32, asked: Option<Duration>) -> Duration {
        let full = self
            .retry_initial
            .saturating_mul(2u32.saturating_pow(attempts.min(20)))
            .min(self.retry_max);
        let jittered = full.mul_f64(0.5 + fastrand::f64() * 0.5);
        // A sink's Retry-After is honoured up to a day: a larger one would only stall the outbox
        // (and overflow the time arithmetic of the next attempt).
        asked.map_or(jittered, |a| a.min(MAX_RETRY_AFTER).max(jittered))
    }
}

/// The longest Retry-After of a sink that is honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::state::StateError> + Send + 'static,
) -> Option<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "alert outbox: state store error");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "alert outbox: state task failed");
            None
        }
    }
}

/// Refreshes `maturity_alert_queue_depth` from the outbox.
pub async fn refresh_depth(shared: &Arc<Shared>, alerting: &Alerting) {
    let s = shared.clone();
    if let Some(depth) = blocking(move || s.store.outbox_depth()).await {
        for sink in &alerting.sinks {
            shared
                .metrics
                .alert_queue
                .with_label_values(&[&sink.name])
                .set(depth.get(&sink.name).copied().unwrap_or(0));
        }
    }
}

/// Empties the outbox for as long as the daemon runs: every due notification of every destination
/// is attempted, the destinations in parallel, each in order.
pub async fn deliver(shared: Arc<Shared>, alerting: Arc<Alerting>) {
    // One replica delivers: the one that holds the lease (every outbox write of delivery is fenced
    // with it), so each row is claimed by one delivery task at a time.
    while !shared.is_active() {
        // The queue is the state's: every replica shows its depth, whichever delivers.
        refresh_depth(&shared, &alerting).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // Other replicas queue notifications too, and cannot wake this task: look every second.
    let longest = if shared.replica.is_some() {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(30)
    };
    let names: Vec<String> = alerting.sinks.iter().map(|s| s.name.clone()).collect();
    let s = shared.clone();
    let now_ms = Utc::now().timestamp_millis();
    if let Some(parked) = blocking(move || s.store.outbox_park_unconfigured(&names, now_ms)).await {
        for (sink, n) in parked {
            tracing::warn!(sink, queued = n, "notifications are queued for a sink that is no longer configured; kept in the state store, delivered if it is configured again");
        }
    }
    loop {
        if !shared.is_active() {
            refresh_depth(&shared, &alerting).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        refresh_depth(&shared, &alerting).await;
        let s = shared.clone();
        let now = Utc::now();
        let due = blocking(move || s.store.outbox_due(now.timestamp_millis()))
            .await
            .unwrap_or_default();
        let attempts = due.into_iter().filter_map(|q| {
            let sink = alerting.sink(&q.sink)?;
            Some(async move {
                let outcome = sink
                    .send(&q.destination, std::slice::from_ref(&q.notice), now)
                    .await;
                (q, sink, outcome)
            })
        });
        let results = futures::future::join_all(attempts).await;
        let progressed = results
            .iter()
            .any(|(_, _, o)| !matches!(o, Outcome::Retry { .. }));
        for (q, sink, outcome) in results {
            let m = &shared.metrics;
            let s = shared.clone();
            match outcome {
                Outcome::Delivered => {
                    m.alerts_sent.with_label_values(&[&sink.name, "ok"]).inc();
                    tracing::info!(
                        sink = sink.name,
                        notice = q.notice.id,
                        "alert notification delivered"
                    );
                    blocking(move || s.store.outbox_delivered(q.id)).await;
                }
                Outcome::Retry { error, after } => {
                    m.alerts_sent
                        .with_label_values(&[&sink.name, "error"])
                        .inc();
                    let delay = alerting.backoff(q.attempts, after);
                    tracing::warn!(sink = sink.name, notice = q.notice.id, attempts = q.attempts + 1, retry_in_seconds = delay.as_secs_f64(), %error, "alert notification not delivered; will retry");
                    let next = (Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default())
                        .timestamp_millis();
                    blocking(move || s.store.outbox_retry(q.id, next, &error)).await;
                }
                Outcome::Rejected { error } => {
                    m.alerts_sent
                        .with_label_values(&[&sink.name, "rejected"])
                        .inc();
                    tracing::error!(sink = sink.name, notice = q.notice.id, %error, "the sink refused the alert notification; kept in the state store (outbox, rejected_at) and not retried");
                    blocking(move || s.store.outbox_rejected(q.id, &error, Utc::now())).await;
                }
            }
        }
        if progressed {
            continue;
        }
        let s = shared.clone();
        let next = blocking(move || s.store.outbox_next_due()).await.flatten();
        let wait = next
            .map(|ms| Duration::from_millis((ms - Utc::now().timestamp_millis()).max(0) as u64))
            .unwrap_or(Duration::from_secs(30))
            .clamp(Duration::from_millis(50), longest);
        tokio::select! {
            _ = alerting.wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Sends every active alert to every Alertmanager again, each interval, so that Alertmanager keeps
/// them firing (and gets them back after its own restart). Failures are counted, not queued: the
/// next interval sends them again.
pub async fn resend_to_alertmanager(shared: Arc<Shared>, alerting: Arc<Alerting>) {
    let mut tick = tokio::time::interval(alerting.resend_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if !shared.is_active() {
            continue;
        }
        let s = shared.clone();
        let Some(active) = blocking(move || s.store.active_alerts()).await else {
            continue;
        };
        let now = Utc::now();
        for sink in alerting
            .sinks
            .iter()
            .filter(|s| s.kind == config::SinkType::Alertmanager)
        {
            let notices: Vec<Notice> = active
                .iter()
                .filter(|a| sink.wants(a))
                .map(resend_notice)
                .collect();
            if notices.is_empty() {
                continue;
            }
            for d in sink.destinations() {
                let result = match sink.send(d, &notices, now).await {
                    Outcome::Delivered => "ok",
                    Outcome::Retry { error, .. } | Outcome::Rejected { error } => {
                        tracing::warn!(sink = sink.name, %error, "re-sending active alerts to Alertmanager failed; next try in one interval");
                        "error"
                    }
                };
                shared
                    .metrics
                    .alerts_sent
                    .with_label_values(&[&sink.name, result])
                    .inc();
            }
        }
    }
}

fn resend_notice(a: &Alert) -> Notice {
    Notice {
        id: format!("resend/{}", a.key),
        status: detect::NoticeStatus::Firing,
        alert: a.clone(),
        regressions: vec![],
    }
}

/// `alerts test`: one test alert through every sink, straight (not through the outbox). Returns
/// one line per sink and destination, and whether all were delivered.
pub async fn send_test(alerting: &Alerting) -> (Vec<String>, bool) {
    let now = Utc::now();
    let alert = Alert {
        key: "test/maturity-agent".into(),
        account_id: "000000000000".into(),
        labels: [
            ("alertname", "MaturityAgentTest"),
            ("account_id", "000000000000"),
            ("account_name", "maturity-agent test"),
            ("severity", "low"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        annotations: [(
            "summary".to_owned(),
            "Test alert from maturity-agent: the wiring works. It resolves by itself.".to_owned(),
        )]
        .into(),
        starts_at: now,
        ends_at: Some(now + chrono::Duration::minutes(5)),
        from_level: None,
        resources: vec![],
    };
    let notice = Notice {
        id: format!("test/{}", now.timestamp_millis()),
        status: detect::NoticeStatus::Firing,
        alert,
        regressions: vec![],
    };
    let mut lines = Vec::new();
    let mut ok = true;
    for sink in &alerting.sinks {
        for d in sink.destinations() {
            let shown = if sink.kind == config::SinkType::Alertmanager {
                d.as_str()
            } else {
                "(url from config)"
            };
            let line = match sink.send(d, std::slice::from_ref(&notice), now).await {
                Outcome::Delivered => {
                    format!("{} {} {shown}: delivered", sink.name, sink.kind.as_str())
                }
                Outcome::Retry { error, .. } | Outcome::Rejected { error } => {
                    ok = false;
                    format!(
                        "{} {} {shown}: FAILED: {error}",
                        sink.name,
                        sink.kind.as_str()
                    )
                }
            };
            lines.push(line);
        }
    }
    if alerting.sinks.is_empty() {
        lines.push("no [[alerts.sinks]] configured".into());
        ok = false;
    }
    (lines, ok)
}
