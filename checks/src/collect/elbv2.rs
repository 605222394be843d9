//! ELBv2: target groups and load balancers of one region, their listeners, and the rules of HTTP listeners (only HTTP
//! listeners need their rules judged, so only they cost a `DescribeRules` call).

use super::{call, pages, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{
    Listener, ListenerAction, ListenerRule, LoadBalancer, Need, SecurityHeaders, TargetGroup,
};
use aws_sdk_elasticloadbalancingv2::types::Action;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

const SERVICE: &str = "elasticloadbalancing";

pub(super) async fn collect(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<LoadBalancer>>> {
    if !wants(needs, &[Need::Elbv2Listeners]) {
        return None;
    }
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.in_region(region));
    Some(load_balancers(c, &elb, region).await)
}

/// The target groups of one region with their protocols.
pub(super) async fn target_groups(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
) -> Option<Fact<Vec<TargetGroup>>> {
    if !wants(needs, &[Need::Elbv2TargetGroups]) {
        return None;
    }
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&c.in_region(region));
    let listing = pages(
        c.recorder,
        SERVICE,
        "DescribeTargetGroups",
        Some(region),
        elb.describe_target_groups().into_paginator().send(),
    )
    .await;
    Some(listing.map(|pages| {
        pages
            .iter()
            .flat_map(|p| p.target_groups())
            .map(|t| TargetGroup {
                arn: t.target_group_arn().unwrap_or_default().to_owned(),
                name: t.target_group_name().unwrap_or_default().to_owned(),
                protocol: t.protocol().map(|p| p.as_str().to_owned()),
                target_type: t
                    .target_type()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            })
            .collect()
    }))
}

fn action(a: &Action) -> ListenerAction {
    ListenerAction {
        kind: a
            .r#type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        redirect_protocol: a
            .redirect_config()
            .and_then(|r| r.protocol())
            .map(str::to_owned),
    }
}

async fn load_balancers(
    c: &Collector<'_>,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    region: &str,
) -> Fact<Vec<LoadBalancer>> {
    let rec = c.recorder;
    let listing = pages(
        rec,
        SERVICE,
        "DescribeLoadBalancers",
        Some(region),
        elb.describe_load_balancers().into_paginator().send(),
    )
    .await?;
    let lbs: Vec<LoadBalancer> = listing
        .iter()
        .flat_map(|p| p.load_balancers())
        .map(|lb| LoadBalancer {
            arn: lb.load_balancer_arn().unwrap_or_default().to_owned(),
            name: lb.load_balancer_name().unwrap_or_default().to_owned(),
            kind: lb
                .r#type()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            scheme: lb
                .scheme()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            listeners: Ok(vec![]),
        })
        .collect();
    let out = stream::iter(lbs)
        .map(|mut lb| async move {
            let stream = elb
                .describe_listeners()
                .load_balancer_arn(&lb.arn)
                .into_paginator()
                .send();
            lb.listeners =
                match pages(rec, SERVICE, "DescribeListeners", Some(region), stream).await {
                    Err(e) => Err(e),
                    Ok(pages) => {
                        let mut listeners = Vec::new();
                        for l in pages.iter().flat_map(|p| p.listeners()) {
                            let protocol = l
                                .protocol()
                                .map(|p| p.as_str().to_owned())
                                .unwrap_or_default();
                            let arn = l.listener_arn().unwrap_or_default().to_owned();
                            let rules = if protocol == "HTTP" {
                                rules(c, elb, region, &arn).await
                            } else {
                                Err(crate::facts::FactError::not_collected(
                                    SERVICE,
                                    "DescribeRules",
                                ))
                            };
                            listeners.push(Listener {
                                arn,
                                port: l.port(),
                                protocol,
                                ssl_policy: l.ssl_policy().map(str::to_owned),
                                default_actions: l.default_actions().iter().map(action).collect(),
                                rules,
                            });
                        }
                        Ok(listeners)
                    }
                };
            lb
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    Ok(out)
}

async fn rules(
    c: &Collector<'_>,
    elb: &aws_sdk_elasticloadbalancingv2::Client,
    region: &str,
    listener_arn: &str,
) -> Fact<Vec<ListenerRule>> {
    let stream = elb
        .describe_rules()
        .listener_arn(listener_arn)
        .into_paginator()
        .send();
    let pages = pages(c.recorder, SERVICE, "DescribeRules", Some(region), stream).await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.rules())
        .map(|r| ListenerRule {
            arn: r.rule_arn().unwrap_or_default().to_owned(),
            is_default: r.is_default().unwrap_or(false),
            actions: r.actions().iter().map(action).collect(),
        })
        .collect())
}

/// The security headers that each HTTPS listener of the internet-facing application load
/// balancers `lbs` adds to responses (`DescribeListenerAttributes` per listener: AWS has no call
/// that lists them), by listener ARN. Listeners of a load balancer whose listeners could not be
/// read are left out: the load balancer's own error stands for them.
pub(super) async fn listener_headers(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
    lbs: &[LoadBalancer],
) -> Option<Fact<BTreeMap<String, Fact<SecurityHeaders>>>> {
    if !wants(needs, &[Need::Elbv2ListenerAttributes]) {
        return None;
    }
    let elb = &aws_sdk_elasticloadbalancingv2::Client::new(&c.in_region(region));
    let arns: Vec<String> = lbs
        .iter()
        .filter(|lb| lb.scheme == "internet-facing" && lb.kind == "application")
        .filter_map(|lb| lb.listeners.as_ref().ok())
        .flatten()
        .filter(|l| l.protocol == "HTTPS")
        .map(|l| l.arn.clone())
        .collect();
    let headers = stream::iter(arns)
        .map(|arn| async move {
            let out = call(
                c.recorder,
                SERVICE,
                "DescribeListenerAttributes",
                Some(region),
                elb.describe_listener_attributes().listener_arn(&arn).send(),
            )
            .await;
            let headers = out.map(|o| {
                let value = |key: &str| {
                    o.attributes()
                        .iter()
                        .find(|a| a.key() == Some(key))
                        .and_then(|a| a.value())
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned)
                };
                SecurityHeaders {
                    strict_transport_security: value(
                        "routing.http.response.strict_transport_security.header_value",
                    ),
                    content_type_options: value(
                        "routing.http.response.x_content_type_options.header_value",
                    ),
                    frame_options: value("routing.http.response.x_frame_options.header_value"),
                    content_security_policy: value(
                        "routing.http.response.content_security_policy.header_value",
                    ),
                }
            });
            (arn, headers)
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    Some(Ok(headers))
}
