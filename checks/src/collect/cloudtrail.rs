//! CloudTrail: the trails every audited region lists (shadow copies included, so that organization
//! trails of the management account are seen), each trail once, with its logging status read once
//! by ARN in the trail's home region when that region is audited.

use super::{call, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{CloudTrailFacts, Need, Trail};
use std::collections::{BTreeMap, BTreeSet};

fn client(c: &Collector<'_>, region: &str) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(&c.in_region(region))
}

pub(super) async fn collect(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
) -> Option<Fact<CloudTrailFacts>> {
    if !wants(needs, &[Need::CloudTrailTrails]) {
        return None;
    }
    let clients: BTreeMap<&str, aws_sdk_cloudtrail::Client> = c
        .regions
        .iter()
        .map(|r| (r.as_str(), client(c, r)))
        .collect();
    let listings = futures::future::join_all(c.regions.iter().map(|region| {
        let ct = &clients[region.as_str()];
        async move {
            let out = call(
                c.recorder,
                "cloudtrail",
                "DescribeTrails",
                Some(region),
                ct.describe_trails().include_shadow_trails(true).send(),
            )
            .await;
            (region.as_str(), out)
        }
    }))
    .await;

    let mut facts = CloudTrailFacts::default();
    // ARN → (trail, the region to ask for its status).
    let mut unique: BTreeMap<String, (Trail, &str)> = BTreeMap::new();
    for (region, listing) in listings {
        match listing {
            Err(e) => facts.listing_errors.push(e),
            Ok(out) => {
                for t in out.trail_list() {
                    let arn = t.trail_arn().unwrap_or_default().to_owned();
                    let home = t.home_region().unwrap_or(region).to_owned();
                    let ask = if clients.contains_key(home.as_str()) {
                        clients
                            .get_key_value(home.as_str())
                            .map(|(k, _)| *k)
                            .unwrap_or(region)
                    } else {
                        region
                    };
                    unique.entry(arn.clone()).or_insert_with(|| {
                        (
                            Trail {
                                name: t.name().unwrap_or_default().to_owned(),
                                arn,
                                home_region: home,
                                multi_region: t.is_multi_region_trail().unwrap_or(false),
                                organization_trail: t.is_organization_trail().unwrap_or(false),
                                s3_bucket: t.s3_bucket_name().map(str::to_owned),
                                kms_key_id: t.kms_key_id().map(str::to_owned),
                                log_file_validation: t
                                    .log_file_validation_enabled()
                                    .unwrap_or(false),
                                is_logging: Ok(false),
                            },
                            ask,
                        )
                    });
                }
            }
        }
    }
    let clients = &clients;
    facts.trails =
        futures::future::join_all(unique.into_values().map(|(mut trail, region)| async move {
            let status = call(
                c.recorder,
                "cloudtrail",
                "GetTrailStatus",
                Some(region),
                clients[region].get_trail_status().name(&trail.arn).send(),
            )
            .await;
            trail.is_logging = status.map(|s| s.is_logging().unwrap_or(false));
            trail
        }))
        .await;
    Some(Ok(facts))
}
