//! The per-account series, kept as one compact row per account and written as text at scrape.
//!
//! The `prometheus` crate keeps, for every series of a vector, a copy of the family's descriptor
//! (name, help, label names) and of its label pairs: about 1 KiB a series. An account exports some
//! 700 series (a status and a failing count per check, levels per practice and DSOMM
//! sub-dimension), so a thousand accounts held that way took most of a gigabyte. Here an account is
//! a few hundred bytes of numbers (the check labels are the catalog's, shared), and a scrape writes
//! the lines from them. The text is kept until a row changes, so that scrapes between two changes
//! (and concurrent ones) cost a copy, not a rendering of every account.

use maturity_checks::catalog::Check;
use maturity_checks::model::Status;
use maturity_checks::report::{AccountReport, AccountStatus};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// The statuses a check can have in `maturity_check_status` (only the current one is exported: five
/// series per check, four of them 0, made a thousand accounts half a million series).
pub const STATUSES: [&str; 5] = ["pass", "fail", "unknown", "not_applicable", "accepted"];

fn status_index(s: Status) -> u8 {
    match s {
        Status::Pass => 0,
        Status::Fail => 1,
        Status::Unknown => 2,
        Status::NotApplicable => 3,
        Status::Accepted => 4,
    }
}

/// The labels of one check, from the catalog.
struct CheckLabels {
    id: &'static str,
    practice: &'static str,
    level: String,
    severity: &'static str,
}

/// What an account's levels are (its own, or its last audited report's while it cannot be audited).
#[derive(Default)]
struct Levels {
    account: Option<u8>,
    /// Practice, level, unconfirmed, score.
    practices: Vec<(&'static str, u8, bool, Option<f64>)>,
    /// Dimension, sub-dimension, level, unconfirmed.
    dsomm: Vec<(String, String, u8, bool)>,
    dimensions: Vec<(String, u8)>,
    /// Check (index into the catalog's labels), status, failing resources; sorted by check id.
    checks: Vec<(u16, u8, u32)>,
}

#[derive(Default)]
struct Row {
    name: String,
    up: bool,
    duration: f64,
    last_success: Option<f64>,
    alerts_active: i64,
    levels: Levels,
}

/// The text of each per-account family, by name: its header and each account's lines.
pub type Texts = HashMap<&'static str, Vec<bytes::Bytes>>;

/// Every account's row.
pub struct AccountSeries {
    checks: Vec<CheckLabels>,
    index: HashMap<&'static str, u16>,
    rows: RwLock<BTreeMap<String, Row>>,
    /// `maturity_regressions_total` by account and practice label (`account` for the account):
    /// counted by this process, kept across the account's new results.
    regressions: RwLock<BTreeMap<String, BTreeMap<&'static str, u64>>>,
    /// Bumped by every change of a row or counter.
    generation: AtomicU64,
    /// Each account's lines of every family, written at the first scrape after its last change.
    /// Lock order: `rows`, `regressions`, then `lines`.
    lines: Mutex<HashMap<String, Arc<Vec<bytes::Bytes>>>>,
    /// The text of every family, as of a generation.
    text: Mutex<Option<(u64, Arc<Texts>)>>,
}

impl AccountSeries {
    /// Labels for `checks` (every check a report may hold), sorted by id.
    pub fn new(checks: &[&Check]) -> AccountSeries {
        let mut labels: Vec<CheckLabels> = checks
            .iter()
            .map(|c| CheckLabels {
                id: c.meta.id,
                practice: c.meta.practice.as_str(),
                level: c.level().to_string(),
                severity: c.meta.severity.as_str(),
            })
            .collect();
        labels.sort_by_key(|c| c.id);
        labels.dedup_by_key(|c| c.id);
        let index = labels
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, u16::try_from(i).expect("fewer than 65536 checks")))
            .collect();
        AccountSeries {
            checks: labels,
            index,
            rows: RwLock::new(BTreeMap::new()),
            regressions: RwLock::new(BTreeMap::new()),
            generation: AtomicU64::new(0),
            lines: Mutex::new(HashMap::new()),
            text: Mutex::new(None),
        }
    }

    fn levels(&self, a: &AccountReport) -> Levels {
        let mut practices: Vec<_> = a
            .practices
            .iter()
            .map(|p| (p.practice.as_str(), p.level, p.unconfirmed, p.score))
            .collect();
        practices.sort_by_key(|p| p.0);
        let mut dsomm: Vec<_> = a
            .dimensions
            .iter()
            .map(|d| {
                (
                    d.dimension.clone(),
                    d.subdimension.clone(),
                    d.level,
                    d.unconfirmed,
                )
            })
            .collect();
        dsomm.sort_by(|x, y| (&x.0, &x.1).cmp(&(&y.0, &y.1)));
        let mut dimensions: Vec<_> = maturity_checks::scoring::dimension_levels(&a.dimensions)
            .into_iter()
            .map(|(d, level, _)| (d, level))
            .collect();
        dimensions.sort();
        let mut checks: Vec<_> = a
            .checks
            .iter()
            .filter_map(|c| {
                let i = *self.index.get(c.id.as_str())?;
                let failing = c
                    .verdicts
                    .iter()
                    .filter(|v| v.status == Status::Fail)
                    .count();
                Some((i, status_index(c.status), failing as u32))
            })
            .collect();
        checks.sort_by_key(|c| c.0);
        Levels {
            account: a.level,
            practices,
            dsomm,
            dimensions,
            checks,
        }
    }

    /// Replaces an account's row. An account that could not be audited keeps the levels of
    /// `previous` (its last audited report) with `maturity_account_up` 0, and its last success time.
    pub fn set(&self, a: &AccountReport, previous: Option<&AccountReport>, audited_at: f64) {
        let up = a.status == AccountStatus::Audited;
        let levels = match (up, previous) {
            (true, _) => self.levels(a),
            (false, Some(p)) => self.levels(p),
            (false, None) => Levels::default(),
        };
        let mut rows = self.rows.write().unwrap_or_else(|p| p.into_inner());
        let old = rows.remove(&a.account_id);
        let row = Row {
            name: a.account_name.clone(),
            up,
            duration: a.duration_seconds,
            last_success: if up {
                Some(audited_at)
            } else {
                old.as_ref().and_then(|o| o.last_success)
            },
            alerts_active: old.as_ref().map_or(0, |o| o.alerts_active),
            levels,
        };
        rows.insert(a.account_id.clone(), row);
        self.forget(&a.account_id);
        drop(rows);
        self.changed();
    }

    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops the kept lines of an account whose row or counters changed (called with the changed
    /// map still locked, so that no scrape keeps lines written before the change).
    fn forget(&self, account_id: &str) {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(account_id);
    }

    /// Counts a regression of an account's practice (`account` for the account's level).
    pub fn count_regression(&self, account_id: &str, practice: &'static str) {
        let mut all = self.regressions.write().unwrap_or_else(|p| p.into_inner());
        *all.entry(account_id.to_owned())
            .or_default()
            .entry(practice)
            .or_default() += 1;
        self.forget(account_id);
        drop(all);
        self.changed();
    }

    /// Zeros for the account's regression counters of `practices` that have none yet, so that a
    /// rate over the counter sees its first increase.
    pub fn zero_regressions(&self, account_id: &str, practices: &[&'static str]) {
        let mut all = self.regressions.write().unwrap_or_else(|p| p.into_inner());
        let counts = all.entry(account_id.to_owned()).or_default();
        let before = counts.len();
        for p in practices {
            counts.entry(p).or_default();
        }
        if counts.len() != before {
            self.forget(account_id);
            drop(all);
            self.changed();
        }
    }

    /// Sets an account's last success time (its served result's audit).
    pub fn set_last_success(&self, account_id: &str, at: f64) {
        let mut rows = self.rows.write().unwrap_or_else(|p| p.into_inner());
        if let Some(r) = rows.get_mut(account_id) {
            if r.last_success != Some(at) {
                r.last_success = Some(at);
                self.forget(account_id);
                drop(rows);
                self.changed();
            }
        }
    }

    /// Sets every account's count of active alerts.
    /// Only the accounts whose count changed are written again.
    pub fn set_alerts(&self, count: &dyn Fn(&str) -> i64) {
        let mut rows = self.rows.write().unwrap_or_else(|p| p.into_inner());
        let mut changed = false;
        for (id, r) in rows.iter_mut() {
            let n = count(id);
            if r.alerts_active != n {
                r.alerts_active = n;
                self.forget(id);
                changed = true;
            }
        }
        drop(rows);
        if changed {
            self.changed();
        }
    }

    /// Drops the rows of accounts not in `keep`.
    pub fn retain(&self, keep: &std::collections::HashSet<&str>) {
        let mut rows = self.rows.write().unwrap_or_else(|p| p.into_inner());
        let mut regressions = self.regressions.write().unwrap_or_else(|p| p.into_inner());
        rows.retain(|id, _| keep.contains(id.as_str()));
        regressions.retain(|id, _| keep.contains(id.as_str()));
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|id, _| keep.contains(id.as_str()));
        drop((rows, regressions));
        self.changed();
    }

    /// The names of the families written by [`AccountSeries::write`].
    pub const FAMILIES: [&'static str; 14] = [
        "maturity_account_level",
        "maturity_account_up",
        "maturity_alerts_active",
        "maturity_audit_duration_seconds",
        "maturity_audit_last_success_timestamp_seconds",
        "maturity_check_failing_resources",
        "maturity_check_status",
        "maturity_dsomm_dimension_level",
        "maturity_dsomm_level",
        "maturity_dsomm_level_unconfirmed",
        "maturity_level",
        "maturity_level_unconfirmed",
        "maturity_regressions_total",
        "maturity_score_ratio",
    ];

    /// The text of every family (see [`AccountSeries::FAMILIES`]): its header, then each
    /// account's lines, in account order. An account's lines are written once after each change of
    /// its row and kept; so a change re-writes that account's lines only, never every account's,
    /// and a scrape sends the kept buffers as they are. A family without a series is empty, and
    /// left out like the registry's.
    pub fn text(&self) -> Arc<Texts> {
        let mut kept = self.text.lock().unwrap_or_else(|p| p.into_inner());
        // Read before the rows: a change made while writing bumps it past what is kept.
        let generation = self.generation.load(Ordering::SeqCst);
        if let Some((g, text)) = kept.as_ref() {
            if *g == generation {
                return text.clone();
            }
        }
        let rows = self.rows.read().unwrap_or_else(|p| p.into_inner());
        let regressions = self.regressions.read().unwrap_or_else(|p| p.into_inner());
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let ids: std::collections::BTreeSet<&String> =
            rows.keys().chain(regressions.keys()).collect();
        let mut families: Vec<Vec<bytes::Bytes>> = vec![Vec::new(); Self::FAMILIES.len()];
        for id in ids {
            let account = lines.entry(id.clone()).or_insert_with(|| {
                Arc::new(self.render_account(id, rows.get(id), regressions.get(id)))
            });
            for (family, text) in families.iter_mut().zip(account.iter()) {
                if !text.is_empty() {
                    family.push(text.clone());
                }
            }
        }
        let text: Texts = Self::FAMILIES
            .iter()
            .zip(families)
            .map(|(name, mut chunks)| {
                if !chunks.is_empty() {
                    let (help, kind) = Self::help(name);
                    let head = format!(
                        "# HELP {name} {}\n# TYPE {name} {kind}\n",
                        escape_help(help)
                    );
                    chunks.insert(0, bytes::Bytes::from(head));
                }
                (*name, chunks)
            })
            .collect();
        let text = Arc::new(text);
        *kept = Some((generation, text.clone()));
        text
    }

    /// The help and type of each family of [`AccountSeries::FAMILIES`].
    fn help(name: &str) -> (&'static str, &'static str) {
        match name {
            "maturity_account_level" => ("DSOMM maturity level of an account: the minimum over its practices.", "gauge"),
            "maturity_account_up" => ("1 when the account's last audit succeeded, 0 when it could not be audited.", "gauge"),
            "maturity_alerts_active" => ("Active (unresolved) alerts of an account.", "gauge"),
            "maturity_audit_duration_seconds" => ("Duration of the account's last audit.", "gauge"),
            "maturity_audit_last_success_timestamp_seconds" => ("Start time of the account's last successful audit.", "gauge"),
            "maturity_check_failing_resources" => ("Resources failing a check, where some do (no series: none).", "gauge"),
            "maturity_check_status" => ("The check's current status: one series per account and check, of value 1, labelled with the status.", "gauge"),
            "maturity_dsomm_dimension_level" => ("DSOMM maturity level of a DSOMM dimension of an account: the minimum over its evidenced sub-dimensions.", "gauge"),
            "maturity_dsomm_level" => ("DSOMM maturity level (0-5) of a DSOMM sub-dimension of an account, from the activities its checks evidence.", "gauge"),
            "maturity_dsomm_level_unconfirmed" => ("1 when an unknown check stands between the sub-dimension's level and its confirmed level.", "gauge"),
            "maturity_level" => ("DSOMM maturity level (0-5) of a practice of an account.", "gauge"),
            "maturity_level_unconfirmed" => ("1 when an unknown check stands between the practice's level and its confirmed level.", "gauge"),
            "maturity_regressions_total" => ("Maturity regressions detected, per account and practice (`account` for account-level drops).", "counter"),
            "maturity_score_ratio" => ("Passing checks over checks that passed or failed (0-1), per practice.", "gauge"),
            other => unreachable!("{other} is not a per-account family"),
        }
    }

    /// One account's lines of every family, in [`AccountSeries::FAMILIES`]' order (empty where it
    /// has none).
    fn render_account(
        &self,
        id: &str,
        row: Option<&Row>,
        regressions: Option<&BTreeMap<&'static str, u64>>,
    ) -> Vec<bytes::Bytes> {
        Self::FAMILIES
            .iter()
            .map(|name| {
                let mut s = String::new();
                if let Some(r) = row {
                    self.render_row(name, id, r, &mut s);
                }
                if *name == "maturity_regressions_total" {
                    for (practice, n) in regressions.into_iter().flatten() {
                        sample(
                            &mut s,
                            name,
                            &[("account_id", id), ("practice", practice)],
                            n,
                        );
                    }
                }
                bytes::Bytes::from(s)
            })
            .collect()
    }

    /// Writes the account's lines of the family `name` from its row.
    fn render_row(&self, name: &'static str, id: &str, r: &Row, s: &mut String) {
        let named = [("account_id", id), ("account_name", r.name.as_str())];
        match name {
            "maturity_account_level" => {
                if let Some(l) = r.levels.account {
                    sample(s, name, &named, l);
                }
            }
            "maturity_account_up" => sample(s, name, &named, u8::from(r.up)),
            "maturity_alerts_active" => sample(s, name, &[("account_id", id)], r.alerts_active),
            "maturity_audit_duration_seconds" => {
                sample(s, name, &[("account_id", id)], Float(r.duration))
            }
            "maturity_audit_last_success_timestamp_seconds" => {
                if let Some(t) = r.last_success {
                    sample(s, name, &[("account_id", id)], Float(t));
                }
            }
            "maturity_check_failing_resources" => {
                for (c, _, failing) in r.levels.checks.iter().filter(|c| c.2 > 0) {
                    let c = &self.checks[usize::from(*c)];
                    sample(s, name, &[("account_id", id), ("check", c.id)], failing);
                }
            }
            "maturity_check_status" => {
                for (c, status, _) in &r.levels.checks {
                    let c = &self.checks[usize::from(*c)];
                    let labels = [
                        ("account_id", id),
                        ("check", c.id),
                        ("level", &c.level),
                        ("practice", c.practice),
                        ("severity", c.severity),
                        ("status", STATUSES[usize::from(*status)]),
                    ];
                    sample(s, name, &labels, 1);
                }
            }
            "maturity_dsomm_dimension_level" => {
                for (d, l) in &r.levels.dimensions {
                    sample(s, name, &[named[0], named[1], ("dimension", d)], l);
                }
            }
            "maturity_dsomm_level" | "maturity_dsomm_level_unconfirmed" => {
                for (d, sub, l, u) in &r.levels.dsomm {
                    let v = if name == "maturity_dsomm_level" {
                        *l
                    } else {
                        u8::from(*u)
                    };
                    let labels = [named[0], named[1], ("dimension", d), ("subdimension", sub)];
                    sample(s, name, &labels, v);
                }
            }
            "maturity_level" | "maturity_level_unconfirmed" => {
                for (p, l, u, _) in &r.levels.practices {
                    let v = if name == "maturity_level" {
                        *l
                    } else {
                        u8::from(*u)
                    };
                    sample(s, name, &[named[0], named[1], ("practice", p)], v);
                }
            }
            "maturity_score_ratio" => {
                for (p, _, _, score) in &r.levels.practices {
                    // A practice without pass or fail verdicts exports no ratio: 0 would be a lie.
                    if let Some(v) = score {
                        sample(s, name, &[named[0], named[1], ("practice", p)], Float(*v));
                    }
                }
            }
            _ => {}
        }
    }
}

/// A float written as the text format wants it.
struct Float(f64);

impl std::fmt::Display for Float {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            v if v.is_nan() => f.write_str("NaN"),
            v if v == f64::INFINITY => f.write_str("+Inf"),
            v if v == f64::NEG_INFINITY => f.write_str("-Inf"),
            v => write!(f, "{v}"),
        }
    }
}

/// One sample line; `labels` in the order of their names.
fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
    out.push_str(name);
    out.push('{');
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push_str("=\"");
        escape_label(out, v);
        out.push('"');
    }
    let _ = writeln!(out, "}} {value}");
}

fn escape_label(out: &mut String, v: &str) {
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Label values are escaped as the text format requires; floats are written as Prometheus reads
    /// them.
    #[test]
    fn labels_are_escaped_and_floats_written() {
        let mut s = String::new();
        sample(&mut s, "m", &[("a", "x\"y\\z\nw")], Float(f64::INFINITY));
        assert_eq!(s, "m{a=\"x\\\"y\\\\z\\nw\"} +Inf\n");
        let mut s = String::new();
        sample(&mut s, "m", &[("a", "b")], Float(1_800_000_000.0));
        assert_eq!(s, "m{a=\"b\"} 1800000000\n");
    }
}
