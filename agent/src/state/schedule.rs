//! The shared schedule: every replica on one database audits from the same account list, each
//! account claimed by one replica at a time.
//!
//! - A **cycle** is an audit run (`runs`, kind `audit`). The replica holding the `daemon` lease
//!   starts one at each scheduled tick ([`Store::start_cycle`]): it writes the discovered targets
//!   and makes every account due for the new run.
//! - Every replica **claims** due accounts in batches ([`Store::claim_due`]: `FOR UPDATE SKIP
//!   LOCKED` on PostgreSQL, so that two replicas never claim the same row and never wait for each
//!   other), with a lease (`expires_ms`) it renews while auditing and an epoch raised by every claim.
//! - A result is **saved** only while its claim holds ([`Store::save_claimed`]): the claim's row is
//!   checked (and locked until the commit) at the claim's epoch, so a replica whose claim expired
//!   and was taken over saves nothing, and the account is saved once per cycle (`account_runs` is
//!   keyed by run and account).
//! - A replica that dies loses its claims when they expire; the others claim the accounts then.
//! - A cycle **ends** with the save of its last due account: that save's transaction (which the
//!   update of the run's row serializes with every other save of the cycle) is the only one that
//!   finds no account of the cycle left ([`Saved::completed`]), so exactly one replica counts it.
//! - Every replica **serves** every account from the state: `last_row` is the account's newest
//!   saved result ([`Store::served`]), so a replica reads only what changed since it last looked.
//!
//! One agent on SQLite goes the same way, alone: its claims never meet another's.

use super::{args, insert_account, insert_run_row, Db, DbError, StateError, Store};
use chrono::{DateTime, Utc};
use maturity_checks::audit::Target;
use maturity_checks::report::{AccountReport, Report};

/// An account claimed by this replica: audit it for `run_id`, save it at `epoch`.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub target: Target,
    pub run_id: i64,
    pub epoch: i64,
}

/// Where a claimed result is saved: in its cycle's run (a scheduled audit, which makes the account
/// done for that cycle), or in a run of its own (an event-driven re-check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveTo {
    Cycle(i64),
    Recheck,
}

/// What [`Store::save_claimed`] saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// The run the accounts were saved in (0: a re-check that held nothing).
    pub run_id: i64,
    /// The accounts saved (those whose claims held).
    pub held: Vec<String>,
    /// The cycle, when this save was that of its last due account.
    pub completed: Option<CycleEnd>,
}

/// A cycle whose every account is saved: how many, and how many could not be audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleEnd {
    pub run_id: i64,
    pub accounts: i64,
    pub failed: i64,
}

impl CycleEnd {
    /// The `result` label of `maturity_audit_runs_total`: `success` (every account audited),
    /// `error` (none), `partial` (some).
    pub fn result(&self) -> &'static str {
        match self.failed {
            0 => "success",
            n if n >= self.accounts => "error",
            _ => "partial",
        }
    }
}

/// The newest cycle: its run's id and start.
#[derive(Debug, Clone, PartialEq)]
pub struct Cycle {
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
    /// From its start to its latest saved account.
    pub duration_seconds: f64,
    /// Accounts of the cycle not saved yet.
    pub pending: i64,
}

/// One scheduled account as served: its place in the discovery's order and its newest result row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub account_id: String,
    pub position: i64,
    pub last_row: i64,
}

/// What [`Store::start_cycle`] did: the new run, and the accounts no longer targeted (removed from
/// the schedule).
#[derive(Debug)]
pub struct Started {
    pub run_id: i64,
    pub gone: Vec<String>,
}

/// Checks, and locks until the commit, that `owner` still holds `account`'s claim at `epoch`.
fn holds(db: &mut dyn Db, account: &str, owner: &str, epoch: i64) -> Result<bool, DbError> {
    Ok(db.execute(
        "UPDATE schedule SET epoch = epoch WHERE account_id = ?1 AND owner = ?2 AND epoch = ?3",
        args![account, owner, epoch],
    )? == 1)
}

impl Store {
    /// Starts a cycle: a new audit run, `targets` written to the schedule in their order (new
    /// accounts added, known ones updated, their claims kept) and all of them due for it; the
    /// accounts no longer among the targets are removed (a claim on one then saves nothing).
    /// `more` writes in the same transaction (the alerts of the removed accounts). Fenced like every
    /// write of the lease holder.
    pub fn start_cycle(
        &self,
        targets: &[Target],
        started_at: DateTime<Utc>,
        more: impl FnOnce(&mut dyn Db, i64, &[String]) -> Result<(), DbError>,
    ) -> Result<Started, StateError> {
        self.write(|db| {
            let run_id = insert_run_row(db, started_at, 0.0, env!("CARGO_PKG_VERSION"), "audit")?;
            let mut known: std::collections::HashSet<String> = db
                .query("SELECT account_id FROM schedule", &[])?
                .into_iter()
                .map(|mut r| r.text(0))
                .collect::<Result<_, _>>()?;
            for (i, t) in targets.iter().enumerate() {
                db.execute(
                    "INSERT INTO schedule (account_id, position, target, due_run) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (account_id) DO UPDATE SET position = excluded.position,
                        target = excluded.target, due_run = excluded.due_run",
                    args![&t.account_id, i as i64, serde_json::to_string(t)?, run_id],
                )?;
                known.remove(&t.account_id);
            }
            let mut gone: Vec<String> = known.into_iter().collect();
            gone.sort();
            for id in &gone {
                db.execute("DELETE FROM schedule WHERE account_id = ?1", args![id])?;
            }
            more(db, run_id, &gone)?;
            Ok(Started { run_id, gone })
        })
    }

    /// Claims up to `limit` due accounts (due for a cycle they were not saved in, unclaimed or
    /// their claim expired) for `owner` until `now_ms + ttl_ms`, in schedule order. Replicas
    /// claiming at once get different accounts.
    pub fn claim_due(
        &self,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
        limit: usize,
    ) -> Result<Vec<Claim>, StateError> {
        let lock = if self.is_shared() {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE schedule SET owner = ?1, epoch = epoch + 1, expires_ms = ?3
             WHERE account_id IN (
                SELECT account_id FROM schedule
                WHERE done_run < due_run AND (owner IS NULL OR expires_ms < ?2)
                ORDER BY position LIMIT ?4{lock})
             RETURNING target, due_run, epoch, position"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|db| {
            let mut claims = db
                .query(
                    &sql,
                    args![owner, now_ms, now_ms.saturating_add(ttl_ms), limit],
                )?
                .into_iter()
                .map(|mut r| {
                    Ok((
                        r.int(3)?,
                        Claim {
                            target: serde_json::from_str(&r.text(0)?)?,
                            run_id: r.int(1)?,
                            epoch: r.int(2)?,
                        },
                    ))
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            claims.sort_by_key(|(position, _)| *position);
            Ok(claims.into_iter().map(|(_, c)| c).collect())
        })
    }

    /// Claims one account for `owner` (an event-driven re-check), when nobody else's claim on it
    /// runs. `None`: claimed by another (or by this replica's audit), or not scheduled.
    pub fn claim_account(
        &self,
        account_id: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<Claim>, StateError> {
        self.read(|db| {
            db.query_one(
                "UPDATE schedule SET owner = ?2, epoch = epoch + 1, expires_ms = ?4
                 WHERE account_id = ?1 AND (owner IS NULL OR expires_ms < ?3)
                 RETURNING target, due_run, epoch",
                args![account_id, owner, now_ms, now_ms.saturating_add(ttl_ms)],
            )?
            .map(|mut r| {
                Ok(Claim {
                    target: serde_json::from_str(&r.text(0)?)?,
                    run_id: r.int(1)?,
                    epoch: r.int(2)?,
                })
            })
            .transpose()
        })
    }

    /// Extends every claim `owner` holds to `now_ms + ttl_ms`; returns how many it holds.
    pub fn renew_claims(&self, owner: &str, now_ms: i64, ttl_ms: i64) -> Result<u64, StateError> {
        self.read(|db| {
            db.execute(
                "UPDATE schedule SET expires_ms = ?2 WHERE owner = ?1",
                args![owner, now_ms.saturating_add(ttl_ms)],
            )
        })
    }

    /// Gives up claims of `owner` (all of them when `accounts` is `None`): another replica may claim
    /// the accounts at once.
    pub fn release_claims(
        &self,
        owner: &str,
        accounts: Option<&[String]>,
    ) -> Result<(), StateError> {
        self.read(|db| {
            match accounts {
                None => {
                    db.execute(
                        "UPDATE schedule SET owner = NULL, expires_ms = 0 WHERE owner = ?1",
                        args![owner],
                    )?;
                }
                Some(ids) => {
                    for id in ids {
                        db.execute(
                            "UPDATE schedule SET owner = NULL, expires_ms = 0 WHERE owner = ?1 AND account_id = ?2",
                            args![owner, id],
                        )?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Saves the accounts of `report` that `owner` still holds (each by its claim's epoch, from
    /// `epochs`), in one transaction with what `more` writes for them (their regressions, alerts
    /// and notifications), and releases their claims. An account whose claim was lost is left out
    /// (another replica audits it). Returns the run's id, the accounts saved, and the cycle when
    /// this save ended it.
    pub fn save_claimed(
        &self,
        to: SaveTo,
        owner: &str,
        epochs: &[(String, i64)],
        report: &Report,
        more: impl FnOnce(&mut dyn Db, i64, &[String]) -> Result<(), DbError>,
    ) -> Result<Saved, StateError> {
        self.write_as(&super::Fence::Off, |db| {
            let mut held = Vec::new();
            for (account, epoch) in epochs {
                if holds(db, account, owner, *epoch)? {
                    held.push(account.clone());
                }
            }
            let accounts: Vec<&AccountReport> = report
                .accounts
                .iter()
                .filter(|a| held.contains(&a.account_id))
                .collect();
            let run_id = match to {
                SaveTo::Cycle(id) => id,
                SaveTo::Recheck if accounts.is_empty() => 0,
                SaveTo::Recheck => insert_run_row(
                    db,
                    report.started_at,
                    report.duration_seconds,
                    &report.agent_version,
                    "recheck",
                )?,
            };
            let observed = report.started_at.to_rfc3339();
            for a in &accounts {
                let row = insert_account(db, run_id, a, &observed)?;
                let done = match to {
                    SaveTo::Cycle(id) => id,
                    SaveTo::Recheck => 0,
                };
                db.execute(
                    "UPDATE schedule SET owner = NULL, expires_ms = 0, last_row = ?2,
                        done_run = CASE WHEN ?3 > done_run THEN ?3 ELSE done_run END
                     WHERE account_id = ?1",
                    args![&a.account_id, row, done],
                )?;
            }
            if let SaveTo::Cycle(id) = to {
                // The cycle's duration so far: from its start to its latest saved account.
                db.execute(
                    "UPDATE runs SET duration_seconds = ?2 WHERE id = ?1",
                    args![
                        id,
                        (Utc::now() - report.started_at).num_milliseconds().max(0) as f64 / 1000.0
                    ],
                )?;
            }
            let mut completed = None;
            if let (SaveTo::Cycle(id), false) = (to, held.is_empty()) {
                // After the run's row is updated (locked until the commit on PostgreSQL): every
                // other save of the cycle committed before, or waits for this one.
                let left = db
                    .query_one(
                        "SELECT COUNT(*) FROM schedule WHERE due_run = ?1 AND done_run < due_run",
                        args![id],
                    )?
                    .unwrap_or_default()
                    .int(0)?;
                if left == 0 {
                    let mut r = db
                        .query_one(
                            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0)
                             FROM account_runs WHERE run_id = ?1",
                            args![id],
                        )?
                        .unwrap_or_default();
                    completed = Some(CycleEnd {
                        run_id: id,
                        accounts: r.int(0)?,
                        failed: r.int(1)?,
                    });
                }
            }
            if !held.is_empty() {
                more(db, run_id, &held)?;
            }
            Ok(Saved {
                run_id,
                held,
                completed,
            })
        })
    }

    /// The newest cycle, if one started.
    pub fn latest_cycle(&self) -> Result<Option<Cycle>, StateError> {
        self.read(|db| {
            let Some(mut r) = db.query_one(
                "SELECT id, started_at, duration_seconds FROM runs WHERE kind = 'audit' ORDER BY id DESC LIMIT 1",
                &[],
            )?
            else {
                return Ok(None);
            };
            let run_id = r.int(0)?;
            let started_at = super::rfc3339(&r.text(1)?).unwrap_or_default();
            let duration_seconds = r.real(2)?;
            let pending = db
                .query_one(
                    "SELECT COUNT(*) FROM schedule WHERE done_run < due_run",
                    &[],
                )?
                .unwrap_or_default()
                .int(0)?;
            Ok(Some(Cycle {
                run_id,
                started_at,
                duration_seconds,
                pending,
            }))
        })
    }

    /// How many accounts of the newest cycle are being audited (due, claimed, the claim running).
    pub fn in_progress(&self, now_ms: i64) -> Result<i64, StateError> {
        self.read(|db| {
            db.query_one(
                "SELECT COUNT(*) FROM schedule WHERE done_run < due_run AND owner IS NOT NULL AND expires_ms >= ?1",
                args![now_ms],
            )?
            .unwrap_or_default()
            .int(0)
        })
    }

    /// The scheduled accounts in order, with their newest result rows.
    pub fn served(&self) -> Result<Vec<Served>, StateError> {
        self.read(|db| {
            db.query(
                "SELECT account_id, position, last_row FROM schedule ORDER BY position",
                &[],
            )?
            .into_iter()
            .map(|mut r| {
                Ok(Served {
                    account_id: r.text(0)?,
                    position: r.int(1)?,
                    last_row: r.int(2)?,
                })
            })
            .collect()
        })
    }

    /// An account's newest result as served (its schedule row's), if it is scheduled and saved.
    pub fn current_result(&self, account_id: &str) -> Result<Option<AccountReport>, StateError> {
        self.read(|db| {
            db.query_one(
                "SELECT a.report FROM schedule s JOIN account_runs a ON a.rowid = s.last_row WHERE s.account_id = ?1",
                args![account_id],
            )?
            .map(|mut r| Ok(serde_json::from_str(&r.text(0)?)?))
            .transpose()
        })
    }

    /// The results saved in these rows (of `account_runs`), each with its run's start and duration.
    pub fn results(
        &self,
        rows: &[i64],
    ) -> Result<Vec<(AccountReport, DateTime<Utc>, f64)>, StateError> {
        self.read(|db| {
            let mut out = Vec::with_capacity(rows.len());
            for chunk in rows.chunks(64) {
                let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
                let values: Vec<super::Value> =
                    chunk.iter().map(|r| super::Value::Int(*r)).collect();
                for mut r in db.query(
                    &format!(
                        "SELECT a.report, r.started_at, r.duration_seconds FROM account_runs a JOIN runs r ON r.id = a.run_id
                         WHERE a.rowid IN ({})",
                        marks.join(", ")
                    ),
                    &values,
                )? {
                    let report = serde_json::from_str(&r.text(0)?)?;
                    let at = super::rfc3339(&r.text(1)?).unwrap_or_default();
                    out.push((report, at, r.real(2)?));
                }
            }
            Ok(out)
        })
    }
}
