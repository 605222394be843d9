//! EC2 Image Builder: the image pipelines of one region (`ListImagePipelines`, every page).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{ImagePipeline, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<ImagePipeline>>> {
    if !wants(needs, &[Need::ImageBuilderPipelines]) {
        return None;
    }
    let client = aws_sdk_imagebuilder::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "imagebuilder",
        "ListImagePipelines",
        Some(region),
        client.list_image_pipelines().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.image_pipeline_list())
            .map(|p| ImagePipeline {
                name: p.name().unwrap_or_default().to_owned(),
                arn: p.arn().unwrap_or_default().to_owned(),
                status: p
                    .status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                schedule: p
                    .schedule()
                    .and_then(|s| s.schedule_expression())
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned),
                last_run_status: p.last_run_status().map(|s| s.as_str().to_owned()),
            })
            .collect()
    }))
}
