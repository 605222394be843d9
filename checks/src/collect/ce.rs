//! Cost Explorer: the account's cost anomaly monitors and their alert subscriptions. Cost
//! Explorer is global: read once per account, in us-east-1 (its only endpoint).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{AnomalySubscription, CostAnomalyDetection, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    needs: &BTreeSet<Need>,
) -> Option<Fact<CostAnomalyDetection>> {
    if !wants(needs, &[Need::CostAnomalyDetection]) {
        return None;
    }
    Some(read(c).await)
}

async fn read(c: &Collector<'_>) -> Fact<CostAnomalyDetection> {
    let client = aws_sdk_costexplorer::Client::new(&c.in_region("us-east-1"));
    let monitors = pages(
        c.recorder,
        "ce",
        "GetAnomalyMonitors",
        None,
        client.get_anomaly_monitors().into_paginator().send(),
    )
    .await?;
    let subscriptions = pages(
        c.recorder,
        "ce",
        "GetAnomalySubscriptions",
        None,
        client.get_anomaly_subscriptions().into_paginator().send(),
    )
    .await?;
    Ok(CostAnomalyDetection {
        monitors: monitors
            .iter()
            .flat_map(|p| p.anomaly_monitors())
            .map(|m| {
                (
                    m.monitor_arn().unwrap_or_default().to_owned(),
                    m.monitor_name().to_owned(),
                )
            })
            .collect(),
        subscriptions: subscriptions
            .iter()
            .flat_map(|p| p.anomaly_subscriptions())
            .map(|s| AnomalySubscription {
                name: s.subscription_name().to_owned(),
                monitors: s.monitor_arn_list().to_vec(),
                subscribers: s
                    .subscribers()
                    .iter()
                    .filter(|x| x.status().map(|s| s.as_str()) != Some("DECLINED"))
                    .map(|x| {
                        let kind = x.r#type().map(|t| t.as_str()).unwrap_or("?");
                        format!("{kind} {}", x.address().unwrap_or_default())
                    })
                    .collect(),
            })
            .collect(),
    })
}
