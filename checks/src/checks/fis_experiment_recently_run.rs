//! The account practises chaos engineering: an AWS Fault Injection Service experiment ran in an
//! audited region within `chaos_experiment_max_age_days`.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};
use chrono::Duration;

/// Experiment states in which faults were injected (or are being injected): an experiment that
/// is still pending or initiating, was cancelled before it started, or failed is no exercise.
const RAN: [&str; 4] = ["running", "completed", "stopping", "stopped"];

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "fis_experiment_recently_run",
        title: "A fault injection experiment ran recently",
        practice: Practice::Environments,
        severity: Severity::Low,
        activity: dsomm::CHAOS_TECHNOLOGY,
        remediation: "Run chaos experiments regularly with AWS Fault Injection Service: create an \
                      experiment template that stops or degrades part of the workload with a \
                      stop condition on an alarm (aws fis create-experiment-template), and start \
                      it on a schedule (aws fis start-experiment, e.g. from an EventBridge \
                      Scheduler schedule).",
        needs: &[Need::FisExperiments],
        notes: "**Judges** AWS FIS `ListExperiments` (every page) in every audited region, once \
for the account: it passes when an experiment that injected faults (state `running`, \
`completed`, `stopping` or `stopped`) was started within `chaos_experiment_max_age_days` \
(default 90), naming at most three; it fails when none was. When none is found and a region \
could not be read, the account is unknown. Never not_applicable: every workload can be \
exercised.\n\n\
**Edge cases**: experiments that failed, were cancelled or never left `pending` / `initiating` \
injected nothing and do not count; a `stopped` one does (its stop condition or an operator ended \
it after it started). Templates that were never run do not count. A multi-account experiment is \
listed in the orchestrator account only, and chaos tools other than FIS (Gremlin, Chaos Mesh, \
Litmus, Chaos Monkey) leave no trace AWS can read: such accounts fail and should record an \
exception naming where their experiments run. FIS keeps experiments for a limited time after \
they end, so an old exercise may no longer be listed at all.\n\n\
**Differs from Prowler / Security Hub**: neither has such a check as far as we know.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let days = settings.chaos_experiment_max_age_days;
    let since = snap.collected_at - Duration::days(i64::from(days));
    let mut found = Vec::new();
    let mut unreadable = None;
    for (region, facts) in &snap.regional {
        match &facts.fis_experiments {
            Err(e) => unreadable = unreadable.or(Some(e)),
            Ok(experiments) => found.extend(
                experiments
                    .iter()
                    .filter(|e| RAN.contains(&e.status.as_str()))
                    .filter(|e| e.created.is_some_and(|c| c >= since))
                    .map(|e| {
                        let day = e.created.map(|c| c.format("%Y-%m-%d").to_string());
                        format!(
                            "experiment {} of template {} ({region}, {}, {})",
                            e.id,
                            e.template_id,
                            e.status,
                            day.unwrap_or_default()
                        )
                    }),
            ),
        }
    }
    super::account_evidence(
        snap,
        found,
        unreadable,
        |n, names| {
            format!(
                "Account {} ran {n} fault injection experiment(s) in the last {days} days: {names}.",
                snap.account_id
            )
        },
        format!(
            "Account {} ran no AWS FIS experiment in the last {days} days (chaos_experiment_max_age_days) in {}.",
            snap.account_id,
            super::audited_regions(snap)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::Fact;
    use crate::model::Status;
    use crate::snapshot::FisExperiment;

    fn experiment(id: &str, status: &str, days: i64) -> FisExperiment {
        FisExperiment {
            id: id.into(),
            template_id: "EXT1".into(),
            status: status.into(),
            created: Some(days_ago(days)),
        }
    }

    fn run(experiments: Fact<Vec<FisExperiment>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().fis_experiments = experiments;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_on_a_recent_experiment_that_injected_faults() {
        let v = run(Ok(vec![experiment("EXP1", "completed", 10)]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} ran 1 fault injection experiment(s) in the last 90 days: experiment EXP1 of template EXT1 (eu-west-1, completed, 2025-05-22).")
        );
        assert_eq!(
            run(Ok(vec![experiment("EXP2", "stopped", 1)]))[0].status,
            Status::Pass
        );
    }

    #[test]
    fn fails_without_a_recent_experiment_that_ran() {
        let v = run(Ok(vec![
            experiment("OLD", "completed", 120),
            experiment("F", "failed", 1),
            experiment("C", "cancelled", 1),
            experiment("P", "pending", 1),
        ]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} ran no AWS FIS experiment in the last 90 days (chaos_experiment_max_age_days) in eu-west-1.")
        );
        assert_eq!(run(Ok(vec![]))[0].status, Status::Fail);
    }

    #[test]
    fn unknown_when_none_found_and_a_region_is_unreadable() {
        let v = run(Err(denied("fis", "ListExperiments", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("ListExperiments"), "{}", v[0].reason);
    }
}
