//! Benchmark of the state store, SQLite against a real PostgreSQL (Debian's, a temporary cluster on
//! loopback): per account audit, what saving its run costs (one transaction per run of `--accounts`
//! accounts, as the daemon saves), what reading its past costs (the alert rules' history and last
//! known statuses, read before each save), and the bytes each account run adds to the database.
//! Every account carries every check of the catalog with `--verdicts` verdicts each.
//!
//! `cargo run --release -p integration-tests --bin bench-store -- --accounts 200 --runs 5`

use chrono::{Duration, Utc};
use clap::Parser;
use integration_tests::postgres::Postgres;
use integration_tests::sample;
use maturity_agent::state::{Database, PgTarget, Store};
use maturity_checks::catalog::CATALOG;
use maturity_checks::model::{Status, Verdict};
use maturity_checks::report::AccountReport;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// Accounts per run.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    /// Runs saved.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Verdicts (resources) per check.
    #[arg(long, default_value_t = 3)]
    verdicts: usize,
}

fn account(i: usize, run: usize, verdicts: usize) -> AccountReport {
    let id = format!("{:012}", 100_000_000_000u64 + i as u64);
    let checks = CATALOG
        .iter()
        .enumerate()
        .map(|(c, check)| {
            let status = if (c + i + run) % 7 == 0 {
                Status::Fail
            } else {
                Status::Pass
            };
            let verdicts = (0..verdicts)
                .map(|v| {
                    Verdict::new(
                        format!("arn:aws:s3:::bucket-{id}-{v}"),
                        Some("us-east-1"),
                        status,
                        "the bucket blocks public access at the bucket and account level",
                    )
                })
                .collect();
            sample::check(&check.meta, status, verdicts)
        })
        .collect();
    sample::audited(&id, &format!("account-{i}"), checks)
}

/// (ms per account save, ms per account read, bytes per account run) of one backend.
fn measure(db: &Database, args: &Args, size: &dyn Fn() -> u64) -> (f64, f64, f64) {
    let store = Store::connect(db).expect("connect");
    let before = size();
    let (mut save, mut read) = (0.0, 0.0);
    let start = Utc::now() - Duration::hours(args.runs as i64);
    for run in 0..args.runs {
        let report = sample::report(
            start + Duration::hours(run as i64),
            (0..args.accounts)
                .map(|i| account(i, run, args.verdicts))
                .collect(),
        );
        let t = Instant::now();
        for a in &report.accounts {
            store.last_known(&a.account_id).expect("last known");
            store.history_for_alerts(&a.account_id).expect("history");
        }
        read += t.elapsed().as_secs_f64();
        let t = Instant::now();
        store.save_run(&report).expect("save");
        save += t.elapsed().as_secs_f64();
    }
    let audits = (args.accounts * args.runs) as f64;
    let grown = size().saturating_sub(before) as f64;
    (
        save * 1000.0 / audits,
        read * 1000.0 / audits,
        grown / audits,
    )
}

fn main() {
    let args = Args::parse();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("state.db");
    let sqlite = Database::Sqlite(path.clone());
    let file_size = || {
        ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
            .map(|m| m.len())
            .sum()
    };
    let s = measure(&sqlite, &args, &file_size);
    let pg = Postgres::start(None);
    let name = pg.create_database();
    let target = PgTarget::new(
        &pg.url(&name, "sslmode=disable"),
        Some(pg.password.clone()),
        None,
    )
    .expect("url");
    let db_size = || {
        pg.psql(&name, "SELECT pg_database_size(current_database())")
            .parse()
            .unwrap_or(0)
    };
    let p = measure(&Database::Postgres(Box::new(target)), &args, &db_size);
    println!(
        "{} accounts x {} runs, {} checks x {} verdicts per account",
        args.accounts,
        args.runs,
        CATALOG.len(),
        args.verdicts
    );
    println!("| backend | save, ms per account audit | read before save, ms per account audit | database growth, KiB per account audit |");
    println!("|---|---|---|---|");
    for (name, (save, read, bytes)) in [("SQLite (WAL)", s), ("PostgreSQL 15 (loopback)", p)] {
        println!("| {name} | {save:.2} | {read:.2} | {:.1} |", bytes / 1024.0);
    }
}
