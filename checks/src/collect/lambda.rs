//! Lambda: the functions of one region and each function's resource-based policy (`GetPolicy`;
//! a function without one answers `ResourceNotFoundException`, read as "no policy").

use super::{call_or_absent, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{Need, PolicyResource};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<PolicyResource>>> {
    if !wants(needs, &[Need::LambdaFunctions]) {
        return None;
    }
    let client = aws_sdk_lambda::Client::new(&c.in_region(region));
    let functions: Vec<(String, String)> = match pages(
        c.recorder,
        "lambda",
        "ListFunctions",
        Some(region),
        client.list_functions().into_paginator().send(),
    )
    .await
    {
        Ok(p) => p
            .iter()
            .flat_map(|p| p.functions())
            .map(|f| {
                (
                    f.function_name().unwrap_or_default().to_owned(),
                    f.function_arn().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        Err(e) => return Some(Err(e)),
    };
    let client = &client;
    Some(Ok(stream::iter(functions)
        .map(|(name, arn)| async move {
            let policy = call_or_absent(
                c.recorder,
                "lambda",
                "GetPolicy",
                Some(region),
                &["ResourceNotFoundException"],
                client.get_policy().function_name(&arn).send(),
            )
            .await
            .map(|o| o.and_then(|o| o.policy().map(str::to_owned)));
            PolicyResource { name, arn, policy }
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await))
}
