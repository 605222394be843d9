//! IAM Access Analyzer: the analyzers of one region, and the organization analyzers of an
//! account that can hold them.

use super::{pages, wants, Collector};
use crate::facts::{CallRecorder, Fact};
use crate::snapshot::{Analyzer, Need};
use aws_config::SdkConfig;
use std::collections::BTreeSet;

/// The service principal whose delegated administrator can create organization analyzers.
pub const SERVICE_PRINCIPAL: &str = "access-analyzer.amazonaws.com";

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Analyzer>>> {
    if !wants(needs, &[Need::AccessAnalyzers]) {
        return None;
    }
    Some(list(&c.in_region(region), c.recorder, region, None).await)
}

/// The analyzers of type `ORGANIZATION` of the account of `config` in `region`.
pub async fn organization_analyzers(
    config: &SdkConfig,
    rec: &CallRecorder,
    region: &str,
) -> Fact<Vec<Analyzer>> {
    let config = config
        .to_builder()
        .region(aws_config::Region::new(region.to_owned()))
        .build();
    let kind = aws_sdk_accessanalyzer::types::Type::Organization;
    list(&config, rec, region, Some(kind)).await
}

async fn list(
    config: &SdkConfig,
    rec: &CallRecorder,
    region: &str,
    kind: Option<aws_sdk_accessanalyzer::types::Type>,
) -> Fact<Vec<Analyzer>> {
    let client = aws_sdk_accessanalyzer::Client::new(config);
    let listing = pages(
        rec,
        "access-analyzer",
        "ListAnalyzers",
        Some(region),
        client
            .list_analyzers()
            .set_type(kind)
            .into_paginator()
            .send(),
    )
    .await;
    listing.map(|pages| {
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
    })
}
