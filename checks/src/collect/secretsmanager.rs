//! Secrets Manager: the secrets of one region (the listing carries their rotation settings) and,
//! when asked, each secret's resource policy.

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::{Fact, FactError};
use crate::snapshot::{Need, Secret};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Secret>>> {
    if !wants(needs, &[Need::SecretsManagerSecrets]) {
        return None;
    }
    let client = aws_sdk_secretsmanager::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "secretsmanager",
        "ListSecrets",
        Some(region),
        client.list_secrets().into_paginator().send(),
    )
    .await;
    let secrets: Vec<Secret> = match listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.secret_list())
            .map(|s| Secret {
                name: s.name().unwrap_or_default().to_owned(),
                arn: s.arn().unwrap_or_default().to_owned(),
                rotation_enabled: s.rotation_enabled().unwrap_or(false),
                last_rotated: s
                    .last_rotated_date()
                    .and_then(|d| chrono::DateTime::from_timestamp(d.secs(), 0)),
                owning_service: s.owning_service().map(str::to_owned),
                primary_region: s.primary_region().map(str::to_owned),
                policy: Err(FactError::not_collected(
                    "secretsmanager",
                    "GetResourcePolicy",
                )),
            })
            .collect()
    }) {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    if !needs.contains(&Need::SecretsManagerPolicies) {
        return Some(Ok(secrets));
    }
    let client = &client;
    Some(Ok(stream::iter(secrets)
        .map(|mut s| async move {
            s.policy = call(
                c.recorder,
                "secretsmanager",
                "GetResourcePolicy",
                Some(region),
                client.get_resource_policy().secret_id(&s.arn).send(),
            )
            .await
            .map(|o| o.resource_policy().map(str::to_owned));
            s
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await))
}
