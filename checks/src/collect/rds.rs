//! RDS: database instances of one region.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{DbInstance, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<DbInstance>>> {
    if !wants(needs, &[Need::RdsInstances]) {
        return None;
    }
    let rds = aws_sdk_rds::Client::new(&c.in_region(region));
    let stream = rds.describe_db_instances().into_paginator().send();
    let result = pages(
        c.recorder,
        "rds",
        "DescribeDBInstances",
        Some(region),
        stream,
    )
    .await
    .map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.db_instances())
            .map(|d| DbInstance {
                id: d.db_instance_identifier().unwrap_or_default().to_owned(),
                arn: d.db_instance_arn().unwrap_or_default().to_owned(),
                engine: d.engine().unwrap_or_default().to_owned(),
                backup_retention_days: d.backup_retention_period().unwrap_or(0),
                storage_encrypted: d.storage_encrypted().unwrap_or(false),
            })
            .collect()
    });
    Some(result)
}
