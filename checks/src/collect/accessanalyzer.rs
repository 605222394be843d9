//! IAM Access Analyzer: the analyzers of one region.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Analyzer, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Analyzer>>> {
    if !wants(needs, &[Need::AccessAnalyzers]) {
        return None;
    }
    let client = aws_sdk_accessanalyzer::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "access-analyzer",
        "ListAnalyzers",
        Some(region),
        client.list_analyzers().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.analyzers())
            .map(|a| Analyzer {
                name: a.name().to_owned(),
                arn: a.arn().to_owned(),
                kind: a.r#type().as_str().to_owned(),
                status: a.status().as_str().to_owned(),
            })
            .collect()
    }))
}
