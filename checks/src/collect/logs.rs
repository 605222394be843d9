//! CloudWatch Logs: the metric filters of one region (the log patterns that feed alarms).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{MetricFilter, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<MetricFilter>>> {
    if !wants(needs, &[Need::CloudWatchMetricAlarms]) {
        return None;
    }
    let client = aws_sdk_cloudwatchlogs::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "logs",
        "DescribeMetricFilters",
        Some(region),
        client.describe_metric_filters().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.metric_filters())
            .map(|f| MetricFilter {
                name: f.filter_name().unwrap_or_default().to_owned(),
                log_group: f.log_group_name().unwrap_or_default().to_owned(),
                pattern: f.filter_pattern().unwrap_or_default().to_owned(),
                metrics: f
                    .metric_transformations()
                    .iter()
                    .map(|t| (t.metric_namespace().to_owned(), t.metric_name().to_owned()))
                    .collect(),
            })
            .collect()
    }))
}
