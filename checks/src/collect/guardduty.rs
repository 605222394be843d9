//! GuardDuty: the detectors of one region and each detector's status and protection plans
//! (`Features`, from the same `GetDetector` answer).

use super::{call, pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{GuardDutyDetector, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<GuardDutyDetector>>> {
    if !wants(needs, &[Need::GuardDutyDetectors]) {
        return None;
    }
    let client = aws_sdk_guardduty::Client::new(&c.in_region(region));
    Some(detectors(c, &client, region).await)
}

async fn detectors(
    c: &Collector<'_>,
    client: &aws_sdk_guardduty::Client,
    region: &str,
) -> Fact<Vec<GuardDutyDetector>> {
    let listing = pages(
        c.recorder,
        "guardduty",
        "ListDetectors",
        Some(region),
        client.list_detectors().into_paginator().send(),
    )
    .await?;
    let ids: Vec<String> = listing
        .iter()
        .flat_map(|p| p.detector_ids())
        .cloned()
        .collect();
    // A region has at most one detector per account: no concurrency bound needed.
    Ok(
        futures::future::join_all(ids.into_iter().map(|id| async move {
            let out = call(
                c.recorder,
                "guardduty",
                "GetDetector",
                Some(region),
                client.get_detector().detector_id(&id).send(),
            )
            .await;
            GuardDutyDetector {
                status: out.as_ref().map_err(Clone::clone).map(|o| {
                    o.status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default()
                }),
                features: out.map(|o| {
                    o.features()
                        .iter()
                        .filter_map(|f| {
                            Some((
                                f.name()?.as_str().to_owned(),
                                f.status()?.as_str().to_owned(),
                            ))
                        })
                        .collect()
                }),
                id,
            }
        }))
        .await,
    )
}
