//! CloudWatch: the metric alarms and the dashboards of one region.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Dashboard, MetricAlarm, Need};
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
