//! CloudWatch Logs: the metric filters of one region (the log patterns that feed alarms) and
//! where the region's logs are shipped (account-level subscription filter policies).

use super::{call, pages, wants, Collector};
use crate::facts::{ErrorKind, Fact, FactError};
use crate::snapshot::{LogShipping, MetricFilter, Need, SubscriptionPolicy};
use aws_sdk_cloudwatchlogs::types::PolicyType;
use std::collections::BTreeSet;

/// At most this many `DescribeAccountPolicies` pages (AWS allows few such policies per region:
/// a longer walk means a token that never ends).
const MAX_POLICY_PAGES: usize = 100;

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

/// Whether the region has a log group (`DescribeLogGroups` with a limit of one: one call,
/// whatever the number of groups) and its account-level subscription filter policies
/// (`DescribeAccountPolicies`, every page: the SDK has no paginator for it).
pub(super) async fn shipping(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<LogShipping>> {
    if !wants(needs, &[Need::LogsSubscriptionPolicies]) {
        return None;
    }
    let client = aws_sdk_cloudwatchlogs::Client::new(&c.in_region(region));
    let (groups, policies) = tokio::join!(
        call(
            c.recorder,
            "logs",
            "DescribeLogGroups",
            Some(region),
            client.describe_log_groups().limit(1).send(),
        ),
        account_policies(c, &client, region),
    );
    Some(groups.and_then(|g| {
        Ok(LogShipping {
            has_log_groups: !g.log_groups().is_empty(),
            policies: policies?,
        })
    }))
}

async fn account_policies(
    c: &Collector<'_>,
    client: &aws_sdk_cloudwatchlogs::Client,
    region: &str,
) -> Fact<Vec<SubscriptionPolicy>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_POLICY_PAGES {
        let page = call(
            c.recorder,
            "logs",
            "DescribeAccountPolicies",
            Some(region),
            client
                .describe_account_policies()
                .policy_type(PolicyType::SubscriptionFilterPolicy)
                .set_next_token(token.take())
                .send(),
        )
        .await?;
        out.extend(page.account_policies().iter().map(subscription_policy));
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return Ok(out),
        }
    }
    Err(FactError::new(
        "logs",
        "DescribeAccountPolicies",
        Some(region),
        ErrorKind::Other,
        format!("the listing did not end after {MAX_POLICY_PAGES} pages"),
    ))
}

fn subscription_policy(p: &aws_sdk_cloudwatchlogs::types::AccountPolicy) -> SubscriptionPolicy {
    let doc: serde_json::Value = p
        .policy_document()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    SubscriptionPolicy {
        name: p.policy_name().unwrap_or_default().to_owned(),
        destination: doc["DestinationArn"]
            .as_str()
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        filter_pattern: doc["FilterPattern"].as_str().unwrap_or_default().to_owned(),
        selection_criteria: p
            .selection_criteria()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned),
    }
}
