//! Cost Explorer: the account's cost anomaly monitors and their alert subscriptions. Cost
//! Explorer is global: read once per account, in us-east-1 (its only endpoint). The SDK has no
//! paginators for these calls: `NextPageToken` is followed by hand.

use super::{call, wants, Collector};
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
    let mut facts = CostAnomalyDetection::default();
    let mut token: Option<String> = None;
    loop {
        let out = call(
            c.recorder,
            "ce",
            "GetAnomalyMonitors",
            None,
            client
                .get_anomaly_monitors()
                .set_next_page_token(token.clone())
                .send(),
        )
        .await?;
        facts
            .monitors
            .extend(out.anomaly_monitors().iter().map(|m| {
                (
                    m.monitor_arn().unwrap_or_default().to_owned(),
                    m.monitor_name().to_owned(),
                )
            }));
        token = out
            .next_page_token()
            .map(str::to_owned)
            .filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    loop {
        let out = call(
            c.recorder,
            "ce",
            "GetAnomalySubscriptions",
            None,
            client
                .get_anomaly_subscriptions()
                .set_next_page_token(token.clone())
                .send(),
        )
        .await?;
        facts
            .subscriptions
            .extend(out.anomaly_subscriptions().iter().map(|s| {
                AnomalySubscription {
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
                }
            }));
        token = out
            .next_page_token()
            .map(str::to_owned)
            .filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    Ok(facts)
}
