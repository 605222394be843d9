//! AWS Fault Injection Service: the experiments of one region (`ListExperiments`, every page).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{FisExperiment, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<FisExperiment>>> {
    if !wants(needs, &[Need::FisExperiments]) {
        return None;
    }
    let client = aws_sdk_fis::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "fis",
        "ListExperiments",
        Some(region),
        client.list_experiments().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.experiments())
            .map(|e| FisExperiment {
                id: e.id().unwrap_or_default().to_owned(),
                template_id: e.experiment_template_id().unwrap_or_default().to_owned(),
                status: e
                    .state()
                    .and_then(|s| s.status())
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                created: e
                    .creation_time()
                    .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
            })
            .collect()
    }))
}
