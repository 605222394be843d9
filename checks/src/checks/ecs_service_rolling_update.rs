//! Every ECS service replaces its tasks gradually on deployment, keeping capacity, and stops a
//! failing deployment.

use super::Rollout;
use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_service_rolling_update",
        title: "ECS services deploy by rolling update with a circuit breaker",
        practice: Practice::Environments,
        severity: Severity::Medium,
        activity: dsomm::ROLLING_UPDATE,
        remediation: "Keep healthy tasks during deployments and stop failing ones (aws ecs \
                      update-service --deployment-configuration \
                      'minimumHealthyPercent=100,maximumPercent=200,deploymentCircuitBreaker={enable=true,rollback=true}'), \
                      or deploy through CodeDeploy blue/green.",
        needs: &[Need::EcsServices],
        notes: "**Judges** every active replica service of `DescribeServices` by its deployment \
controller: `CODE_DEPLOY` passes (CodeDeploy starts a replacement task set and shifts traffic to \
it, never replacing tasks in place), and so does ECS's `BLUE_GREEN`, `LINEAR` or `CANARY` \
strategy. ECS's rolling strategy (`ROLLING`, or none named) passes when \
`deploymentConfiguration.minimumHealthyPercent` is above 0 (ECS keeps that share of the desired \
tasks running while it starts new ones) and `deploymentCircuitBreaker.enable` is on (a deployment \
whose tasks keep failing is stopped, and rolled back when `rollback` is on); it fails otherwise, \
naming what is missing. A region whose services cannot be read is unknown; no service is \
not_applicable.

**Edge cases**: `DAEMON` services (one task per instance, replaced in place by design) and \
services of an `EXTERNAL` controller (a third-party deployer AWS does not see) are skipped and say \
nothing of the level. An answer without `deploymentConfiguration` is judged with the defaults it \
implies: no circuit breaker. CodeDeploy's groups are not read here (the level-4 and level-5 checks read \
them): a CodeDeploy service passes whichever group deploys it.

**Differs from Prowler / Security Hub**: neither judges deployment strategies as far as we know.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_rollout(snap, false, |region, s, rollout| {
        let name = &s.name;
        match rollout {
            Rollout::CodeDeploy(_) => Verdict::pass(
                &s.arn,
                Some(region),
                format!("Service {name} is deployed by CodeDeploy into a replacement task set."),
            ),
            Rollout::Ecs(strategy) if strategy != "ROLLING" => Verdict::pass(
                &s.arn,
                Some(region),
                format!("Service {name} deploys with ECS's {strategy} strategy into a new service revision."),
            ),
            _ => {
                let mut gaps = Vec::new();
                if s.minimum_healthy_percent.is_some_and(|p| p <= 0) {
                    gaps.push("minimumHealthyPercent 0 lets ECS stop every running task first".to_owned());
                }
                if !s.circuit_breaker.is_some_and(|(enable, _)| enable) {
                    gaps.push("no deployment circuit breaker stops a failing deployment".to_owned());
                }
                if gaps.is_empty() {
                    let rollback = if s.circuit_breaker.is_some_and(|(_, r)| r) {
                        " and rolls back"
                    } else {
                        ""
                    };
                    Verdict::pass(
                        &s.arn,
                        Some(region),
                        format!(
                            "Service {name} rolls updates keeping {}% healthy; its circuit breaker stops failing deployments{rollback}.",
                            s.minimum_healthy_percent.unwrap_or(100)
                        ),
                    )
                } else {
                    Verdict::fail(
                        &s.arn,
                        Some(region),
                        format!("Service {name} does not roll updates safely: {}.", gaps.join("; ")),
                    )
                }
            }
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{DeploymentGroup, EcsService};

    pub(crate) const ARN: &str = "arn:aws:ecs:eu-west-1:111122223333:service/prod/api";

    pub(crate) fn service(controller: &str) -> EcsService {
        EcsService {
            name: "api".into(),
            arn: ARN.into(),
            cluster_name: "prod".into(),
            status: "ACTIVE".into(),
            scheduling_strategy: "REPLICA".into(),
            desired_count: 2,
            controller: controller.into(),
            ..Default::default()
        }
    }

    pub(crate) fn group(config: &str, routing: Option<&str>, alarms: bool) -> DeploymentGroup {
        DeploymentGroup {
            application: "shop".into(),
            name: "api".into(),
            compute_platform: "ECS".into(),
            deployment_type: Some("BLUE_GREEN".into()),
            config_name: config.into(),
            traffic_routing: Ok(routing.map(str::to_owned)),
            alarms_enabled: alarms,
            ecs_services: vec![("prod".into(), "api".into())],
        }
    }

    pub(crate) fn snap(
        s: EcsService,
        groups: crate::facts::Fact<Vec<DeploymentGroup>>,
    ) -> AccountSnapshot {
        let mut snap = snapshot();
        let r = snap.regional.get_mut(REGION).unwrap();
        r.ecs_services = Ok(vec![s]);
        r.codedeploy_groups = groups;
        snap
    }

    fn run(s: EcsService) -> Vec<Verdict> {
        evaluate(&snap(s, Ok(vec![])), &Settings::default())
    }

    #[test]
    fn passes_rolling_with_circuit_breaker_or_codedeploy() {
        let mut s = service("ECS");
        s.minimum_healthy_percent = Some(100);
        s.circuit_breaker = Some((true, true));
        assert_eq!(
            run(s)[0].reason,
            "Service api rolls updates keeping 100% healthy; its circuit breaker stops failing deployments and rolls back."
        );
        let v = run(service("CODE_DEPLOY"));
        assert_eq!(v[0].status, Status::Pass);
        let mut s = service("ECS");
        s.strategy = Some("BLUE_GREEN".into());
        assert_eq!(run(s)[0].status, Status::Pass);
    }

    #[test]
    fn fails_without_circuit_breaker_or_capacity() {
        let mut s = service("ECS");
        s.minimum_healthy_percent = Some(0);
        s.circuit_breaker = Some((false, false));
        let v = run(s);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Service api does not roll updates safely: minimumHealthyPercent 0 lets ECS stop every running task first; no deployment circuit breaker stops a failing deployment."
        );
        assert_eq!(run(service("ECS"))[0].status, Status::Fail);
    }

    #[test]
    fn skips_daemon_and_external_without_reading_codedeploy() {
        let mut d = service("ECS");
        d.scheduling_strategy = "DAEMON".into();
        assert_eq!(run(d)[0].status, Status::NotApplicable);
        assert_eq!(run(service("EXTERNAL"))[0].status, Status::NotApplicable);
        let v = evaluate(
            &snap(
                service("CODE_DEPLOY"),
                Err(denied("codedeploy", "ListApplications", Some(REGION))),
            ),
            &Settings::default(),
        );
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(v[0].resource, ARN);
    }
}
