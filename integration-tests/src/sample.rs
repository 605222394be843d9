//! Reports made without an audit, for the store's tests and benchmark: a catalog check with the
//! verdicts given, and an audited account of such checks, scored as an audit scores it.

use chrono::{DateTime, Utc};
use maturity_checks::catalog::{CheckMeta, CATALOG};
use maturity_checks::model::{Status, Verdict};
use maturity_checks::report::{AccountReport, AccountStatus, CheckResult, DsommRef, Report};

/// The catalog's metadata of check `id`; panics on an unknown id.
pub fn meta(id: &str) -> &'static CheckMeta {
    &CATALOG
        .iter()
        .find(|c| c.meta.id == id)
        .unwrap_or_else(|| panic!("no check {id} in the catalog"))
        .meta
}

/// The result of check `meta` with `verdicts`, all of `status`.
pub fn check(meta: &CheckMeta, status: Status, verdicts: Vec<Verdict>) -> CheckResult {
    CheckResult {
        id: meta.id.into(),
        title: meta.title.into(),
        practice: meta.practice,
        level: meta.activity.level,
        severity: meta.severity,
        dsomm_activity: DsommRef {
            uuid: meta.activity.uuid.into(),
            name: meta.activity.name.into(),
            level: meta.activity.level,
        },
        status,
        remediation: meta.remediation.into(),
        verdicts,
        carried_over: None,
        rechecked: None,
    }
}

/// An audited account of one region with `checks`, its practices and levels scored.
pub fn audited(id: &str, name: &str, checks: Vec<CheckResult>) -> AccountReport {
    let mut a = AccountReport {
        account_id: id.into(),
        account_name: name.into(),
        status: AccountStatus::Audited,
        error: None,
        regions: vec!["us-east-1".into()],
        level: None,
        confirmed_level: None,
        unconfirmed: false,
        practices: vec![],
        dimensions: vec![],
        checks,
        errors: vec![],
        api_calls: vec![],
        duration_seconds: 1.5,
    };
    maturity_checks::audit::rescore(&mut a);
    a
}

/// A run of `accounts` that started at `at` and took 1.5 s.
pub fn report(at: DateTime<Utc>, accounts: Vec<AccountReport>) -> Report {
    Report {
        schema_version: maturity_checks::report::SCHEMA_VERSION,
        agent_version: "test".into(),
        started_at: at,
        duration_seconds: 1.5,
        accounts,
        organization: None,
    }
}
