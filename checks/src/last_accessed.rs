//! The budget and the cache of IAM's service last-accessed jobs (issue 13, "unused access").
//!
//! IAM builds a principal's service last-accessed report asynchronously: one
//! `GenerateServiceLastAccessedDetails` job per user or role, then `GetServiceLastAccessedDetails`
//! until the job is done. An account with hundreds of roles would cost hundreds of jobs every run,
//! so the jobs are budgeted:
//! - at most `last_accessed_jobs_per_run` jobs per account and run ([`Budget`]);
//! - a report is kept for `last_accessed_cache_hours` from its completion, in the agent's state
//!   ([`AccessCache`]); a principal with a kept report costs nothing until it expires;
//! - the budget goes to the principals without a kept report first, then to those whose report is
//!   the oldest ([`plan`]), so that every principal is read within
//!   `ceil(principals / jobs_per_run)` runs;
//! - a principal left without a report (budget spent) is `unknown` in that run, never a pass.
//!
//! The one-shot `audit` has no cache (`None`): its budget alone bounds the calls.

use crate::snapshot::{PrincipalAccess, ServiceLastAccessed};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where the reports of earlier runs are kept: the agent's state store. Calls are blocking (the
/// collector makes them off the async workers); an error is logged and costs jobs, never a verdict.
pub trait AccessCache: Send + Sync + std::fmt::Debug {
    /// The reports kept for the account's principals (expired ones may be among them).
    fn load(&self, account_id: &str) -> Result<Vec<ServiceLastAccessed>, String>;
    /// Keeps the new reports of the account (replacing the principals' older ones), and drops the
    /// account's reports generated before `expired_before`.
    fn save(
        &self,
        account_id: &str,
        reports: &[ServiceLastAccessed],
        expired_before: DateTime<Utc>,
    ) -> Result<(), String>;
}

/// How many jobs a run may start in one account, and how long a report stays usable.
#[derive(Debug, Clone)]
pub struct Budget {
    pub jobs_per_run: u32,
    pub cache_hours: u32,
    /// `None`: nothing is kept between runs (the one-shot `audit`).
    pub cache: Option<Arc<dyn AccessCache>>,
}

impl Budget {
    /// The budget of the settings, with the agent's cache when there is one.
    pub fn of(settings: &crate::settings::Settings, cache: Option<Arc<dyn AccessCache>>) -> Budget {
        Budget {
            jobs_per_run: settings.last_accessed_jobs_per_run,
            cache_hours: settings.last_accessed_cache_hours,
            cache,
        }
    }

    /// When a report generated before it has expired, seen at `now`.
    pub fn expired_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::hours(i64::from(self.cache_hours))
    }
}

/// Which principals get a job in this run, and what is known of the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The principals to start a job for, in the order the budget chose them.
    pub jobs: Vec<String>,
    /// Every other principal: its kept report, or why it is not judged in this run.
    pub answers: BTreeMap<String, PrincipalAccess>,
}

/// Spends the budget: a principal with an unexpired kept report uses it; the others are ordered
/// by their kept report's age (none first, then the oldest), ties by ARN, and the first
/// `jobs_per_run` get a job. The rest are unknown until a later run.
pub fn plan(
    principals: &[String],
    kept: Vec<ServiceLastAccessed>,
    budget: &Budget,
    now: DateTime<Utc>,
) -> Plan {
    let expired_before = budget.expired_before(now);
    let mut kept: BTreeMap<String, ServiceLastAccessed> =
        kept.into_iter().map(|r| (r.arn.clone(), r)).collect();
    let mut answers = BTreeMap::new();
    let mut due: Vec<(Option<DateTime<Utc>>, &String)> = Vec::new();
    for arn in principals {
        match kept.remove(arn) {
            // A report "from the future" (a clock step back) is kept only until it expires by
            // IAM's clock: used as is.
            Some(r) if r.generated_at >= expired_before => {
                answers.insert(arn.clone(), PrincipalAccess::Known(r));
            }
            old => due.push((old.map(|r| r.generated_at), arn)),
        }
    }
    due.sort();
    let n = usize::try_from(budget.jobs_per_run).unwrap_or(usize::MAX);
    let total = due.len();
    let jobs = due.iter().take(n).map(|(_, a)| (*a).clone()).collect();
    for (_, arn) in due.into_iter().skip(n) {
        let why = format!(
            "IAM's service last-accessed report is not read in this run: its budget of {n} jobs per \
             account and run (last_accessed_jobs_per_run) went to {n} of the {total} principals \
             whose report was missing or older; it is read in a later run"
        );
        answers.insert(arn.clone(), PrincipalAccess::Unknown(why));
    }
    Plan { jobs, answers }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(arn: &str, hours_ago: i64, now: DateTime<Utc>) -> ServiceLastAccessed {
        ServiceLastAccessed {
            arn: arn.into(),
            generated_at: now - chrono::Duration::hours(hours_ago),
            services: vec![],
        }
    }

    fn budget(jobs: u32) -> Budget {
        Budget {
            jobs_per_run: jobs,
            cache_hours: 24,
            cache: None,
        }
    }

    /// Fresh reports are used; missing ones come first, then the oldest expired ones; the rest
    /// wait, unknown with the budget named.
    #[test]
    fn spends_the_budget_on_the_missing_and_oldest() {
        let now = Utc::now();
        let p: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let kept = vec![
            report("a", 2, now),
            report("b", 30, now),
            report("c", 50, now),
            report("gone", 1, now),
        ];
        let plan = plan(&p, kept, &budget(2), now);
        // d and e have no report: first, by ARN; c (50 h) and b (30 h) wait.
        assert_eq!(plan.jobs, ["d", "e"]);
        assert!(matches!(plan.answers["a"], PrincipalAccess::Known(_)));
        for waiting in ["b", "c"] {
            let PrincipalAccess::Unknown(why) = &plan.answers[waiting] else {
                panic!("{waiting} is judged");
            };
            assert!(why.contains("budget of 2 jobs"), "{why}");
        }
        assert!(!plan.answers.contains_key("gone"));
        let plan = super::plan(
            &p,
            vec![report("b", 30, now), report("c", 50, now)],
            &budget(4),
            now,
        );
        assert_eq!(plan.jobs, ["a", "d", "e", "c"]);
    }

    /// Five hundred principals at 50 jobs per run are all read within ten runs, and none twice.
    #[test]
    fn a_full_refresh_takes_principals_over_jobs_per_run_runs() {
        let now = Utc::now();
        let p: Vec<String> = (0..500).map(|i| format!("role-{i:03}")).collect();
        let mut kept: Vec<ServiceLastAccessed> = Vec::new();
        let mut runs = 0;
        loop {
            let plan = plan(&p, kept.clone(), &budget(50), now);
            if plan.jobs.is_empty() {
                break;
            }
            assert!(plan.jobs.len() <= 50);
            kept.extend(plan.jobs.iter().map(|a| report(a, 0, now)));
            runs += 1;
        }
        assert_eq!(runs, 10);
        assert_eq!(kept.len(), 500);
        let none = plan(&p, vec![], &budget(0), now);
        assert!(none.jobs.is_empty() && none.answers.len() == 500);
    }
}
