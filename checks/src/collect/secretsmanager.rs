//! Secrets Manager: the secrets of one region (the listing carries their rotation settings).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Need, Secret};
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
    Some(listing.map(|pages| {
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
            })
            .collect()
    }))
}
