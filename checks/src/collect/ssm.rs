//! Systems Manager: the managed nodes of one region (`DescribeInstanceInformation`) with their
//! patch compliance (`ListResourceComplianceSummaries` filtered to the `Patch` compliance type:
//! one listing for all nodes, not one call per node).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{ManagedInstance, Need, PatchCompliance};
use aws_sdk_ssm::types::{ComplianceQueryOperatorType, ComplianceStringFilter};
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<ManagedInstance>>> {
    if !wants(needs, &[Need::SsmPatchCompliance]) {
        return None;
    }
    let client = aws_sdk_ssm::Client::new(&c.in_region(region));
    Some(instances(c, &client, region).await)
}

async fn instances(
    c: &Collector<'_>,
    client: &aws_sdk_ssm::Client,
    region: &str,
) -> Fact<Vec<ManagedInstance>> {
    let rec = c.recorder;
    let filter = ComplianceStringFilter::builder()
        .key("ComplianceType")
        .values("Patch")
        .r#type(ComplianceQueryOperatorType::Equal)
        .build();
    let (nodes, summaries) = tokio::join!(
        pages(
            rec,
            "ssm",
            "DescribeInstanceInformation",
            Some(region),
            client
                .describe_instance_information()
                .into_paginator()
                .send(),
        ),
        pages(
            rec,
            "ssm",
            "ListResourceComplianceSummaries",
            Some(region),
            client
                .list_resource_compliance_summaries()
                .filters(filter)
                .into_paginator()
                .send(),
        )
    );
    let patch: BTreeMap<String, PatchCompliance> = summaries?
        .iter()
        .flat_map(|p| p.resource_compliance_summary_items())
        .filter(|i| i.compliance_type() == Some("Patch"))
        .filter_map(|i| {
            let severity = i.non_compliant_summary().and_then(|n| n.severity_summary());
            Some((
                i.resource_id()?.to_owned(),
                PatchCompliance {
                    status: i
                        .status()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    non_compliant: i
                        .non_compliant_summary()
                        .map_or(0, |n| n.non_compliant_count()),
                    critical: severity.map_or(0, |s| s.critical_count()),
                    high: severity.map_or(0, |s| s.high_count()),
                },
            ))
        })
        .collect();
    Ok(nodes?
        .iter()
        .flat_map(|p| p.instance_information_list())
        .filter_map(|n| {
            let id = n.instance_id()?.to_owned();
            Some(ManagedInstance {
                patch: patch.get(&id).cloned(),
                ping_status: n
                    .ping_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                id,
            })
        })
        .collect())
}
