//! `maturity-agent state copy --from DATABASE --to DATABASE`: the whole state (runs with their
//! results, levels and verdicts, the last known statuses, alerts, regressions and the outbox) moved
//! as it is, ids included, into an empty database, in one transaction of the destination. The
//! baselines come along, so the first audit after a move compares with the last one before it and
//! raises no false regression.

use super::{args, Database, Db, DbError, Row, Store, Value};

/// The tables copied run by run, with their columns (the run's id first, or the run's key).
const PER_RUN: &[(&str, &str, &[&str])] = &[
    (
        "runs",
        "id",
        &[
            "id",
            "started_at",
            "duration_seconds",
            "agent_version",
            "kind",
        ],
    ),
    (
        "account_runs",
        "run_id",
        &[
            "rowid",
            "run_id",
            "account_id",
            "account_name",
            "status",
            "error",
            "level",
            "confirmed_level",
            "report",
        ],
    ),
    (
        "practice_levels",
        "run_id",
        &[
            "run_id",
            "account_id",
            "practice",
            "level",
            "confirmed_level",
            "unconfirmed",
            "score",
        ],
    ),
    (
        "verdicts",
        "run_id",
        &[
            "run_id",
            "account_id",
            "check_id",
            "resource",
            "region",
            "status",
            "reason",
        ],
    ),
];

/// The tables copied whole.
const WHOLE: &[(&str, &[&str])] = &[
    (
        "last_known",
        &[
            "account_id",
            "check_id",
            "status",
            "observed_at",
            "run_id",
            "failing",
            "unknown_scopes",
        ],
    ),
    (
        "alerts",
        &["key", "account_id", "active", "alert", "updated_at"],
    ),
    (
        "regressions",
        &[
            "id",
            "run_id",
            "detected_at",
            "account_id",
            "kind",
            "practice",
            "check_id",
            "severity",
            "from_level",
            "to_level",
            "resources",
            "summary",
        ],
    ),
    (
        "outbox",
        &[
            "id",
            "sink",
            "destination",
            "notice",
            "created_at",
            "attempts",
            "next_attempt_ms",
            "last_error",
            "rejected_at",
        ],
    ),
];

/// What was copied: rows per table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied(pub Vec<(&'static str, u64)>);

impl std::fmt::Display for Copied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(t, n)| format!("{t} {n}")).collect();
        f.write_str(&parts.join(", "))
    }
}

/// Inserts rows read from the source as they are, in multi-row statements.
fn insert(db: &mut dyn Db, table: &str, columns: &[&str], rows: Vec<Row>) -> Result<u64, DbError> {
    let n = rows.len() as u64;
    let head = format!("INSERT INTO {table} ({})", columns.join(", "));
    super::insert_rows(
        db,
        &head,
        "",
        rows.into_iter().map(Row::into_values).collect(),
    )?;
    Ok(n)
}

/// Copies the state of `from` into `to`, which must hold no run, alert or notification yet. Both
/// are migrated to this agent's schema first.
pub fn copy(from: &Database, to: &Database) -> Result<Copied, String> {
    if let Database::Sqlite(path) = from {
        if !path.exists() {
            return Err(format!("--from: no SQLite database at {}", path.display()));
        }
    }
    if from.name() == to.name() {
        return Err("--from and --to name the same database".into());
    }
    let source = Store::connect(from).map_err(|e| e.to_string())?;
    let dest = Store::connect(to).map_err(|e| e.to_string())?;
    let held = dest
        .read(|db| {
            let mut n = 0;
            for table in ["runs", "alerts", "outbox", "last_known"] {
                n += db
                    .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])?
                    .unwrap_or_default()
                    .int(0)?;
            }
            Ok(n)
        })
        .map_err(|e| e.to_string())?;
    if held > 0 {
        return Err(format!(
            "--to: {} already holds a state ({held} rows of runs, alerts, outbox and last known statuses): copy into an empty database",
            dest.name()
        ));
    }
    let run_ids: Vec<i64> = source
        .read(|db| {
            db.query("SELECT id FROM runs ORDER BY id", &[])?
                .into_iter()
                .map(|mut r| r.int(0))
                .collect()
        })
        .map_err(|e| e.to_string())?;
    // A failure to read the source inside the destination's transaction rolls it back and is
    // reported as the source's.
    let mut source_error = None;
    let mut read = |sql: &str, args: &[Value]| {
        source.read(|db| db.query(sql, args)).map_err(|e| {
            let shown = DbError::Connect(format!("reading the source: {e}"));
            source_error = Some(e.to_string());
            shown
        })
    };
    let shared = dest.is_shared();
    let copied = dest.write(|db| {
        let mut counts: Vec<(&'static str, u64)> = Vec::new();
        for &(table, _, _) in PER_RUN {
            counts.push((table, 0));
        }
        for run in &run_ids {
            for (i, &(table, key, columns)) in PER_RUN.iter().enumerate() {
                let rows = read(
                    &format!("SELECT {} FROM {table} WHERE {key} = ?1", columns.join(", ")),
                    args![*run],
                )?;
                counts[i].1 += insert(db, table, columns, rows)?;
            }
        }
        for &(table, columns) in WHOLE {
            let rows = read(&format!("SELECT {} FROM {table}", columns.join(", ")), &[])?;
            counts.push((table, insert(db, table, columns, rows)?));
        }
        if shared {
            // Identity columns continue after the copied ids.
            for (table, column) in super::postgres::IDENTITIES {
                db.query(
                    &format!("SELECT setval(pg_get_serial_sequence('{table}', '{column}'), COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"),
                    &[],
                )?;
            }
        }
        Ok(Copied(counts))
    });
    match (copied, source_error) {
        (Ok(c), _) => Ok(c),
        (Err(_), Some(e)) => Err(e),
        (Err(e), None) => Err(e.to_string()),
    }
}
