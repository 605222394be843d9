//! SNS: the topics of one region and each topic's access policy (`GetTopicAttributes`, attribute
//! `Policy`; the listing carries only ARNs).

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{Need, PolicyResource};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<PolicyResource>>> {
    if !wants(needs, &[Need::SnsTopics]) {
        return None;
    }
    let client = aws_sdk_sns::Client::new(&c.in_region(region));
    let arns: Vec<String> = match pages(
        c.recorder,
        "sns",
        "ListTopics",
        Some(region),
        client.list_topics().into_paginator().send(),
    )
    .await
    {
        Ok(p) => p
            .iter()
            .flat_map(|p| p.topics())
            .filter_map(|t| t.topic_arn().map(str::to_owned))
            .collect(),
        Err(e) => return Some(Err(e)),
    };
    let client = &client;
    Some(Ok(stream::iter(arns)
        .map(|arn| async move {
            let policy = call(
                c.recorder,
                "sns",
                "GetTopicAttributes",
                Some(region),
                client.get_topic_attributes().topic_arn(&arn).send(),
            )
            .await
            .map(|o| {
                o.attributes()
                    .and_then(|a| a.get("Policy").cloned())
                    .filter(|p| !p.is_empty())
            });
            PolicyResource {
                name: arn.rsplit(':').next().unwrap_or(&arn).to_owned(),
                arn,
                policy,
            }
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await))
}
