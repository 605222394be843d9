//! The SQLite backend (the default): one file, WAL journal, migrated on open through
//! `PRAGMA user_version`.

use super::db::{Db, DbError, Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::Connection;
use std::path::Path;

/// Schema versions, applied in order. Never edit a released step: add one. The PostgreSQL backend
/// has the same steps in its own dialect (`super::postgres::MIGRATIONS`).
pub(crate) const MIGRATIONS: &[&str] = &[
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
    // 5: leases of replicas sharing a database (`Store::acquire_lease`): who holds one, until when,
    // and its epoch, the fencing token every write of the holder checks. Unused by one agent on
    // SQLite, kept so that both engines have the same schema versions.
    "CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL
     );",
    // 6: work shared by claims (`super::schedule`): every audited account with its target, the
    // cycle (audit run) it is due for and the last it was saved in, who claims it until when
    // with which epoch (the fencing token of its save), and its newest saved result (what every
    // replica serves).
    "CREATE TABLE schedule (
        account_id TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        target TEXT NOT NULL,
        due_run INTEGER NOT NULL,
        done_run INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        epoch INTEGER NOT NULL DEFAULT 0,
        expires_ms INTEGER NOT NULL DEFAULT 0,
        last_row INTEGER NOT NULL DEFAULT 0
     );",
    // 7: IAM's service last-accessed reports
    // kept between runs (`state::access`), one per account and principal.
    "CREATE TABLE service_last_accessed (
        account_id TEXT NOT NULL,
        principal_arn TEXT NOT NULL,
        generated_at TEXT NOT NULL,
        report TEXT NOT NULL,
        PRIMARY KEY (account_id, principal_arn)
     );",
];

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Int(v) => ToSqlOutput::from(*v),
            Value::Real(v) => ToSqlOutput::from(*v),
            Value::Text(v) => ToSqlOutput::from(v.as_str()),
        })
    }
}

/// A connection (or a transaction, which derefs to one) seen as a [`Db`].
pub(crate) struct SqliteDb<'a>(pub &'a Connection);

impl Db for SqliteDb<'_> {
    fn execute(&mut self, sql: &str, args: &[Value]) -> Result<u64, DbError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(args))? as u64)
    }

    fn query(&mut self, sql: &str, args: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(t) => Value::Text(
                        std::str::from_utf8(t)
                            .map_err(|e| DbError::Type(format!("column {i}: {e}")))?
                            .to_owned(),
                    ),
                    ValueRef::Blob(_) => {
                        return Err(DbError::Type(format!("column {i}: a blob")));
                    }
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }
}

/// Opens (creating it and its directory if needed) and migrates the database.
pub(crate) fn open(path: &Path) -> Result<Connection, DbError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // The store's statements, with the shapes of the multi-row inserts, stay prepared.
    conn.set_prepared_statement_cache_capacity(64);
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    // A newer agent's schema may mean data this one would misread or drop: refuse it.
    if version > MIGRATIONS.len() {
        return Err(DbError::Newer {
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

/// Checks, without changing anything, that `run` can use `path`: an existing database must be
/// one this agent's schema knows and must take a write (tried in a transaction that is rolled
/// back); a new one must be creatable (its nearest existing directory takes a file).
pub(crate) fn check_usable(path: &Path) -> Result<(), DbError> {
    if path.exists() {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(DbError::Newer {
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        conn.execute_batch(
            "BEGIN IMMEDIATE; CREATE TABLE maturity_agent_write_check (x INTEGER); ROLLBACK;",
        )
        .map_err(|e| DbError::NotWritable(Box::new(e.into())))?;
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
        return Err(DbError::Connect(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    let probe = dir.join(format!(".maturity-agent-check-{}", std::process::id()));
    std::fs::File::create_new(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| DbError::Connect(format!("cannot create files in {}: {e}", dir.display())))
}
