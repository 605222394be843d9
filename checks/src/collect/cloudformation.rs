//! CloudFormation: the stacks of one region with their drift information (`DescribeStacks`
//! without a name lists every stack that is not deleted).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{CfnStack, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<CfnStack>>> {
    if !wants(needs, &[Need::CloudFormationStacks]) {
        return None;
    }
    let client = aws_sdk_cloudformation::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "cloudformation",
        "DescribeStacks",
        Some(region),
        client.describe_stacks().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.stacks())
            .map(|s| {
                let drift = s.drift_information();
                CfnStack {
                    name: s.stack_name().unwrap_or_default().to_owned(),
                    arn: s.stack_id().unwrap_or_default().to_owned(),
                    status: s
                        .stack_status()
                        .map(|v| v.as_str().to_owned())
                        .unwrap_or_default(),
                    drift: drift
                        .and_then(|d| d.stack_drift_status())
                        .map(|v| v.as_str().to_owned()),
                    last_drift_check: drift
                        .and_then(|d| d.last_check_timestamp())
                        .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
                    nested: s.parent_id().is_some_and(|p| !p.is_empty()),
                }
            })
            .collect()
    }))
}
