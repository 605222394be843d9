//! The alerting tables of the state store: alerts, regressions and the outbox. A run's regressions,
//! alert changes and notifications are written in the run's own transaction
//! ([`Store::save_run_with`]); delivery then only moves rows out of the outbox.

use super::detect::{Alert, History, KnownCheck, Notice, Plan};
use crate::state::{args, parse_status, Db, DbError, StateError, Store};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One notification waiting for one destination of one sink.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub sink: String,
    pub destination: String,
    pub notice: Notice,
    pub attempts: u32,
}

/// A regression as the API lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredRegression {
    pub detected_at: String,
    pub account_id: String,
    pub kind: String,
    pub practice: Option<String>,
    pub check: Option<String>,
    pub severity: String,
    pub from_level: Option<u8>,
    pub to_level: Option<u8>,
    pub resources: Vec<String>,
    pub summary: String,
}

impl Store {
    /// What the alert rules need of an account's past: last known checks with their failing
    /// resources, the newest audited report, and the failed runs just before now.
    pub fn history_for_alerts(&self, account_id: &str) -> Result<History, StateError> {
        self.read(|db| {
            let previous = crate::state::last_audited(db, account_id)?;
            let mut known = HashMap::new();
            for mut r in db.query(
                "SELECT check_id, status, failing, unknown_scopes FROM last_known WHERE account_id = ?1",
                args![account_id],
            )? {
                let check = r.text(0)?;
                let Some(status) = parse_status(&r.text(1)?) else {
                    continue;
                };
                let failing: Option<BTreeSet<String>> = match r.opt_text(2)? {
                    Some(f) => serde_json::from_str(&f)?,
                    None => None,
                };
                let unknown_scopes: BTreeSet<String> = match r.opt_text(3)? {
                    Some(s) => serde_json::from_str(&s)?,
                    None => BTreeSet::new(),
                };
                known.insert(
                    check,
                    KnownCheck {
                        status,
                        failing,
                        unknown_scopes,
                    },
                );
            }
            let mut failed_runs_before = 0;
            for mut r in db.query(
                "SELECT status FROM account_runs WHERE account_id = ?1 ORDER BY run_id DESC LIMIT 1000",
                args![account_id],
            )? {
                if r.text(0)? != "failed" {
                    break;
                }
                failed_runs_before += 1;
            }
            Ok(History {
                known,
                previous,
                failed_runs_before,
            })
        })
    }

    /// Every active alert.
    pub fn active_alerts(&self) -> Result<Vec<Alert>, StateError> {
        self.read(|db| {
            db.query(
                "SELECT alert FROM alerts WHERE active = 1 ORDER BY key",
                &[],
            )?
            .into_iter()
            .map(|mut r| Ok(serde_json::from_str(&r.text(0)?)?))
            .collect()
        })
    }

    /// The newest regressions, newest first.
    pub fn recent_regressions(&self, limit: u32) -> Result<Vec<StoredRegression>, StateError> {
        self.read(|db| {
            db.query(
                "SELECT detected_at, account_id, kind, practice, check_id, severity, from_level, to_level, resources, summary
                 FROM regressions ORDER BY id DESC LIMIT ?1",
                args![limit],
            )?
            .into_iter()
            .map(|mut r| {
                Ok(StoredRegression {
                    detected_at: r.text(0)?,
                    account_id: r.text(1)?,
                    kind: r.text(2)?,
                    practice: r.opt_text(3)?,
                    check: r.opt_text(4)?,
                    severity: r.text(5)?,
                    from_level: r.opt_small(6)?,
                    to_level: r.opt_small(7)?,
                    resources: serde_json::from_str(&r.text(8)?)?,
                    summary: r.text(9)?,
                })
            })
            .collect()
        })
    }

    /// Notifications waiting, per sink (rejected ones not counted).
    pub fn outbox_depth(&self) -> Result<BTreeMap<String, i64>, StateError> {
        self.read(queued_per_sink)
    }

    /// The oldest waiting notification of each destination, when it is due at `now_ms`. Delivery is
    /// in order per destination: a notification waits for the ones before it.
    pub fn outbox_due(&self, now_ms: i64) -> Result<Vec<Queued>, StateError> {
        self.read(|db| {
            db.query(
                "SELECT o.id, o.sink, o.destination, o.notice, o.attempts FROM outbox o
                 JOIN (SELECT MIN(id) AS id FROM outbox WHERE rejected_at IS NULL GROUP BY sink, destination) h ON h.id = o.id
                 WHERE o.next_attempt_ms <= ?1 ORDER BY o.id",
                args![now_ms],
            )?
            .into_iter()
            .map(|mut r| {
                Ok(Queued {
                    id: r.int(0)?,
                    sink: r.text(1)?,
                    destination: r.text(2)?,
                    notice: serde_json::from_str(&r.text(3)?)?,
                    attempts: r.small(4)?,
                })
            })
            .collect()
        })
    }

    /// When the next waiting notification is due (epoch milliseconds), if any waits.
    pub fn outbox_next_due(&self) -> Result<Option<i64>, StateError> {
        self.read(|db| {
            db.query_one(
                "SELECT MIN(next_attempt_ms) FROM outbox WHERE rejected_at IS NULL",
                &[],
            )?
            .map_or(Ok(None), |mut r| r.opt_int(0))
        })
    }

    /// At start: notifications of sinks no longer configured wait indefinitely (kept, reported);
    /// those of configured sinks are due now, whatever backoff a previous process had set.
    pub fn outbox_park_unconfigured(
        &self,
        sinks: &[String],
        now_ms: i64,
    ) -> Result<Vec<(String, i64)>, StateError> {
        self.write(|db| {
            let mut parked = Vec::new();
            for (sink, n) in queued_per_sink(db)? {
                if sinks.contains(&sink) {
                    db.execute(
                        "UPDATE outbox SET next_attempt_ms = ?2 WHERE sink = ?1 AND rejected_at IS NULL AND next_attempt_ms > ?2",
                        args![&sink, now_ms],
                    )?;
                } else {
                    db.execute(
                        "UPDATE outbox SET next_attempt_ms = ?2 WHERE sink = ?1 AND rejected_at IS NULL",
                        args![&sink, i64::MAX],
                    )?;
                    parked.push((sink, n));
                }
            }
            Ok(parked)
        })
    }

    pub fn outbox_delivered(&self, id: i64) -> Result<(), StateError> {
        self.write(|db| db.execute("DELETE FROM outbox WHERE id = ?1", args![id]))?;
        Ok(())
    }

    pub fn outbox_retry(&self, id: i64, next_ms: i64, error: &str) -> Result<(), StateError> {
        self.write(|db| {
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3 WHERE id = ?1",
                args![id, next_ms, error],
            )
        })?;
        Ok(())
    }

    /// A notification the sink refused for good (4xx other than throttling): kept, never retried,
    /// and no longer holding up the ones after it.
    pub fn outbox_rejected(
        &self,
        id: i64,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.write(|db| {
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, rejected_at = ?3 WHERE id = ?1",
                args![id, error, now.to_rfc3339()],
            )
        })?;
        Ok(())
    }
}

/// Notifications waiting, per sink (rejected ones not counted).
fn queued_per_sink(db: &mut dyn Db) -> Result<BTreeMap<String, i64>, DbError> {
    db.query(
        "SELECT sink, COUNT(*) FROM outbox WHERE rejected_at IS NULL GROUP BY sink",
        &[],
    )?
    .into_iter()
    .map(|mut r| Ok((r.text(0)?, r.int(1)?)))
    .collect()
}

/// Writes the plans of a run inside its transaction: alerts, regressions, and one outbox row per
/// notification and destination that wants it.
pub fn write_plans(
    db: &mut dyn Db,
    run_id: i64,
    now: DateTime<Utc>,
    plans: &[Plan],
    routes: &dyn Fn(&Notice) -> Vec<(String, String)>,
) -> Result<(), DbError> {
    let at = now.to_rfc3339();
    for plan in plans {
        for r in &plan.regressions {
            db.execute(
                "INSERT INTO regressions (run_id, detected_at, account_id, kind, practice, check_id, severity, from_level, to_level, resources, summary)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                args![
                    run_id,
                    &at,
                    &r.account_id,
                    r.kind.as_str(),
                    r.practice.map(|p| p.as_str()),
                    &r.check,
                    r.severity.as_str(),
                    r.from_level,
                    r.to_level,
                    serde_json::to_string(&r.resources)?,
                    &r.summary
                ],
            )?;
        }
        for a in &plan.alerts {
            db.execute(
                "INSERT INTO alerts (key, account_id, active, alert, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (key) DO UPDATE SET active = ?3, alert = ?4, updated_at = ?5",
                args![
                    &a.key,
                    &a.account_id,
                    a.ends_at.is_none(),
                    serde_json::to_string(a)?,
                    &at
                ],
            )?;
        }
        for n in &plan.notices {
            let body = serde_json::to_string(n)?;
            for (sink, destination) in routes(n) {
                db.execute(
                    "INSERT INTO outbox (sink, destination, notice, created_at, next_attempt_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                    args![sink, destination, &body, &at, now.timestamp_millis()],
                )?;
            }
        }
    }
    // Resolved alerts are history: kept 30 days.
    db.execute(
        "DELETE FROM alerts WHERE active = 0 AND updated_at < ?1",
        args![(now - chrono::Duration::days(30)).to_rfc3339()],
    )?;
    Ok(())
}
