//! CloudFront: the account's distributions and the response headers policies they use.
//! CloudFront is global: read once per account, from the home region's client.

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{Distribution, Need, SecurityHeaders};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

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
                let mut headers = Vec::new();
                if let Some(b) = d.default_cache_behavior() {
                    policies.push((
                        "*".to_owned(),
                        b.viewer_protocol_policy().as_str().to_owned(),
                    ));
                    headers.push((
                        "*".to_owned(),
                        b.response_headers_policy_id()
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned),
                    ));
                }
                for b in d.cache_behaviors().map(|c| c.items()).unwrap_or_default() {
                    policies.push((
                        b.path_pattern().to_owned(),
                        b.viewer_protocol_policy().as_str().to_owned(),
                    ));
                    headers.push((
                        b.path_pattern().to_owned(),
                        b.response_headers_policy_id()
                            .filter(|p| !p.is_empty())
                            .map(str::to_owned),
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
                    response_headers_policies: headers,
                }
            })
            .collect()
    }))
}

/// The security headers of every response headers policy that `distributions` use
/// (`GetResponseHeadersPolicy` per distinct policy: AWS-managed and custom ones alike), by id.
pub(super) async fn response_headers_policies(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
    distributions: Option<&Fact<Vec<Distribution>>>,
) -> Option<Fact<BTreeMap<String, Fact<SecurityHeaders>>>> {
    if !wants(needs, &[Need::CloudFrontResponseHeadersPolicies]) {
        return None;
    }
    let distributions = match distributions? {
        Err(e) => return Some(Err(e.clone())),
        Ok(d) => d,
    };
    let ids: BTreeSet<String> = distributions
        .iter()
        .flat_map(|d| d.response_headers_policies.iter())
        .filter_map(|(_, id)| id.clone())
        .collect();
    let client = &aws_sdk_cloudfront::Client::new(c.config);
    let policies = stream::iter(ids)
        .map(|id| async move {
            let out = call(
                c.recorder,
                "cloudfront",
                "GetResponseHeadersPolicy",
                None,
                client.get_response_headers_policy().id(&id).send(),
            )
            .await;
            let headers = out.map(|o| {
                let h = o
                    .response_headers_policy()
                    .and_then(|p| p.response_headers_policy_config())
                    .and_then(|c| c.security_headers_config());
                SecurityHeaders {
                    strict_transport_security: h.and_then(|h| h.strict_transport_security()).map(
                        |s| {
                            let mut v = format!("max-age={}", s.access_control_max_age_sec());
                            if s.include_subdomains() == Some(true) {
                                v.push_str("; includeSubDomains");
                            }
                            if s.preload() == Some(true) {
                                v.push_str("; preload");
                            }
                            v
                        },
                    ),
                    content_type_options: h
                        .and_then(|h| h.content_type_options())
                        .map(|_| "nosniff".to_owned()),
                    frame_options: h
                        .and_then(|h| h.frame_options())
                        .map(|f| f.frame_option().as_str().to_owned()),
                    content_security_policy: h
                        .and_then(|h| h.content_security_policy())
                        .map(|p| p.content_security_policy().to_owned()),
                }
            });
            (id, headers)
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    Some(Ok(policies))
}
