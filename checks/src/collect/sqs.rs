//! SQS: the queues of one region and each queue's access policy (`GetQueueAttributes`, attribute
//! `Policy`; the listing carries only URLs, so the policy is read per queue).

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{Need, PolicyResource};
use aws_sdk_sqs::types::QueueAttributeName;
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<PolicyResource>>> {
    if !wants(needs, &[Need::SqsQueues]) {
        return None;
    }
    let client = aws_sdk_sqs::Client::new(&c.in_region(region));
    let urls: Vec<String> = match pages(
        c.recorder,
        "sqs",
        "ListQueues",
        Some(region),
        client.list_queues().into_paginator().send(),
    )
    .await
    {
        Ok(p) => p
            .iter()
            .flat_map(|p| p.queue_urls().iter().cloned())
            .collect(),
        Err(e) => return Some(Err(e)),
    };
    let client = &client;
    Some(Ok(stream::iter(urls)
        .map(|url| async move {
            let attrs = call(
                c.recorder,
                "sqs",
                "GetQueueAttributes",
                Some(region),
                client
                    .get_queue_attributes()
                    .queue_url(&url)
                    .attribute_names(QueueAttributeName::Policy)
                    .attribute_names(QueueAttributeName::QueueArn)
                    .send(),
            )
            .await;
            let name = url.rsplit('/').next().unwrap_or(&url).to_owned();
            let arn = attrs
                .as_ref()
                .ok()
                .and_then(|o| o.attributes())
                .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
                .unwrap_or_else(|| url.clone());
            PolicyResource {
                name,
                arn,
                policy: attrs.map(|o| {
                    o.attributes()
                        .and_then(|a| a.get(&QueueAttributeName::Policy).cloned())
                        .filter(|p| !p.is_empty())
                }),
            }
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await))
}
