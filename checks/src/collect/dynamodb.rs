//! DynamoDB: the tables of one region and each table's continuous backups (point-in-time
//! recovery), per table bounded by `PER_RESOURCE_CONCURRENCY`.

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{DynamoDbTable, Need};
use aws_sdk_dynamodb::types::PointInTimeRecoveryStatus;
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<DynamoDbTable>>> {
    if !wants(needs, &[Need::DynamoDbTables]) {
        return None;
    }
    let client = aws_sdk_dynamodb::Client::new(&c.in_region(region));
    Some(tables(c, &client, region).await)
}

async fn tables(
    c: &Collector<'_>,
    client: &aws_sdk_dynamodb::Client,
    region: &str,
) -> Fact<Vec<DynamoDbTable>> {
    let rec = c.recorder;
    let listing = pages(
        rec,
        "dynamodb",
        "ListTables",
        Some(region),
        client.list_tables().into_paginator().send(),
    )
    .await?;
    let names: Vec<String> = listing
        .iter()
        .flat_map(|p| p.table_names())
        .cloned()
        .collect();
    let account = c.account_id;
    Ok(stream::iter(names)
        .map(|name| async move {
            let out = call(
                rec,
                "dynamodb",
                "DescribeContinuousBackups",
                Some(region),
                client
                    .describe_continuous_backups()
                    .table_name(&name)
                    .send(),
            )
            .await;
            DynamoDbTable {
                arn: format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
                pitr_enabled: out.map(|o| {
                    o.continuous_backups_description()
                        .and_then(|d| d.point_in_time_recovery_description())
                        .and_then(|p| p.point_in_time_recovery_status())
                        == Some(&PointInTimeRecoveryStatus::Enabled)
                }),
                name,
            }
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await)
}
