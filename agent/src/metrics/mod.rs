//! The Prometheus metrics. Computed after each audit and served from memory: a scrape never calls
//! AWS and never waits for an audit. Labels are bounded (account, practice, check, level, severity,
//! status, service, operation, error kind): never an ARN or a resource name. The per-account series
//! are compact rows written at scrape ([`accounts`]); the others are the `prometheus` crate's.

pub mod accounts;

use maturity_checks::catalog::Check;
use maturity_checks::report::{AccountReport, Report};
use prometheus::{
    Encoder, Gauge, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

pub use accounts::STATUSES;

pub struct Metrics {
    registry: Registry,
    accounts: accounts::AccountSeries,
    check_info: IntGaugeVec,
    pub runs: IntCounterVec,
    /// Accounts this process audited (with replicas: its share of the cycles).
    pub accounts_audited: IntCounter,
    pub skipped_runs: IntCounter,
    api_calls: IntCounterVec,
    api_errors: IntCounterVec,
    pub last_start: Gauge,
    pub in_progress: IntGauge,
    /// 1 while this process holds the lease (starts cycles, delivers alerts); always 1 alone.
    pub leader: IntGauge,
    pub alerts_sent: IntCounterVec,
    pub alert_queue: IntGaugeVec,
    /// Runs whose save to the state store failed (their regressions and alerts are not saved).
    pub save_failures: IntCounter,
    /// When a run was last saved, and when a save last failed: the latest attempt failed while the
    /// second is the larger (the `MaturityStateNotSaved` rule).
    pub last_save: Gauge,
    pub last_save_failure: Gauge,
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(g.clone())).expect("unique metric");
    g
}

fn counter_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(c.clone())).expect("unique metric");
    c
}

impl Metrics {
    /// The registry, for series registered by optional components (`crate::events`).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Registers every metric; `checks` fills `maturity_check_info`.
    pub fn new(checks: &[&Check]) -> Metrics {
        let r = Registry::new();
        let m = Metrics {
            accounts: accounts::AccountSeries::new(maturity_checks::catalog::CATALOG),
            check_info: gauge_vec(&r, "maturity_check_info", "Metadata of each check of the catalog.", &["check", "practice", "level", "severity", "dsomm_activity", "title"]),
            runs: counter_vec(&r, "maturity_audit_runs_total", "Audit cycles by result (success, partial: some accounts failed, error: no account audited, or the cycle could not start), each counted by the replica that saved its last account or failed to start it: summed over replicas, the cycles of their shared schedule.", &["result"]),
            accounts_audited: {
                let c = IntCounter::new("maturity_audit_accounts_total", "Account audits made by this process (with replicas sharing a state: its share of the cycles).").expect("valid");
                r.register(Box::new(c.clone())).expect("unique");
                c
            },
            skipped_runs: {
                let c = IntCounter::new("maturity_audit_skipped_runs_total", "Scheduled runs skipped because the previous run was still in progress.").expect("valid");
                r.register(Box::new(c.clone())).expect("unique");
                c
            },
            api_calls: counter_vec(&r, "maturity_aws_api_calls_total", "AWS API calls made by audits.", &["service", "operation"]),
            api_errors: counter_vec(&r, "maturity_aws_api_errors_total", "AWS API calls that failed, by error kind.", &["service", "operation", "error"]),
            last_start: {
                let g = Gauge::new("maturity_audit_last_start_timestamp_seconds", "Start time of the last audit cycle, from the state whichever replica started it (alert when it stops advancing).").expect("valid");
                r.register(Box::new(g.clone())).expect("unique");
                g
            },
            leader: {
                let g = IntGauge::new("maturity_replica_leader", "1 while this process holds the lease of its state: it starts the audit cycles, delivers the alerts and receives the events (always 1 for one agent alone).").expect("valid");
                r.register(Box::new(g.clone())).expect("unique");
                g
            },
            in_progress: {
                let g = IntGauge::new("maturity_audit_in_progress", "1 while the newest audit cycle has accounts not saved yet, whichever replica audits them (0 when it is complete).").expect("valid");
                r.register(Box::new(g.clone())).expect("unique");
                g
            },
            alerts_sent: counter_vec(&r, "maturity_alerts_sent_total", "Alert notification deliveries by sink and result (ok, error: will retry, rejected: refused by the sink).", &["sink", "result"]),
            alert_queue: gauge_vec(&r, "maturity_alert_queue_depth", "Alert notifications waiting in the outbox for a sink.", &["sink"]),
            save_failures: {
                let c = IntCounter::new("maturity_state_save_failures_total", "Audit runs that could not be saved to the state store (their regressions and alerts are lost).").expect("valid");
                r.register(Box::new(c.clone())).expect("unique");
                c
            },
            last_save: {
                let g = Gauge::new("maturity_state_last_save_timestamp_seconds", "When an audit run was last saved to the state store (0: not by this process).").expect("valid");
                r.register(Box::new(g.clone())).expect("unique");
                g
            },
            last_save_failure: {
                let g = Gauge::new("maturity_state_last_save_failure_timestamp_seconds", "When saving an audit run last failed (0: never in this process).").expect("valid");
                r.register(Box::new(g.clone())).expect("unique");
                g
            },
            registry: r,
        };
        let build = gauge_vec(
            &m.registry,
            "maturity_build_info",
            "The agent's version.",
            &["version"],
        );
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        for c in checks {
            let level = c.level().to_string();
            m.check_info
                .with_label_values(&[
                    c.meta.id,
                    c.meta.practice.as_str(),
                    &level,
                    c.meta.severity.as_str(),
                    c.meta.activity.name,
                    c.meta.title,
                ])
                .set(1);
        }
        for result in ["success", "partial", "error"] {
            m.runs.with_label_values(&[result]);
        }
        m
    }

    /// Exports zeros for every sink's delivery counters and queue.
    pub fn init_sinks(&self, sinks: &[String]) {
        for sink in sinks {
            for result in ["ok", "error", "rejected"] {
                self.alerts_sent.with_label_values(&[sink, result]);
            }
            self.alert_queue.with_label_values(&[sink]).set(0);
        }
    }

    /// Sets `maturity_alerts_active` for every account from the active alerts.
    pub fn set_active_alerts(&self, active: &[crate::alerts::detect::Alert]) {
        self.accounts
            .set_alerts(&|id| active.iter().filter(|x| x.account_id == id).count() as i64);
    }

    /// Replaces the per-account series with what `report` says. An account that could not be audited
    /// keeps the levels of `previous` (its last audited report) with `maturity_account_up` 0.
    pub fn update(&self, report: &Report, previous: &dyn Fn(&str) -> Option<AccountReport>) {
        let keep: std::collections::HashSet<&str> = report
            .accounts
            .iter()
            .map(|a| a.account_id.as_str())
            .collect();
        self.retain(&keep);
        let at = report.started_at.timestamp() as f64;
        for a in &report.accounts {
            self.set_account(a, previous(&a.account_id).as_ref(), at);
        }
    }

    /// Replaces one account's series (`audited_at`: when its result was audited).
    pub fn set_account(
        &self,
        a: &AccountReport,
        previous: Option<&AccountReport>,
        audited_at: f64,
    ) {
        self.accounts.set(a, previous, audited_at);
        // Zeros for the practices of the account's regressions counter.
        let shown = match previous {
            Some(p) if a.status != maturity_checks::report::AccountStatus::Audited => p,
            _ => a,
        };
        let practices: Vec<&'static str> = std::iter::once("account")
            .chain(shown.practices.iter().map(|p| p.practice.as_str()))
            .collect();
        self.accounts.zero_regressions(&a.account_id, &practices);
    }

    /// Counts a regression of an account's practice (`account` for the account's level).
    pub fn count_regression(&self, account_id: &str, practice: &'static str) {
        self.accounts.count_regression(account_id, practice);
    }

    /// Ends every series of the accounts not in `keep`: an account no longer audited (gone from the
    /// organization or the config) must not leave frozen series behind, or
    /// `MaturityAccountNotAudited` fires for it forever.
    pub fn retain(&self, keep: &std::collections::HashSet<&str>) {
        self.accounts.retain(keep);
    }

    /// Counts the calls a run of this process made (its accounts' and the organization's), once:
    /// serving a saved report again counts nothing.
    pub fn count_report_calls(&self, report: &Report) {
        if let Some(o) = &report.organization {
            self.count_calls(&o.api_calls);
        }
        for a in &report.accounts {
            self.count_calls(&a.api_calls);
        }
    }

    /// When an account's served result was audited (its run's start).
    pub fn set_last_success(&self, account_id: &str, at: chrono::DateTime<chrono::Utc>) {
        self.accounts
            .set_last_success(account_id, at.timestamp() as f64);
    }

    /// Counts calls made outside any account's audit (discovery).
    pub fn count_calls(&self, calls: &[maturity_checks::facts::ApiCallCount]) {
        for c in calls {
            self.api_calls
                .with_label_values(&[&c.service, &c.operation])
                .inc_by(c.count);
            if c.outcome != "ok" && c.outcome != "not_found" {
                self.api_errors
                    .with_label_values(&[&c.service, &c.operation, &c.outcome])
                    .inc_by(c.count);
            }
        }
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let chunks = self.encode_chunks();
        let mut out = String::with_capacity(chunks.iter().map(|c| c.len()).sum());
        for c in chunks {
            out.push_str(std::str::from_utf8(&c).expect("utf-8 exposition"));
        }
        out
    }

    /// The exposition as buffers in family order: the registry's families encoded now, the
    /// per-account ones as kept since their last change (shared, not copied).
    pub fn encode_chunks(&self) -> Vec<bytes::Bytes> {
        let encoder = TextEncoder::new();
        let gathered = self.registry.gather();
        let accounts = self.accounts.text();
        let mut names: Vec<(&str, Option<&prometheus::proto::MetricFamily>)> = gathered
            .iter()
            .map(|f| (f.name(), Some(f)))
            .chain(accounts::AccountSeries::FAMILIES.iter().map(|n| (*n, None)))
            .collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = Vec::with_capacity(names.len());
        for (name, family) in names {
            match family {
                Some(f) => {
                    let mut buf = Vec::new();
                    encoder
                        .encode(std::slice::from_ref(f), &mut buf)
                        .expect("text encoding");
                    out.push(bytes::Bytes::from(buf));
                }
                None => {
                    if let Some(t) = accounts.get(name) {
                        out.extend(t.iter().cloned());
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maturity_checks::catalog::CATALOG;
    use maturity_checks::facts::ApiCallCount;
    use maturity_checks::model::Status;
    use maturity_checks::model::{Practice, Severity, Verdict};
    use maturity_checks::report::AccountStatus;
    use maturity_checks::report::{CheckResult, DsommRef};

    fn fixture() -> Report {
        let check = |id: &str, practice, level, status| CheckResult {
            id: id.into(),
            title: "t".into(),
            practice,
            level,
            severity: Severity::High,
            dsomm_activity: DsommRef {
                uuid: "u".into(),
                name: "n".into(),
                level,
            },
            status,
            remediation: "r".into(),
            verdicts: vec![Verdict::new(
                "arn:aws:iam::111111111111:user/bob",
                None,
                status,
                "why",
            )],
            carried_over: None,
            rechecked: None,
        };
        let mut prod = AccountReport {
            account_id: "111111111111".into(),
            account_name: "production".into(),
            status: AccountStatus::Audited,
            error: None,
            regions: vec!["us-east-1".into()],
            level: None,
            confirmed_level: None,
            unconfirmed: false,
            practices: vec![],
            dimensions: vec![],
            checks: vec![
                check(
                    "iam_root_access_keys_absent",
                    Practice::Identity,
                    1,
                    Status::Pass,
                ),
                check(
                    "iam_console_users_mfa_enabled",
                    Practice::Identity,
                    2,
                    Status::Fail,
                ),
                check(
                    "ec2_security_group_no_world_admin_ports",
                    Practice::Network,
                    2,
                    Status::Unknown,
                ),
            ],
            errors: vec![],
            api_calls: vec![
                ApiCallCount {
                    service: "iam".into(),
                    operation: "GetAccountSummary".into(),
                    outcome: "ok".into(),
                    count: 1,
                },
                ApiCallCount {
                    service: "ec2".into(),
                    operation: "DescribeSecurityGroups".into(),
                    outcome: "access_denied".into(),
                    count: 2,
                },
            ],
            duration_seconds: 1.5,
        };
        maturity_checks::audit::rescore(&mut prod);
        let down = AccountReport {
            account_id: "222222222222".into(),
            account_name: "legacy".into(),
            status: AccountStatus::Failed,
            error: Some("cannot assume".into()),
            checks: vec![],
            practices: vec![],
            dimensions: vec![],
            level: None,
            confirmed_level: None,
            api_calls: vec![],
            ..prod.clone()
        };
        Report {
            schema_version: 1,
            agent_version: "test".into(),
            started_at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            duration_seconds: 2.0,
            accounts: vec![prod, down],
            organization: None,
        }
    }

    /// The exposition of a fixed report matches the golden file, which `promtool check metrics`
    /// accepts. Set UPDATE_GOLDEN=1 to rewrite the file after an intended change.
    #[test]
    fn exposition_matches_golden_and_passes_promtool() {
        // A fixed pair of checks, so that growing the catalog does not change the golden file.
        let checks: Vec<_> = [
            "iam_root_access_keys_absent",
            "iam_console_users_mfa_enabled",
        ]
        .iter()
        .map(|id| maturity_checks::catalog::find(id).expect("check exists"))
        .collect();
        let m = Metrics::new(&checks);
        m.init_sinks(&["alertmanager".to_owned()]);
        let report = fixture();
        m.count_report_calls(&report);
        let prev = report.accounts[0].clone();
        m.update(&report, &|id| {
            (id == "222222222222").then(|| AccountReport {
                account_id: id.into(),
                ..prev.clone()
            })
        });
        m.set_active_alerts(&[]);
        m.runs.with_label_values(&["success"]).inc();
        let text = m.encode().replace(env!("CARGO_PKG_VERSION"), "VERSION");
        let golden = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/metrics.prom");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(golden, &text).unwrap();
        }
        let expected =
            std::fs::read_to_string(golden).expect("golden file (UPDATE_GOLDEN=1 writes it)");
        assert_eq!(
            text, expected,
            "exposition changed; UPDATE_GOLDEN=1 cargo test -p maturity-agent rewrites {golden}"
        );
        assert!(!text.contains("arn:aws"), "a label carries an ARN");

        let out = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::fs::File::open(golden).unwrap())
            .output()
            .unwrap_or_else(|e| panic!("promtool is missing ({e}): install Debian's prometheus package (apt-get install prometheus)"));
        assert!(
            out.status.success(),
            "promtool check metrics: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A down account keeps its last known levels and says it is down; series of accounts that left
    /// the report disappear.
    #[test]
    fn down_accounts_keep_levels_and_removed_accounts_vanish() {
        let m = Metrics::new(CATALOG);
        let report = fixture();
        let prev = report.accounts[0].clone();
        m.update(&report, &|id| {
            (id == "222222222222").then(|| AccountReport {
                account_id: id.into(),
                ..prev.clone()
            })
        });
        let text = m.encode();
        assert!(
            text.contains(
                "maturity_account_up{account_id=\"222222222222\",account_name=\"legacy\"} 0"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "maturity_account_level{account_id=\"222222222222\",account_name=\"legacy\"} 1"
            ),
            "{text}"
        );
        let mut only_prod = fixture();
        only_prod.accounts.truncate(1);
        m.update(&only_prod, &|_| None);
        assert!(!m.encode().contains("account_name=\"legacy\""));
    }

    /// An account that leaves the report (the organization or the config) leaves no series in
    /// any metric family: every family that carries `account_id` is checked, so that a new
    /// per-account family is covered too.
    #[test]
    fn every_series_of_a_removed_account_ends() {
        let m = Metrics::new(CATALOG);
        let report = fixture();
        let prev = report.accounts[0].clone();
        // Audited once (its last success is set), then down (its last levels kept).
        let mut both = fixture();
        both.accounts[1] = AccountReport {
            account_id: "222222222222".into(),
            account_name: "legacy".into(),
            ..prev.clone()
        };
        m.update(&both, &|_| None);
        m.update(&report, &|id| {
            (id == "222222222222").then(|| AccountReport {
                account_id: id.into(),
                ..prev.clone()
            })
        });
        m.count_regression("222222222222", "identity");
        m.set_active_alerts(&[]);
        let families_with = |id: &str| -> std::collections::BTreeSet<String> {
            let label = format!("account_id=\"{id}\"");
            m.encode()
                .lines()
                .filter(|l| !l.starts_with('#') && l.contains(&label))
                .filter_map(|l| l.split('{').next().map(str::to_owned))
                .collect()
        };
        let before = families_with("222222222222");
        for family in [
            "maturity_account_up",
            "maturity_account_level",
            "maturity_level",
            "maturity_audit_last_success_timestamp_seconds",
            "maturity_audit_duration_seconds",
            "maturity_regressions_total",
            "maturity_alerts_active",
            "maturity_check_status",
        ] {
            assert!(before.contains(family), "{family} before: {before:?}");
        }
        let mut only_prod = fixture();
        only_prod.accounts.truncate(1);
        m.update(&only_prod, &|_| None);
        assert_eq!(
            families_with("222222222222"),
            Default::default(),
            "series of the removed account remain"
        );
        assert!(
            families_with("111111111111").contains("maturity_audit_last_success_timestamp_seconds")
        );
    }

    /// Levels per DSOMM sub-dimension and dimension, labelled as the model names them.
    #[test]
    fn dsomm_levels_per_subdimension() {
        let mut report = fixture();
        let a = &mut report.accounts[0];
        a.checks[0].dsomm_activity.uuid = maturity_checks::dsomm::MFA_FOR_ADMINS.uuid.into();
        a.checks[2].dsomm_activity.uuid = maturity_checks::dsomm::TEST_FOR_EXPOSED_SERVICES
            .uuid
            .into();
        maturity_checks::audit::rescore(a);
        let m = Metrics::new(CATALOG);
        m.update(&report, &|_| None);
        let text = m.encode();
        for line in [
            "maturity_dsomm_level{account_id=\"111111111111\",account_name=\"production\",dimension=\"Implementation\",subdimension=\"Infrastructure Hardening\"} 1",
            "maturity_dsomm_level{account_id=\"111111111111\",account_name=\"production\",dimension=\"Test and Verification\",subdimension=\"Dynamic depth for infrastructure\"} 2",
            "maturity_dsomm_level_unconfirmed{account_id=\"111111111111\",account_name=\"production\",dimension=\"Test and Verification\",subdimension=\"Dynamic depth for infrastructure\"} 1",
            "maturity_dsomm_dimension_level{account_id=\"111111111111\",account_name=\"production\",dimension=\"Implementation\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
