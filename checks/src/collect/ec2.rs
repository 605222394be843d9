//! EC2: security groups of one region.

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{Need, Permission, SecurityGroup};
use aws_sdk_ec2::types::IpPermission;
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<SecurityGroup>>> {
    if !wants(needs, &[Need::Ec2SecurityGroups]) {
        return None;
    }
    let ec2 = aws_sdk_ec2::Client::new(&c.in_region(region));
    let stream = ec2.describe_security_groups().into_paginator().send();
    let result = pages(
        c.recorder,
        "ec2",
        "DescribeSecurityGroups",
        Some(region),
        stream,
    )
    .await
    .map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.security_groups())
            .map(|g| {
                let id = g.group_id().unwrap_or_default().to_owned();
                SecurityGroup {
                    arn: g
                        .security_group_arn()
                        .map(str::to_owned)
                        .unwrap_or_else(|| {
                            format!("arn:aws:ec2:{region}:{}:security-group/{id}", c.account_id)
                        }),
                    id,
                    name: g.group_name().unwrap_or_default().to_owned(),
                    vpc_id: g.vpc_id().map(str::to_owned),
                    ingress: g.ip_permissions().iter().map(permission).collect(),
                    egress: g.ip_permissions_egress().iter().map(permission).collect(),
                }
            })
            .collect()
    });
    Some(result)
}

fn permission(p: &IpPermission) -> Permission {
    Permission {
        protocol: p.ip_protocol().unwrap_or("-1").to_owned(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ipv4_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_owned))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6().map(str::to_owned))
            .collect(),
    }
}
