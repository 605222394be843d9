//! Facts read from AWS, the errors that stand in for facts that could not be read, and the record of
//! every API call made to read them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

/// A fact read from AWS, or the reason it could not be read. Never silently empty: a collector that
/// could not read a list returns `Err`, not an empty list.
pub type Fact<T> = Result<T, FactError>;

/// Why a read failed. The set is bounded so that it can be a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The audit role may not make the call (AccessDenied, UnauthorizedOperation, …).
    AccessDenied,
    /// AWS throttled the call and the SDK's retries gave up.
    Throttled,
    /// The call did not complete within the configured time limit.
    Timeout,
    /// The endpoint does not implement the operation (an emulator, or a region without the service).
    NotSupported,
    /// The fact was not collected because no enabled check needed it. A check never sees this for a
    /// fact it declared (tested).
    NotCollected,
    /// Anything else: a network failure, a 5xx from AWS, an unexpected response.
    Other,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Timeout => "timeout",
            ErrorKind::NotSupported => "not_supported",
            ErrorKind::NotCollected => "not_collected",
            ErrorKind::Other => "other",
        }
    }

    /// A few words a person reads in a reason.
    pub fn describe(self) -> &'static str {
        match self {
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Timeout => "timed out",
            ErrorKind::NotSupported => "not supported by the endpoint",
            ErrorKind::NotCollected => "not collected",
            ErrorKind::Other => "failed",
        }
    }
}

/// A read that failed: which call, where, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactError {
    /// The AWS service, as in IAM action prefixes (`iam`, `s3`, `ec2`, …).
    pub service: String,
    /// The API operation (`ListUsers`, `GetBucketEncryption`, …).
    pub operation: String,
    /// The region of the call; `None` for global services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub kind: ErrorKind,
    /// The error as AWS or the SDK said it (code and message).
    pub message: String,
}

impl FactError {
    pub fn new(
        service: &str,
        operation: &str,
        region: Option<&str>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        FactError {
            service: service.to_owned(),
            operation: operation.to_owned(),
            region: region.map(str::to_owned),
            kind,
            message: message.into(),
        }
    }

    /// The placeholder for a fact that no enabled check asked for.
    pub fn not_collected(service: &str, operation: &str) -> Self {
        Self::new(
            service,
            operation,
            None,
            ErrorKind::NotCollected,
            "no enabled check needs this fact",
        )
    }
}

impl fmt::Display for FactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.service, self.operation)?;
        if let Some(r) = &self.region {
            write!(f, " in {r}")?;
        }
        write!(f, " {}", self.kind.describe())?;
        if !self.message.is_empty() {
            write!(f, " ({})", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FactError {}

/// The outcome of one API call, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// An answer that is a normal "nothing configured" (e.g. no bucket encryption configuration).
    NotFound,
    Error(ErrorKind),
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not_found",
            Outcome::Error(k) => k.as_str(),
        }
    }
}

/// How many calls of one operation were made, by outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCallCount {
    pub service: String,
    pub operation: String,
    pub outcome: String,
    pub count: u64,
}

/// Counts every AWS API call an audit makes (one per HTTP request the SDK reports as one call,
/// one per page of a paginated operation), keyed by service, operation and outcome.
#[derive(Debug, Default)]
pub struct CallRecorder {
    counts: Mutex<BTreeMap<(&'static str, &'static str, Outcome), u64>>,
    /// The client-side request rate limit per service (one recorder serves one account), so that an
    /// audit never spends an account's API quota that its workloads need.
    limit: Option<RateLimit>,
    /// Every failed read, in the order they happened, for the report's `errors`.
    errors: Mutex<Vec<FactError>>,
}

/// Spaces calls to one service at least `interval` apart: each call reserves the next free slot.
#[derive(Debug)]
struct RateLimit {
    interval: std::time::Duration,
    next: Mutex<BTreeMap<&'static str, tokio::time::Instant>>,
}

impl CallRecorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A recorder that also limits calls to `per_second` per service (`None` or 0: no limit).
    pub fn with_rate_limit(per_second: Option<f64>) -> Self {
        let limit = per_second.filter(|r| *r > 0.0).map(|r| RateLimit {
            interval: std::time::Duration::from_secs_f64(1.0 / r),
            next: Mutex::new(BTreeMap::new()),
        });
        CallRecorder {
            limit,
            ..Self::default()
        }
    }

    /// Waits until a call to `service` is within the rate limit. Every AWS call awaits this first.
    pub async fn admit(&self, service: &'static str) {
        let Some(limit) = &self.limit else { return };
        let slot = {
            let mut next = limit.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = tokio::time::Instant::now();
            let slot = next.get(service).copied().unwrap_or(now).max(now);
            next.insert(service, slot + limit.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    pub fn record(&self, service: &'static str, operation: &'static str, outcome: Outcome) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        *counts.entry((service, operation, outcome)).or_default() += 1;
    }

    /// Keeps a failed read for the report.
    pub fn error(&self, e: &FactError) {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e.clone());
    }

    /// The failed reads so far.
    pub fn errors(&self) -> Vec<FactError> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// All counts so far, sorted by service, operation and outcome.
    pub fn counts(&self) -> Vec<ApiCallCount> {
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts
            .iter()
            .map(|((s, o, out), n)| ApiCallCount {
                service: (*s).to_owned(),
                operation: (*o).to_owned(),
                outcome: out.as_str().to_owned(),
                count: *n,
            })
            .collect()
    }

    /// Total calls made.
    pub fn total(&self) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fact error reads as one line naming the call, the region and the cause.
    #[test]
    fn fact_error_display_names_call_and_cause() {
        let e = FactError::new(
            "ec2",
            "DescribeSecurityGroups",
            Some("eu-west-1"),
            ErrorKind::AccessDenied,
            "UnauthorizedOperation: no",
        );
        assert_eq!(
            e.to_string(),
            "ec2:DescribeSecurityGroups in eu-west-1 access denied (UnauthorizedOperation: no)"
        );
    }

    /// Ten calls to one service at 5 per second take 1.8 s; another service is not held back.
    #[tokio::test(start_paused = true)]
    async fn rate_limit_spaces_calls_per_service() {
        let r = CallRecorder::with_rate_limit(Some(5.0));
        let start = tokio::time::Instant::now();
        for _ in 0..10 {
            r.admit("s3").await;
        }
        assert_eq!(start.elapsed(), std::time::Duration::from_millis(1800));
        let t = tokio::time::Instant::now();
        r.admit("iam").await;
        assert_eq!(t.elapsed(), std::time::Duration::ZERO);
        let unlimited = CallRecorder::with_rate_limit(Some(0.0));
        let t = tokio::time::Instant::now();
        for _ in 0..100 {
            unlimited.admit("s3").await;
        }
        assert_eq!(t.elapsed(), std::time::Duration::ZERO);
    }

    /// Calls are counted per service, operation and outcome.
    #[test]
    fn recorder_counts_by_outcome() {
        let r = CallRecorder::new();
        r.record("iam", "ListUsers", Outcome::Ok);
        r.record("iam", "ListUsers", Outcome::Ok);
        r.record("iam", "ListUsers", Outcome::Error(ErrorKind::Throttled));
        let c = r.counts();
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].outcome.as_str(), c[0].count), ("ok", 2));
        assert_eq!((c[1].outcome.as_str(), c[1].count), ("throttled", 1));
        assert_eq!(r.total(), 3);
    }
}
