//! ECS: the clusters of one region with their settings (`ListClusters`, `DescribeClusters` a
//! hundred at a time), the services of every cluster (`ListServices` per cluster,
//! `DescribeServices` ten at a time) and, when a check needs them, the task definitions those
//! services run (`DescribeTaskDefinition` per distinct ARN: AWS has no batch call for them) and
//! the tasks that run (`ListTasks` per cluster, `DescribeTasks` a hundred at a time) with when
//! ECR received their images ([`super::ecr::pushed_at`]). Environment values are never kept,
//! only their names.

use super::ecr::{self, EcrImage};
use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::{ErrorKind, Fact, FactError};
use crate::snapshot::{
    ContainerDefinition, EcsCluster, EcsService, EcsTask, ImageDate, Need, RunningContainer,
    TaskDefinition,
};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many services per `DescribeServices` call (AWS's limit).
const DESCRIBE_BATCH: usize = 10;

/// At most this many tasks per `DescribeTasks` call (AWS's limit).
const TASK_BATCH: usize = 100;

/// At most this many clusters per `DescribeClusters` call (AWS's limit).
const CLUSTER_BATCH: usize = 100;

type TaskDefinitions = BTreeMap<String, Fact<TaskDefinition>>;

/// What [`collect`] reads of one region; `None` where no check needs it.
#[derive(Default)]
pub(super) struct EcsFacts {
    pub services: Option<Fact<Vec<EcsService>>>,
    pub definitions: Option<Fact<TaskDefinitions>>,
    pub tasks: Option<Fact<Vec<EcsTask>>>,
    pub clusters: Option<Fact<Vec<EcsCluster>>>,
}

/// The services and, with [`Need::EcsTaskDefinitions`], their task definitions, with
/// [`Need::EcsRunningTasks`] the running tasks and with [`Need::EcsClusters`] the clusters'
/// descriptions. The clusters are listed once for all.
pub(super) async fn collect(c: &Collector<'_>, region: &str, needs: &BTreeSet<Need>) -> EcsFacts {
    let want_services = wants(needs, &[Need::EcsServices, Need::EcsTaskDefinitions]);
    let want_tasks = wants(needs, &[Need::EcsRunningTasks]);
    let want_clusters = wants(needs, &[Need::EcsClusters]);
    if !want_services && !want_tasks && !want_clusters {
        return EcsFacts::default();
    }
    let client = aws_sdk_ecs::Client::new(&c.in_region(region));
    let clusters: Fact<Vec<String>> = pages(
        c.recorder,
        "ecs",
        "ListClusters",
        Some(region),
        client.list_clusters().into_paginator().send(),
    )
    .await
    .map(|p| {
        p.iter()
            .flat_map(|p| p.cluster_arns().iter().cloned())
            .collect()
    });
    let (services, tasks, described) = tokio::join!(
        async {
            if !want_services {
                return None;
            }
            Some(match &clusters {
                Err(e) => Err(e.clone()),
                Ok(list) => services(c, &client, region, list).await,
            })
        },
        async {
            if !want_tasks {
                return None;
            }
            Some(match &clusters {
                Err(e) => Err(e.clone()),
                Ok(list) => running_tasks(c, &client, region, list).await,
            })
        },
        async {
            if !want_clusters {
                return None;
            }
            Some(match &clusters {
                Err(e) => Err(e.clone()),
                Ok(list) => describe_clusters(c, &client, region, list).await,
            })
        }
    );
    let definitions = match (&services, needs.contains(&Need::EcsTaskDefinitions)) {
        (Some(Err(e)), true) => Some(Err(e.clone())),
        (Some(Ok(list)), true) => Some(Ok(task_definitions(c, &client, region, list).await)),
        _ => None,
    };
    EcsFacts {
        services,
        definitions,
        tasks,
        clusters: described,
    }
}

/// The clusters with their settings (`DescribeClusters` with `SETTINGS`, a hundred at a time).
async fn describe_clusters(
    c: &Collector<'_>,
    client: &aws_sdk_ecs::Client,
    region: &str,
    arns: &[String],
) -> Fact<Vec<EcsCluster>> {
    let mut all = Vec::new();
    for batch in arns.chunks(CLUSTER_BATCH) {
        let out = call(
            c.recorder,
            "ecs",
            "DescribeClusters",
            Some(region),
            client
                .describe_clusters()
                .set_clusters(Some(batch.to_vec()))
                .include(aws_sdk_ecs::types::ClusterField::Settings)
                .send(),
        )
        .await?;
        // A cluster deleted since the listing is `MISSING`.
        all_described(out.failures(), "DescribeClusters", region, "a cluster")?;
        all.extend(out.clusters().iter().map(|k| {
            EcsCluster {
                name: k.cluster_name().unwrap_or_default().to_owned(),
                arn: k.cluster_arn().unwrap_or_default().to_owned(),
                status: k.status().unwrap_or_default().to_owned(),
                container_insights: k
                    .settings()
                    .iter()
                    .find(|s| {
                        s.name() == Some(&aws_sdk_ecs::types::ClusterSettingName::ContainerInsights)
                    })
                    .and_then(|s| s.value().map(str::to_owned)),
                running_tasks: k.running_tasks_count(),
                pending_tasks: k.pending_tasks_count(),
                active_services: k.active_services_count(),
                container_instances: k.registered_container_instances_count(),
            }
        }));
    }
    Ok(all)
}

async fn services(
    c: &Collector<'_>,
    client: &aws_sdk_ecs::Client,
    region: &str,
    clusters: &[String],
) -> Fact<Vec<EcsService>> {
    let rec = c.recorder;
    let mut all = Vec::new();
    for cluster in clusters {
        let arns: Vec<String> = pages(
            rec,
            "ecs",
            "ListServices",
            Some(region),
            client
                .list_services()
                .cluster(cluster)
                .into_paginator()
                .send(),
        )
        .await?
        .iter()
        .flat_map(|p| p.service_arns().iter().cloned())
        .collect();
        let cluster_name = cluster.rsplit('/').next().unwrap_or(cluster).to_owned();
        for batch in arns.chunks(DESCRIBE_BATCH) {
            let out = call(
                rec,
                "ecs",
                "DescribeServices",
                Some(region),
                client
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(batch.to_vec()))
                    .send(),
            )
            .await?;
            // A service deleted since the listing is `MISSING`: it no longer exists.
            all_described(out.failures(), "DescribeServices", region, "a service")?;
            all.extend(out.services().iter().map(|s| service(s, &cluster_name)));
        }
    }
    Ok(all)
}

/// The tasks of every cluster that run (`ListTasks` desired status `RUNNING`, then
/// `DescribeTasks`, keeping last status `RUNNING`), with when ECR received each container's image.
async fn running_tasks(
    c: &Collector<'_>,
    client: &aws_sdk_ecs::Client,
    region: &str,
    clusters: &[String],
) -> Fact<Vec<EcsTask>> {
    let rec = c.recorder;
    // (task, its containers' (name, image, digest, ECR reference)).
    type Container = (String, String, Option<String>, Option<EcrImage>);
    let mut tasks: Vec<(EcsTask, Vec<Container>)> = Vec::new();
    for cluster in clusters {
        let arns: Vec<String> = pages(
            rec,
            "ecs",
            "ListTasks",
            Some(region),
            client
                .list_tasks()
                .cluster(cluster)
                .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
                .into_paginator()
                .send(),
        )
        .await?
        .iter()
        .flat_map(|p| p.task_arns().iter().cloned())
        .collect();
        let cluster_name = cluster.rsplit('/').next().unwrap_or(cluster).to_owned();
        for batch in arns.chunks(TASK_BATCH) {
            let out = call(
                rec,
                "ecs",
                "DescribeTasks",
                Some(region),
                client
                    .describe_tasks()
                    .cluster(cluster)
                    .set_tasks(Some(batch.to_vec()))
                    .send(),
            )
            .await?;
            // A task that stopped since the listing is `MISSING`.
            all_described(out.failures(), "DescribeTasks", region, "a task")?;
            for t in out
                .tasks()
                .iter()
                .filter(|t| t.last_status() == Some("RUNNING"))
            {
                let containers = t
                    .containers()
                    .iter()
                    .map(|k| {
                        let image = k.image().unwrap_or_default().to_owned();
                        let digest = k.image_digest().map(str::to_owned);
                        let mut reference = EcrImage::parse(&image);
                        if let (Some(r), Some(d)) = (reference.as_mut(), &digest) {
                            r.digest = Some(d.clone());
                            r.tag = None;
                        }
                        (
                            k.name().unwrap_or_default().to_owned(),
                            image,
                            digest,
                            reference,
                        )
                    })
                    .collect();
                let task = EcsTask {
                    arn: t.task_arn().unwrap_or_default().to_owned(),
                    cluster_name: cluster_name.clone(),
                    group: t.group().unwrap_or_default().to_owned(),
                    started_at: t
                        .started_at()
                        .and_then(|s| chrono::DateTime::from_timestamp(s.secs(), s.subsec_nanos())),
                    containers: vec![],
                };
                tasks.push((task, containers));
            }
        }
    }
    let wanted: BTreeSet<EcrImage> = tasks
        .iter()
        .flat_map(|(_, cs)| cs.iter().filter_map(|(_, _, _, r)| r.clone()))
        .collect();
    let pushed = ecr::pushed_at(c, wanted).await;
    Ok(tasks
        .into_iter()
        .map(|(mut task, containers)| {
            task.containers = containers
                .into_iter()
                .map(|(name, image, digest, reference)| RunningContainer {
                    pushed_at: image_date(&task, &image, reference.as_ref(), &pushed),
                    name,
                    image,
                    digest,
                })
                .collect();
            task
        })
        .collect())
}

/// When the image a container runs was pushed, as far as AWS can say: the ECR image of its
/// digest; without a digest, the image its tag names now, but only if that image was pushed
/// before the task started (a tag that moved since names another image).
fn image_date(
    task: &EcsTask,
    image: &str,
    reference: Option<&EcrImage>,
    pushed: &BTreeMap<EcrImage, Fact<ecr::Pushed>>,
) -> Fact<ImageDate> {
    let Some(reference) = reference else {
        return Ok(ImageDate::Unknowable(format!(
            "{image} is not in an ECR private registry, and AWS does not record when it was built"
        )));
    };
    let found = pushed
        .get(reference)
        .cloned()
        .unwrap_or_else(|| Err(FactError::not_collected("ecr", "DescribeImages")))?;
    Ok(match (found, &reference.digest, task.started_at) {
        (None, _, _) => ImageDate::Unknowable(format!("{image} is no longer in ECR")),
        (Some((at, _)), Some(_), _) => ImageDate::At(at),
        (Some((at, _)), None, Some(started)) if at <= started => ImageDate::At(at),
        (Some(_), None, None) => ImageDate::Unknowable(format!(
            "ECS reports neither a digest for {image} nor when the task started: which image its tag named then is unknown"
        )),
        (Some((at, digest)), None, Some(_)) => ImageDate::Unknowable(format!(
            "ECS reports no digest for {image}, and the image its tag names now ({digest}) was pushed on {} after the task started",
            at.format("%Y-%m-%d")
        )),
    })
}

/// `Ok` when a `Describe*` batch left nothing unread: every failure is `MISSING` (the resource
/// went away since the listing); any other failure leaves `what` unread, which a shorter list
/// would hide.
fn all_described(
    failures: &[aws_sdk_ecs::types::Failure],
    operation: &'static str,
    region: &str,
    what: &str,
) -> Fact<()> {
    match failures.iter().find(|f| f.reason() != Some("MISSING")) {
        None => Ok(()),
        Some(f) => Err(FactError::new(
            "ecs",
            operation,
            Some(region),
            ErrorKind::Other,
            format!(
                "{} could not be described: {}",
                f.arn().unwrap_or(what),
                f.reason().unwrap_or("no reason given")
            ),
        )),
    }
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
