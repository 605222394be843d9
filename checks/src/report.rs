//! The report of an audit: what `audit --format json` prints and what later runs compare against.
//! The format is documented in `docs/report-format.md`; `schema_version` changes when a field's
//! meaning does.

use crate::facts::{ApiCallCount, FactError};
use crate::model::{Practice, Severity, Status, Verdict};
use crate::scoring::{DimensionScore, PracticeScore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub agent_version: String,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: f64,
    pub accounts: Vec<AccountReport>,
    /// The run's one read of AWS Organizations (for the `environments` checks); absent when no
    /// enabled check needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationRead>,
}

/// The calls of the run's organization-level read, made once per run outside any account's audit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OrganizationRead {
    /// Every organization fact that could not be read, once each.
    pub errors: Vec<FactError>,
    pub api_calls: Vec<ApiCallCount>,
}

/// Whether an account could be audited at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Audited; individual facts may still have failed (see `errors`).
    Audited,
    /// Not audited: the role could not be assumed, or the account's time limit ran out.
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountReport {
    pub account_id: String,
    pub account_name: String,
    pub status: AccountStatus,
    /// Why the account could not be audited (only when `status` is `failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub regions: Vec<String>,
    /// Minimum of the practice levels; `None` when the account was not audited.
    pub level: Option<u8>,
    pub confirmed_level: Option<u8>,
    pub unconfirmed: bool,
    pub practices: Vec<PracticeScore>,
    /// The level per DSOMM sub-dimension, as the DSOMM app groups activities
    /// ([`crate::scoring::score_dimensions`]); empty in state written before it existed.
    #[serde(default)]
    pub dimensions: Vec<DimensionScore>,
    pub checks: Vec<CheckResult>,
    /// Every fact that could not be read, once each.
    pub errors: Vec<FactError>,
    pub api_calls: Vec<ApiCallCount>,
    pub duration_seconds: f64,
}

/// A check's result for one account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub practice: Practice,
    pub level: u8,
    pub severity: Severity,
    pub dsomm_activity: DsommRef,
    pub status: Status,
    pub remediation: String,
    pub verdicts: Vec<Verdict>,
    /// Set when this run's status is `unknown` and the level was scored with the previous known
    /// status instead (within the configured staleness window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_over: Option<CarriedOver>,
    /// Set when these verdicts come from an event-driven re-check rather than the run's full audit
    /// (`crate::recheck`); absent for a full audit's verdicts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rechecked: Option<Rechecked>,
}

/// Which re-check a check's verdicts come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rechecked {
    /// When the facts were re-read.
    pub at: DateTime<Utc>,
    /// The region re-read; `None` when the check was re-read in every audited region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The CloudTrail events that led to it, as `eventSource eventName`.
    pub events: Vec<String>,
}

/// A previous known status used for scoring in place of an `unknown` one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedOver {
    pub status: Status,
    pub observed_at: DateTime<Utc>,
}

impl CheckResult {
    /// The status that counts for scoring: the carried-over one when set, else this run's.
    pub fn scored_status(&self) -> Status {
        self.carried_over.as_ref().map_or(self.status, |c| c.status)
    }

    pub fn failing(&self) -> impl Iterator<Item = &Verdict> {
        self.verdicts.iter().filter(|v| v.status == Status::Fail)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsommRef {
    pub uuid: String,
    pub name: String,
    pub level: u8,
}

impl Report {
    pub fn account(&self, id: &str) -> Option<&AccountReport> {
        self.accounts.iter().find(|a| a.account_id == id)
    }
}

impl AccountReport {
    pub fn check(&self, id: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.id == id)
    }
    pub fn practice(&self, p: Practice) -> Option<&PracticeScore> {
        self.practices.iter().find(|s| s.practice == p)
    }
    /// How many calls of `operation` the account's audit made, whatever their outcome.
    pub fn calls_of(&self, operation: &str) -> u64 {
        self.api_calls
            .iter()
            .filter(|c| c.operation == operation)
            .map(|c| c.count)
            .sum()
    }
}
