//! The persistent state: every run's results in an embedded SQLite database, so that a restart keeps
//! the baseline, the history of levels and the last known verdicts.
//!
//! A run is written in one transaction (WAL journal): a crash or `kill -9` mid-run leaves the
//! previous state intact. The schema is migrated on open (`PRAGMA user_version`).

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use maturity_checks::model::Status;
use maturity_checks::report::{AccountReport, AccountStatus, Report};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("state database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("state database {path} has schema version {found}, newer than this agent's {known}: run the newer agent, or restore a backup made for this version")]
    Newer {
        path: String,
        found: usize,
        known: usize,
    },
    #[error("state database {path} cannot be written: {source}")]
    NotWritable {
        path: String,
        source: rusqlite::Error,
    },
    #[error("state database holds a report that cannot be read: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("cannot create the state directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

/// Schema versions, applied in order. Never edit a released step: add one.
const MIGRATIONS: &[&str] = &[
    // 1: runs, per-account results, per-practice levels, per-resource verdicts, last known statuses.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        duration_seconds REAL NOT NULL,
        agent_version TEXT NOT NULL
     );
     CREATE TABLE account_runs (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        account_name TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        level INTEGER,
        confirmed_level INTEGER,
        report TEXT NOT NULL,
        PRIMARY KEY (run_id, account_id)
     );
     CREATE INDEX account_runs_by_account ON account_runs(account_id, run_id);
     CREATE TABLE practice_levels (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        practice TEXT NOT NULL,
        level INTEGER NOT NULL,
        confirmed_level INTEGER NOT NULL,
        unconfirmed INTEGER NOT NULL,
        score REAL,
        PRIMARY KEY (run_id, account_id, practice)
     );
     CREATE TABLE verdicts (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        account_id TEXT NOT NULL,
        check_id TEXT NOT NULL,
        resource TEXT NOT NULL,
        region TEXT,
        status TEXT NOT NULL,
        reason TEXT NOT NULL
     );
     CREATE INDEX verdicts_by_check ON verdicts(account_id, check_id, run_id);
     CREATE TABLE last_known (
        account_id TEXT NOT NULL,
        check_id TEXT NOT NULL,
        status TEXT NOT NULL,
        observed_at TEXT NOT NULL,
        run_id INTEGER NOT NULL,
        PRIMARY KEY (account_id, check_id)
     );",
    // 2: alerting. What failed when a check was last known (NULL: not recorded by version 1, so no
    // "new failing resources" can be computed from it), the alerts with their state, every
    // regression, and the outbox of notifications not yet delivered.
    "ALTER TABLE last_known ADD COLUMN failing TEXT;
     ALTER TABLE last_known ADD COLUMN unknown_scopes TEXT;
     CREATE TABLE alerts (
        key TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        active INTEGER NOT NULL,
        alert TEXT NOT NULL,
        updated_at TEXT NOT NULL
     );
     CREATE INDEX alerts_active ON alerts(active, account_id);
     CREATE TABLE regressions (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL,
        detected_at TEXT NOT NULL,
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        practice TEXT,
        check_id TEXT,
        severity TEXT NOT NULL,
        from_level INTEGER,
        to_level INTEGER,
        resources TEXT NOT NULL,
        summary TEXT NOT NULL
     );
     CREATE INDEX regressions_by_account ON regressions(account_id, id);
     CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        sink TEXT NOT NULL,
        destination TEXT NOT NULL,
        notice TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        last_error TEXT,
        rejected_at TEXT
     );
     CREATE INDEX outbox_queue ON outbox(sink, destination, id);",
    // 3: one row rewritten by the write probe (start, /readyz): a real committed write.
    "CREATE TABLE write_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        written_at TEXT NOT NULL
     );",
    // 4: event-driven re-checks. A run is a full audit (`audit`) or a re-check of one account
    // (`recheck`, `crate::events`).
    "ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'audit';",
];

/// Marks a run saved by [`Store::save_run_with`] as a re-check (in the same transaction).
pub fn mark_recheck(tx: &rusqlite::Transaction, run_id: i64) -> Result<(), StateError> {
    tx.execute("UPDATE runs SET kind = 'recheck' WHERE id = ?1", [run_id])?;
    Ok(())
}

/// Checks, without changing anything, that `run` can use `path`: an existing database must be
/// one this agent's schema knows and must take a write (tried in a transaction that is rolled
/// back); a new one must be creatable (its nearest existing directory takes a file).
pub fn check_usable(path: &Path) -> Result<(), String> {
    let name = path.display();
    if path.exists() {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
            .map_err(|e| format!("state database {name}: {e}"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| format!("state database {name}: {e}"))?;
        let version: usize = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| format!("state database {name}: {e}"))?;
        if version > MIGRATIONS.len() {
            return Err(StateError::Newer {
                path: name.to_string(),
                found: version,
                known: MIGRATIONS.len(),
            }
            .to_string());
        }
        conn.execute_batch(
            "BEGIN IMMEDIATE; CREATE TABLE maturity_agent_write_check (x INTEGER); ROLLBACK;",
        )
        .map_err(|e| format!("state database {name} cannot be written: {e}"))?;
        return Ok(());
    }
    let mut dir = path.parent();
    while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        dir = d.parent();
    }
    let dir = dir
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(format!(
            "state.path {name}: {} is not a directory",
            dir.display()
        ));
    }
    let probe = dir.join(format!(".maturity-agent-check-{}", std::process::id()));
    std::fs::File::create_new(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| {
            format!(
                "state.path {name}: cannot create files in {}: {e}",
                dir.display()
            )
        })
}

/// One point of an account's history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub run_id: i64,
    pub started_at: String,
    pub status: String,
    pub level: Option<u8>,
    pub practices: BTreeMap<String, u8>,
}

/// The state store. SQLite calls are short and run under a mutex; callers on the async runtime wrap
/// them in `spawn_blocking`.
pub struct Store {
    conn: Mutex<Connection>,
    /// The database file, named in the errors that only SQLite describes.
    path: String,
}

fn status_str(s: Status) -> &'static str {
    s.as_str()
}

pub(crate) fn parse_status(s: &str) -> Option<Status> {
    match s {
        "pass" => Some(Status::Pass),
        "fail" => Some(Status::Fail),
        "unknown" => Some(Status::Unknown),
        "not_applicable" => Some(Status::NotApplicable),
        "accepted" => Some(Status::Accepted),
        _ => None,
    }
}

impl Store {
    /// Opens (creating it and its directory if needed) and migrates the database.
    pub fn open(path: &Path) -> Result<Store, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::Dir {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let named = |source| StateError::Open {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(named)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(named)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(named)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(named)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(named)?;
        let store = Store {
            conn: Mutex::new(conn),
            path: path.display().to_string(),
        };
        store.migrate().map_err(|e| match e {
            StateError::Sql(source) => named(source),
            e => e,
        })?;
        Ok(store)
    }

    pub(crate) fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The database file.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn migrate(&self) -> Result<(), StateError> {
        let mut conn = self.conn();
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        // A newer agent's schema may mean data this one would misread or drop: refuse it.
        if version > MIGRATIONS.len() {
            return Err(StateError::Newer {
                path: self.path.clone(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        let tx = conn.transaction()?;
        for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(step)?;
            tx.pragma_update(None, "user_version", i + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Commits a real write (one row rewritten), so that a read-only, immutable or full database
    /// shows at start and in /readyz rather than at the next run's save.
    pub fn write_probe(&self) -> Result<(), StateError> {
        self.conn()
            .execute(
                "INSERT INTO write_probe (id, written_at) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET written_at = ?1",
                [Utc::now().to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|source| StateError::NotWritable {
                path: self.path.clone(),
                source,
            })
    }

    /// Saves a run in one transaction: the run, each account's result, practice levels, verdicts, and
    /// the last known status of every check that had one (unknown statuses leave it unchanged).
    pub fn save_run(&self, report: &Report) -> Result<i64, StateError> {
        self.save_run_with(report, |_, _| Ok(()))
    }

    /// Saves a run like [`Store::save_run`] and, in the same transaction, what `more` writes (the
    /// run's regressions, alerts and notifications): a crash never keeps one without the other.
    pub fn save_run_with(
        &self,
        report: &Report,
        more: impl FnOnce(&rusqlite::Transaction, i64) -> Result<(), StateError>,
    ) -> Result<i64, StateError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO runs (started_at, duration_seconds, agent_version) VALUES (?1, ?2, ?3)",
            params![
                report.started_at.to_rfc3339(),
                report.duration_seconds,
                report.agent_version
            ],
        )?;
        let run_id = tx.last_insert_rowid();
        let observed = report.started_at.to_rfc3339();
        for a in &report.accounts {
            tx.execute(
                "INSERT INTO account_runs (run_id, account_id, account_name, status, error, level, confirmed_level, report)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    run_id,
                    a.account_id,
                    a.account_name,
                    if a.status == AccountStatus::Audited { "audited" } else { "failed" },
                    a.error,
                    a.level,
                    a.confirmed_level,
                    serde_json::to_string(a)?
                ],
            )?;
            for p in &a.practices {
                tx.execute(
                    "INSERT INTO practice_levels VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        run_id,
                        a.account_id,
                        p.practice.as_str(),
                        p.level,
                        p.confirmed_level,
                        p.unconfirmed,
                        p.score
                    ],
                )?;
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO verdicts (run_id, account_id, check_id, resource, region, status, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for c in &a.checks {
                for v in &c.verdicts {
                    insert.execute(params![
                        run_id,
                        a.account_id,
                        c.id,
                        v.resource,
                        v.region,
                        status_str(v.status),
                        v.reason
                    ])?;
                }
            }
            drop(insert);
            for c in &a.checks {
                let Some(k) = crate::alerts::detect::KnownCheck::of(c) else {
                    continue;
                };
                tx.execute(
                    "INSERT INTO last_known (account_id, check_id, status, observed_at, run_id, failing, unknown_scopes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (account_id, check_id) DO UPDATE SET status = ?3, observed_at = ?4, run_id = ?5, failing = ?6, unknown_scopes = ?7",
                    params![
                        a.account_id,
                        c.id,
                        status_str(c.status),
                        observed,
                        run_id,
                        serde_json::to_string(&k.failing)?,
                        serde_json::to_string(&k.unknown_scopes)?
                    ],
                )?;
            }
        }
        more(&tx, run_id)?;
        tx.commit()?;
        Ok(run_id)
    }

    /// The last known (not unknown) status of each check of an account, with when it was seen.
    pub fn last_known(
        &self,
        account_id: &str,
    ) -> Result<HashMap<String, (Status, DateTime<Utc>)>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT check_id, status, observed_at FROM last_known WHERE account_id = ?1",
        )?;
        let rows = stmt.query_map([account_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (check, status, at) = row?;
            if let (Some(status), Ok(at)) =
                (parse_status(&status), DateTime::parse_from_rfc3339(&at))
            {
                out.insert(check, (status, at.with_timezone(&Utc)));
            }
        }
        Ok(out)
    }

    /// The newest report of an account that was audited (not failed), if any.
    pub fn last_audited(&self, account_id: &str) -> Result<Option<AccountReport>, StateError> {
        let conn = self.conn();
        let json: Option<String> = conn
            .query_row(
                "SELECT report FROM account_runs WHERE account_id = ?1 AND status = 'audited' ORDER BY run_id DESC LIMIT 1",
                [account_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    }

    /// The newest full audit as a report, rebuilt from its accounts, each account replaced by its
    /// newer re-check when there is one.
    pub fn latest_report(&self) -> Result<Option<Report>, StateError> {
        let conn = self.conn();
        let run: Option<(i64, String, f64, String)> = conn
            .query_row(
                "SELECT id, started_at, duration_seconds, agent_version FROM runs WHERE kind = 'audit' ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((run_id, started_at, duration_seconds, agent_version)) = run else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached(
            "SELECT COALESCE(
                (SELECT n.report FROM account_runs n WHERE n.account_id = a.account_id AND n.run_id > a.run_id ORDER BY n.run_id DESC LIMIT 1),
                a.report)
             FROM account_runs a WHERE a.run_id = ?1 ORDER BY a.rowid",
        )?;
        let accounts = stmt
            .query_map([run_id], |r| r.get::<_, String>(0))?
            .map(|j| Ok(serde_json::from_str(&j?)?))
            .collect::<Result<Vec<AccountReport>, StateError>>()?;
        Ok(Some(Report {
            schema_version: maturity_checks::report::SCHEMA_VERSION,
            agent_version,
            started_at: DateTime::parse_from_rfc3339(&started_at)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
            duration_seconds,
            accounts,
            organization: None,
        }))
    }

    /// An account's levels over its most recent `limit` runs, newest first.
    pub fn history(&self, account_id: &str, limit: u32) -> Result<Vec<HistoryPoint>, StateError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT a.run_id, r.started_at, a.status, a.level FROM account_runs a JOIN runs r ON r.id = a.run_id
             WHERE a.account_id = ?1 ORDER BY a.run_id DESC LIMIT ?2",
        )?;
        let mut points: Vec<HistoryPoint> = stmt
            .query_map(params![account_id, limit], |r| {
                Ok(HistoryPoint {
                    run_id: r.get(0)?,
                    started_at: r.get(1)?,
                    status: r.get(2)?,
                    level: r.get(3)?,
                    practices: BTreeMap::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut levels = conn.prepare_cached(
            "SELECT practice, level FROM practice_levels WHERE run_id = ?1 AND account_id = ?2",
        )?;
        for p in &mut points {
            p.practices = levels
                .query_map(params![p.run_id, account_id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, u8>(1)?))
                })?
                .collect::<Result<_, _>>()?;
        }
        Ok(points)
    }

    /// Deletes runs that started before `now - days`, except the newest run, the newest full audit
    /// and the newest audited run of every account (the baseline). Returns how many runs were deleted.
    pub fn prune(&self, days: u32, now: DateTime<Utc>) -> Result<usize, StateError> {
        // Checked: a retention beyond chrono's range keeps everything rather than panicking.
        let cutoff = ChronoDuration::try_days(i64::from(days))
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .to_rfc3339();
        let conn = self.conn();
        let n = conn.execute(
            "DELETE FROM runs WHERE started_at < ?1
               AND id <> (SELECT MAX(id) FROM runs)
               AND id IS NOT (SELECT MAX(id) FROM runs WHERE kind = 'audit')
               AND id NOT IN (SELECT MAX(run_id) FROM account_runs WHERE status = 'audited' GROUP BY account_id)",
            [&cutoff],
        )?;
        conn.execute("DELETE FROM regressions WHERE detected_at < ?1", [&cutoff])?;
        Ok(n)
    }

    /// The number of runs stored.
    pub fn run_count(&self) -> Result<i64, StateError> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use maturity_checks::model::{Practice, Severity, Verdict};
    use maturity_checks::report::{CheckResult, DsommRef};

    pub(crate) fn account(id: &str, status: Status, at: DateTime<Utc>) -> Report {
        let mut a = AccountReport {
            account_id: id.into(),
            account_name: format!("name-{id}"),
            status: AccountStatus::Audited,
            error: None,
            regions: vec!["us-east-1".into()],
            level: None,
            confirmed_level: None,
            unconfirmed: false,
            practices: vec![],
            dimensions: vec![],
            checks: vec![CheckResult {
                id: "iam_root_mfa_enabled".into(),
                title: "t".into(),
                practice: Practice::Identity,
                level: 1,
                severity: Severity::Critical,
                dsomm_activity: DsommRef {
                    uuid: "u".into(),
                    name: "n".into(),
                    level: 1,
                },
                status,
                remediation: "r".into(),
                verdicts: vec![Verdict::new("arn:aws:iam::1:root", None, status, "why")],
                carried_over: None,
                rechecked: None,
            }],
            errors: vec![],
            api_calls: vec![],
            duration_seconds: 1.0,
        };
        maturity_checks::audit::rescore(&mut a);
        Report {
            schema_version: 1,
            agent_version: "t".into(),
            started_at: at,
            duration_seconds: 1.0,
            accounts: vec![a],
            organization: None,
        }
    }

    /// A saved run comes back as the latest report, with history and last known statuses; an unknown
    /// status does not overwrite the last known one.
    #[test]
    fn saves_and_reads_back_runs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sub/state.db")).unwrap();
        let t0 = Utc::now() - ChronoDuration::hours(2);
        store
            .save_run(&account("111111111111", Status::Pass, t0))
            .unwrap();
        store
            .save_run(&account(
                "111111111111",
                Status::Unknown,
                t0 + ChronoDuration::hours(1),
            ))
            .unwrap();
        let latest = store.latest_report().unwrap().unwrap();
        assert_eq!(latest.accounts[0].checks[0].status, Status::Unknown);
        let known = store.last_known("111111111111").unwrap();
        assert_eq!(known["iam_root_mfa_enabled"].0, Status::Pass);
        assert_eq!(known["iam_root_mfa_enabled"].1.timestamp(), t0.timestamp());
        let history = store.history("111111111111", 10).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].practices["identity"], 1);
        store.write_probe().unwrap();
        // Reopening migrates nothing and keeps everything.
        drop(store);
        let store = Store::open(&dir.path().join("sub/state.db")).unwrap();
        assert_eq!(store.run_count().unwrap(), 2);
    }

    /// Retention deletes old runs but keeps each account's newest audited run.
    #[test]
    fn prune_keeps_the_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        let old = Utc::now() - ChronoDuration::days(100);
        store
            .save_run(&account("111111111111", Status::Pass, old))
            .unwrap();
        store
            .save_run(&account(
                "111111111111",
                Status::Fail,
                old + ChronoDuration::days(1),
            ))
            .unwrap();
        store
            .save_run(&account("222222222222", Status::Pass, Utc::now()))
            .unwrap();
        assert_eq!(store.prune(90, Utc::now()).unwrap(), 1);
        assert_eq!(
            store.last_audited("111111111111").unwrap().unwrap().checks[0].status,
            Status::Fail
        );
        assert_eq!(store.run_count().unwrap(), 2);
    }

    /// A database a newer agent migrated is refused, by `open` and by `check_usable`, naming the
    /// file; so is a full one at save time and an immutable one in the write probe.
    #[test]
    fn newer_full_and_immutable_databases_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(Store::open(&path).unwrap());
        check_usable(&path).unwrap();
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let e = Store::open(&path).err().unwrap().to_string();
        assert!(
            e.starts_with(&format!(
                "state database {} has schema version 99, newer than this agent's {}",
                path.display(),
                MIGRATIONS.len()
            )),
            "{e}"
        );
        assert_eq!(check_usable(&path).unwrap_err(), e);

        // "Disk full": SQLite's own page limit, on the store's connection.
        let path = dir.path().join("full.db");
        let store = Store::open(&path).unwrap();
        let pages: i64 = store
            .conn()
            .pragma_query_value(None, "page_count", |r| r.get(0))
            .unwrap();
        store
            .conn()
            .pragma_update(None, "max_page_count", pages)
            .unwrap();
        let mut big = account("111111111111", Status::Fail, Utc::now());
        big.accounts[0].checks[0].verdicts = (0..2000)
            .map(|i| {
                Verdict::new(
                    format!("arn:aws:s3:::bucket-{i}"),
                    None,
                    Status::Fail,
                    "why",
                )
            })
            .collect();
        let e = store.save_run(&big).unwrap_err().to_string();
        assert!(e.contains("full"), "{e}");
        assert_eq!(store.run_count().unwrap(), 0, "nothing of the run is kept");
    }

    /// An immutable database file (root ignores mode bits; `chattr +i` stops root too) fails the
    /// write probe with the file's name, and `check_usable` refuses it.
    #[test]
    fn immutable_database_fails_the_probe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(Store::open(&path).unwrap());
        let chattr = |flag: &str| {
            let out = std::process::Command::new("chattr")
                .arg(flag)
                .arg(&path)
                .output()
                .unwrap_or_else(|e| panic!("chattr is missing ({e}): apt-get install e2fsprogs"));
            assert!(
                out.status.success(),
                "chattr {flag}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        chattr("+i");
        let opened = Store::open(&path);
        let usable = check_usable(&path);
        chattr("-i");
        match opened {
            Ok(store) => {
                let e = store.write_probe().unwrap_err().to_string();
                assert!(
                    e.starts_with(&format!(
                        "state database {} cannot be written",
                        path.display()
                    )),
                    "{e}"
                );
            }
            Err(e) => assert!(e.to_string().contains(&path.display().to_string()), "{e}"),
        }
        let e = usable.unwrap_err();
        assert!(
            e.contains(&path.display().to_string()) && e.contains("cannot be written"),
            "{e}"
        );
    }
}
