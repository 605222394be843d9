//! The web ACL of every public endpoint goes beyond the baseline: the baseline managed rule
//! groups, at least one more managed rule group, and a rate-based rule, all enforced.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::facts::{Fact, FactError};
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, WafRuleKind, WebAcl};
use std::collections::BTreeMap;

/// The AWS managed rule groups of the baseline (`wafv2_public_endpoints_protected`'s remediation).
const BASELINE: [&str; 2] = [
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
];

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "wafv2_web_acl_in_depth_rules",
        title: "Public endpoints' web ACLs enforce in-depth managed rules and rate limiting",
        practice: Practice::Network,
        severity: Severity::Low,
        activity: dsomm::WAF_MEDIUM,
        remediation: "In the web ACL of each internet-facing ALB and CloudFront distribution, \
                      enforce (override action None, not Count) AWSManagedRulesCommonRuleSet and \
                      AWSManagedRulesKnownBadInputsRuleSet, at least one rule group for the \
                      application's stack or threats (AWSManagedRulesSQLiRuleSet, \
                      AWSManagedRulesLinuxRuleSet, AWSManagedRulesAmazonIpReputationList, …), and \
                      a rate-based rule that blocks (aws wafv2 update-web-acl).",
        needs: &[Need::Wafv2WebAclRules],
        notes: "**Judges** the same public endpoints as `wafv2_public_endpoints_protected` (each \
internet-facing application load balancer of every audited region by `GetWebACLForResource`, \
each enabled CloudFront distribution by its `WebACLId`), reading each web ACL once \
(`GetWebACL`: its rules and Firewall Manager's pre- and post-process rule groups). An endpoint \
passes when its web ACL enforces both baseline groups (`AWSManagedRulesCommonRuleSet`, \
`AWSManagedRulesKnownBadInputsRuleSet`), at least one more managed rule group (AWS's or a \
Marketplace seller's), and a rate-based rule whose action is `Block`, `Captcha` or \
`Challenge`; it fails naming what is missing, and so does an endpoint without a WAFv2 web ACL. \
An association or web ACL that cannot be read is unknown; no public endpoint is \
not_applicable.\n\n\
**Edge cases**: a rule group whose override action is `Count`, and a rate-based rule that only \
counts, do not count; rules of a group overridden one by one (`RuleActionOverrides`) and \
scope-down statements are not judged, nor whether the groups fit the application (DSOMM's \
medium level asks for more than the baseline, tuned to the application: the owner picks which). \
A WAF Classic ACL fails, as in the baseline check. API Gateway, AppSync and Cognito endpoints are \
not judged.\n\n\
**Differs from Prowler / Security Hub**: Prowler's `wafv2_webacl_with_rules` and Security Hub \
WAF.10 only ask that a web ACL has a rule; ours asks for the baseline groups, one more group and \
rate limiting, enforced.",
        module: module_path!(),
    },
    evaluate,
};

/// What `acl` lacks of the medium level (empty when nothing).
fn missing(acl: &WebAcl) -> Vec<String> {
    let enforced_groups: Vec<(&str, &str)> = acl
        .rules
        .iter()
        .filter(|r| r.enforced)
        .filter_map(|r| match &r.kind {
            WafRuleKind::ManagedGroup { vendor, name } => Some((vendor.as_str(), name.as_str())),
            _ => None,
        })
        .collect();
    let mut out: Vec<String> = BASELINE
        .iter()
        .filter(|b| !enforced_groups.iter().any(|(v, n)| *v == "AWS" && n == *b))
        .map(|b| format!("{b} enforced"))
        .collect();
    if !enforced_groups
        .iter()
        .any(|(v, n)| !(*v == "AWS" && BASELINE.contains(n)))
    {
        out.push("a managed rule group beyond the baseline".to_owned());
    }
    if !acl
        .rules
        .iter()
        .any(|r| r.enforced && r.kind == WafRuleKind::RateBased)
    {
        out.push("a blocking rate-based rule".to_owned());
    }
    out
}

/// The verdict of one endpoint protected by WAFv2 web ACL `arn` (`None`: no web ACL).
fn judge(
    resource: &str,
    region: Option<&str>,
    label: &str,
    arn: Option<&str>,
    acls: &BTreeMap<String, Fact<WebAcl>>,
) -> Verdict {
    let Some(arn) = arn else {
        return Verdict::fail(resource, region, format!("{label} has no WAFv2 web ACL."));
    };
    let acl = match acls.get(arn) {
        Some(Ok(acl)) => acl,
        Some(Err(e)) => return super::unknown(resource, region, e),
        None => {
            return super::unknown(
                resource,
                region,
                &FactError::not_collected("wafv2", "GetWebACL"),
            )
        }
    };
    let m = missing(acl);
    if m.is_empty() {
        Verdict::pass(
            resource,
            region,
            format!(
                "{label}'s web ACL {} enforces the baseline groups, more managed rules and rate limiting.",
                acl.name
            ),
        )
    } else {
        Verdict::fail(
            resource,
            region,
            format!("{label}'s web ACL {} lacks {}.", acl.name, m.join(", ")),
        )
    }
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let acls = match &snap.web_acls {
        Err(e) => return vec![super::unknown(&snap.account_resource(), None, e)],
        Ok(a) => a,
    };
    let mut verdicts = super::per_region_value(
        snap,
        "internet-facing load balancers",
        |r| &r.load_balancer_web_acls,
        |region, associations| {
            associations
                .iter()
                .map(|(lb, acl)| {
                    let name = snap
                        .regional
                        .get(region)
                        .and_then(|r| r.load_balancers.as_ref().ok())
                        .and_then(|l| l.iter().find(|x| &x.arn == lb))
                        .map_or(lb.as_str(), |x| x.name.as_str());
                    let label = format!("Internet-facing load balancer {name}");
                    match acl {
                        Err(e) => super::unknown(lb, Some(region), e),
                        Ok(acl) => judge(lb, Some(region), &label, acl.as_deref(), acls),
                    }
                })
                .collect()
        },
    );
    match &snap.cloudfront {
        Err(e) => verdicts.push(super::unknown(
            &format!("CloudFront distributions of account {}", snap.account_id),
            None,
            e,
        )),
        Ok(ds) => {
            for d in ds.iter().filter(|d| d.enabled) {
                let label = format!("Distribution {} ({})", d.id, d.domain_name);
                let wafv2 = d
                    .web_acl_id
                    .as_deref()
                    .filter(|a| a.starts_with("arn:") && a.contains(":wafv2:"));
                verdicts.push(match (wafv2, d.web_acl_id.as_deref()) {
                    (None, Some(classic)) => Verdict::fail(
                        &d.arn,
                        None,
                        format!("{label} is protected only by WAF Classic web ACL {classic}; WAF Classic is retired."),
                    ),
                    (acl, _) => judge(&d.arn, None, &label, acl, acls),
                });
            }
        }
    }
    super::or_not_applicable(
        snap,
        verdicts,
        "internet-facing application load balancers or enabled CloudFront distributions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::WafRule;

    const ACL: &str = "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/edge/1";
    const LB: &str = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/1";

    fn group(name: &str, enforced: bool) -> WafRule {
        WafRule {
            name: name.into(),
            kind: WafRuleKind::ManagedGroup {
                vendor: "AWS".into(),
                name: name.into(),
            },
            enforced,
        }
    }

    fn rate(enforced: bool) -> WafRule {
        WafRule {
            name: "per-ip".into(),
            kind: WafRuleKind::RateBased,
            enforced,
        }
    }

    fn run(association: Fact<Option<String>>, acl: Option<Fact<WebAcl>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.cloudfront = Ok(vec![]);
        s.web_acls = Ok(acl.into_iter().map(|a| (ACL.to_owned(), a)).collect());
        s.regional.get_mut(REGION).unwrap().load_balancer_web_acls =
            Ok([(LB.to_owned(), association)].into_iter().collect());
        evaluate(&s, &Settings::default())
    }

    fn acl(rules: Vec<WafRule>) -> Option<Fact<WebAcl>> {
        Some(Ok(WebAcl {
            name: "edge".into(),
            rules,
        }))
    }

    #[test]
    fn passes_baseline_more_groups_and_rate_limiting_enforced() {
        let v = run(
            Ok(Some(ACL.into())),
            acl(vec![
                group("AWSManagedRulesCommonRuleSet", true),
                group("AWSManagedRulesKnownBadInputsRuleSet", true),
                group("AWSManagedRulesSQLiRuleSet", true),
                rate(true),
            ]),
        );
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Pass, "{}", v[0].reason);
        assert_eq!(
            v[0].reason,
            "Internet-facing load balancer arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/1's web ACL edge enforces the baseline groups, more managed rules and rate limiting."
        );
    }

    #[test]
    fn fails_count_only_missing_rules_or_no_acl() {
        let v = run(
            Ok(Some(ACL.into())),
            acl(vec![
                group("AWSManagedRulesCommonRuleSet", true),
                group("AWSManagedRulesKnownBadInputsRuleSet", false),
                group("AWSManagedRulesSQLiRuleSet", false),
                rate(false),
            ]),
        );
        assert_eq!(v[0].status, Status::Fail);
        assert!(v[0].reason.ends_with("'s web ACL edge lacks AWSManagedRulesKnownBadInputsRuleSet enforced, a managed rule group beyond the baseline, a blocking rate-based rule."), "{}", v[0].reason);
        // The baseline check's empty web ACL fails here.
        assert_eq!(
            run(Ok(Some(ACL.into())), acl(vec![]))[0].status,
            Status::Fail
        );
        let v = run(Ok(None), None);
        assert_eq!(v[0].status, Status::Fail);
        assert!(v[0].reason.ends_with("has no WAFv2 web ACL."));
    }

    #[test]
    fn unknown_when_the_acl_or_association_cannot_be_read() {
        let v = run(
            Ok(Some(ACL.into())),
            Some(Err(denied("wafv2", "GetWebACL", Some(REGION)))),
        );
        assert_eq!(v[0].status, Status::Unknown);
        let v = run(
            Err(denied("wafv2", "GetWebACLForResource", Some(REGION))),
            None,
        );
        assert_eq!(v[0].status, Status::Unknown);
        let mut s = snapshot();
        s.cloudfront = Ok(vec![]);
        s.web_acls = Ok(BTreeMap::new());
        s.regional.get_mut(REGION).unwrap().load_balancer_web_acls = Ok(BTreeMap::new());
        let v = evaluate(&s, &Settings::default());
        assert_eq!((v.len(), v[0].status), (1, Status::NotApplicable));
    }
}
