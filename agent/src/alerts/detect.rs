//! Regressions and alert state, as pure functions of the run, the account's previous state and its
//! active alerts. Nothing here does I/O, so every rule is unit-tested.
//!
//! The rules that keep alerts true:
//! - a check regresses only from a *known* meeting status (pass, not applicable, accepted) to `fail`;
//!   `unknown` never raises, lowers or resolves anything, and a check never seen before (first run of
//!   the account, newly enabled check) raises nothing;
//! - new failing resources of a failing check count only when the previous known verdicts covered
//!   them: a resource in a region (or a whole check) that was unknown last time is not "new";
//! - a practice or account level drop is a regression only when a check of that scope regressed in
//!   the same run, so a scoring change, a disabled check or an unknown never looks like one.

use chrono::{DateTime, Utc};
use maturity_checks::model::{Practice, Severity, Status};
use maturity_checks::report::{AccountReport, AccountStatus, CheckResult};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the state store remembers of a check from the last run in which it was known.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownCheck {
    pub status: Status,
    /// The failing resources then; `None` when not recorded (state written by an older version).
    pub failing: Option<BTreeSet<String>>,
    /// Regions whose verdicts were unknown then (`*` for a global unknown verdict).
    pub unknown_scopes: BTreeSet<String>,
}

/// The scope name of a verdict's region for [`KnownCheck::unknown_scopes`].
pub fn scope(region: Option<&str>) -> String {
    region.unwrap_or("*").to_owned()
}

impl KnownCheck {
    /// What to remember of a check of this run (None when its status is unknown: the last known
    /// state stays).
    pub fn of(c: &CheckResult) -> Option<KnownCheck> {
        if c.status == Status::Unknown {
            return None;
        }
        Some(KnownCheck {
            status: c.status,
            failing: Some(c.failing().map(|v| v.resource.clone()).collect()),
            unknown_scopes: c
                .verdicts
                .iter()
                .filter(|v| v.status == Status::Unknown)
                .map(|v| scope(v.region.as_deref()))
                .collect(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegressionKind {
    /// A check went from a known meeting status to fail.
    CheckFailed,
    /// A failing check fails for resources it did not fail for before.
    NewFailingResources,
    /// A practice's level dropped.
    PracticeLevelDropped,
    /// The account's level dropped.
    AccountLevelDropped,
}

impl RegressionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RegressionKind::CheckFailed => "check_failed",
            RegressionKind::NewFailingResources => "new_failing_resources",
            RegressionKind::PracticeLevelDropped => "practice_level_dropped",
            RegressionKind::AccountLevelDropped => "account_level_dropped",
        }
    }
}

/// One regression of one account in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Regression {
    pub kind: RegressionKind,
    pub account_id: String,
    pub account_name: String,
    pub practice: Option<Practice>,
    pub check: Option<String>,
    pub severity: Severity,
    pub from_level: Option<u8>,
    pub to_level: Option<u8>,
    /// The resources that newly fail (check regressions) or the checks that caused a level drop.
    pub resources: Vec<String>,
    pub summary: String,
}

impl Regression {
    /// The `practice` label of `maturity_regressions_total` (`account` for account-level drops).
    pub fn practice_label(&self) -> &'static str {
        self.practice.map_or("account", Practice::as_str)
    }
}

/// An alert: active while `ends_at` is unset. `key` is its identity in the state store; `labels`
/// its identity in Alertmanager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub key: String,
    pub account_id: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Level drops: the level before the first drop; the alert resolves when it is back.
    pub from_level: Option<u8>,
    /// Check alerts: the resources that raised it; it resolves when none of them fails.
    pub resources: Vec<String>,
}

impl Alert {
    pub fn severity(&self) -> Severity {
        match self.labels.get("severity").map(String::as_str) {
            Some("critical") => Severity::Critical,
            Some("high") => Severity::High,
            Some("medium") => Severity::Medium,
            _ => Severity::Low,
        }
    }
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }
}

/// `firing` (raised or raised again by a new regression) or `resolved`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    Firing,
    Resolved,
}

/// One notification to every sink that wants it; the outbox keeps it until delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Unique per notification; the same for every sink and across retries (receivers may
    /// deduplicate on it).
    pub id: String,
    pub status: NoticeStatus,
    pub alert: Alert,
    /// What happened this time; none for resolutions and audit failures.
    pub regressions: Vec<Regression>,
}

/// The run's context for the rules.
pub struct Rules {
    pub new_failing_resources_min_severity: Severity,
    pub audit_failing_after_runs: u32,
    /// The agent's external URL, for links.
    pub agent_url: Option<String>,
}

/// What an account's previous state says.
#[derive(Debug, Default, Clone)]
pub struct History {
    pub known: HashMap<String, KnownCheck>,
    /// The newest audited report before this run.
    pub previous: Option<AccountReport>,
    /// Failed runs in a row just before this one.
    pub failed_runs_before: u32,
}

/// The result of applying the rules to one account.
#[derive(Debug, Default)]
pub struct Plan {
    pub regressions: Vec<Regression>,
    /// Alerts to store as they now are (new, changed or resolved).
    pub alerts: Vec<Alert>,
    pub notices: Vec<Notice>,
}

const LIST_LIMIT: usize = 20;

/// "a, b, c and 4 more".
pub fn list(items: &[String]) -> String {
    let shown = items.iter().take(LIST_LIMIT).cloned().collect::<Vec<_>>();
    let more = items.len().saturating_sub(LIST_LIMIT);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The regressions of an audited account against its history.
pub fn regressions(a: &AccountReport, h: &History, rules: &Rules) -> Vec<Regression> {
    let mut out = Vec::new();
    if a.status != AccountStatus::Audited {
        return out;
    }
    let base = |kind, practice, check: Option<&str>, severity| Regression {
        kind,
        account_id: a.account_id.clone(),
        account_name: a.account_name.clone(),
        practice,
        check: check.map(str::to_owned),
        severity,
        from_level: None,
        to_level: None,
        resources: vec![],
        summary: String::new(),
    };
    let mut failed_checks: Vec<&CheckResult> = Vec::new();
    for c in a.checks.iter().filter(|c| c.status == Status::Fail) {
        let Some(prev) = h.known.get(&c.id) else {
            continue;
        };
        let failing: Vec<String> = c.failing().map(|v| v.resource.clone()).collect();
        if prev.status.meets() {
            failed_checks.push(c);
            out.push(Regression {
                summary: format!(
                    "{} fails in {} ({}), which passed before: {}",
                    c.id,
                    a.account_name,
                    a.account_id,
                    list(&failing)
                ),
                resources: failing,
                ..base(
                    RegressionKind::CheckFailed,
                    Some(c.practice),
                    Some(&c.id),
                    c.severity,
                )
            });
        } else if prev.status == Status::Fail
            && c.severity >= rules.new_failing_resources_min_severity
        {
            let Some(before) = &prev.failing else {
                continue;
            };
            if prev.unknown_scopes.contains("*") {
                continue;
            }
            let new: Vec<String> = c
                .failing()
                .filter(|v| !before.contains(&v.resource))
                .filter(|v| !prev.unknown_scopes.contains(&scope(v.region.as_deref())))
                .map(|v| v.resource.clone())
                .collect();
            if !new.is_empty() {
                out.push(Regression {
                    summary: format!(
                        "{} fails in {} ({}) for new resources: {}",
                        c.id,
                        a.account_name,
                        a.account_id,
                        list(&new)
                    ),
                    resources: new,
                    ..base(
                        RegressionKind::NewFailingResources,
                        Some(c.practice),
                        Some(&c.id),
                        c.severity,
                    )
                });
            }
        }
    }
    let Some(prev) = &h.previous else {
        return out;
    };
    for p in &a.practices {
        let before = prev.practice(p.practice).map(|q| q.level);
        let causes: Vec<&&CheckResult> = failed_checks
            .iter()
            .filter(|c| c.practice == p.practice)
            .collect();
        if let (Some(before), Some(severity)) = (before, causes.iter().map(|c| c.severity).max()) {
            if p.level < before {
                let ids: Vec<String> = causes.iter().map(|c| c.id.clone()).collect();
                out.push(Regression {
                    from_level: Some(before),
                    to_level: Some(p.level),
                    summary: format!(
                        "{} of {} ({}) dropped from level {before} to {} because {} failed",
                        p.practice.as_str(),
                        a.account_name,
                        a.account_id,
                        p.level,
                        list(&ids)
                    ),
                    resources: ids,
                    ..base(
                        RegressionKind::PracticeLevelDropped,
                        Some(p.practice),
                        None,
                        severity,
                    )
                });
            }
        }
    }
    if let (Some(before), Some(now), Some(severity)) = (
        prev.level,
        a.level,
        failed_checks.iter().map(|c| c.severity).max(),
    ) {
        if now < before {
            let ids: Vec<String> = failed_checks.iter().map(|c| c.id.clone()).collect();
            out.push(Regression {
                from_level: Some(before),
                to_level: Some(now),
                summary: format!(
                    "{} ({}) dropped from level {before} to {now} because {} failed",
                    a.account_name,
                    a.account_id,
                    list(&ids)
                ),
                resources: ids,
                ..base(RegressionKind::AccountLevelDropped, None, None, severity)
            });
        }
    }
    out
}

fn key_of(r: &Regression) -> String {
    match r.kind {
        RegressionKind::CheckFailed | RegressionKind::NewFailingResources => format!(
            "check/{}/{}",
            r.account_id,
            r.check.as_deref().unwrap_or_default()
        ),
        RegressionKind::PracticeLevelDropped => {
            format!("practice/{}/{}", r.account_id, r.practice_label())
        }
        RegressionKind::AccountLevelDropped => format!("account/{}", r.account_id),
    }
}

fn link(rules: &Rules, account_id: &str) -> Option<String> {
    rules
        .agent_url
        .as_ref()
        .map(|u| format!("{}/api/v1/accounts/{account_id}", u.trim_end_matches('/')))
}

fn labels(
    alertname: &str,
    a: &AccountReport,
    practice: Option<&str>,
    check: Option<&str>,
    severity: Severity,
) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        ("alertname".to_owned(), alertname.to_owned()),
        ("account_id".to_owned(), a.account_id.clone()),
        ("account_name".to_owned(), a.account_name.clone()),
        ("severity".to_owned(), severity.as_str().to_owned()),
    ]);
    if let Some(p) = practice {
        l.insert("practice".into(), p.into());
    }
    if let Some(c) = check {
        l.insert("check".into(), c.into());
    }
    l
}

/// Applies the rules to one account of this run: its regressions, and the alerts raised, raised
/// again, or resolved. `active` are the account's active alerts.
pub fn plan(
    a: &AccountReport,
    h: &History,
    active: &[Alert],
    rules: &Rules,
    now: DateTime<Utc>,
) -> Plan {
    let mut plan = Plan::default();
    let notice_id = |key: &str, status: NoticeStatus| {
        format!(
            "{}/{}/{}",
            now.timestamp_millis(),
            key,
            match status {
                NoticeStatus::Firing => "firing",
                NoticeStatus::Resolved => "resolved",
            }
        )
    };
    let notify = |plan: &mut Plan, alert: Alert, status, regressions: Vec<Regression>| {
        plan.notices.push(Notice {
            id: notice_id(&alert.key, status),
            status,
            alert: alert.clone(),
            regressions,
        });
        plan.alerts.push(alert);
    };
    let find = |key: &str| active.iter().find(|x| x.key == key && x.ends_at.is_none());

    if a.status == AccountStatus::Failed {
        let key = format!("audit/{}", a.account_id);
        let failed = h.failed_runs_before + 1;
        if failed >= rules.audit_failing_after_runs && find(&key).is_none() {
            let error = a.error.clone().unwrap_or_default();
            let mut annotations = BTreeMap::from([
                (
                    "summary".to_owned(),
                    format!(
                        "{} ({}) could not be audited {failed} times in a row",
                        a.account_name, a.account_id
                    ),
                ),
                ("description".to_owned(), error),
            ]);
            if let Some(l) = link(rules, &a.account_id) {
                annotations.insert("agent_url".into(), l);
            }
            let alert = Alert {
                key,
                account_id: a.account_id.clone(),
                labels: labels("MaturityAuditFailing", a, None, None, Severity::High),
                annotations,
                starts_at: now,
                ends_at: None,
                from_level: None,
                resources: vec![],
            };
            notify(&mut plan, alert, NoticeStatus::Firing, vec![]);
        }
        return plan;
    }

    plan.regressions = regressions(a, h, rules);
    // Raise or raise again, one alert per key with every regression of the run for it.
    let mut by_key: BTreeMap<String, Vec<Regression>> = BTreeMap::new();
    for r in &plan.regressions {
        by_key.entry(key_of(r)).or_default().push(r.clone());
    }
    for (key, rs) in by_key {
        let r = &rs[0];
        let mut alert = find(&key).cloned().unwrap_or_else(|| {
            let name = match r.kind {
                RegressionKind::CheckFailed | RegressionKind::NewFailingResources => {
                    "MaturityCheckRegressed"
                }
                RegressionKind::PracticeLevelDropped => "MaturityPracticeLevelDropped",
                RegressionKind::AccountLevelDropped => "MaturityAccountLevelDropped",
            };
            Alert {
                key: key.clone(),
                account_id: a.account_id.clone(),
                labels: labels(
                    name,
                    a,
                    r.practice.map(Practice::as_str),
                    r.check.as_deref(),
                    r.severity,
                ),
                annotations: BTreeMap::new(),
                starts_at: now,
                ends_at: None,
                from_level: r.from_level,
                resources: vec![],
            }
        });
        let mut annotations = BTreeMap::from([("summary".to_owned(), r.summary.clone())]);
        match r.kind {
            RegressionKind::CheckFailed | RegressionKind::NewFailingResources => {
                for res in rs.iter().flat_map(|r| &r.resources) {
                    if !alert.resources.contains(res) {
                        alert.resources.push(res.clone());
                    }
                }
                let check = a.check(r.check.as_deref().unwrap_or_default());
                let failing: Vec<String> = check
                    .map(|c| c.failing().map(|v| v.reason.clone()).collect())
                    .unwrap_or_default();
                annotations.insert(
                    "description".into(),
                    format!("Failing resources: {}", list(&failing)),
                );
                if let Some(c) = check {
                    annotations.insert("remediation".into(), c.remediation.clone());
                    annotations.insert("title".into(), c.title.clone());
                }
            }
            _ => {
                annotations.insert(
                    "description".into(),
                    format!(
                        "Level {} → {}; checks that failed: {}",
                        alert.from_level.or(r.from_level).unwrap_or_default(),
                        r.to_level.unwrap_or_default(),
                        list(&r.resources)
                    ),
                );
            }
        }
        if let Some(l) = link(rules, &a.account_id) {
            annotations.insert("agent_url".into(), l);
        }
        alert.annotations = annotations;
        notify(&mut plan, alert, NoticeStatus::Firing, rs);
    }
    // Resolve what recovered.
    let raised: BTreeSet<String> = plan.alerts.iter().map(|x| x.key.clone()).collect();
    for alert in active
        .iter()
        .filter(|x| x.ends_at.is_none() && !raised.contains(&x.key))
    {
        let why = if alert.key.starts_with("audit/") {
            Some("audited again".to_owned())
        } else if let Some(check) = alert.labels.get("check") {
            match a.check(check) {
                None => Some(format!("{check} is no longer run")),
                Some(c) if c.status == Status::Unknown => None,
                Some(c) => {
                    let failing: BTreeSet<&str> =
                        c.failing().map(|v| v.resource.as_str()).collect();
                    (!alert.resources.iter().any(|r| failing.contains(r.as_str())))
                        .then(|| format!("{check} no longer fails for {}", list(&alert.resources)))
                }
            }
        } else if alert.key.starts_with("practice/") {
            let practice = alert.labels.get("practice").cloned().unwrap_or_default();
            match a.practices.iter().find(|p| p.practice.as_str() == practice) {
                None => Some(format!("{practice} is no longer scored")),
                // The confirmed level: an unknown check is no proof of recovery.
                Some(p) => (p.confirmed_level >= alert.from_level.unwrap_or_default())
                    .then(|| format!("{practice} is back at level {}", p.confirmed_level)),
            }
        } else if alert.key.starts_with("account/") {
            a.confirmed_level
                .filter(|l| *l >= alert.from_level.unwrap_or_default())
                .map(|l| format!("the account is back at level {l}"))
        } else {
            None
        };
        if let Some(why) = why {
            let mut resolved = alert.clone();
            resolved.ends_at = Some(now);
            resolved
                .annotations
                .insert("resolution".into(), why.clone());
            notify(&mut plan, resolved, NoticeStatus::Resolved, vec![]);
        }
    }
    plan
}

/// Resolves the active alerts of an account that is no longer audited at all.
pub fn resolve_gone(active: &[Alert], now: DateTime<Utc>) -> Plan {
    let mut plan = Plan::default();
    for alert in active.iter().filter(|x| x.ends_at.is_none()) {
        let mut resolved = alert.clone();
        resolved.ends_at = Some(now);
        resolved.annotations.insert(
            "resolution".into(),
            "the account is no longer audited".into(),
        );
        plan.notices.push(Notice {
            id: format!("{}/{}/resolved", now.timestamp_millis(), alert.key),
            status: NoticeStatus::Resolved,
            alert: resolved.clone(),
            regressions: vec![],
        });
        plan.alerts.push(resolved);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use maturity_checks::model::Verdict;
    use maturity_checks::report::DsommRef;

    const ID: &str = "111111111111";

    fn check(
        id: &str,
        practice: Practice,
        severity: Severity,
        verdicts: &[(&str, Option<&str>, Status)],
    ) -> CheckResult {
        let verdicts: Vec<Verdict> = verdicts
            .iter()
            .map(|(r, region, s)| Verdict::new(*r, *region, *s, format!("{r} is {s}")))
            .collect();
        CheckResult {
            id: id.into(),
            title: format!("title of {id}"),
            practice,
            level: 1,
            severity,
            dsomm_activity: DsommRef {
                uuid: "u".into(),
                name: "n".into(),
                level: 1,
            },
            status: maturity_checks::model::overall_status(&verdicts),
            remediation: format!("fix {id}"),
            verdicts,
            carried_over: None,
            rechecked: None,
        }
    }

    fn account(checks: Vec<CheckResult>) -> AccountReport {
        let mut a = AccountReport {
            account_id: ID.into(),
            account_name: "prod".into(),
            status: AccountStatus::Audited,
            error: None,
            regions: vec!["eu-west-1".into()],
            level: None,
            confirmed_level: None,
            unconfirmed: false,
            practices: vec![],
            dimensions: vec![],
            checks,
            errors: vec![],
            api_calls: vec![],
            duration_seconds: 1.0,
        };
        maturity_checks::audit::rescore(&mut a);
        a
    }

    fn history(before: &AccountReport) -> History {
        History {
            known: before
                .checks
                .iter()
                .filter_map(|c| KnownCheck::of(c).map(|k| (c.id.clone(), k)))
                .collect(),
            previous: Some(before.clone()),
            failed_runs_before: 0,
        }
    }

    fn rules() -> Rules {
        Rules {
            new_failing_resources_min_severity: Severity::High,
            audit_failing_after_runs: 3,
            agent_url: Some("https://maturity.example.com/".into()),
        }
    }

    use Practice::{Identity, Network};
    use Status::{Fail, NotApplicable, Pass, Unknown};

    fn mfa(s: Status) -> CheckResult {
        check(
            "iam_console_users_mfa_enabled",
            Identity,
            Severity::High,
            &[("user/alice", None, s), ("user/bob", None, Pass)],
        )
    }

    /// A check going from pass to fail raises one regression per scope: the check, its practice's
    /// level and the account's level, each naming what failed; the alerts carry the labels
    /// Alertmanager groups by.
    #[test]
    fn pass_to_fail_regresses_check_practice_and_account() {
        let before = account(vec![mfa(Pass)]);
        let now = account(vec![mfa(Fail)]);
        let plan = plan(&now, &history(&before), &[], &rules(), Utc::now());
        let kinds: Vec<_> = plan.regressions.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                RegressionKind::CheckFailed,
                RegressionKind::PracticeLevelDropped,
                RegressionKind::AccountLevelDropped
            ]
        );
        assert_eq!(plan.regressions[0].resources, ["user/alice"]);
        assert_eq!(plan.regressions[1].from_level, Some(1));
        assert_eq!(plan.regressions[1].to_level, Some(0));
        assert_eq!(plan.regressions[1].practice_label(), "identity");
        assert_eq!(plan.regressions[2].practice_label(), "account");
        let check_alert = plan
            .alerts
            .iter()
            .find(|a| a.key.starts_with("check/"))
            .unwrap();
        assert_eq!(check_alert.name(), "MaturityCheckRegressed");
        assert_eq!(check_alert.labels["check"], "iam_console_users_mfa_enabled");
        assert_eq!(check_alert.labels["practice"], "identity");
        assert_eq!(check_alert.labels["severity"], "high");
        assert_eq!(check_alert.labels["account_name"], "prod");
        assert_eq!(
            check_alert.annotations["description"],
            "Failing resources: user/alice is fail"
        );
        assert_eq!(
            check_alert.annotations["remediation"],
            "fix iam_console_users_mfa_enabled"
        );
        assert_eq!(
            check_alert.annotations["agent_url"],
            "https://maturity.example.com/api/v1/accounts/111111111111"
        );
        assert_eq!(plan.notices.len(), 3);
        assert!(plan
            .notices
            .iter()
            .all(|n| n.status == NoticeStatus::Firing));
    }

    /// No regression on the first run of an account, on a check never known before, on unknown, or
    /// on a check that was disabled (absent from the run).
    #[test]
    fn no_false_regressions() {
        let r = rules();
        let failing = account(vec![mfa(Fail)]);
        assert!(
            regressions(&failing, &History::default(), &r).is_empty(),
            "first run"
        );
        let before = account(vec![mfa(Pass)]);
        let unknown = account(vec![mfa(Unknown)]);
        assert!(
            regressions(&unknown, &history(&before), &r).is_empty(),
            "unknown"
        );
        // pass, then unknown (not remembered), then fail: a regression against the last known pass.
        let mut h = history(&before);
        h.previous = Some(unknown.clone());
        // The unknown run kept level 1 (unknown never lowers a level), so the levels drop now.
        assert_eq!(
            regressions(&failing, &h, &r).len(),
            3,
            "pass → unknown → fail regresses"
        );
        let other = check(
            "ec2_security_group_no_world_admin_ports",
            Network,
            Severity::Critical,
            &[("sg-1", Some("eu-west-1"), Fail)],
        );
        let new_check = account(vec![mfa(Pass), other]);
        assert!(
            regressions(&new_check, &history(&before), &r).is_empty(),
            "newly enabled check"
        );
        let disabled = account(vec![]);
        assert!(
            regressions(&disabled, &history(&before), &r).is_empty(),
            "disabled check"
        );
    }

    /// New failing resources of a failing check are a regression above the configured severity only,
    /// and never for resources of a region that was unknown the last time.
    #[test]
    fn new_failing_resources() {
        let sg = |v: &[(&str, Option<&str>, Status)]| {
            check(
                "ec2_security_group_no_world_admin_ports",
                Network,
                Severity::Critical,
                v,
            )
        };
        let before = account(vec![sg(&[
            ("sg-1", Some("eu-west-1"), Fail),
            ("sg-9", Some("us-east-1"), Unknown),
        ])]);
        let now = account(vec![sg(&[
            ("sg-1", Some("eu-west-1"), Fail),
            ("sg-2", Some("eu-west-1"), Fail),
            ("sg-9", Some("us-east-1"), Fail),
        ])]);
        let rs = regressions(&now, &history(&before), &rules());
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0].kind, RegressionKind::NewFailingResources);
        assert_eq!(
            rs[0].resources,
            ["sg-2"],
            "sg-9's region was unknown before"
        );
        let mut high_only = rules();
        high_only.new_failing_resources_min_severity = Severity::Critical;
        assert_eq!(regressions(&now, &history(&before), &high_only).len(), 1);
        let mut low = sg(&[
            ("sg-1", Some("eu-west-1"), Fail),
            ("sg-2", Some("eu-west-1"), Fail),
        ]);
        low.severity = Severity::Medium;
        let mut before_low = before.checks[0].clone();
        before_low.severity = Severity::Medium;
        assert!(
            regressions(
                &account(vec![low]),
                &history(&account(vec![before_low])),
                &rules()
            )
            .is_empty(),
            "medium is below high"
        );
        // State from before failing sets were recorded: nothing can be called new.
        let mut h = history(&before);
        h.known.values_mut().for_each(|k| k.failing = None);
        assert!(regressions(&now, &h, &rules()).is_empty());
    }

    /// Alerts resolve on recovery, on a disabled check and when the level is back; an unknown check
    /// keeps its alert firing.
    #[test]
    fn recovery_resolves() {
        let before = account(vec![mfa(Pass)]);
        let failing = account(vec![mfa(Fail)]);
        let t0 = Utc::now();
        let raised = plan(&failing, &history(&before), &[], &rules(), t0);
        let active = raised.alerts.clone();
        let still = plan(&failing, &history(&failing), &active, &rules(), t0);
        assert!(
            still.notices.is_empty(),
            "no news, no notification: {:?}",
            still.notices
        );
        let unknown = plan(
            &account(vec![mfa(Unknown)]),
            &history(&failing),
            &active,
            &rules(),
            t0,
        );
        assert!(
            unknown.notices.is_empty(),
            "unknown neither raises nor resolves: {:?}",
            unknown.notices
        );
        let fixed = plan(&before, &history(&failing), &active, &rules(), t0);
        assert_eq!(fixed.notices.len(), 3);
        assert!(fixed
            .notices
            .iter()
            .all(|n| n.status == NoticeStatus::Resolved));
        assert!(fixed.alerts.iter().all(|a| a.ends_at == Some(t0)));
        let resolution = &fixed
            .alerts
            .iter()
            .find(|a| a.key.starts_with("check/"))
            .unwrap()
            .annotations["resolution"];
        assert_eq!(
            resolution,
            "iam_console_users_mfa_enabled no longer fails for user/alice"
        );
        let disabled = plan(&account(vec![]), &history(&failing), &active, &rules(), t0);
        assert!(disabled.alerts.iter().any(|a| a
            .annotations
            .get("resolution")
            .is_some_and(|r| r == "iam_console_users_mfa_enabled is no longer run")));
        let gone = resolve_gone(&active, t0);
        assert_eq!(gone.alerts.len(), 3);
    }

    /// An account that cannot be audited raises its own alert after the configured number of runs in
    /// a row, once, and it resolves when an audit succeeds; its other alerts are left alone.
    #[test]
    fn audit_failing_alert() {
        let mut failed = account(vec![]);
        failed.status = AccountStatus::Failed;
        failed.error = Some("AssumeRole: AccessDenied".into());
        let mut h = History {
            failed_runs_before: 1,
            ..Default::default()
        };
        assert!(plan(&failed, &h, &[], &rules(), Utc::now())
            .notices
            .is_empty());
        h.failed_runs_before = 2;
        let p = plan(&failed, &h, &[], &rules(), Utc::now());
        assert_eq!(p.alerts[0].name(), "MaturityAuditFailing");
        assert_eq!(
            p.alerts[0].annotations["description"],
            "AssumeRole: AccessDenied"
        );
        h.failed_runs_before = 3;
        assert!(
            plan(&failed, &h, &p.alerts, &rules(), Utc::now())
                .notices
                .is_empty(),
            "raised once"
        );
        let ok = plan(
            &account(vec![mfa(Pass)]),
            &History::default(),
            &p.alerts,
            &rules(),
            Utc::now(),
        );
        assert_eq!(ok.notices[0].status, NoticeStatus::Resolved);
    }

    #[test]
    fn lists_are_bounded() {
        let items: Vec<String> = (0..25).map(|i| format!("r{i}")).collect();
        assert!(list(&items).ends_with("r19 and 5 more"));
        let _ = NotApplicable;
    }
}
