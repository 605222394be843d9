//! Every ECS service deploys a new version to a small share of traffic first, with an automatic
//! stop when it misbehaves.

use super::Rollout;
use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ecs_service_canary_deployment",
        title: "ECS services deploy as canaries with an automatic stop",
        practice: Practice::Environments,
        severity: Severity::Low,
        activity: dsomm::CANARY_DEPLOYMENT,
        remediation: "Deploy through a CodeDeploy deployment group with a canary configuration \
                      (CodeDeployDefault.ECSCanary10Percent5Minutes) and CloudWatch alarms \
                      (alarmConfiguration), or use ECS's CANARY deployment strategy with \
                      deployment alarms or the circuit breaker.",
        needs: &[Need::EcsServices, Need::CodeDeployDeploymentGroups],
        notes: "**Judges** every active replica service of `DescribeServices`: a service of the \
`CODE_DEPLOY` controller passes when the CodeDeploy deployment group that names it (its \
`ecsServices`) uses a configuration whose traffic routing is `TimeBasedCanary` or \
`TimeBasedLinear` (the predefined `CodeDeployDefault.ECSCanary…`/`ECSLinear…` known by name, custom \
ones read with `GetDeploymentConfig`) and has CloudWatch alarms enabled (`alarmConfiguration`, \
which stop the deployment); a service of ECS's `CANARY` or `LINEAR` strategy passes when \
deployment alarms or the circuit breaker can stop it. Everything else fails: all-at-once traffic \
shifts, rolling updates, canaries nobody watches. A region whose services or CodeDeploy groups \
cannot be read is unknown; no service is not_applicable.

**Edge cases**: a linear shift sends a first small share of traffic to the new version and \
waits, like a canary, so it counts. A canary without an alarm is only a delayed all-at-once \
deployment and fails. `DAEMON` services and `EXTERNAL` controllers are skipped, as in \
`ecs_service_rolling_update`. Lambda and EC2 deployment groups are not judged: the check follows \
the ECS services; a CodeDeploy service that no group names fails.

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
                format!("Service {name} is not deployed as a watched canary: {why}."),
            )
        };
        match rollout {
            Rollout::CodeDeploy(None) => {
                fail("no CodeDeploy deployment group of the region deploys it".into())
            }
            Rollout::CodeDeploy(Some(g)) => match &g.traffic_routing {
                Err(e) => super::unknown(&s.arn, Some(region), e),
                Ok(Some(t)) if t == "TimeBasedCanary" || t == "TimeBasedLinear" => {
                    if g.alarms_enabled {
                        Verdict::pass(
                            &s.arn,
                            Some(region),
                            format!(
                                "Service {name} is deployed by CodeDeploy group {}/{} with {} ({t}) and alarms that stop it.",
                                g.application, g.name, g.config_name
                            ),
                        )
                    } else {
                        fail(format!(
                            "CodeDeploy group {}/{} shifts traffic with {} but no alarm stops a bad deployment",
                            g.application, g.name, g.config_name
                        ))
                    }
                }
                Ok(t) => fail(format!(
                    "CodeDeploy group {}/{} shifts all traffic at once ({}, {})",
                    g.application,
                    g.name,
                    g.config_name,
                    t.as_deref().unwrap_or("no traffic routing")
                )),
            },
            Rollout::Ecs(strategy @ ("CANARY" | "LINEAR")) => {
                if s.rollback_alarms || s.circuit_breaker.is_some_and(|(e, _)| e) {
                    Verdict::pass(
                        &s.arn,
                        Some(region),
                        format!("Service {name} deploys with ECS's {strategy} strategy, stopped by alarms or its circuit breaker."),
                    )
                } else {
                    fail(format!("ECS's {strategy} strategy runs with no alarm or circuit breaker to stop it"))
                }
            }
            Rollout::Ecs(strategy) => fail(format!(
                "ECS's {strategy} strategy sends all traffic to the new version"
            )),
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
    fn passes_watched_codedeploy_canary_or_ecs_canary() {
        let v = evaluate(
            &snap(
                service("CODE_DEPLOY"),
                Ok(vec![group(
                    "CodeDeployDefault.ECSCanary10Percent5Minutes",
                    Some("TimeBasedCanary"),
                    true,
                )]),
            ),
            &Settings::default(),
        );
        assert_eq!(
            v[0].reason,
            "Service api is deployed by CodeDeploy group shop/api with CodeDeployDefault.ECSCanary10Percent5Minutes (TimeBasedCanary) and alarms that stop it."
        );
        let mut s = service("ECS");
        s.strategy = Some("CANARY".into());
        s.rollback_alarms = true;
        assert_eq!(
            evaluate(&snap(s, Ok(vec![])), &Settings::default())[0].status,
            Status::Pass
        );
    }

    #[test]
    fn fails_unwatched_all_at_once_or_rolling() {
        let v = evaluate(
            &snap(
                service("CODE_DEPLOY"),
                Ok(vec![group(
                    "CodeDeployDefault.ECSCanary10Percent5Minutes",
                    Some("TimeBasedCanary"),
                    false,
                )]),
            ),
            &Settings::default(),
        );
        assert_eq!(v[0].status, Status::Fail);
        assert!(
            v[0].reason.contains("no alarm stops a bad deployment"),
            "{}",
            v[0].reason
        );
        let v = evaluate(
            &snap(
                service("CODE_DEPLOY"),
                Ok(vec![group(
                    "CodeDeployDefault.ECSAllAtOnce",
                    Some("AllAtOnce"),
                    true,
                )]),
            ),
            &Settings::default(),
        );
        assert_eq!(
            v[0].reason,
            "Service api is not deployed as a watched canary: CodeDeploy group shop/api shifts all traffic at once (CodeDeployDefault.ECSAllAtOnce, AllAtOnce)."
        );
        let v = evaluate(
            &snap(service("CODE_DEPLOY"), Ok(vec![])),
            &Settings::default(),
        );
        assert!(v[0]
            .reason
            .ends_with("no CodeDeploy deployment group of the region deploys it."));
        let v = evaluate(&snap(service("ECS"), Ok(vec![])), &Settings::default());
        assert_eq!(
            v[0].reason,
            "Service api is not deployed as a watched canary: ECS's ROLLING strategy sends all traffic to the new version."
        );
    }

    #[test]
    fn unknown_when_the_custom_configuration_is_unreadable() {
        let mut g = group("custom", None, true);
        g.traffic_routing = Err(crate::checks::fixtures::denied(
            "codedeploy",
            "GetDeploymentConfig",
            Some("eu-west-1"),
        ));
        let v = evaluate(
            &snap(service("CODE_DEPLOY"), Ok(vec![g])),
            &Settings::default(),
        );
        assert_eq!(v[0].status, Status::Unknown);
    }
}
