//! AWS Backup: the backup plans of one region, each plan's rules (`GetBackupPlan`) and resource
//! selections (`ListBackupSelections`), per plan bounded by `PER_RESOURCE_CONCURRENCY`.

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{BackupPlan, Need};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<BackupPlan>>> {
    if !wants(needs, &[Need::BackupPlans]) {
        return None;
    }
    let client = aws_sdk_backup::Client::new(&c.in_region(region));
    Some(plans(c, &client, region).await)
}

async fn plans(
    c: &Collector<'_>,
    client: &aws_sdk_backup::Client,
    region: &str,
) -> Fact<Vec<BackupPlan>> {
    let rec = c.recorder;
    let listing = pages(
        rec,
        "backup",
        "ListBackupPlans",
        Some(region),
        client.list_backup_plans().into_paginator().send(),
    )
    .await?;
    let plans: Vec<BackupPlan> = listing
        .iter()
        .flat_map(|p| p.backup_plans_list())
        .map(|p| BackupPlan {
            id: p.backup_plan_id().unwrap_or_default().to_owned(),
            arn: p.backup_plan_arn().unwrap_or_default().to_owned(),
            name: p.backup_plan_name().unwrap_or_default().to_owned(),
            rules: Ok(vec![]),
            selections: Ok(vec![]),
        })
        .collect();
    Ok(stream::iter(plans)
        .map(|mut plan| async move {
            let (rules, selections) = tokio::join!(
                call(
                    rec,
                    "backup",
                    "GetBackupPlan",
                    Some(region),
                    client.get_backup_plan().backup_plan_id(&plan.id).send(),
                ),
                pages(
                    rec,
                    "backup",
                    "ListBackupSelections",
                    Some(region),
                    client
                        .list_backup_selections()
                        .backup_plan_id(&plan.id)
                        .into_paginator()
                        .send(),
                )
            );
            plan.rules = rules.map(|o| {
                o.backup_plan()
                    .map(|p| p.rules().iter().map(|r| r.rule_name().to_owned()).collect())
                    .unwrap_or_default()
            });
            plan.selections = selections.map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.backup_selections_list())
                    .map(|s| s.selection_name().unwrap_or_default().to_owned())
                    .collect()
            });
            plan
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await)
}
