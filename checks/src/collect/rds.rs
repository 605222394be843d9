//! RDS: database instances and clusters of one region (the RDS API also lists Neptune and
//! DocumentDB, which share its control plane).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{DbCluster, DbInstance, Need};
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
