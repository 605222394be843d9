//! Elastic Load Balancing (Classic Load Balancers) of one region, with their listeners: one
//! `DescribeLoadBalancers` listing (it carries the listeners).

use super::{pages, wants, Collector};
use crate::facts::Fact;
use crate::snapshot::{ClassicListener, ClassicLoadBalancer, Need};
use std::collections::BTreeSet;

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<ClassicLoadBalancer>>> {
    if !wants(needs, &[Need::ElbClassicListeners]) {
        return None;
    }
    let elb = aws_sdk_elasticloadbalancing::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        "elb",
        "DescribeLoadBalancers",
        Some(region),
        elb.describe_load_balancers().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.load_balancer_descriptions())
            .map(|lb| {
                let name = lb.load_balancer_name().unwrap_or_default().to_owned();
                ClassicLoadBalancer {
                    arn: format!(
                        "arn:aws:elasticloadbalancing:{region}:{}:loadbalancer/{name}",
                        c.account_id
                    ),
                    scheme: lb.scheme().unwrap_or("internet-facing").to_owned(),
                    listeners: lb
                        .listener_descriptions()
                        .iter()
                        .filter_map(|d| d.listener())
                        .map(|l| ClassicListener {
                            protocol: l.protocol().to_ascii_uppercase(),
                            port: l.load_balancer_port(),
                            instance_protocol: l.instance_protocol().map(str::to_ascii_uppercase),
                        })
                        .collect(),
                    name,
                }
            })
            .collect()
    }))
}
