//! Security Hub: whether it is enabled in one region (`DescribeHub`) and which standards are
//! enabled there (`GetEnabledStandards`). A region where Security Hub is not enabled answers
//! `InvalidAccessException` (or `ResourceNotFoundException`): that is "not enabled", not an error.

use super::{call_or_absent, pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Need, SecurityHubState};
use aws_sdk_securityhub::types::StandardsStatus;
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Option<SecurityHubState>>> {
    if !wants(needs, &[Need::SecurityHub]) {
        return None;
    }
    let client = aws_sdk_securityhub::Client::new(&c.in_region(region));
    Some(hub(c, &client, region).await)
}

async fn hub(
    c: &Collector<'_>,
    client: &aws_sdk_securityhub::Client,
    region: &str,
) -> Fact<Option<SecurityHubState>> {
    let Some(hub) = call_or_absent(
        c.recorder,
        "securityhub",
        "DescribeHub",
        Some(region),
        &["InvalidAccessException", "ResourceNotFoundException"],
        client.describe_hub().send(),
    )
    .await?
    else {
        return Ok(None);
    };
    let standards = pages(
        c.recorder,
        "securityhub",
        "GetEnabledStandards",
        Some(region),
        client.get_enabled_standards().into_paginator().send(),
    )
    .await
    .map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.standards_subscriptions())
            .filter(|s| {
                matches!(
                    s.standards_status(),
                    Some(StandardsStatus::Ready | StandardsStatus::Pending)
                )
            })
            .filter_map(|s| s.standards_arn().map(str::to_owned))
            .collect()
    });
    Ok(Some(SecurityHubState {
        hub_arn: hub.hub_arn().unwrap_or_default().to_owned(),
        enabled_standards: standards,
    }))
}
