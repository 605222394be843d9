//! Exceptions: findings a team has accepted for a while, with a reason, an owner and an expiry date.
//!
//! A failing verdict whose resource matches an active exception for its check (and account) becomes
//! `accepted` and counts as passing; a check whose every failing resource is accepted becomes
//! `accepted` (see [`crate::model::overall_status`]). Once the exception's expiry date is reached the
//! verdict stays `fail` and carries a note saying which exception expired and when. `unknown`,
//! `pass` and `not_applicable` verdicts are never touched: an exception accepts a known failure,
//! it never turns an error into a result.
//!
//! Exceptions are judged against the time the account's facts were collected, like every age.

use crate::model::{overall_status, Status, Verdict};
use crate::report::CheckResult;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which resources an exception covers: a glob (`*` any run of characters, `?` one character,
/// everything else literal) or, written `regex:…`, a regular expression. Either must match the whole
/// resource (ARN or name as the report shows it).
#[derive(Debug, Clone)]
pub struct ResourcePattern {
    source: String,
    regex: regex_lite::Regex,
}

impl ResourcePattern {
    /// Compiles a pattern; the error says what is wrong with it.
    pub fn parse(source: &str) -> Result<ResourcePattern, String> {
        let body = if let Some(re) = source.strip_prefix("regex:") {
            if re.is_empty() {
                return Err("the regex after `regex:` is empty".into());
            }
            re.to_owned()
        } else {
            if source.trim().is_empty() {
                return Err("the pattern is empty; write `*` to cover every resource".into());
            }
            source
                .chars()
                .map(|c| match c {
                    '*' => ".*".to_owned(),
                    '?' => ".".to_owned(),
                    c => regex_lite::escape(c.encode_utf8(&mut [0; 4])),
                })
                .collect()
        };
        let regex = regex_lite::Regex::new(&format!("^(?:{body})$"))
            .map_err(|e| format!("is not a valid regex: {e}"))?;
        Ok(ResourcePattern {
            source: source.to_owned(),
            regex,
        })
    }

    pub fn matches(&self, resource: &str) -> bool {
        self.regex.is_match(resource)
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// One accepted finding, as configured.
#[derive(Debug, Clone)]
pub struct Exception {
    /// The check id.
    pub check: String,
    pub resources: ResourcePattern,
    /// The accounts it applies to; empty: every account.
    pub accounts: Vec<String>,
    pub reason: String,
    pub owner: String,
    /// The first day (UTC) on which the exception no longer counts.
    pub expires: NaiveDate,
}

impl Exception {
    /// Whether the exception still counts at `at`: before the start (UTC) of its expiry date.
    pub fn active_at(&self, at: DateTime<Utc>) -> bool {
        at.date_naive() < self.expires
    }

    /// Whether the exception is about this resource of this check in this account.
    pub fn covers(&self, account_id: &str, check_id: &str, resource: &str) -> bool {
        self.check == check_id
            && (self.accounts.is_empty() || self.accounts.iter().any(|a| a == account_id))
            && self.resources.matches(resource)
    }

    fn note(&self, expired: bool) -> ExceptionNote {
        let message = if expired {
            format!("exception by {} expired on {}", self.owner, self.expires)
        } else {
            format!(
                "accepted by {} until {}: {}",
                self.owner, self.expires, self.reason
            )
        };
        ExceptionNote {
            owner: self.owner.clone(),
            reason: self.reason.clone(),
            expires: self.expires,
            expired,
            message,
        }
    }
}

/// The exception behind an `accepted` verdict, or the expired one on a `fail` verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionNote {
    pub owner: String,
    pub reason: String,
    /// The first day on which the exception no longer counts.
    pub expires: NaiveDate,
    /// True when the exception would cover the failure but has expired: the verdict stays `fail`.
    pub expired: bool,
    /// One sentence for people: "accepted by OWNER until DATE: REASON" or
    /// "exception by OWNER expired on DATE".
    pub message: String,
}

impl fmt::Display for ExceptionNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The note for one failing verdict: the first active exception that covers it, else the covering
/// exception that expired last, else none.
fn judge(
    exceptions: &[Exception],
    account_id: &str,
    check_id: &str,
    v: &Verdict,
    at: DateTime<Utc>,
) -> Option<ExceptionNote> {
    let covering = || {
        exceptions
            .iter()
            .filter(|e| e.covers(account_id, check_id, &v.resource))
    };
    if let Some(active) = covering().find(|e| e.active_at(at)) {
        return Some(active.note(false));
    }
    covering().max_by_key(|e| e.expires).map(|e| e.note(true))
}

/// Applies the exceptions to one account's check results at `at` and recomputes each check's
/// status. Only `fail` verdicts change: to `accepted` under an active exception, or they keep `fail`
/// with a note of the exception that expired.
pub fn apply(
    account_id: &str,
    checks: &mut [CheckResult],
    exceptions: &[Exception],
    at: DateTime<Utc>,
) {
    if exceptions.is_empty() {
        return;
    }
    for c in checks.iter_mut() {
        let mut changed = false;
        for v in c.verdicts.iter_mut().filter(|v| v.status == Status::Fail) {
            if let Some(note) = judge(exceptions, account_id, &c.id, v, at) {
                if !note.expired {
                    v.status = Status::Accepted;
                    changed = true;
                }
                v.exception = Some(Box::new(note));
            }
        }
        if changed {
            c.status = overall_status(&c.verdicts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Practice, Severity};
    use crate::report::DsommRef;

    fn exception(check: &str, pattern: &str, accounts: &[&str], expires: &str) -> Exception {
        Exception {
            check: check.into(),
            resources: ResourcePattern::parse(pattern).unwrap(),
            accounts: accounts.iter().map(|a| a.to_string()).collect(),
            reason: "legacy bucket, migration planned".into(),
            owner: "alice@example.com".into(),
            expires: expires.parse().unwrap(),
        }
    }

    fn result(id: &str, verdicts: Vec<Verdict>) -> CheckResult {
        CheckResult {
            id: id.into(),
            title: "t".into(),
            practice: Practice::Backups,
            level: 2,
            severity: Severity::Medium,
            dsomm_activity: DsommRef {
                uuid: "u".into(),
                name: "n".into(),
                level: 2,
            },
            status: overall_status(&verdicts),
            remediation: "r".into(),
            verdicts,
            carried_over: None,
            rechecked: None,
        }
    }

    fn at(date: &str) -> DateTime<Utc> {
        format!("{date}T12:00:00Z").parse().unwrap()
    }

    const CHECK: &str = "s3_bucket_versioning_enabled";

    /// Globs match the whole resource, `*` spans `:` and `/`, `?` is one character, and regex
    /// metacharacters of a glob are literal.
    #[test]
    fn glob_patterns_match_whole_resources() {
        let p = ResourcePattern::parse("arn:aws:s3:::legacy-*").unwrap();
        assert!(p.matches("arn:aws:s3:::legacy-logs"));
        assert!(p.matches("arn:aws:s3:::legacy-a/b"));
        assert!(!p.matches("arn:aws:s3:::prod-legacy-logs"));
        assert!(!p.matches("xarn:aws:s3:::legacy-logs"));
        let q = ResourcePattern::parse("bucket-?.(old)").unwrap();
        assert!(q.matches("bucket-1.(old)"));
        assert!(!q.matches("bucket-12.(old)"));
        assert!(!q.matches("bucket-1x(old)"), "`.` is literal in a glob");
        assert!(ResourcePattern::parse("*")
            .unwrap()
            .matches("account 111111111111"));
    }

    /// `regex:` patterns are anchored; a broken regex or an empty pattern is refused with a reason.
    #[test]
    fn regex_patterns_and_bad_patterns() {
        let p = ResourcePattern::parse(r"regex:arn:aws:s3:::(logs|tmp)-\d+").unwrap();
        assert!(p.matches("arn:aws:s3:::logs-42"));
        assert!(!p.matches("arn:aws:s3:::logs-42-extra"));
        assert!(ResourcePattern::parse("regex:(unclosed")
            .unwrap_err()
            .starts_with("is not a valid regex"));
        assert_eq!(
            ResourcePattern::parse("").unwrap_err(),
            "the pattern is empty; write `*` to cover every resource"
        );
        assert_eq!(
            ResourcePattern::parse("regex:").unwrap_err(),
            "the regex after `regex:` is empty"
        );
    }

    /// An exception counts until the start of its expiry date, and only for its check and accounts.
    #[test]
    fn expiry_and_scope() {
        let e = exception(CHECK, "*", &["111111111111"], "2027-03-31");
        assert!(e.active_at(at("2027-03-30")));
        assert!(!e.active_at(at("2027-03-31")));
        assert!(e.covers("111111111111", CHECK, "arn:aws:s3:::x"));
        assert!(!e.covers("222222222222", CHECK, "arn:aws:s3:::x"));
        assert!(!e.covers("111111111111", "s3_bucket_tls_only", "arn:aws:s3:::x"));
        let everywhere = exception(CHECK, "*", &[], "2027-03-31");
        assert!(everywhere.covers("222222222222", CHECK, "arn:aws:s3:::x"));
    }

    /// Every failing resource accepted: the check is accepted, the verdicts say by whom and why.
    #[test]
    fn fully_accepted_check_becomes_accepted() {
        let mut checks = vec![result(
            CHECK,
            vec![
                Verdict::fail("arn:aws:s3:::legacy-a", None, "a is unversioned."),
                Verdict::pass("arn:aws:s3:::prod", None, "prod is versioned."),
            ],
        )];
        let ex = [exception(CHECK, "arn:aws:s3:::legacy-*", &[], "2027-03-31")];
        apply("111111111111", &mut checks, &ex, at("2027-01-01"));
        assert_eq!(checks[0].status, Status::Accepted);
        let v = &checks[0].verdicts[0];
        assert_eq!(v.status, Status::Accepted);
        assert_eq!(v.reason, "a is unversioned.", "the finding itself is kept");
        assert_eq!(
            v.exception.as_ref().unwrap().message,
            "accepted by alice@example.com until 2027-03-31: legacy bucket, migration planned"
        );
        assert!(checks[0].verdicts[1].exception.is_none());
    }

    /// Part of the failures accepted: the check still fails; the accepted ones are marked.
    #[test]
    fn partly_accepted_check_stays_failing() {
        let mut checks = vec![result(
            CHECK,
            vec![
                Verdict::fail("arn:aws:s3:::legacy-a", None, "a"),
                Verdict::fail("arn:aws:s3:::prod", None, "p"),
            ],
        )];
        let ex = [exception(CHECK, "arn:aws:s3:::legacy-*", &[], "2027-03-31")];
        apply("111111111111", &mut checks, &ex, at("2027-01-01"));
        assert_eq!(checks[0].status, Status::Fail);
        let statuses: Vec<_> = checks[0].verdicts.iter().map(|v| v.status).collect();
        assert_eq!(statuses, vec![Status::Accepted, Status::Fail]);
        assert_eq!(checks[0].failing().count(), 1);
    }

    /// On and after the expiry date the failure counts again and says which exception expired; a
    /// still-active exception for the same resource wins over an expired one.
    #[test]
    fn expired_exception_stops_counting_and_says_so() {
        let mk = || {
            vec![result(
                CHECK,
                vec![Verdict::fail("arn:aws:s3:::legacy-a", None, "a")],
            )]
        };
        let ex = [exception(CHECK, "*", &[], "2027-03-31")];
        let mut checks = mk();
        apply("111111111111", &mut checks, &ex, at("2027-03-31"));
        assert_eq!(checks[0].status, Status::Fail);
        let note = checks[0].verdicts[0].exception.as_ref().unwrap();
        assert!(note.expired);
        assert_eq!(
            note.message,
            "exception by alice@example.com expired on 2027-03-31"
        );

        let mut renewed = ex.to_vec();
        renewed.push(Exception {
            owner: "bob".into(),
            ..exception(CHECK, "*", &[], "2028-01-01")
        });
        let mut checks = mk();
        apply("111111111111", &mut checks, &renewed, at("2027-06-01"));
        assert_eq!(checks[0].status, Status::Accepted);
        assert_eq!(
            checks[0].verdicts[0].exception.as_ref().unwrap().owner,
            "bob"
        );
    }

    /// Exceptions never change unknown, passing or not-applicable verdicts, nor other accounts.
    #[test]
    fn only_failures_of_the_covered_account_change() {
        let mut checks = vec![result(
            CHECK,
            vec![
                Verdict::unknown("arn:aws:s3:::a", None, "denied"),
                Verdict::not_applicable("account 111111111111", None, "none"),
                Verdict::pass("arn:aws:s3:::b", None, "ok"),
            ],
        )];
        let before = checks[0].verdicts.clone();
        let ex = [exception(CHECK, "*", &[], "2027-03-31")];
        apply("111111111111", &mut checks, &ex, at("2027-01-01"));
        assert_eq!(checks[0].verdicts, before);
        assert_eq!(checks[0].status, Status::Unknown);

        let mut other = vec![result(
            CHECK,
            vec![Verdict::fail("arn:aws:s3:::a", None, "a")],
        )];
        let scoped = [exception(CHECK, "*", &["222222222222"], "2027-03-31")];
        apply("111111111111", &mut other, &scoped, at("2027-01-01"));
        assert_eq!(other[0].status, Status::Fail);
        assert!(other[0].verdicts[0].exception.is_none());
    }
}
