//! S3: the bucket list (global), each bucket's region, default encryption, public access block,
//! policy and versioning.
//! Per-bucket calls go to the bucket's own region, bounded by `PER_RESOURCE_CONCURRENCY`.

use super::{call, call_or_absent, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{Bucket, BucketEncryption, Need, PublicAccessBlock};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn collect(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<Bucket>>> {
    if !wants(needs, &[Need::S3Buckets]) {
        return None;
    }
    Some(buckets(c, needs).await)
}

fn client(c: &Collector<'_>, region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&c.in_region(region))
        .force_path_style(c.s3_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// `GetBucketLocation` answers an empty constraint for us-east-1 and `EU` for the oldest eu-west-1 buckets.
fn normalise_location(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(r) => r.to_owned(),
    }
}

async fn buckets(c: &Collector<'_>, needs: &BTreeSet<Need>) -> Fact<Vec<Bucket>> {
    let home = c
        .config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".to_owned());
    let global = client(c, &home);
    let listing = pages(
        c.recorder,
        "s3",
        "ListBuckets",
        None,
        global.list_buckets().into_paginator().send(),
    )
    .await?;
    let mut buckets: Vec<Bucket> = Vec::new();
    for page in &listing {
        for b in page.buckets() {
            let mut bucket = Bucket::new(b.name().unwrap_or_default());
            if let Some(r) = b.bucket_region() {
                bucket.region = Ok(r.to_owned());
            }
            buckets.push(bucket);
        }
    }
    // Regions the listing did not give (older endpoints and emulators omit BucketRegion).
    let global = &global;
    let located: Vec<Bucket> = stream::iter(buckets)
        .map(|mut b| async move {
            if b.region.is_err() {
                let answer = call(
                    c.recorder,
                    "s3",
                    "GetBucketLocation",
                    None,
                    global.get_bucket_location().bucket(&b.name).send(),
                )
                .await;
                b.region =
                    answer.map(|o| normalise_location(o.location_constraint().map(|l| l.as_str())));
            }
            b
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;

    let regions: BTreeSet<String> = located
        .iter()
        .filter_map(|b| b.region.as_ref().ok().cloned())
        .collect();
    let clients: BTreeMap<String, aws_sdk_s3::Client> = regions
        .into_iter()
        .map(|r| (r.clone(), client(c, &r)))
        .collect();
    let clients = &clients;
    let (want_enc, want_pab, want_policy, want_versioning) = (
        needs.contains(&Need::S3BucketEncryption),
        needs.contains(&Need::S3BucketPublicAccessBlock),
        needs.contains(&Need::S3BucketPolicy),
        needs.contains(&Need::S3BucketVersioning),
    );
    let judged = stream::iter(located)
        .map(|mut b| async move {
            let region = match &b.region {
                Ok(r) => r.clone(),
                Err(e) => {
                    // Without its region the bucket's settings cannot be read; say so per fact.
                    if want_enc {
                        b.encryption = Err(e.clone());
                    }
                    if want_pab {
                        b.public_access_block = Err(e.clone());
                    }
                    if want_policy {
                        b.policy = Err(e.clone());
                    }
                    if want_versioning {
                        b.versioning = Err(e.clone());
                    }
                    return b;
                }
            };
            let s3 = &clients[&region];
            let rec = c.recorder;
            let (enc, pab, policy, versioning) = tokio::join!(
                async {
                    if !want_enc {
                        return None;
                    }
                    let out = call_or_absent(
                        rec,
                        "s3",
                        "GetBucketEncryption",
                        Some(&region),
                        &["ServerSideEncryptionConfigurationNotFoundError"],
                        s3.get_bucket_encryption().bucket(&b.name).send(),
                    )
                    .await;
                    Some(out.map(|o| {
                        o.and_then(|o| {
                            let rule = o.server_side_encryption_configuration()?.rules().first()?;
                            let d = rule.apply_server_side_encryption_by_default()?;
                            Some(BucketEncryption {
                                algorithm: d.sse_algorithm().as_str().to_owned(),
                                kms_key_id: d.kms_master_key_id().map(str::to_owned),
                            })
                        })
                    }))
                },
                async {
                    if !want_pab {
                        return None;
                    }
                    let out = call_or_absent(
                        rec,
                        "s3",
                        "GetPublicAccessBlock",
                        Some(&region),
                        &["NoSuchPublicAccessBlockConfiguration"],
                        s3.get_public_access_block().bucket(&b.name).send(),
                    )
                    .await;
                    Some(out.map(|o| {
                        o.and_then(|o| {
                            o.public_access_block_configuration()
                                .map(|p| PublicAccessBlock {
                                    block_public_acls: p.block_public_acls().unwrap_or(false),
                                    ignore_public_acls: p.ignore_public_acls().unwrap_or(false),
                                    block_public_policy: p.block_public_policy().unwrap_or(false),
                                    restrict_public_buckets: p
                                        .restrict_public_buckets()
                                        .unwrap_or(false),
                                })
                        })
                    }))
                },
                async {
                    if !want_policy {
                        return None;
                    }
                    let out = call_or_absent(
                        rec,
                        "s3",
                        "GetBucketPolicy",
                        Some(&region),
                        &["NoSuchBucketPolicy"],
                        s3.get_bucket_policy().bucket(&b.name).send(),
                    )
                    .await;
                    Some(out.map(|o| o.and_then(|o| o.policy().map(str::to_owned))))
                },
                async {
                    if !want_versioning {
                        return None;
                    }
                    let out = call(
                        rec,
                        "s3",
                        "GetBucketVersioning",
                        Some(&region),
                        s3.get_bucket_versioning().bucket(&b.name).send(),
                    )
                    .await;
                    Some(out.map(|o| o.status().map(|s| s.as_str().to_owned())))
                },
            );
            if let Some(p) = policy {
                b.policy = p;
            }
            if let Some(v) = versioning {
                b.versioning = v;
            }
            if let Some(e) = enc {
                b.encryption = e;
            }
            if let Some(p) = pab {
                b.public_access_block = p;
            }
            b
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    Ok(judged)
}

#[cfg(test)]
mod tests {
    #[test]
    fn location_constraints_normalise_to_regions() {
        assert_eq!(super::normalise_location(None), "us-east-1");
        assert_eq!(super::normalise_location(Some("")), "us-east-1");
        assert_eq!(super::normalise_location(Some("EU")), "eu-west-1");
        assert_eq!(super::normalise_location(Some("ap-south-1")), "ap-south-1");
    }
}
