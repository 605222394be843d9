//! The persistent state: every run's results, so that a restart keeps the baseline, the history of
//! levels and the last known verdicts. One store, two engines behind it: an embedded SQLite file
//! (the default, one agent) or a PostgreSQL database (`[state] url`, replicas sharing the state).
//!
//! # Layout
//! - [`db`]: [`Db`], what the queries see of either engine ([`Value`]s in, [`Row`]s out).
//! - [`sqlite`], [`postgres`]: the engines: connection, migrations, the check of `validate`.
//! - this module: [`Store`], every query of the state, written once for both engines.
//! - [`access`]: IAM's service last-accessed reports kept between runs (the collector's cache).
//! - [`copy`]: `state copy`, a whole state from one database into another.
//!
//! A run is written in one transaction: a crash or `kill -9` mid-run leaves the previous state
//! intact. The schema is migrated on open; a newer schema than this agent's is refused.

pub mod access;
pub mod copy;
pub mod db;
pub mod postgres;
pub mod schedule;
pub mod sqlite;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
pub(crate) use db::args;
pub use db::{Db, DbError, Row, Value};
use maturity_checks::model::Status;
use maturity_checks::report::{AccountReport, AccountStatus, Report};
pub use postgres::PgTarget;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// An error of the state store, naming the database (the SQLite file, or the PostgreSQL URL
/// without its password).
#[derive(Debug)]
pub struct StateError {
    pub database: String,
    pub error: DbError,
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sep = if self.error.needs_colon() { ":" } else { "" };
        write!(f, "state database {}{sep} {}", self.database, self.error)
    }
}

impl std::error::Error for StateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Where the state is kept.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(Box<PgTarget>),
}

impl Database {
    /// The database of a `[state]` section: its password is read here (the error names the keys).
    pub fn of(config: &crate::config::StateConfig) -> Result<Database, String> {
        let Some(url) = &config.url else {
            return Ok(Database::Sqlite(config.sqlite_path()));
        };
        let password = crate::alerts::config::read_secret(
            "state database password",
            config.password_env.as_deref(),
            config.password_file.as_deref(),
        )?;
        PgTarget::new(url, password, config.ca_file.as_deref())
            .map(|t| Database::Postgres(Box::new(t)))
            .map_err(|e| format!("state.url: {e}"))
    }

    /// A database named on the command line: `sqlite:PATH` or a PostgreSQL URL.
    pub fn parse(
        text: &str,
        password: Option<String>,
        ca_file: Option<&Path>,
    ) -> Result<Database, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            return match (path.is_empty(), password) {
                (true, _) => {
                    Err("sqlite: needs a path, like sqlite:/var/lib/maturity-agent/state.db".into())
                }
                (false, Some(_)) => Err(format!("{text}: a SQLite database takes no password")),
                (false, None) => Ok(Database::Sqlite(PathBuf::from(path))),
            };
        }
        PgTarget::new(text, password, ca_file).map(|t| Database::Postgres(Box::new(t)))
    }

    /// The SQLite file, or the PostgreSQL URL without password.
    pub fn name(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Postgres(t) => t.name().to_owned(),
        }
    }
}

/// Checks, without changing anything, that `run` can use the database: an existing one must have a
/// schema this agent knows and take a write (tried and rolled back); a new SQLite file must be
/// creatable, a PostgreSQL database must answer.
pub fn check_usable(database: &Database) -> Result<(), String> {
    match database {
        Database::Sqlite(path) => sqlite::check_usable(path),
        Database::Postgres(t) => postgres::check_usable(t),
    }
    .map_err(|error| {
        StateError {
            database: database.name(),
            error,
        }
        .to_string()
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

enum Engine {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Pg>),
}

/// The state store. Calls are short and blocking, under a mutex; callers on the async runtime wrap
/// them in `spawn_blocking`.
pub struct Store {
    engine: Mutex<Engine>,
    /// The database, named in every error.
    name: String,
    /// The lease every write transaction must still hold, when replicas share the database.
    fence: Mutex<Fence>,
}

/// What a write checks before it commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fence {
    /// One agent alone on its database: nothing to check.
    Off,
    /// Writes commit only while `owner` holds the lease `name` at `epoch`.
    Held {
        name: String,
        owner: String,
        epoch: i64,
    },
    /// This replica is on standby: its writes are refused.
    Standby,
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

pub(crate) fn rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The parts of the served report a writer needs before its accounts ([`Store::report_rows`]).
pub struct ReportRows {
    /// Each served account's result row and id, in the schedule's order.
    pub rows: Vec<(i64, String)>,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: f64,
}

impl Store {
    /// Opens (creating it and its directory if needed) and migrates a SQLite database.
    pub fn open(path: &Path) -> Result<Store, StateError> {
        Store::connect(&Database::Sqlite(path.to_owned()))
    }

    /// Opens and migrates the database.
    pub fn connect(database: &Database) -> Result<Store, StateError> {
        let name = database.name();
        let engine = match database {
            Database::Sqlite(path) => sqlite::open(path).map(Engine::Sqlite),
            Database::Postgres(t) => postgres::Pg::open(t).map(|p| Engine::Postgres(Box::new(p))),
        }
        .map_err(|error| StateError {
            database: name.clone(),
            error,
        })?;
        Ok(Store {
            engine: Mutex::new(engine),
            name,
            fence: Mutex::new(Fence::Off),
        })
    }

    /// The database: the SQLite file, or the PostgreSQL URL without password.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the state is in PostgreSQL (shared by replicas).
    pub fn is_shared(&self) -> bool {
        matches!(*self.engine(), Engine::Postgres(_))
    }

    fn engine(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn named(&self, error: DbError) -> StateError {
        StateError {
            database: self.name.clone(),
            error,
        }
    }

    /// Runs `f` on the connection (each statement commits by itself).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, DbError>,
    ) -> Result<T, StateError> {
        match &mut *self.engine() {
            Engine::Sqlite(c) => f(&mut sqlite::SqliteDb(c)),
            Engine::Postgres(p) => p.with(f),
        }
        .map_err(|e| self.named(e))
    }

    /// Runs `f` in one transaction, committed when it returns `Ok` and, when replicas share the
    /// database, only while this replica still holds its lease at its epoch: the check locks the
    /// lease's row until the commit, so a takeover waits for it or refuses it.
    pub fn write<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, DbError>,
    ) -> Result<T, StateError> {
        self.write_as(&self.fence(), f)
    }

    /// Runs `f` in one transaction fenced by `fence` rather than by this replica's lease (the
    /// saves of claimed accounts check their claims themselves, on every replica).
    pub(crate) fn write_as<T>(
        &self,
        fence: &Fence,
        f: impl FnOnce(&mut dyn Db) -> Result<T, DbError>,
    ) -> Result<T, StateError> {
        let f = |db: &mut dyn Db| {
            check_fence(db, fence)?;
            f(db)
        };
        match &mut *self.engine() {
            Engine::Sqlite(c) => (|| {
                let tx = c.transaction()?;
                let out = f(&mut sqlite::SqliteDb(&tx))?;
                tx.commit()?;
                Ok(out)
            })(),
            Engine::Postgres(p) => p.transaction(f),
        }
        .map_err(|e| self.named(e))
    }

    /// The lease writes must hold.
    pub fn fence(&self) -> Fence {
        self.fence.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set_fence(&self, fence: Fence) {
        *self.fence.lock().unwrap_or_else(|p| p.into_inner()) = fence;
    }

    /// Takes or renews the lease `name` for `owner` until `now_ms + ttl_ms`: renewed when `owner`
    /// holds it, taken (its epoch one higher) when it is free or expired. Returns the epoch, or
    /// `None` while another holder's lease runs.
    pub fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<i64>, StateError> {
        self.read(|db| {
            db.query_one(
                "INSERT INTO leases (name, owner, epoch, expires_ms) VALUES (?1, ?2, 1, ?4)
                 ON CONFLICT (name) DO UPDATE SET
                    epoch = CASE WHEN leases.owner = excluded.owner THEN leases.epoch ELSE leases.epoch + 1 END,
                    owner = excluded.owner,
                    expires_ms = excluded.expires_ms
                 WHERE leases.owner = excluded.owner OR leases.expires_ms < ?3
                 RETURNING epoch",
                args![name, owner, now_ms, now_ms.saturating_add(ttl_ms)],
            )?
            .map(|mut r| r.int(0))
            .transpose()
        })
    }

    /// Gives the lease up (a clean stop), so that another replica takes it without waiting.
    pub fn release_lease(&self, name: &str, owner: &str) -> Result<(), StateError> {
        self.read(|db| {
            db.execute(
                "UPDATE leases SET expires_ms = 0 WHERE name = ?1 AND owner = ?2",
                args![name, owner],
            )
        })?;
        Ok(())
    }

    /// The SQLite connection, for tests of SQLite's own limits.
    #[cfg(test)]
    pub(crate) fn sqlite<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> T) -> T {
        match &*self.engine() {
            Engine::Sqlite(c) => f(c),
            Engine::Postgres(_) => panic!("not a SQLite store"),
        }
    }

    /// Commits a real write (one row rewritten), so that a read-only, immutable or full database
    /// shows at start and in /readyz rather than at the next run's save.
    pub fn write_probe(&self) -> Result<(), StateError> {
        self.read(|db| {
            db.execute(
                "INSERT INTO write_probe (id, written_at) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET written_at = ?1",
                args![Utc::now().to_rfc3339()],
            )
            .map(|_| ())
            .map_err(|e| DbError::NotWritable(Box::new(e)))
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
        more: impl FnOnce(&mut dyn Db, i64) -> Result<(), DbError>,
    ) -> Result<i64, StateError> {
        self.write(|db| {
            let run_id = insert_run(db, report)?;
            more(db, run_id)?;
            Ok(run_id)
        })
    }

    /// The last known (not unknown) status of each check of an account, with when it was seen.
    pub fn last_known(
        &self,
        account_id: &str,
    ) -> Result<HashMap<String, (Status, DateTime<Utc>)>, StateError> {
        self.read(|db| {
            let mut out = HashMap::new();
            for mut r in db.query(
                "SELECT check_id, status, observed_at FROM last_known WHERE account_id = ?1",
                args![account_id],
            )? {
                let check = r.text(0)?;
                if let (Some(status), Some(at)) = (parse_status(&r.text(1)?), rfc3339(&r.text(2)?))
                {
                    out.insert(check, (status, at));
                }
            }
            Ok(out)
        })
    }

    /// The newest report of an account that was audited (not failed), if any.
    pub fn last_audited(&self, account_id: &str) -> Result<Option<AccountReport>, StateError> {
        self.read(|db| last_audited(db, account_id))
    }

    /// The latest state as a report: each scheduled account's newest result, in the schedule's
    /// order, under the newest cycle's start. A state saved before the shared schedule existed (or
    /// copied from one): the newest full audit, each account replaced by its newer re-check.
    pub fn latest_report(&self) -> Result<Option<Report>, StateError> {
        let served = self.served()?;
        let rows: Vec<i64> = served
            .iter()
            .map(|s| s.last_row)
            .filter(|r| *r > 0)
            .collect();
        if rows.is_empty() {
            return self.latest_full_audit();
        }
        let position: HashMap<&str, i64> = served
            .iter()
            .map(|s| (s.account_id.as_str(), s.position))
            .collect();
        let results = self.results(&rows)?;
        // The report is as new as its newest result: a cycle that saved nothing yet does not
        // make it look newer.
        let (started_at, duration_seconds) = results
            .iter()
            .map(|(_, at, d)| (*at, *d))
            .max_by_key(|(at, _)| *at)
            .unwrap_or_default();
        let mut accounts: Vec<AccountReport> = results.into_iter().map(|(a, _, _)| a).collect();
        accounts.sort_by_key(|a| {
            position
                .get(a.account_id.as_str())
                .copied()
                .unwrap_or(i64::MAX)
        });
        Ok(Some(Report {
            schema_version: maturity_checks::report::SCHEMA_VERSION,
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at,
            duration_seconds,
            accounts,
            organization: None,
        }))
    }

    /// What [`Store::latest_report`] holds, without the accounts' results: the served result rows
    /// in the schedule's order and the start and duration of the newest one's run; `None` when no
    /// scheduled account is saved (then only [`Store::latest_report`] answers, from the newest
    /// full audit). The report is then written from the rows a few at a time, never whole.
    pub fn report_rows(&self) -> Result<Option<ReportRows>, StateError> {
        let rows: Vec<(i64, String)> = self
            .served()?
            .into_iter()
            .filter(|s| s.last_row > 0)
            .map(|s| (s.last_row, s.account_id))
            .collect();
        if rows.is_empty() {
            return Ok(None);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let newest = self.read(|db| {
            let mut newest: Option<(DateTime<Utc>, f64)> = None;
            for chunk in ids.chunks(64) {
                let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
                let values: Vec<Value> = chunk.iter().map(|r| Value::Int(*r)).collect();
                for mut r in db.query(
                    &format!(
                        "SELECT r.started_at, r.duration_seconds FROM account_runs a JOIN runs r ON r.id = a.run_id
                         WHERE a.rowid IN ({})",
                        marks.join(", ")
                    ),
                    &values,
                )? {
                    let at = rfc3339(&r.text(0)?).unwrap_or_default();
                    let d = r.real(1)?;
                    if newest.is_none_or(|(n, _)| at > n) {
                        newest = Some((at, d));
                    }
                }
            }
            Ok(newest.unwrap_or_default())
        })?;
        Ok(Some(ReportRows {
            rows,
            started_at: newest.0,
            duration_seconds: newest.1,
        }))
    }

    /// The newest full audit as a report, rebuilt from its accounts, each account replaced by its
    /// newer re-check when there is one.
    fn latest_full_audit(&self) -> Result<Option<Report>, StateError> {
        self.read(|db| {
            let Some(mut run) = db.query_one(
                "SELECT id, started_at, duration_seconds, agent_version FROM runs r WHERE kind = 'audit'
                 AND EXISTS (SELECT 1 FROM account_runs a WHERE a.run_id = r.id) ORDER BY id DESC LIMIT 1",
                &[],
            )?
            else {
                return Ok(None);
            };
            let run_id = run.int(0)?;
            let accounts = db
                .query(
                    "SELECT COALESCE(
                        (SELECT n.report FROM account_runs n WHERE n.account_id = a.account_id AND n.run_id > a.run_id ORDER BY n.run_id DESC LIMIT 1),
                        a.report)
                     FROM account_runs a WHERE a.run_id = ?1 ORDER BY a.rowid",
                    args![run_id],
                )?
                .into_iter()
                .map(|mut r| Ok(serde_json::from_str(&r.text(0)?)?))
                .collect::<Result<Vec<AccountReport>, DbError>>()?;
            Ok(Some(Report {
                schema_version: maturity_checks::report::SCHEMA_VERSION,
                started_at: rfc3339(&run.text(1)?).unwrap_or_default(),
                duration_seconds: run.real(2)?,
                agent_version: run.text(3)?,
                accounts,
                organization: None,
            }))
        })
    }

    /// An account's levels over its most recent `limit` runs, newest first.
    pub fn history(&self, account_id: &str, limit: u32) -> Result<Vec<HistoryPoint>, StateError> {
        self.read(|db| {
            let mut points = Vec::new();
            for mut r in db.query(
                "SELECT a.run_id, r.started_at, a.status, a.level FROM account_runs a JOIN runs r ON r.id = a.run_id
                 WHERE a.account_id = ?1 ORDER BY a.run_id DESC LIMIT ?2",
                args![account_id, limit],
            )? {
                let run_id = r.int(0)?;
                let mut practices = BTreeMap::new();
                for mut p in db.query(
                    "SELECT practice, level FROM practice_levels WHERE run_id = ?1 AND account_id = ?2",
                    args![run_id, account_id],
                )? {
                    practices.insert(p.text(0)?, p.small(1)?);
                }
                points.push(HistoryPoint {
                    run_id,
                    started_at: r.text(1)?,
                    status: r.text(2)?,
                    level: r.opt_small(3)?,
                    practices,
                });
            }
            Ok(points)
        })
    }

    /// Deletes runs that started before `now - days`, except the newest run, the newest full audit
    /// and the newest audited run of every account (the baseline). Returns how many runs were deleted.
    pub fn prune(&self, days: u32, now: DateTime<Utc>) -> Result<usize, StateError> {
        // Checked: a retention beyond chrono's range keeps everything rather than panicking.
        let cutoff = ChronoDuration::try_days(i64::from(days))
            .and_then(|d| now.checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
            .to_rfc3339();
        self.read(|db| {
            let n = db.execute(
                "DELETE FROM runs WHERE started_at < ?1
                   AND id <> (SELECT MAX(id) FROM runs)
                   AND id IS DISTINCT FROM (SELECT MAX(id) FROM runs WHERE kind = 'audit')
                   AND id NOT IN (SELECT MAX(run_id) FROM account_runs WHERE status = 'audited' GROUP BY account_id)",
                args![&cutoff],
            )?;
            db.execute(
                "DELETE FROM regressions WHERE detected_at < ?1",
                args![&cutoff],
            )?;
            Ok(n as usize)
        })
    }

    /// The number of runs stored.
    pub fn run_count(&self) -> Result<i64, StateError> {
        self.read(|db| {
            db.query_one("SELECT COUNT(*) FROM runs", &[])?
                .unwrap_or_default()
                .int(0)
        })
    }
}

fn check_fence(db: &mut dyn Db, fence: &Fence) -> Result<(), DbError> {
    match fence {
        Fence::Off => Ok(()),
        Fence::Standby => Err(DbError::Fenced(
            "this replica does not hold the lease (another does): this write of the lease holder is refused".into(),
        )),
        Fence::Held { name, owner, epoch } => {
            let held = db.execute(
                "UPDATE leases SET owner = owner WHERE name = ?1 AND owner = ?2 AND epoch = ?3",
                args![name, owner, *epoch],
            )?;
            if held == 1 {
                Ok(())
            } else {
                Err(DbError::Fenced(format!(
                    "lease {name} of epoch {epoch} was taken over by another replica: this write is refused"
                )))
            }
        }
    }
}

/// Marks a run saved by [`Store::save_run_with`] as a re-check (in the same transaction).
pub fn mark_recheck(db: &mut dyn Db, run_id: i64) -> Result<(), DbError> {
    db.execute(
        "UPDATE runs SET kind = 'recheck' WHERE id = ?1",
        args![run_id],
    )?;
    Ok(())
}

pub(crate) fn last_audited(
    db: &mut dyn Db,
    account_id: &str,
) -> Result<Option<AccountReport>, DbError> {
    db.query_one(
        "SELECT report FROM account_runs WHERE account_id = ?1 AND status = 'audited' ORDER BY run_id DESC LIMIT 1",
        args![account_id],
    )?
    .map(|mut r| Ok(serde_json::from_str(&r.text(0)?)?))
    .transpose()
}

/// Rows per statement of [`insert_rows`]: few round trips, statements of a bounded number of shapes
/// (the PostgreSQL backend prepares each once), parameters well under both engines' limits.
const ROWS_PER_INSERT: usize = 64;

/// Inserts `rows` (all of one width) with multi-row `VALUES` lists of up to [`ROWS_PER_INSERT`]
/// rows: `head` is `INSERT INTO t (columns)`, `tail` what follows the values (`ON CONFLICT …`).
pub(crate) fn insert_rows(
    db: &mut dyn Db,
    head: &str,
    tail: &str,
    rows: Vec<Vec<Value>>,
) -> Result<(), DbError> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Value> = rows.by_ref().take(ROWS_PER_INSERT).flatten().collect();
        let n = chunk.len() / width;
        let values: Vec<String> = (0..n)
            .map(|r| {
                let marks: Vec<String> =
                    (1..=width).map(|c| format!("?{}", r * width + c)).collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        db.execute(
            &format!("{head} VALUES {}{tail}", values.join(", ")),
            &chunk,
        )?;
    }
    Ok(())
}

/// The rows of one run: the run, each account's result, practice levels, verdicts, and the last
/// known status of every check that had one. Returns the run's id.
fn insert_run(db: &mut dyn Db, report: &Report) -> Result<i64, DbError> {
    let run_id = insert_run_row(
        db,
        report.started_at,
        report.duration_seconds,
        &report.agent_version,
        "audit",
    )?;
    let observed = report.started_at.to_rfc3339();
    for a in &report.accounts {
        insert_account(db, run_id, a, &observed)?;
    }
    Ok(run_id)
}

/// A run's own row (`kind` `audit` or `recheck`); returns its id.
pub(crate) fn insert_run_row(
    db: &mut dyn Db,
    started_at: DateTime<Utc>,
    duration_seconds: f64,
    agent_version: &str,
    kind: &str,
) -> Result<i64, DbError> {
    db.query_one(
        "INSERT INTO runs (started_at, duration_seconds, agent_version, kind) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        args![
            started_at.to_rfc3339(),
            duration_seconds,
            agent_version,
            kind
        ],
    )?
    .unwrap_or_default()
    .int(0)
}

/// One account's rows in a run: its result, practice levels, verdicts, and the last known status of
/// every check that had one (seen at `observed`). Returns the result's row id.
pub(crate) fn insert_account(
    db: &mut dyn Db,
    run_id: i64,
    a: &AccountReport,
    observed: &str,
) -> Result<i64, DbError> {
    {
        let observed = observed.to_owned();
        let row = db.query_one(
            "INSERT INTO account_runs (run_id, account_id, account_name, status, error, level, confirmed_level, report)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING rowid",
            args![
                run_id,
                &a.account_id,
                &a.account_name,
                if a.status == AccountStatus::Audited { "audited" } else { "failed" },
                &a.error,
                a.level,
                a.confirmed_level,
                serde_json::to_string(a)?
            ],
        )?;
        for p in &a.practices {
            db.execute(
                "INSERT INTO practice_levels (run_id, account_id, practice, level, confirmed_level, unconfirmed, score)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                args![
                    run_id,
                    &a.account_id,
                    p.practice.as_str(),
                    p.level,
                    p.confirmed_level,
                    p.unconfirmed,
                    p.score
                ],
            )?;
        }
        let verdicts: Vec<Vec<Value>> = a
            .checks
            .iter()
            .flat_map(|c| c.verdicts.iter().map(move |v| (c, v)))
            .map(|(c, v)| {
                args![
                    run_id,
                    &a.account_id,
                    &c.id,
                    &v.resource,
                    &v.region,
                    status_str(v.status),
                    &v.reason
                ]
                .to_vec()
            })
            .collect();
        insert_rows(
            db,
            "INSERT INTO verdicts (run_id, account_id, check_id, resource, region, status, reason)",
            "",
            verdicts,
        )?;
        let mut known = Vec::new();
        for c in &a.checks {
            let Some(k) = crate::alerts::detect::KnownCheck::of(c) else {
                continue;
            };
            known.push(
                args![
                    &a.account_id,
                    &c.id,
                    status_str(c.status),
                    &observed,
                    run_id,
                    serde_json::to_string(&k.failing)?,
                    serde_json::to_string(&k.unknown_scopes)?
                ]
                .to_vec(),
            );
        }
        insert_rows(
            db,
            "INSERT INTO last_known (account_id, check_id, status, observed_at, run_id, failing, unknown_scopes)",
            " ON CONFLICT (account_id, check_id) DO UPDATE SET status = excluded.status, observed_at = excluded.observed_at,
               run_id = excluded.run_id, failing = excluded.failing, unknown_scopes = excluded.unknown_scopes",
            known,
        )?;
        row.unwrap_or_default().int(0)
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

    /// A database a newer agent migrated is refused, by `open` and by `check_usable`, naming the
    /// file; so is a full one at save time and an immutable one in the write probe.
    #[test]
    fn newer_full_and_immutable_databases_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        drop(Store::open(&path).unwrap());
        check_usable(&Database::Sqlite(path.clone())).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let e = Store::open(&path).err().unwrap().to_string();
        assert!(
            e.starts_with(&format!(
                "state database {} has schema version 99, newer than this agent's {}",
                path.display(),
                sqlite::MIGRATIONS.len()
            )),
            "{e}"
        );
        assert_eq!(
            check_usable(&Database::Sqlite(path.clone())).unwrap_err(),
            e
        );

        // "Disk full": SQLite's own page limit, on the store's connection.
        let path = dir.path().join("full.db");
        let store = Store::open(&path).unwrap();
        store.sqlite(|c| {
            let pages: i64 = c
                .pragma_query_value(None, "page_count", |r| r.get(0))
                .unwrap();
            c.pragma_update(None, "max_page_count", pages).unwrap();
        });
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
        let usable = check_usable(&Database::Sqlite(path.clone()));
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
