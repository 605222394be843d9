//! Human-readable tables of the catalog and of a report.

use maturity_checks::catalog::Check;
use maturity_checks::model::{Practice, Status, Verdict};
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

/// The report as a table of accounts × practices, then each account's failing, unknown and accepted
/// checks (accepted failures marked with who accepted them until when; expired exceptions noted).
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
        let accepted: Vec<_> = a
            .checks
            .iter()
            .filter(|c| c.status == Status::Accepted)
            .collect();
        if failing.is_empty() && accepted.is_empty() {
            continue;
        }
        let accepted_count = match accepted.len() {
            0 => String::new(),
            n => format!(", {n} accepted"),
        };
        let _ = writeln!(
            out,
            "\n{} ({}): {} checks not passing{accepted_count}",
            a.account_name,
            a.account_id,
            failing.len()
        );
        for c in failing.into_iter().chain(accepted) {
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
            // A failing check also lists the failures accepted by an exception, marked.
            let shown = |v: &&Verdict| {
                v.status == c.status || (c.status == Status::Fail && v.status == Status::Accepted)
            };
            for v in c.verdicts.iter().filter(shown) {
                let _ = match (&v.exception, v.status) {
                    (Some(note), Status::Accepted) => {
                        writeln!(out, "      - accepted: {} ({note})", v.reason)
                    }
                    (Some(note), _) => writeln!(out, "      - {} ({note})", v.reason),
                    (None, _) => writeln!(out, "      - {}", v.reason),
                };
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

#[cfg(test)]
mod tests {
    use super::*;
    use maturity_checks::exceptions::{self, Exception, ResourcePattern};

    fn exception(pattern: &str, expires: &str) -> Exception {
        Exception {
            check: "iam_root_mfa_enabled".into(),
            resources: ResourcePattern::parse(pattern).unwrap(),
            accounts: vec![],
            reason: "break-glass account".into(),
            owner: "alice".into(),
            expires: expires.parse().unwrap(),
        }
    }

    /// An accepted check is listed as ACCEPTED with who accepted it until when; a failing check lists
    /// its real failures and its accepted ones marked; an expired exception is named on the failure.
    #[test]
    fn table_shows_accepted_and_expired_exceptions() {
        let now = chrono::Utc::now();
        let mut report = crate::state::tests::account("111111111111", Status::Fail, now);
        let a = &mut report.accounts[0];
        a.checks[0]
            .verdicts
            .push(Verdict::fail("arn:aws:iam::1:user/x", None, "x fails."));
        a.checks[0].status = Status::Fail;
        let mut accepted = a.checks[0].clone();
        accepted.verdicts.truncate(1);
        accepted.id = "other_check".into();
        exceptions::apply(
            "111111111111",
            &mut a.checks,
            &[exception("*:root", "2999-01-01")],
            now,
        );
        exceptions::apply(
            "111111111111",
            std::slice::from_mut(&mut accepted),
            &[Exception {
                check: "other_check".into(),
                ..exception("*", "2999-01-01")
            }],
            now,
        );
        let mut expired = a.checks[0].clone();
        expired.id = "expired_check".into();
        expired.verdicts.truncate(0);
        expired
            .verdicts
            .push(Verdict::fail("arn:aws:iam::1:user/y", None, "y fails."));
        exceptions::apply(
            "111111111111",
            std::slice::from_mut(&mut expired),
            &[Exception {
                check: "expired_check".into(),
                ..exception("*", "2000-01-01")
            }],
            now,
        );
        a.checks.push(accepted);
        a.checks.push(expired);
        let table = report_table(&report);
        let expected = [
            "name-111111111111 (111111111111): 2 checks not passing, 1 accepted",
            "  FAIL [critical iam_root_mfa_enabled, L1 identity] t",
            "      - accepted: why (accepted by alice until 2999-01-01: break-glass account)",
            "      - x fails.",
            "  FAIL [critical expired_check, L1 identity] t",
            "      - y fails. (exception by alice expired on 2000-01-01)",
            "  ACCEPTED [critical other_check, L1 identity] t",
            "      - accepted: why (accepted by alice until 2999-01-01: break-glass account)",
        ]
        .join("\n");
        assert!(table.contains(&expected), "{table}");
    }
}
