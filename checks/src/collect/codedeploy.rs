//! CodeDeploy: the deployment groups of every application of one region (`ListApplications`,
//! `ListDeploymentGroups` per application, `GetDeploymentGroup` per group) with the traffic
//! routing of their deployment configuration: the predefined `CodeDeployDefault.*`
//! configurations are known by name, a custom one is read once with `GetDeploymentConfig`.

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::{ErrorKind, Fact, FactError};
use crate::snapshot::{DeploymentGroup, Need};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<DeploymentGroup>>> {
    if !wants(needs, &[Need::CodeDeployDeploymentGroups]) {
        return None;
    }
    let client = aws_sdk_codedeploy::Client::new(&c.in_region(region));
    Some(groups(c, &client, region).await)
}

/// The traffic routing of a predefined configuration (AWS documents them; `GetDeploymentConfig`
/// would return the same): `Some(Some(type))` for ECS and Lambda ones, `Some(None)` for the
/// EC2/on-premises ones (no traffic routing), `None` for a name that is not predefined.
pub(crate) fn predefined_routing(name: &str) -> Option<Option<&'static str>> {
    let rest = name.strip_prefix("CodeDeployDefault.")?;
    let traffic = rest.starts_with("ECS") || rest.starts_with("Lambda");
    if !traffic {
        return Some(None);
    }
    Some(Some(if rest.contains("Canary") {
        "TimeBasedCanary"
    } else if rest.contains("Linear") {
        "TimeBasedLinear"
    } else {
        "AllAtOnce"
    }))
}

async fn groups(
    c: &Collector<'_>,
    client: &aws_sdk_codedeploy::Client,
    region: &str,
) -> Fact<Vec<DeploymentGroup>> {
    let rec = c.recorder;
    let apps: Vec<String> = pages(
        rec,
        "codedeploy",
        "ListApplications",
        Some(region),
        client.list_applications().into_paginator().send(),
    )
    .await?
    .iter()
    .flat_map(|p| p.applications().iter().cloned())
    .collect();
    let mut names = Vec::new();
    for app in apps {
        let listed = pages(
            rec,
            "codedeploy",
            "ListDeploymentGroups",
            Some(region),
            client
                .list_deployment_groups()
                .application_name(&app)
                .into_paginator()
                .send(),
        )
        .await?;
        names.extend(listed.iter().flat_map(|p| {
            p.deployment_groups()
                .iter()
                .map(|g| (app.clone(), g.clone()))
        }));
    }
    let infos: Vec<Fact<aws_sdk_codedeploy::types::DeploymentGroupInfo>> = stream::iter(names)
        .map(|(app, group)| async move {
            call(
                rec,
                "codedeploy",
                "GetDeploymentGroup",
                Some(region),
                client
                    .get_deployment_group()
                    .application_name(&app)
                    .deployment_group_name(&group)
                    .send(),
            )
            .await
            .and_then(|o| {
                o.deployment_group_info().cloned().ok_or_else(|| {
                    FactError::new(
                        "codedeploy",
                        "GetDeploymentGroup",
                        Some(region),
                        ErrorKind::Other,
                        format!("the answer for {app}/{group} has no deployment group"),
                    )
                })
            })
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    // A group that could not be read could be the one that deploys a service: the list fails.
    let infos: Vec<_> = infos.into_iter().collect::<Result<_, _>>()?;
    let custom: BTreeSet<String> = infos
        .iter()
        .filter_map(|g| g.deployment_config_name())
        .filter(|n| predefined_routing(n).is_none())
        .map(str::to_owned)
        .collect();
    let custom: BTreeMap<String, Fact<Option<String>>> = stream::iter(custom)
        .map(|name| async move {
            let routing = call(
                rec,
                "codedeploy",
                "GetDeploymentConfig",
                Some(region),
                client
                    .get_deployment_config()
                    .deployment_config_name(&name)
                    .send(),
            )
            .await
            .map(|o| {
                o.deployment_config_info()
                    .and_then(|i| i.traffic_routing_config())
                    .and_then(|t| t.r#type())
                    .map(|t| t.as_str().to_owned())
            });
            (name, routing)
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    Ok(infos
        .iter()
        .map(|g| {
            // CodeDeploy applies CodeDeployDefault.OneAtATime when a group names none.
            let config = g
                .deployment_config_name()
                .unwrap_or("CodeDeployDefault.OneAtATime")
                .to_owned();
            let traffic_routing = match predefined_routing(&config) {
                Some(r) => Ok(r.map(str::to_owned)),
                None => custom.get(&config).cloned().unwrap_or_else(|| {
                    Err(FactError::not_collected(
                        "codedeploy",
                        "GetDeploymentConfig",
                    ))
                }),
            };
            DeploymentGroup {
                application: g.application_name().unwrap_or_default().to_owned(),
                name: g.deployment_group_name().unwrap_or_default().to_owned(),
                compute_platform: g
                    .compute_platform()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "Server".to_owned()),
                deployment_type: g
                    .deployment_style()
                    .and_then(|s| s.deployment_type())
                    .map(|t| t.as_str().to_owned()),
                config_name: config,
                traffic_routing,
                alarms_enabled: g
                    .alarm_configuration()
                    .is_some_and(|a| a.enabled() && !a.alarms().is_empty()),
                ecs_services: g
                    .ecs_services()
                    .iter()
                    .map(|s| {
                        (
                            s.cluster_name().unwrap_or_default().to_owned(),
                            s.service_name().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::predefined_routing;

    /// The predefined configurations' traffic routing, by name; custom names are read.
    #[test]
    fn predefined_configurations() {
        for (name, routing) in [
            (
                "CodeDeployDefault.ECSCanary10Percent5Minutes",
                Some(Some("TimeBasedCanary")),
            ),
            (
                "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
                Some(Some("TimeBasedLinear")),
            ),
            ("CodeDeployDefault.ECSAllAtOnce", Some(Some("AllAtOnce"))),
            ("CodeDeployDefault.OneAtATime", Some(None)),
            ("CodeDeployDefault.AllAtOnce", Some(None)),
            ("shop-canary-25", None),
        ] {
            assert_eq!(predefined_routing(name), routing, "{name}");
        }
    }
}
