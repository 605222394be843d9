//! Every ECS service deploys blue/green: the new version runs beside the old one and traffic
//! moves only once it is healthy, with the old one kept for a roll back.

use super::Rollout;
use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_service_blue_green_deployment",
        title: "ECS services deploy blue/green",
        practice: Practice::Environments,
        severity: Severity::Low,
        activity: dsomm::BLUE_GREEN_DEPLOYMENT,
        remediation: "Use ECS's BLUE_GREEN deployment strategy (aws ecs update-service \
                      --deployment-configuration strategy=BLUE_GREEN with a load balancer's \
                      alternate target group), or the CODE_DEPLOY deployment controller with a \
                      CodeDeploy BLUE_GREEN deployment group.",
        needs: &[Need::EcsServices, Need::CodeDeployDeploymentGroups],
        notes: "**Judges** every active replica service of `DescribeServices`: it passes with \
ECS's `BLUE_GREEN` strategy (or `CANARY`/`LINEAR`, which ECS runs on a full green revision), or \
with the `CODE_DEPLOY` controller when the deployment group that names it has \
`deploymentStyle.deploymentType` `BLUE_GREEN`. Rolling updates fail (old tasks are replaced, there \
is no second environment to switch back to), and so does a CodeDeploy service that no group \
names. A region whose services or CodeDeploy groups cannot be read is unknown; no service is \
not_applicable.

**Edge cases**: CodeDeploy deploys ECS services blue/green only, so any group that names the \
service passes unless its answer says otherwise. `DAEMON` services and `EXTERNAL` controllers are \
skipped, as in `ecs_service_rolling_update`. Elastic Beanstalk URL swaps and DNS-weighted \
environments are not visible in these APIs and not judged.

**Differs from Prowler / Security Hub**: neither judges deployment strategies as far as we know.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_rollout(snap, true, |region, s, rollout| {
        let name = &s.name;
        let fail = |why: String| {
            Verdict::fail(
                &s.arn,
                Some(region),
                format!("Service {name} is not deployed blue/green: {why}."),
            )
        };
        match rollout {
            Rollout::CodeDeploy(Some(g)) if g.deployment_type.as_deref() != Some("IN_PLACE") => Verdict::pass(
                &s.arn,
                Some(region),
                format!("Service {name} is deployed blue/green by CodeDeploy group {}/{}.", g.application, g.name),
            ),
            Rollout::CodeDeploy(Some(g)) => fail(format!("CodeDeploy group {}/{} deploys in place", g.application, g.name)),
            Rollout::CodeDeploy(None) => fail("no CodeDeploy deployment group of the region deploys it".into()),
            Rollout::Ecs(strategy @ ("BLUE_GREEN" | "CANARY" | "LINEAR")) => Verdict::pass(
                &s.arn,
                Some(region),
                format!("Service {name} deploys with ECS's {strategy} strategy into a separate green revision."),
            ),
            Rollout::Ecs(strategy) => fail(format!("ECS's {strategy} strategy replaces the running tasks")),
            Rollout::External => fail("an external controller deploys it".into()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::ecs_service_rolling_update::tests::{group, service, snap};
    use crate::model::Status;

    #[test]
    fn passes_codedeploy_or_ecs_blue_green() {
        let v = evaluate(
            &snap(
                service("CODE_DEPLOY"),
                Ok(vec![group(
                    "CodeDeployDefault.ECSAllAtOnce",
                    Some("AllAtOnce"),
                    false,
                )]),
            ),
            &Settings::default(),
        );
        assert_eq!(
            v[0].reason,
            "Service api is deployed blue/green by CodeDeploy group shop/api."
        );
        let mut s = service("ECS");
        s.strategy = Some("BLUE_GREEN".into());
        assert_eq!(
            evaluate(&snap(s, Ok(vec![])), &Settings::default())[0].status,
            Status::Pass
        );
    }

    #[test]
    fn fails_rolling_or_unknown_group() {
        let v = evaluate(&snap(service("ECS"), Ok(vec![])), &Settings::default());
        assert_eq!(
            v[0].reason,
            "Service api is not deployed blue/green: ECS's ROLLING strategy replaces the running tasks."
        );
        let v = evaluate(
            &snap(service("CODE_DEPLOY"), Ok(vec![])),
            &Settings::default(),
        );
        assert_eq!(v[0].status, Status::Fail);
    }

    #[test]
    fn unknown_when_codedeploy_is_unreadable() {
        let v = evaluate(
            &snap(
                service("CODE_DEPLOY"),
                Err(crate::checks::fixtures::denied(
                    "codedeploy",
                    "ListApplications",
                    Some("eu-west-1"),
                )),
            ),
            &Settings::default(),
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert!(
            v[0].reason.contains("codedeploy:ListApplications"),
            "{}",
            v[0].reason
        );
    }
}
