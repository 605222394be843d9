//! RDS: database instances and clusters of one region (the RDS API also lists Neptune and
//! DocumentDB, which share its control plane).

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{DbCluster, DbInstance, DbSnapshot, Need};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<(Fact<Vec<DbInstance>>, Fact<Vec<DbCluster>>)> {
    if !wants(needs, &[Need::RdsInstances]) {
        return None;
    }
    let rds = aws_sdk_rds::Client::new(&c.in_region(region));
    let (instances, clusters) = tokio::join!(
        pages(
            c.recorder,
            "rds",
            "DescribeDBInstances",
            Some(region),
            rds.describe_db_instances().into_paginator().send(),
        ),
        pages(
            c.recorder,
            "rds",
            "DescribeDBClusters",
            Some(region),
            rds.describe_db_clusters().into_paginator().send(),
        )
    );
    let instances = instances.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.db_instances())
            .map(|d| DbInstance {
                id: d.db_instance_identifier().unwrap_or_default().to_owned(),
                arn: d.db_instance_arn().unwrap_or_default().to_owned(),
                engine: d.engine().unwrap_or_default().to_owned(),
                backup_retention_days: d.backup_retention_period().unwrap_or(0),
                storage_encrypted: d.storage_encrypted().unwrap_or(false),
                cluster_id: d.db_cluster_identifier().map(str::to_owned),
                replica_source: d
                    .read_replica_source_db_instance_identifier()
                    .map(str::to_owned),
                publicly_accessible: d.publicly_accessible().unwrap_or(false),
                port: d
                    .endpoint()
                    .and_then(|e| e.port())
                    .or(d.db_instance_port().filter(|p| *p > 0)),
                security_groups: d
                    .vpc_security_groups()
                    .iter()
                    .filter(|g| g.status() != Some("removing") && g.status() != Some("inactive"))
                    .filter_map(|g| g.vpc_security_group_id().map(str::to_owned))
                    .collect(),
            })
            .collect()
    });
    let clusters = clusters.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.db_clusters())
            .map(|d| DbCluster {
                id: d.db_cluster_identifier().unwrap_or_default().to_owned(),
                arn: d.db_cluster_arn().unwrap_or_default().to_owned(),
                engine: d.engine().unwrap_or_default().to_owned(),
                backup_retention_days: d.backup_retention_period().unwrap_or(0),
                storage_encrypted: d.storage_encrypted().unwrap_or(false),
            })
            .collect()
    });
    Some((instances, clusters))
}

/// The manual snapshots the account owns (instance and cluster snapshots), each with the accounts
/// its `restore` attribute shares it with. RDS has no listing that says which snapshots are
/// public, so the attributes are read per snapshot (bounded by `PER_RESOURCE_CONCURRENCY`);
/// automated snapshots cannot be shared and are not listed.
pub(super) async fn snapshots(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<DbSnapshot>>> {
    if !wants(needs, &[Need::RdsSnapshots]) {
        return None;
    }
    let rds = aws_sdk_rds::Client::new(&c.in_region(region));
    let (instance, cluster) = tokio::join!(
        pages(
            c.recorder,
            "rds",
            "DescribeDBSnapshots",
            Some(region),
            rds.describe_db_snapshots()
                .snapshot_type("manual")
                .into_paginator()
                .send(),
        ),
        pages(
            c.recorder,
            "rds",
            "DescribeDBClusterSnapshots",
            Some(region),
            rds.describe_db_cluster_snapshots()
                .snapshot_type("manual")
                .into_paginator()
                .send(),
        )
    );
    let mut listed: Vec<(String, String, bool)> = Vec::new();
    match instance {
        Ok(pages) => listed.extend(pages.iter().flat_map(|p| p.db_snapshots()).map(|s| {
            (
                s.db_snapshot_identifier().unwrap_or_default().to_owned(),
                s.db_snapshot_arn().unwrap_or_default().to_owned(),
                false,
            )
        })),
        Err(e) => return Some(Err(e)),
    }
    match cluster {
        Ok(pages) => listed.extend(
            pages
                .iter()
                .flat_map(|p| p.db_cluster_snapshots())
                .map(|s| {
                    (
                        s.db_cluster_snapshot_identifier()
                            .unwrap_or_default()
                            .to_owned(),
                        s.db_cluster_snapshot_arn().unwrap_or_default().to_owned(),
                        true,
                    )
                }),
        ),
        Err(e) => return Some(Err(e)),
    }
    let rds = &rds;
    Some(Ok(stream::iter(listed)
        .map(|(id, arn, cluster)| async move {
            let restore_shared_with = if cluster {
                call(
                    c.recorder,
                    "rds",
                    "DescribeDBClusterSnapshotAttributes",
                    Some(region),
                    rds.describe_db_cluster_snapshot_attributes()
                        .db_cluster_snapshot_identifier(&id)
                        .send(),
                )
                .await
                .map(|o| {
                    o.db_cluster_snapshot_attributes_result()
                        .map(|r| r.db_cluster_snapshot_attributes())
                        .unwrap_or_default()
                        .iter()
                        .filter(|a| a.attribute_name() == Some("restore"))
                        .flat_map(|a| a.attribute_values().iter().cloned())
                        .collect()
                })
            } else {
                call(
                    c.recorder,
                    "rds",
                    "DescribeDBSnapshotAttributes",
                    Some(region),
                    rds.describe_db_snapshot_attributes()
                        .db_snapshot_identifier(&id)
                        .send(),
                )
                .await
                .map(|o| {
                    o.db_snapshot_attributes_result()
                        .map(|r| r.db_snapshot_attributes())
                        .unwrap_or_default()
                        .iter()
                        .filter(|a| a.attribute_name() == Some("restore"))
                        .flat_map(|a| a.attribute_values().iter().cloned())
                        .collect()
                })
            };
            DbSnapshot {
                id,
                arn,
                cluster,
                restore_shared_with,
            }
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await))
}
