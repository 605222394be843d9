//! Amazon Detective: the behavior graphs an account administers in one region, and, in an account
//! that administers the organization's, each graph's member accounts.

use super::{pages, wants, Collector};
use crate::facts::{CallRecorder, Fact};
use crate::snapshot::{DetectiveGraph, Need};
use aws_config::SdkConfig;
use std::collections::BTreeSet;

/// The service principal whose delegated administrator manages the organization's graphs.
pub const SERVICE_PRINCIPAL: &str = "detective.amazonaws.com";

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<String>>> {
    if !wants(needs, &[Need::DetectiveGraphs]) {
        return None;
    }
    Some(graphs(&c.in_region(region), c.recorder, region).await)
}

/// The ARNs of the graphs the account of `config` administers.
async fn graphs(config: &SdkConfig, rec: &CallRecorder, region: &str) -> Fact<Vec<String>> {
    let client = aws_sdk_detective::Client::new(config);
    let listing = client.list_graphs().into_paginator().send();
    let pages = pages(rec, "detective", "ListGraphs", Some(region), listing).await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.graph_list())
        .filter_map(|g| g.arn().map(str::to_owned))
        .collect())
}

/// The graphs the account of `config` administers in `region`, with their members.
pub async fn organization_graphs(
    config: &SdkConfig,
    rec: &CallRecorder,
    region: &str,
) -> Fact<Vec<DetectiveGraph>> {
    let config = config
        .to_builder()
        .region(aws_config::Region::new(region.to_owned()))
        .build();
    let client = aws_sdk_detective::Client::new(&config);
    let mut out = Vec::new();
    for arn in graphs(&config, rec, region).await? {
        let listing = client
            .list_members()
            .graph_arn(&arn)
            .into_paginator()
            .send();
        let members = pages(rec, "detective", "ListMembers", Some(region), listing).await?;
        out.push(DetectiveGraph {
            members: members
                .iter()
                .flat_map(|p| p.member_details())
                .filter_map(|m| {
                    let status = m.status().map(|s| s.as_str().to_owned())?;
                    Some((m.account_id()?.to_owned(), status))
                })
                .collect(),
            arn,
        });
    }
    Ok(out)
}
