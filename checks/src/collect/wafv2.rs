//! WAFv2: the web ACL of each internet-facing application load balancer of one region, read with
//! `GetWebACLForResource` per load balancer (bounded by `PER_RESOURCE_CONCURRENCY`).
//!
//! Asking per load balancer, rather than listing web ACLs and their resources
//! (`ListResourcesForWebACL`), costs one call per public ALB instead of one per ACL, and is what
//! emulators implement (moto 5.2.5 lacks `ListResourcesForWebACL`). CloudFront distributions carry
//! their web ACL in the distribution itself, so they need no WAF call. The rules of the web ACLs
//! found so are read with `GetWebACL`, once per ACL.

use super::{call, call_or_absent, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::{ErrorKind, Fact, FactError};
use crate::snapshot::{LoadBalancer, Need, WafRule, WafRuleKind, WebAcl};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

pub(super) async fn load_balancer_acls(
    c: &Collector<'_>,
    region: &str,
    needs: &BTreeSet<Need>,
    lbs: &[LoadBalancer],
) -> Option<Fact<BTreeMap<String, Fact<Option<String>>>>> {
    if !wants(needs, &[Need::Wafv2LoadBalancerAcls]) {
        return None;
    }
    let client = &aws_sdk_wafv2::Client::new(&c.in_region(region));
    // Owned ARNs: a stream over borrowed load balancers would make the future's `Send` bound
    // higher-ranked, which the daemon's spawned audits cannot satisfy.
    let public: Vec<String> = lbs
        .iter()
        .filter(|lb| lb.scheme == "internet-facing" && lb.kind == "application")
        .map(|lb| lb.arn.clone())
        .collect();
    let acls = stream::iter(public)
        .map(|arn| async move {
            let out = call_or_absent(
                c.recorder,
                "wafv2",
                "GetWebACLForResource",
                Some(region),
                &["WAFNonexistentItemException"],
                client.get_web_acl_for_resource().resource_arn(&arn).send(),
            )
            .await;
            let acl = out.map(|o| o.and_then(|o| o.web_acl().map(|w| w.arn().to_owned())));
            (arn, acl)
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    Some(Ok(acls))
}

/// The rules of every WAFv2 web ACL that `acls` name (`GetWebACL` per ACL, its name, scope and id
/// taken from the ARN: `arn:aws:wafv2:REGION:ACCOUNT:regional/webacl/NAME/ID`, or `global/…` for
/// CloudFront's, read in us-east-1), by ARN.
pub(super) async fn web_acls(
    c: &Collector<'_>,
    acls: BTreeSet<String>,
) -> BTreeMap<String, Fact<WebAcl>> {
    stream::iter(acls)
        .map(|arn| async move {
            let parts: Vec<&str> = arn.split(':').collect();
            let path: Vec<&str> = parts
                .get(5)
                .copied()
                .unwrap_or_default()
                .split('/')
                .collect();
            let (region, scope) = match (parts.get(3), path.first()) {
                (_, Some(&"global")) => ("us-east-1", aws_sdk_wafv2::types::Scope::Cloudfront),
                (Some(r), Some(&"regional")) => (*r, aws_sdk_wafv2::types::Scope::Regional),
                _ => {
                    let e = FactError::new(
                        "wafv2",
                        "GetWebACL",
                        None,
                        ErrorKind::Other,
                        format!("{arn} is not a WAFv2 web ACL ARN"),
                    );
                    return (arn, Err(e));
                }
            };
            let (name, id) = (
                path.get(2).copied().unwrap_or_default(),
                path.get(3).copied().unwrap_or_default(),
            );
            let client = aws_sdk_wafv2::Client::new(&c.in_region(region));
            let out = call(
                c.recorder,
                "wafv2",
                "GetWebACL",
                Some(region),
                client.get_web_acl().name(name).id(id).scope(scope).send(),
            )
            .await;
            let acl = out.and_then(|o| {
                let w = o.web_acl().ok_or_else(|| {
                    FactError::new(
                        "wafv2",
                        "GetWebACL",
                        Some(region),
                        ErrorKind::Other,
                        "the answer has no web ACL",
                    )
                })?;
                let group = |name: &str,
                             s: Option<&aws_sdk_wafv2::types::ManagedRuleGroupStatement>,
                             count: bool| WafRule {
                    name: name.to_owned(),
                    kind: match s {
                        Some(m) => WafRuleKind::ManagedGroup {
                            vendor: m.vendor_name().to_owned(),
                            name: m.name().to_owned(),
                        },
                        None => WafRuleKind::Other,
                    },
                    enforced: !count,
                };
                let counts = |o: Option<&aws_sdk_wafv2::types::OverrideAction>| {
                    o.is_some_and(|o| o.count().is_some())
                };
                let mut rules: Vec<WafRule> = w
                    .pre_process_firewall_manager_rule_groups()
                    .iter()
                    .chain(w.post_process_firewall_manager_rule_groups())
                    .map(|g| {
                        group(
                            g.name(),
                            g.firewall_manager_statement()
                                .and_then(|s| s.managed_rule_group_statement()),
                            counts(g.override_action()),
                        )
                    })
                    .collect();
                rules.extend(w.rules().iter().map(|r| {
                    let statement = r.statement();
                    if let Some(m) = statement.and_then(|s| s.managed_rule_group_statement()) {
                        return group(r.name(), Some(m), counts(r.override_action()));
                    }
                    let acts = r.action().is_some_and(|a| {
                        a.block().is_some() || a.captcha().is_some() || a.challenge().is_some()
                    });
                    let group_counts = r.override_action().is_some_and(|o| o.count().is_some());
                    WafRule {
                        name: r.name().to_owned(),
                        kind: if statement.and_then(|s| s.rate_based_statement()).is_some() {
                            WafRuleKind::RateBased
                        } else {
                            WafRuleKind::Other
                        },
                        enforced: acts
                            || (r.action().is_none()
                                && !group_counts
                                && r.override_action().is_some()),
                    }
                }));
                Ok(WebAcl {
                    name: w.name().to_owned(),
                    rules,
                })
            });
            (arn, acl)
        })
        .buffered(PER_RESOURCE_CONCURRENCY)
        .collect()
        .await
}
