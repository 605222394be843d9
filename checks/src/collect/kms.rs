//! KMS: the keys of one region, each key's description (`DescribeKey`: manager, spec, state,
//! origin, multi-Region type) and, for the keys whose rotation the owner controls
//! ([`KmsKey::rotatable`]) only, its rotation status. Per-key calls are bounded
//! by `PER_RESOURCE_CONCURRENCY`; AWS-managed keys cost one `DescribeKey` and nothing more.

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::{Fact, FactError};
use crate::snapshot::{KmsKey, Need};
use futures::stream::{self, StreamExt};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<KmsKey>>> {
    if !wants(needs, &[Need::KmsKeys]) {
        return None;
    }
    let client = aws_sdk_kms::Client::new(&c.in_region(region));
    let policies = needs.contains(&Need::KmsKeyPolicies);
    Some(keys(c, &client, region, policies).await)
}

async fn keys(
    c: &Collector<'_>,
    client: &aws_sdk_kms::Client,
    region: &str,
    policies: bool,
) -> Fact<Vec<KmsKey>> {
    let rec = c.recorder;
    let listing = pages(
        rec,
        "kms",
        "ListKeys",
        Some(region),
        client.list_keys().into_paginator().send(),
    )
    .await?;
    let keys: Vec<(String, String)> = listing
        .iter()
        .flat_map(|p| p.keys())
        .map(|k| {
            (
                k.key_id().unwrap_or_default().to_owned(),
                k.key_arn().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    Ok(stream::iter(keys)
        .map(|(id, arn)| async move {
            let described = call(
                rec,
                "kms",
                "DescribeKey",
                Some(region),
                client.describe_key().key_id(&id).send(),
            )
            .await;
            let meta = described.map(|o| o.key_metadata().cloned());
            let field =
                |f: fn(&aws_sdk_kms::types::KeyMetadata) -> Option<String>| -> Fact<String> {
                    match &meta {
                        Err(e) => Err(e.clone()),
                        Ok(m) => Ok(m.as_ref().and_then(f).unwrap_or_default()),
                    }
                };
            let mut key = KmsKey {
                manager: field(|m| m.key_manager().map(|v| v.as_str().to_owned())),
                spec: field(|m| m.key_spec().map(|v| v.as_str().to_owned())),
                state: field(|m| m.key_state().map(|v| v.as_str().to_owned())),
                origin: field(|m| m.origin().map(|v| v.as_str().to_owned())),
                replica: field(|m| {
                    m.multi_region_configuration()
                        .and_then(|c| c.multi_region_key_type())
                        .map(|t| t.as_str().to_owned())
                })
                .map(|t| t == "REPLICA"),
                rotation_enabled: Err(FactError::not_collected("kms", "GetKeyRotationStatus")),
                policy: Err(FactError::not_collected("kms", "GetKeyPolicy")),
                id,
                arn,
            };
            if policies && key.manager.as_deref() == Ok("CUSTOMER") {
                key.policy = call(
                    rec,
                    "kms",
                    "GetKeyPolicy",
                    Some(region),
                    client
                        .get_key_policy()
                        .key_id(&key.id)
                        .policy_name("default")
                        .send(),
                )
                .await
                .map(|o| o.policy().unwrap_or_default().to_owned());
            }
            if key.rotatable() == Ok(true) {
                key.rotation_enabled = call(
                    rec,
                    "kms",
                    "GetKeyRotationStatus",
                    Some(region),
                    client.get_key_rotation_status().key_id(&key.id).send(),
                )
                .await
                .map(|o| o.key_rotation_enabled());
            }
            key
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await)
}
