//! The images that run are younger than `short_max_image_age_days`: DSOMM's level-4 "short
//! maximum lifetime", judged on the same facts as `ecs_ec2_running_image_max_age`.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_ec2_running_image_short_max_age",
        title: "Running images are younger than the short maximum image lifetime",
        practice: Practice::Environments,
        severity: Severity::Low,
        activity: dsomm::SHORT_MAXIMUM_IMAGE_LIFETIME,
        remediation: "Build images nightly (or when a base image or package changes) and deploy \
                      each build: schedule the image pipeline (EC2 Image Builder, a scheduled \
                      CodeBuild project) and let its success trigger the rollout (aws ecs \
                      update-service --force-new-deployment, an Auto Scaling instance refresh).",
        needs: &[Need::EcsRunningTasks, Need::Ec2InstanceImages],
        notes: super::ecs_ec2_running_image_max_age::NOTES,
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    super::ecs_ec2_running_image_max_age::judge(
        snap,
        settings.short_max_image_age_days,
        "short_max_image_age_days",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::ecs_ec2_running_image_max_age::tests::{instance, running};
    use crate::model::Status;

    #[test]
    fn judges_the_same_facts_against_the_short_bound() {
        let s = running(
            vec![],
            vec![
                instance("i-new", "ami-new", 1),
                instance("i-week", "ami-week", 1),
            ],
            &[("ami-new", Some(1)), ("ami-week", Some(7))],
        );
        let v = evaluate(&s, &Settings::default());
        assert_eq!(
            v.iter().map(|v| v.status).collect::<Vec<_>>(),
            [Status::Pass, Status::Fail]
        );
        assert!(
            v[1].reason
                .contains("older than 2 days (short_max_image_age_days)"),
            "{}",
            v[1].reason
        );
        let v = evaluate(&running(vec![], vec![], &[]), &Settings::default());
        assert_eq!(v[0].status, Status::NotApplicable);
        let mut s = running(vec![], vec![instance("i-new", "ami-new", 1)], &[]);
        s.regional
            .get_mut(crate::checks::fixtures::REGION)
            .unwrap()
            .instance_images = Err(crate::checks::fixtures::denied(
            "ec2",
            "DescribeImages",
            None,
        ));
        assert_eq!(
            evaluate(&s, &Settings::default())[0].status,
            Status::Unknown
        );
    }
}
