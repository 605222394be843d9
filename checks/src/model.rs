//! The vocabulary of results: practices, severities, statuses and per-resource verdicts.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The infrastructure security practices an account is scored on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Practice {
    Identity,
    LeastPrivilege,
    EdgeEncryption,
    Backups,
    Logging,
    Monitoring,
    Network,
    DataProtection,
    Environments,
}

impl Practice {
    pub const ALL: [Practice; 9] = [
        Practice::Identity,
        Practice::LeastPrivilege,
        Practice::EdgeEncryption,
        Practice::Backups,
        Practice::Logging,
        Practice::Monitoring,
        Practice::Network,
        Practice::DataProtection,
        Practice::Environments,
    ];

    /// The name used in config, JSON and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Practice::Identity => "identity",
            Practice::LeastPrivilege => "least_privilege",
            Practice::EdgeEncryption => "edge_encryption",
            Practice::Backups => "backups",
            Practice::Logging => "logging",
            Practice::Monitoring => "monitoring",
            Practice::Network => "network",
            Practice::DataProtection => "data_protection",
            Practice::Environments => "environments",
        }
    }
}

impl fmt::Display for Practice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a failure of a check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome for one resource, or for a whole check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The resource meets the check.
    Pass,
    /// The resource does not meet the check.
    Fail,
    /// The facts could not be read (the reason names the call and the error). Never a failure.
    Unknown,
    /// There is nothing to check (no resource of the kind exists).
    NotApplicable,
    /// The resource fails the check, but an active exception of the config accepts the finding
    /// (see [`crate::exceptions`]); it counts as passing. A check is `accepted` when every failing
    /// resource is.
    Accepted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::NotApplicable => "not_applicable",
            Status::Accepted => "accepted",
        }
    }

    /// Whether the status lets the check count as met when computing a level.
    pub fn meets(self) -> bool {
        matches!(
            self,
            Status::Pass | Status::NotApplicable | Status::Accepted
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check's judgement of one resource, with one sentence that names the resource and says why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The resource judged: an ARN where AWS has one, else a name such as `account 123456789012`.
    pub resource: String,
    /// The region the resource lives in; `None` for global resources (IAM, S3 listing, the account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub status: Status,
    pub reason: String,
    /// The exception of the config that accepted this failure, or that would have and expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Box<crate::exceptions::ExceptionNote>>,
    /// The privilege-escalation paths behind a failure, shortest and strongest first
    /// (`iam_no_privilege_escalation`); empty for every other verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<EscalationPath>,
}

/// How a principal raises its privileges, step by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPath {
    pub steps: Vec<EscalationStep>,
    /// What the last step gives: "every action on every resource", "every action of s3, dynamodb".
    pub reaches: String,
}

/// One step of a path: `actor` calls `actions` on `target` and so acts with `gains`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationStep {
    /// The ARN of the principal that takes the step.
    pub actor: String,
    /// The primitive's id in `checks/data/privesc.tsv`.
    pub primitive: String,
    /// The actions it calls, the one on `target` first.
    pub actions: Vec<String>,
    /// The ARN the first action is called on (a role passed, a user, a policy, a group).
    pub target: String,
    /// What the actor holds after the step, in words.
    pub gains: String,
}

impl EscalationPath {
    /// The path as a person reads it: "role ci-deploy → iam:PassRole on role admin +
    /// lambda:CreateFunction, lambda:InvokeFunction → every action on every resource".
    pub fn describe(&self, start: &str) -> String {
        let mut out = start.to_owned();
        for s in &self.steps {
            out.push_str(" → ");
            out.push_str(&s.actions[0]);
            out.push_str(" on ");
            out.push_str(&crate::policy::escalation::arn_label(&s.target));
            if s.actions.len() > 1 {
                out.push_str(" + ");
                out.push_str(&s.actions[1..].join(", "));
            }
            out.push_str(" → ");
            out.push_str(&s.gains);
        }
        out
    }
}

impl Verdict {
    pub fn new(
        resource: impl Into<String>,
        region: Option<&str>,
        status: Status,
        reason: impl Into<String>,
    ) -> Self {
        Verdict {
            resource: resource.into(),
            region: region.map(str::to_owned),
            status,
            reason: reason.into(),
            exception: None,
            paths: Vec::new(),
        }
    }
    pub fn pass(
        resource: impl Into<String>,
        region: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(resource, region, Status::Pass, reason)
    }
    pub fn fail(
        resource: impl Into<String>,
        region: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(resource, region, Status::Fail, reason)
    }
    pub fn unknown(
        resource: impl Into<String>,
        region: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(resource, region, Status::Unknown, reason)
    }
    pub fn not_applicable(
        resource: impl Into<String>,
        region: Option<&str>,
        reason: impl Into<String>,
    ) -> Self {
        Self::new(resource, region, Status::NotApplicable, reason)
    }
}

/// A check's overall status from its verdicts: any failure fails it; otherwise any unknown makes it
/// unknown (a failure may hide there); otherwise any accepted failure makes it accepted; otherwise
/// any pass passes it; otherwise it is not applicable.
pub fn overall_status(verdicts: &[Verdict]) -> Status {
    let has = |s: Status| verdicts.iter().any(|v| v.status == s);
    if has(Status::Fail) {
        Status::Fail
    } else if has(Status::Unknown) {
        Status::Unknown
    } else if has(Status::Accepted) {
        Status::Accepted
    } else if has(Status::Pass) {
        Status::Pass
    } else {
        Status::NotApplicable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One failing resource fails the check even when others pass or are unknown.
    #[test]
    fn overall_status_orders_fail_unknown_pass_na() {
        let v = |s| Verdict::new("r", None, s, "x");
        assert_eq!(
            overall_status(&[v(Status::Pass), v(Status::Unknown), v(Status::Fail)]),
            Status::Fail
        );
        assert_eq!(
            overall_status(&[v(Status::Pass), v(Status::Unknown)]),
            Status::Unknown
        );
        assert_eq!(
            overall_status(&[v(Status::Pass), v(Status::NotApplicable)]),
            Status::Pass
        );
        assert_eq!(
            overall_status(&[v(Status::NotApplicable)]),
            Status::NotApplicable
        );
        assert_eq!(overall_status(&[]), Status::NotApplicable);
    }

    /// Accepted failures make the check accepted unless a real failure or an unknown remains.
    #[test]
    fn accepted_ranks_below_fail_and_unknown_above_pass() {
        let v = |s| Verdict::new("r", None, s, "x");
        assert_eq!(
            overall_status(&[v(Status::Pass), v(Status::Accepted)]),
            Status::Accepted
        );
        assert_eq!(
            overall_status(&[v(Status::Accepted), v(Status::Fail)]),
            Status::Fail
        );
        assert_eq!(
            overall_status(&[v(Status::Accepted), v(Status::Unknown)]),
            Status::Unknown
        );
        assert!(Status::Accepted.meets());
    }
}
