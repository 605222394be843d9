//! Route 53: the account's health checks. Route 53 is global: read once per account, from the
//! home region's client.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{HealthCheck, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<HealthCheck>>> {
    if !wants(needs, &[Need::Route53HealthChecks]) {
        return None;
    }
    let client = aws_sdk_route53::Client::new(c.config);
    let listing = pages(
        c.recorder,
        "route53",
        "ListHealthChecks",
        None,
        client.list_health_checks().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.health_checks())
            .map(|h| {
                let config = h.health_check_config();
                HealthCheck {
                    id: h.id().to_owned(),
                    kind: config
                        .map(|c| c.r#type().as_str().to_owned())
                        .unwrap_or_default(),
                    disabled: config.and_then(|c| c.disabled()).unwrap_or(false),
                    endpoint: config
                        .and_then(|c| c.fully_qualified_domain_name().or(c.ip_address()))
                        .unwrap_or_default()
                        .to_owned(),
                }
            })
            .collect()
    }))
}
