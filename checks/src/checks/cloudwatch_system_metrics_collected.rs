//! The account's compute reports system metrics beyond AWS's basic ones: every running EC2
//! instance publishes the CloudWatch agent's metrics, and every ECS cluster in use has Container
//! Insights.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, AGENT_NAMESPACE};

/// How long after an instance starts `ListMetrics` may still not show its first metrics (AWS:
/// "allow up to 15 minutes for the metric to appear").
const LISTING_DELAY_MINUTES: i64 = 15;

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudwatch_system_metrics_collected",
        title: "Running EC2 instances and ECS clusters report system metrics to CloudWatch",
        practice: Practice::Monitoring,
        severity: Severity::Low,
        activity: dsomm::SIMPLE_SYSTEM_METRICS,
        remediation: "Install and start the CloudWatch agent on every EC2 instance (Systems \
                      Manager's AWS-ConfigureAWSPackage with AmazonCloudWatchAgent, then \
                      amazon-cloudwatch-agent-ctl with a configuration that collects memory and \
                      disk), and turn on Container Insights on every ECS cluster (aws ecs \
                      update-cluster-settings --settings name=containerInsights,value=enabled; \
                      aws ecs put-account-setting-default --name containerInsights --value \
                      enabled for new clusters).",
        needs: &[
            Need::Ec2Instances,
            Need::CloudWatchAgentMetrics,
            Need::EcsClusters,
        ],
        notes:
            "**Judges** per audited region, each resource on its own so that its owner can fix it: \
every EC2 instance in state `running` passes when CloudWatch's `ListMetrics` (namespace `CWAgent`, \
dimension `InstanceId`, `RecentlyActive` `PT3H`, every page, one listing per region) names it, \
and fails otherwise; every `ACTIVE` ECS cluster that runs something (running or pending tasks, \
active services or registered container instances) passes when `DescribeClusters` (with \
`SETTINGS`) shows `containerInsights` `enabled` or `enhanced`, and fails on `disabled` or no \
setting. A region that runs neither is not_applicable. A read error is unknown (the instances \
or the metrics: the instances; the clusters: the clusters).\n\n\
**Edge cases**: AWS's basic metrics (EC2 CPU, network and disk I/O) exist for every instance \
without any action and prove nothing, so they are not read; the agent adds memory, disk space \
and processes. An instance whose last start (`LaunchTime`) is less than 15 minutes before the \
audit is not_applicable: `ListMetrics` shows a new metric only after up to 15 minutes. Stopped, \
stopping, pending and terminated instances report nothing and are not judged. An agent \
configured with another namespace than `CWAgent`, or without the `InstanceId` dimension \
(metrics aggregated by Auto Scaling group only), is not recognized (record an exception naming \
it). A Fargate-only cluster is judged like any other: Container Insights collects task and \
service metrics on Fargate too. An empty cluster has nothing to measure and is not judged. The \
account default `containerInsights` (`ecs:ListAccountSettings` effective settings) is not read: \
it applies only to clusters created later, and a cluster created under it shows the setting in \
its own settings; the remediation sets both. ECS container instances are EC2 instances and need \
the agent too: Container Insights reports tasks and services, not the host's memory and disks. \
EKS and Lambda are not judged.\n\n\
**Differs from Prowler / Security Hub**: Prowler's `ecs_cluster_container_insights_enabled` \
(Security Hub ECS.12) judges every cluster, empty ones included; ours skips clusters that run \
nothing. Neither has a check of the CloudWatch agent's metrics as far as we know; Prowler's \
`ec2_instance_detailed_monitoring_enabled` judges one-minute basic metrics, which add no system \
metric.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (region, facts) in &snap.regional {
        let before = verdicts.len();
        match &facts.instances {
            Err(e) => verdicts.push(super::unknown(
                &format!("EC2 instances of {region}"),
                Some(region),
                e,
            )),
            Ok(instances) => {
                let running: Vec<_> = instances.iter().filter(|i| i.state == "running").collect();
                match (&facts.agent_metric_instances, running.is_empty()) {
                    (_, true) => {}
                    (Err(e), false) => verdicts.push(super::unknown(
                        &format!("CloudWatch agent metrics of {region}"),
                        Some(region),
                        e,
                    )),
                    (Ok(reporting), false) => {
                        for i in running {
                            let recent = i.launch_time.filter(|t| {
                                (snap.collected_at - *t).num_minutes() < LISTING_DELAY_MINUTES
                            });
                            verdicts.push(if reporting.contains(&i.id) {
                                Verdict::pass(
                                    &i.arn,
                                    Some(region),
                                    format!(
                                        "Instance {} published CloudWatch agent metrics ({AGENT_NAMESPACE}) in the last 3 hours.",
                                        i.id
                                    ),
                                )
                            } else if let Some(t) = recent {
                                Verdict::not_applicable(
                                    &i.arn,
                                    Some(region),
                                    format!(
                                        "Instance {} started at {}, less than {LISTING_DELAY_MINUTES} minutes before the audit: CloudWatch may not list its metrics yet.",
                                        i.id,
                                        t.format("%Y-%m-%d %H:%M UTC")
                                    ),
                                )
                            } else {
                                Verdict::fail(
                                    &i.arn,
                                    Some(region),
                                    format!(
                                        "Running instance {} published no CloudWatch agent metrics ({AGENT_NAMESPACE}, dimension InstanceId) in the last 3 hours.",
                                        i.id
                                    ),
                                )
                            });
                        }
                    }
                }
            }
        }
        match &facts.ecs_clusters {
            Err(e) => verdicts.push(super::unknown(
                &format!("ECS clusters of {region}"),
                Some(region),
                e,
            )),
            Ok(clusters) => {
                for k in clusters
                    .iter()
                    .filter(|k| k.status == "ACTIVE" && k.in_use())
                {
                    verdicts.push(match k.container_insights.as_deref() {
                        Some(v @ ("enabled" | "enhanced")) => Verdict::pass(
                            &k.arn,
                            Some(region),
                            format!("ECS cluster {} has Container Insights {v}.", k.name),
                        ),
                        other => Verdict::fail(
                            &k.arn,
                            Some(region),
                            format!(
                                "ECS cluster {} runs {} task(s) and {} service(s) without Container Insights (containerInsights {}).",
                                k.name,
                                k.running_tasks + k.pending_tasks,
                                k.active_services,
                                other.unwrap_or("not set")
                            ),
                        ),
                    });
                }
            }
        }
        if verdicts.len() == before {
            verdicts.push(Verdict::not_applicable(
                super::account_in(snap, region),
                Some(region),
                format!("No EC2 instance runs and no ECS cluster is in use in {region}."),
            ));
        }
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::Fact;
    use crate::model::Status;
    use crate::snapshot::{EcsCluster, Instance};
    use std::collections::BTreeSet;

    fn instance(id: &str, state: &str, minutes_ago: i64) -> Instance {
        Instance {
            id: id.into(),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}"),
            state: state.into(),
            http_tokens: None,
            http_endpoint: None,
            image_id: None,
            launch_time: Some(now() - chrono::Duration::minutes(minutes_ago)),
        }
    }

    fn cluster(name: &str, insights: Option<&str>, tasks: i32) -> EcsCluster {
        EcsCluster {
            name: name.into(),
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"),
            status: "ACTIVE".into(),
            container_insights: insights.map(str::to_owned),
            running_tasks: tasks,
            ..Default::default()
        }
    }

    fn run(
        instances: Fact<Vec<Instance>>,
        reporting: Fact<&[&str]>,
        clusters: Fact<Vec<EcsCluster>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.instances = instances;
        r.agent_metric_instances =
            reporting.map(|ids| ids.iter().map(|i| (*i).to_owned()).collect::<BTreeSet<_>>());
        r.ecs_clusters = clusters;
        evaluate(&s, &Settings::default())
    }

    /// An instance with the agent's metrics and a cluster with Container Insights pass, each
    /// named; stopped instances and empty clusters are not judged.
    #[test]
    fn passes_instances_with_agent_metrics_and_clusters_with_insights() {
        let v = run(
            Ok(vec![
                instance("i-1", "running", 600),
                instance("i-2", "stopped", 600),
            ]),
            Ok(&["i-1"]),
            Ok(vec![
                cluster("web", Some("enhanced"), 2),
                cluster("idle", Some("disabled"), 0),
            ]),
        );
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v.iter().all(|v| v.status == Status::Pass), "{v:?}");
        assert_eq!(
            v[0].reason,
            "Instance i-1 published CloudWatch agent metrics (CWAgent) in the last 3 hours."
        );
        assert_eq!(
            v[1].reason,
            "ECS cluster web has Container Insights enhanced."
        );
    }

    /// A running instance without the agent's metrics and a busy cluster without Container
    /// Insights fail; an instance started minutes ago is not judged yet.
    #[test]
    fn fails_instances_without_agent_and_clusters_without_insights() {
        let v = run(
            Ok(vec![
                instance("i-1", "running", 600),
                instance("i-new", "running", 5),
            ]),
            Ok(&[]),
            Ok(vec![
                cluster("jobs", None, 3),
                cluster("api", Some("disabled"), 1),
            ]),
        );
        let statuses: Vec<Status> = v.iter().map(|v| v.status).collect();
        assert_eq!(
            statuses,
            [
                Status::Fail,
                Status::NotApplicable,
                Status::Fail,
                Status::Fail
            ]
        );
        assert_eq!(
            v[0].reason,
            "Running instance i-1 published no CloudWatch agent metrics (CWAgent, dimension InstanceId) in the last 3 hours."
        );
        assert!(
            v[1].reason.contains("less than 15 minutes"),
            "{}",
            v[1].reason
        );
        assert_eq!(
            v[2].reason,
            "ECS cluster jobs runs 3 task(s) and 0 service(s) without Container Insights (containerInsights not set)."
        );
        assert!(v[3].reason.ends_with("(containerInsights disabled)."));
    }

    /// A region without running compute is not_applicable: nothing to measure.
    #[test]
    fn not_applicable_without_compute() {
        let v = run(
            Ok(vec![instance("i-2", "stopped", 600)]),
            Ok(&[]),
            Ok(vec![cluster("idle", None, 0)]),
        );
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "No EC2 instance runs and no ECS cluster is in use in eu-west-1."
        );
    }

    /// Unreadable metrics make the running instances unknown, never failed; unreadable
    /// clusters are unknown too.
    #[test]
    fn unknown_when_denied() {
        let v = run(
            Ok(vec![instance("i-1", "running", 600)]),
            Err(denied("cloudwatch", "ListMetrics", Some(REGION))),
            Err(denied("ecs", "DescribeClusters", Some(REGION))),
        );
        assert_eq!(v.len(), 2);
        assert!(v.iter().all(|v| v.status == Status::Unknown), "{v:?}");
        assert!(
            v[0].reason.contains("cloudwatch:ListMetrics"),
            "{}",
            v[0].reason
        );
        assert!(
            v[1].reason.contains("ecs:DescribeClusters"),
            "{}",
            v[1].reason
        );
    }
}
