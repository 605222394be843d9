//! CloudWatch Synthetics: the canaries of one region.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Canary, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Canary>>> {
    if !wants(needs, &[Need::SyntheticsCanaries]) {
        return None;
    }
    let client = aws_sdk_synthetics::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "synthetics",
        "DescribeCanaries",
        Some(region),
        client.describe_canaries().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.canaries())
            .map(|k| Canary {
                name: k.name().unwrap_or_default().to_owned(),
                state: k
                    .status()
                    .and_then(|s| s.state())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect()
    }))
}
