//! WAFv2: the web ACL of each internet-facing application load balancer of one region, read with
//! `GetWebACLForResource` per load balancer (bounded by `PER_RESOURCE_CONCURRENCY`).
//!
//! Asking per load balancer, rather than listing web ACLs and their resources
//! (`ListResourcesForWebACL`), costs one call per public ALB instead of one per ACL, and is what
//! emulators implement (moto 5.2.5 lacks `ListResourcesForWebACL`). CloudFront distributions carry
//! their web ACL in the distribution itself, so they need no WAF call.

use super::{call_or_absent, wants, Collector, PER_RESOURCE_CONCURRENCY};
use crate::facts::Fact;
use crate::snapshot::{LoadBalancer, Need};
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
