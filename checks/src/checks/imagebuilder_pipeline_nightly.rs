//! Images are rebuilt at least daily: an enabled EC2 Image Builder pipeline whose schedule runs
//! every day (or more often) and whose last run did not fail.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, ImagePipeline, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "imagebuilder_pipeline_nightly",
        title: "An Image Builder pipeline rebuilds images at least daily",
        practice: Practice::Environments,
        severity: Severity::Low,
        activity: dsomm::NIGHTLY_BUILD_OF_IMAGES,
        remediation: "Schedule an EC2 Image Builder pipeline daily (aws imagebuilder \
                      update-image-pipeline --schedule scheduleExpression='cron(0 2 * * ? *)', \
                      optionally with pipelineExecutionStartCondition \
                      EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE) and keep it enabled and \
                      green.",
        needs: &[
            Need::ImageBuilderPipelines,
            Need::EcsRunningTasks,
            Need::Ec2Instances,
        ],
        notes: "**Judges** EC2 Image Builder `ListImagePipelines` (every page) in every audited \
region, once for the account: it passes when a pipeline is `ENABLED`, its \
`schedule.scheduleExpression` runs at least once a day (`cron(…)` with every day of the month, \
month and day of the week; `rate(…)` of at most a day) and its `lastRunStatus` is not `FAILED`, \
naming at most three; it fails when none is. When none is found and a region could not be read, \
the account is unknown. An account that runs no image (no running ECS task, no running EC2 \
instance in the audited regions: `ListTasks` / `DescribeTasks`, `DescribeInstances`) is \
not_applicable: it has nothing to rebuild.\n\n\
**Edge cases**: a pipeline with the start condition \
`EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE` checks nightly and builds only when its base \
image or components changed, which is DSOMM's \"just in time\": it counts. A cron that names \
days (weekdays only, the first of the month) is not daily and does not count; neither does a \
pipeline run only by hand or by an outside trigger. Images built nightly by CodeBuild, a CI \
outside AWS (GitHub Actions, Jenkins) or in another account leave no trace this check reads: \
such accounts fail and should record an exception naming where their images are built.\n\n\
**Differs from Prowler / Security Hub**: neither has such a check as far as we know.",
        module: module_path!(),
    },
    evaluate,
};

/// Whether an Image Builder schedule expression runs at least once a day: `rate(N unit)` of at
/// most a day, or `cron(minutes hours day-of-month month day-of-week year)` whose day fields
/// name every day.
pub(crate) fn daily(expression: &str) -> bool {
    let e = expression.trim();
    if let Some(rate) = e.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let mut parts = rate.split_whitespace();
        let (Some(n), Some(unit)) = (parts.next(), parts.next()) else {
            return false;
        };
        let Ok(n) = n.parse::<u64>() else {
            return false;
        };
        return match unit.trim_end_matches('s') {
            "minute" => n <= 24 * 60,
            "hour" => n <= 24,
            "day" => n <= 1,
            _ => false,
        };
    }
    let Some(cron) = e.strip_prefix("cron(").and_then(|c| c.strip_suffix(')')) else {
        return false;
    };
    let f: Vec<&str> = cron.split_whitespace().collect();
    let every = |v: &str| v == "*" || v == "?";
    f.len() >= 5 && every(f[2]) && every(f[3]) && every(f[4])
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut found = Vec::new();
    let mut unreadable = None;
    let mut runs_images = false;
    for facts in snap.regional.values() {
        match (&facts.ecs_tasks, &facts.instances) {
            (Err(e), _) | (_, Err(e)) => unreadable = unreadable.or(Some(e)),
            (Ok(tasks), Ok(instances)) => {
                runs_images |= !tasks.is_empty() || instances.iter().any(|i| i.state == "running");
            }
        }
    }
    let nightly = |p: &ImagePipeline| {
        p.status == "ENABLED"
            && p.schedule.as_deref().is_some_and(daily)
            && p.last_run_status.as_deref() != Some("FAILED")
    };
    for (region, facts) in &snap.regional {
        match &facts.image_pipelines {
            Err(e) => unreadable = unreadable.or(Some(e)),
            Ok(pipelines) => found.extend(pipelines.iter().filter(|p| nightly(p)).map(|p| {
                format!(
                    "pipeline {} ({region}, {})",
                    p.name,
                    p.schedule.as_deref().unwrap_or_default()
                )
            })),
        }
    }
    if found.is_empty() && unreadable.is_none() && !runs_images {
        return super::or_not_applicable(
            snap,
            vec![],
            "running ECS task or EC2 instance in the audited regions: no image to rebuild",
        );
    }
    super::account_evidence(
        snap,
        found,
        unreadable,
        |_, names| {
            format!(
                "Account {} rebuilds images at least daily: {names}.",
                snap.account_id
            )
        },
        format!(
            "Account {} has no enabled Image Builder pipeline scheduled at least daily whose last run succeeded in {}.",
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

    fn pipeline(status: &str, schedule: Option<&str>, last: Option<&str>) -> ImagePipeline {
        ImagePipeline {
            name: "base".into(),
            arn: format!("arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-pipeline/base"),
            status: status.into(),
            schedule: schedule.map(str::to_owned),
            last_run_status: last.map(str::to_owned),
        }
    }

    /// A snapshot of an account running one instance, with `pipelines`.
    fn run(pipelines: Fact<Vec<ImagePipeline>>) -> Vec<Verdict> {
        let mut s = crate::checks::ecs_ec2_running_image_max_age::tests::running(
            vec![],
            vec![crate::checks::ecs_ec2_running_image_max_age::tests::instance("i-1", "ami-1", 1)],
            &[],
        );
        s.regional.get_mut(REGION).unwrap().image_pipelines = pipelines;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn daily_schedules() {
        for yes in [
            "cron(0 2 * * ? *)",
            "cron(0 */6 ? * * *)",
            "rate(12 hours)",
            "rate(1 day)",
            "rate(30 minutes)",
        ] {
            assert!(daily(yes), "{yes}");
        }
        for no in [
            "cron(0 2 ? * MON-FRI *)",
            "cron(0 2 1 * ? *)",
            "cron(0 2 * JAN ? *)",
            "rate(2 days)",
            "rate(7 days)",
            "at(2025-01-01T00:00:00)",
            "",
        ] {
            assert!(!daily(no), "{no}");
        }
    }

    #[test]
    fn passes_an_enabled_daily_pipeline() {
        let v = run(Ok(vec![pipeline(
            "ENABLED",
            Some("cron(0 2 * * ? *)"),
            Some("AVAILABLE"),
        )]));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} rebuilds images at least daily: pipeline base (eu-west-1, cron(0 2 * * ? *)).")
        );
        // A pipeline that never ran yet counts.
        assert_eq!(
            run(Ok(vec![pipeline("ENABLED", Some("rate(1 day)"), None)]))[0].status,
            Status::Pass
        );
    }

    #[test]
    fn fails_disabled_weekly_manual_or_failing_pipelines() {
        let v = run(Ok(vec![
            pipeline("DISABLED", Some("cron(0 2 * * ? *)"), None),
            pipeline("ENABLED", Some("cron(0 2 ? * SUN *)"), None),
            pipeline("ENABLED", None, None),
            pipeline("ENABLED", Some("rate(1 day)"), Some("FAILED")),
        ]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            format!("Account {ACCOUNT} has no enabled Image Builder pipeline scheduled at least daily whose last run succeeded in eu-west-1.")
        );
    }

    #[test]
    fn unknown_when_none_found_and_a_region_is_unreadable() {
        let v = run(Err(denied(
            "imagebuilder",
            "ListImagePipelines",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown);
    }

    #[test]
    fn an_account_running_no_image_is_not_applicable() {
        let mut s =
            crate::checks::ecs_ec2_running_image_max_age::tests::running(vec![], vec![], &[]);
        s.regional.get_mut(REGION).unwrap().image_pipelines = Ok(vec![]);
        let v = evaluate(&s, &Settings::default());
        assert_eq!((v.len(), v[0].status), (1, Status::NotApplicable));
        // What runs cannot be read: unknown.
        s.regional.get_mut(REGION).unwrap().ecs_tasks =
            Err(denied("ecs", "ListTasks", Some(REGION)));
        assert_eq!(
            evaluate(&s, &Settings::default())[0].status,
            Status::Unknown
        );
    }
}
