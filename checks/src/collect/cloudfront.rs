//! CloudFront: the account's distributions. CloudFront is global: read once per account, from the
//! home region's client.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Distribution, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Distribution>>> {
    if !wants(needs, &[Need::CloudFrontDistributions]) {
        return None;
    }
    let client = aws_sdk_cloudfront::Client::new(c.config);
    let listing = pages(
        c.recorder,
        "cloudfront",
        "ListDistributions",
        None,
        client.list_distributions().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .filter_map(|p| p.distribution_list())
            .flat_map(|l| l.items())
            .map(|d| {
                let mut policies = Vec::new();
                if let Some(b) = d.default_cache_behavior() {
                    policies.push((
                        "*".to_owned(),
                        b.viewer_protocol_policy().as_str().to_owned(),
                    ));
                }
                for b in d.cache_behaviors().map(|c| c.items()).unwrap_or_default() {
                    policies.push((
                        b.path_pattern().to_owned(),
                        b.viewer_protocol_policy().as_str().to_owned(),
                    ));
                }
                let cert = d.viewer_certificate();
                Distribution {
                    id: d.id().to_owned(),
                    arn: d.arn().to_owned(),
                    domain_name: d.domain_name().to_owned(),
                    enabled: d.enabled(),
                    viewer_protocol_policies: policies,
                    minimum_protocol_version: cert
                        .and_then(|v| v.minimum_protocol_version())
                        .map(|v| v.as_str().to_owned()),
                    default_certificate: cert
                        .and_then(|v| v.cloud_front_default_certificate())
                        .unwrap_or(false),
                    web_acl_id: Some(d.web_acl_id().to_owned()).filter(|w| !w.is_empty()),
                }
            })
            .collect()
    }))
}
