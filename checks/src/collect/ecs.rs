//! ECS: the services of every cluster of one region (`ListClusters`, `ListServices` per cluster,
//! `DescribeServices` ten at a time) and, when a check needs them, the task definitions those
//! services run (`DescribeTaskDefinition` per distinct ARN: AWS has no batch call for them).
//! Environment values are never kept, only their names.

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::{ErrorKind, Fact, FactError};
use crate::snapshot::{ContainerDefinition, EcsService, Need, TaskDefinition};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many services per `DescribeServices` call (AWS's limit).
const DESCRIBE_BATCH: usize = 10;

type TaskDefinitions = BTreeMap<String, Fact<TaskDefinition>>;

/// The services and, with [`Need::EcsTaskDefinitions`], their task definitions; `None` where no
/// check needs them.
pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> (Option<Fact<Vec<EcsService>>>, Option<Fact<TaskDefinitions>>) {
    if !wants(needs, &[Need::EcsServices, Need::EcsTaskDefinitions]) {
        return (None, None);
    }
    let client = aws_sdk_ecs::Client::new(&c.in_region(region));
    let services = services(c, &client, region).await;
    if !needs.contains(&Need::EcsTaskDefinitions) {
        return (Some(services), None);
    }
    let definitions = match &services {
        Err(e) => Err(e.clone()),
        Ok(list) => Ok(task_definitions(c, &client, region, list).await),
    };
    (Some(services), Some(definitions))
}

async fn services(
    c: &Collector<'_>,
    client: &aws_sdk_ecs::Client,
    region: &str,
) -> Fact<Vec<EcsService>> {
    let rec = c.recorder;
    let clusters: Vec<String> = pages(
        rec,
        "ecs",
        "ListClusters",
        Some(region),
        client.list_clusters().into_paginator().send(),
    )
    .await?
    .iter()
    .flat_map(|p| p.cluster_arns().iter().cloned())
    .collect();
    let mut all = Vec::new();
    for cluster in clusters {
        let arns: Vec<String> = pages(
            rec,
            "ecs",
            "ListServices",
            Some(region),
            client
                .list_services()
                .cluster(&cluster)
                .into_paginator()
                .send(),
        )
        .await?
        .iter()
        .flat_map(|p| p.service_arns().iter().cloned())
        .collect();
        let cluster_name = cluster.rsplit('/').next().unwrap_or(&cluster).to_owned();
        for batch in arns.chunks(DESCRIBE_BATCH) {
            let out = call(
                rec,
                "ecs",
                "DescribeServices",
                Some(region),
                client
                    .describe_services()
                    .cluster(&cluster)
                    .set_services(Some(batch.to_vec()))
                    .send(),
            )
            .await?;
            // A service deleted since the listing is `MISSING`: it no longer exists. Any other
            // failure leaves a service unread, which a shorter list would hide.
            if let Some(f) = out
                .failures()
                .iter()
                .find(|f| f.reason() != Some("MISSING"))
            {
                return Err(FactError::new(
                    "ecs",
                    "DescribeServices",
                    Some(region),
                    ErrorKind::Other,
                    format!(
                        "{} could not be described: {}",
                        f.arn().unwrap_or("a service"),
                        f.reason().unwrap_or("no reason given")
                    ),
                ));
            }
            all.extend(out.services().iter().map(|s| service(s, &cluster_name)));
        }
    }
    Ok(all)
}

fn service(s: &aws_sdk_ecs::types::Service, cluster_name: &str) -> EcsService {
    let conf = s.deployment_configuration();
    EcsService {
        name: s.service_name().unwrap_or_default().to_owned(),
        arn: s.service_arn().unwrap_or_default().to_owned(),
        cluster_name: cluster_name.to_owned(),
        status: s.status().unwrap_or_default().to_owned(),
        scheduling_strategy: s
            .scheduling_strategy()
            .map(|v| v.as_str().to_owned())
            .unwrap_or_else(|| "REPLICA".to_owned()),
        desired_count: s.desired_count(),
        task_definition: s.task_definition().map(str::to_owned),
        controller: s
            .deployment_controller()
            .map(|d| d.r#type().as_str().to_owned())
            .unwrap_or_else(|| "ECS".to_owned()),
        strategy: conf
            .and_then(|d| d.strategy())
            .map(|v| v.as_str().to_owned()),
        minimum_healthy_percent: conf.and_then(|d| d.minimum_healthy_percent()),
        circuit_breaker: conf
            .and_then(|d| d.deployment_circuit_breaker())
            .map(|b| (b.enable(), b.rollback())),
        rollback_alarms: conf
            .and_then(|d| d.alarms())
            .is_some_and(|a| a.enable() && !a.alarm_names().is_empty()),
    }
}

async fn task_definitions(
    c: &Collector<'_>,
    client: &aws_sdk_ecs::Client,
    region: &str,
    services: &[EcsService],
) -> TaskDefinitions {
    let rec = c.recorder;
    // Owned: a stream over borrowed names is not `Send` for every lifetime the daemon's spawned
    // audit needs.
    let arns: BTreeSet<String> = services
        .iter()
        .filter(|s| s.status == "ACTIVE")
        .filter_map(|s| s.task_definition.clone())
        .collect();
    stream::iter(arns)
        .map(|arn| async move {
            let out = call(
                rec,
                "ecs",
                "DescribeTaskDefinition",
                Some(region),
                client
                    .describe_task_definition()
                    .task_definition(&arn)
                    .send(),
            )
            .await;
            let def = out.and_then(|o| {
                o.task_definition().map(task_definition).ok_or_else(|| {
                    FactError::new(
                        "ecs",
                        "DescribeTaskDefinition",
                        Some(region),
                        ErrorKind::Other,
                        "the answer has no task definition",
                    )
                })
            });
            (arn, def)
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await
}

fn task_definition(t: &aws_sdk_ecs::types::TaskDefinition) -> TaskDefinition {
    TaskDefinition {
        arn: t.task_definition_arn().unwrap_or_default().to_owned(),
        os_family: t
            .runtime_platform()
            .and_then(|p| p.operating_system_family())
            .map(|f| f.as_str().to_owned()),
        cpu: t.cpu().map(str::to_owned),
        memory: t.memory().map(str::to_owned),
        containers: t
            .container_definitions()
            .iter()
            .map(|d| ContainerDefinition {
                name: d.name().unwrap_or_default().to_owned(),
                image: d.image().unwrap_or_default().to_owned(),
                user: d.user().filter(|u| !u.is_empty()).map(str::to_owned),
                privileged: d.privileged().unwrap_or(false),
                cpu: d.cpu(),
                memory: d.memory(),
                environment_names: d
                    .environment()
                    .iter()
                    .filter_map(|kv| kv.name().map(str::to_owned))
                    .collect(),
                secret_names: d.secrets().iter().map(|s| s.name().to_owned()).collect(),
                environment_files: d.environment_files().len(),
            })
            .collect(),
    }
}
