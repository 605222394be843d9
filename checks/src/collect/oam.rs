//! CloudWatch Observability Access Manager: the account's cross-account observability links in
//! one region (`ListLinks`), through which a monitoring account sees its logs, metrics and traces.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Need, OamLink};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<OamLink>>> {
    if !wants(needs, &[Need::OamLinks]) {
        return None;
    }
    let client = aws_sdk_oam::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "oam",
        "ListLinks",
        Some(region),
        client.list_links().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.items())
            .map(|l| OamLink {
                arn: l.arn().unwrap_or_default().to_owned(),
                label: l.label().unwrap_or_default().to_owned(),
                sink_arn: l.sink_arn().unwrap_or_default().to_owned(),
                resource_types: l.resource_types().to_vec(),
            })
            .collect()
    }))
}
