//! The alerting tables of the state store: alerts, regressions and the outbox. A run's regressions,
//! alert changes and notifications are written in the run's own transaction
//! ([`Store::save_run_with`]); delivery then only moves rows out of the outbox.

use super::detect::{Alert, History, KnownCheck, Notice, Plan};
use crate::state::{parse_status, StateError, Store};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
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
        let previous = self.last_audited(account_id)?;
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT check_id, status, failing, unknown_scopes FROM last_known WHERE account_id = ?1",
        )?;
        let rows = stmt.query_map([account_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut known = HashMap::new();
        for row in rows {
            let (check, status, failing, scopes) = row?;
            let Some(status) = parse_status(&status) else {
                continue;
            };
            let failing: Option<BTreeSet<String>> = match failing {
                Some(f) => serde_json::from_str(&f)?,
                None => None,
            };
            let unknown_scopes: BTreeSet<String> = match scopes {
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
        let mut stmt = conn.prepare_cached(
            "SELECT status FROM account_runs WHERE account_id = ?1 ORDER BY run_id DESC LIMIT 1000",
        )?;
        let statuses = stmt
            .query_map([account_id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let failed_runs_before = statuses.iter().take_while(|s| *s == "failed").count() as u32;
        Ok(History {
            known,
            previous,
            failed_runs_before,
        })
    }

    /// Every active alert.
    pub fn active_alerts(&self) -> Result<Vec<Alert>, StateError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT alert FROM alerts WHERE active = 1 ORDER BY key")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .iter()
            .map(|j| serde_json::from_str(j))
            .collect::<Result<_, _>>()?)
    }

    /// The newest regressions, newest first.
    pub fn recent_regressions(&self, limit: u32) -> Result<Vec<StoredRegression>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT detected_at, account_id, kind, practice, check_id, severity, from_level, to_level, resources, summary
             FROM regressions ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok((
                StoredRegression {
                    detected_at: r.get(0)?,
                    account_id: r.get(1)?,
                    kind: r.get(2)?,
                    practice: r.get(3)?,
                    check: r.get(4)?,
                    severity: r.get(5)?,
                    from_level: r.get(6)?,
                    to_level: r.get(7)?,
                    resources: vec![],
                    summary: r.get(9)?,
                },
                r.get::<_, String>(8)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (mut reg, resources) = row?;
            reg.resources = serde_json::from_str(&resources)?;
            out.push(reg);
        }
        Ok(out)
    }

    /// Notifications waiting, per sink (rejected ones not counted).
    pub fn outbox_depth(&self) -> Result<BTreeMap<String, i64>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT sink, COUNT(*) FROM outbox WHERE rejected_at IS NULL GROUP BY sink",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The oldest waiting notification of each destination, when it is due at `now_ms`. Delivery is
    /// in order per destination: a notification waits for the ones before it.
    pub fn outbox_due(&self, now_ms: i64) -> Result<Vec<Queued>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT o.id, o.sink, o.destination, o.notice, o.attempts FROM outbox o
             JOIN (SELECT MIN(id) AS id FROM outbox WHERE rejected_at IS NULL GROUP BY sink, destination) h ON h.id = o.id
             WHERE o.next_attempt_ms <= ?1 ORDER BY o.id",
        )?;
        let rows = stmt.query_map([now_ms], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, u32>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, sink, destination, notice, attempts) = row?;
            out.push(Queued {
                id,
                sink,
                destination,
                notice: serde_json::from_str(&notice)?,
                attempts,
            });
        }
        Ok(out)
    }

    /// When the next waiting notification is due (epoch milliseconds), if any waits.
    pub fn outbox_next_due(&self) -> Result<Option<i64>, StateError> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT MIN(next_attempt_ms) FROM outbox WHERE rejected_at IS NULL",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )
            .optional()?
            .flatten())
    }

    /// At start: notifications of sinks no longer configured wait indefinitely (kept, reported);
    /// those of configured sinks are due now, whatever backoff a previous process had set.
    pub fn outbox_park_unconfigured(
        &self,
        sinks: &[String],
        now_ms: i64,
    ) -> Result<Vec<(String, i64)>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT sink, COUNT(*) FROM outbox WHERE rejected_at IS NULL GROUP BY sink",
        )?;
        let queued: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut parked = Vec::new();
        for (sink, n) in queued {
            let next = if sinks.contains(&sink) {
                now_ms
            } else {
                parked.push((sink.clone(), n));
                i64::MAX
            };
            conn.execute(
                "UPDATE outbox SET next_attempt_ms = MIN(next_attempt_ms, ?2) WHERE sink = ?1 AND rejected_at IS NULL",
                params![sink, next],
            )?;
            if next == i64::MAX {
                conn.execute(
                    "UPDATE outbox SET next_attempt_ms = ?2 WHERE sink = ?1 AND rejected_at IS NULL",
                    params![sink, next],
                )?;
            }
        }
        Ok(parked)
    }

    pub fn outbox_delivered(&self, id: i64) -> Result<(), StateError> {
        self.conn()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn outbox_retry(&self, id: i64, next_ms: i64, error: &str) -> Result<(), StateError> {
        self.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?2, last_error = ?3 WHERE id = ?1",
            params![id, next_ms, error],
        )?;
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
        self.conn().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, rejected_at = ?3 WHERE id = ?1",
            params![id, error, now.to_rfc3339()],
        )?;
        Ok(())
    }
}

/// Writes the plans of a run inside its transaction: alerts, regressions, and one outbox row per
/// notification and destination that wants it.
pub fn write_plans(
    tx: &Transaction,
    run_id: i64,
    now: DateTime<Utc>,
    plans: &[Plan],
    routes: &dyn Fn(&Notice) -> Vec<(String, String)>,
) -> Result<(), StateError> {
    let at = now.to_rfc3339();
    for plan in plans {
        for r in &plan.regressions {
            tx.execute(
                "INSERT INTO regressions (run_id, detected_at, account_id, kind, practice, check_id, severity, from_level, to_level, resources, summary)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    run_id,
                    at,
                    r.account_id,
                    r.kind.as_str(),
                    r.practice.map(|p| p.as_str()),
                    r.check,
                    r.severity.as_str(),
                    r.from_level,
                    r.to_level,
                    serde_json::to_string(&r.resources)?,
                    r.summary
                ],
            )?;
        }
        for a in &plan.alerts {
            tx.execute(
                "INSERT INTO alerts (key, account_id, active, alert, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (key) DO UPDATE SET active = ?3, alert = ?4, updated_at = ?5",
                params![
                    a.key,
                    a.account_id,
                    a.ends_at.is_none(),
                    serde_json::to_string(a)?,
                    at
                ],
            )?;
        }
        for n in &plan.notices {
            let body = serde_json::to_string(n)?;
            for (sink, destination) in routes(n) {
                tx.execute(
                    "INSERT INTO outbox (sink, destination, notice, created_at, next_attempt_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![sink, destination, body, at, now.timestamp_millis()],
                )?;
            }
        }
    }
    // Resolved alerts are history: kept 30 days.
    tx.execute(
        "DELETE FROM alerts WHERE active = 0 AND updated_at < ?1",
        [(now - chrono::Duration::days(30)).to_rfc3339()],
    )?;
    Ok(())
}
