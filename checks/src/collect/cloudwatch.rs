//! CloudWatch: the metric alarms, the dashboards and the CloudWatch agent's metrics of one
//! region.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Dashboard, Instance, MetricAlarm, Need, AGENT_NAMESPACE};
use aws_sdk_cloudwatch::types::{DimensionFilter, RecentlyActive};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<MetricAlarm>>> {
    if !wants(needs, &[Need::CloudWatchMetricAlarms]) {
        return None;
    }
    let client = aws_sdk_cloudwatch::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "cloudwatch",
        "DescribeAlarms",
        Some(region),
        client.describe_alarms().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.metric_alarms())
            .map(|a| MetricAlarm {
                name: a.alarm_name().unwrap_or_default().to_owned(),
                arn: a.alarm_arn().unwrap_or_default().to_owned(),
                namespace: a.namespace().map(str::to_owned),
                metric_name: a.metric_name().map(str::to_owned),
                actions_enabled: a.actions_enabled().unwrap_or(false),
                alarm_actions: a.alarm_actions().to_vec(),
            })
            .collect()
    }))
}

/// The dashboards of one region (`ListDashboards`, every page).
pub(super) async fn dashboards(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Dashboard>>> {
    if !wants(needs, &[Need::CloudWatchDashboards]) {
        return None;
    }
    let client = aws_sdk_cloudwatch::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "cloudwatch",
        "ListDashboards",
        Some(region),
        client.list_dashboards().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.dashboard_entries())
            .map(|d| Dashboard {
                name: d.dashboard_name().unwrap_or_default().to_owned(),
                arn: d.dashboard_arn().unwrap_or_default().to_owned(),
            })
            .collect()
    }))
}

/// The instances of one region that published CloudWatch agent metrics in the last three hours:
/// one `ListMetrics` listing (every page) of namespace `CWAgent` with an `InstanceId` dimension,
/// `RecentlyActive` `PT3H`. Not asked where no instance runs (the set is then empty); the
/// instances' error where they could not be listed.
pub(super) async fn agent_metrics(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
    instances: Option<&Fact<Vec<Instance>>>,
) -> Option<Fact<BTreeSet<String>>> {
    if !wants(needs, &[Need::CloudWatchAgentMetrics]) {
        return None;
    }
    match instances? {
        Err(e) => return Some(Err(e.clone())),
        Ok(i) if !i.iter().any(|i| i.state == "running") => return Some(Ok(BTreeSet::new())),
        Ok(_) => {}
    }
    let client = aws_sdk_cloudwatch::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "cloudwatch",
        "ListMetrics",
        Some(region),
        client
            .list_metrics()
            .namespace(AGENT_NAMESPACE)
            .dimensions(DimensionFilter::builder().name("InstanceId").build())
            .recently_active(RecentlyActive::Pt3H)
            .into_paginator()
            .send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.metrics())
            .flat_map(|m| m.dimensions())
            .filter(|d| d.name() == Some("InstanceId"))
            .filter_map(|d| d.value().map(str::to_owned))
            .collect()
    }))
}
