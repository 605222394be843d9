//! Human-readable tables of the catalog and of a report.

use maturity_checks::catalog::Check;
use maturity_checks::model::{Practice, Status};
use maturity_checks::report::{AccountStatus, Report};
use std::fmt::Write;

/// The catalog as a table: id, practice, level, severity, DSOMM activity.
pub fn catalog_table(checks: &[&Check]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<42} {:<16} {:>5} {:<9} DSOMM ACTIVITY",
        "CHECK", "PRACTICE", "LEVEL", "SEVERITY"
    );
    for c in checks {
        let m = &c.meta;
        let _ = writeln!(
            out,
            "{:<42} {:<16} {:>5} {:<9} {} ({})",
            m.id,
            m.practice.as_str(),
            m.activity.level,
            m.severity.as_str(),
            m.activity.name,
            m.activity.uuid
        );
    }
    out
}

/// The report as a table of accounts × practices, then each account's failing and unknown checks.
/// A level followed by `?` is unconfirmed: an unknown check stands between it and the confirmed level.
pub fn report_table(report: &Report) -> String {
    let practices: Vec<Practice> = Practice::ALL
        .into_iter()
        .filter(|p| report.accounts.iter().any(|a| a.practice(*p).is_some()))
        .collect();
    let name_width = report
        .accounts
        .iter()
        .map(|a| a.account_name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::new();
    let _ = write!(
        out,
        "{:<12}  {:<name_width$}  {:>7}",
        "ACCOUNT", "NAME", "LEVEL"
    );
    for p in &practices {
        let _ = write!(out, "  {:>w$}", p.as_str(), w = p.as_str().len().max(4));
    }
    out.push('\n');
    for a in &report.accounts {
        let _ = write!(out, "{:<12}  {:<name_width$}", a.account_id, a.account_name);
        if a.status == AccountStatus::Failed {
            let _ = writeln!(
                out,
                "  {:>7}  not audited: {}",
                "-",
                a.error.as_deref().unwrap_or("unknown error")
            );
            continue;
        }
        let level = |l: Option<u8>, unconfirmed: bool| match l {
            Some(l) => format!("{l}{}", if unconfirmed { "?" } else { "" }),
            None => "-".to_owned(),
        };
        let _ = write!(out, "  {:>7}", level(a.level, a.unconfirmed));
        for p in &practices {
            let cell = a
                .practice(*p)
                .map(|s| level(Some(s.level), s.unconfirmed))
                .unwrap_or_else(|| "-".into());
            let _ = write!(out, "  {:>w$}", cell, w = p.as_str().len().max(4));
        }
        out.push('\n');
    }
    for a in report
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Audited)
    {
        let failing: Vec<_> = a
            .checks
            .iter()
            .filter(|c| matches!(c.status, Status::Fail | Status::Unknown))
            .collect();
        if failing.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{} ({}): {} checks not passing",
            a.account_name,
            a.account_id,
            failing.len()
        );
        for c in failing {
            let _ = writeln!(
                out,
                "  {} [{} {}, L{} {}] {}",
                c.status.as_str().to_uppercase(),
                c.severity.as_str(),
                c.id,
                c.level,
                c.practice.as_str(),
                c.title
            );
            for v in c.verdicts.iter().filter(|v| v.status == c.status) {
                let _ = writeln!(out, "      - {}", v.reason);
            }
        }
    }
    let calls: u64 = report
        .accounts
        .iter()
        .flat_map(|a| a.api_calls.iter())
        .map(|c| c.count)
        .sum();
    let _ = writeln!(
        out,
        "\n{} accounts, {} API calls, {:.1} s. Levels marked ? are unconfirmed: an unknown check may hold them back.",
        report.accounts.len(),
        calls,
        report.duration_seconds
    );
    out
}
