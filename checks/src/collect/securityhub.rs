//! Security Hub: whether it is enabled in one region (`DescribeHub`), which standards are
//! enabled there (`GetEnabledStandards`) and, when a check needs them, which products' findings
//! it imports (`ListEnabledProductsForImport`). A region where Security Hub is not enabled answers
//! `InvalidAccessException` (or `ResourceNotFoundException`): that is "not enabled", not an error.

use super::{call_or_absent, pages, wants, Collector};
use crate::facts::{Fact, FactError};
use crate::snapshot::{Need, SecurityHubState};
use aws_sdk_securityhub::types::StandardsStatus;
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Option<SecurityHubState>>> {
    if !wants(needs, &[Need::SecurityHub, Need::SecurityHubProducts]) {
        return None;
    }
    let client = aws_sdk_securityhub::Client::new(&c.in_region(region));
    let products = needs.contains(&Need::SecurityHubProducts);
    Some(hub(c, &client, region, products).await)
}

async fn hub(
    c: &Collector<'_>,
    client: &aws_sdk_securityhub::Client,
    region: &str,
    products: bool,
) -> Fact<Option<SecurityHubState>> {
    let Some(hub) = call_or_absent(
        c.recorder,
        "securityhub",
        "DescribeHub",
        Some(region),
        &["InvalidAccessException", "ResourceNotFoundException"],
        client.describe_hub().send(),
    )
    .await?
    else {
        return Ok(None);
    };
    let standards = async {
        pages(
            c.recorder,
            "securityhub",
            "GetEnabledStandards",
            Some(region),
            client.get_enabled_standards().into_paginator().send(),
        )
        .await
        .map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.standards_subscriptions())
                .filter(|s| {
                    matches!(
                        s.standards_status(),
                        Some(StandardsStatus::Ready | StandardsStatus::Pending)
                    )
                })
                .filter_map(|s| s.standards_arn().map(str::to_owned))
                .collect()
        })
    };
    let imports = async {
        if !products {
            return Err(FactError::not_collected(
                "securityhub",
                "ListEnabledProductsForImport",
            ));
        }
        pages(
            c.recorder,
            "securityhub",
            "ListEnabledProductsForImport",
            Some(region),
            client
                .list_enabled_products_for_import()
                .into_paginator()
                .send(),
        )
        .await
        .map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.product_subscriptions())
                .map(|arn| product_of_subscription(arn))
                .collect()
        })
    };
    let (standards, import_products) = tokio::join!(standards, imports);
    Ok(Some(SecurityHubState {
        hub_arn: hub.hub_arn().unwrap_or_default().to_owned(),
        enabled_standards: standards,
        import_products,
    }))
}

/// `company/product` of a product subscription ARN
/// (`arn:aws:securityhub:REGION:ACCOUNT:product-subscription/aws/inspector` → `aws/inspector`);
/// the ARN itself when it has no such path.
fn product_of_subscription(arn: &str) -> String {
    arn.split_once(":product-subscription/")
        .map(|(_, p)| p)
        .unwrap_or(arn)
        .to_owned()
}

#[cfg(test)]
mod tests {
    /// Subscription ARNs name the product by its company and name, as product ARNs do.
    #[test]
    fn names_products_of_subscriptions() {
        assert_eq!(
            super::product_of_subscription(
                "arn:aws:securityhub:eu-west-1:111122223333:product-subscription/aws/inspector"
            ),
            "aws/inspector"
        );
        assert_eq!(super::product_of_subscription("weird"), "weird");
    }
}
