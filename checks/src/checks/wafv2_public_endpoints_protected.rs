//! Every internet-facing application load balancer and every enabled CloudFront distribution has a
//! WAFv2 web ACL associated.
//!
//! Load balancers are asked one by one (`GetWebACLForResource`); a distribution names its web ACL
//! itself. A distribution protected only by a WAF Classic web ACL fails: WAF Classic is retired
//! and cannot carry the managed rule groups a baseline needs. Internal and network load balancers
//! are out of scope (WAF cannot protect a network load balancer).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Distribution, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "wafv2_public_endpoints_protected",
        title: "Internet-facing load balancers and CloudFront distributions have a WAFv2 web ACL",
        practice: Practice::Network,
        severity: Severity::Medium,
        activity: dsomm::WAF_BASELINE,
        remediation: "Create a WAFv2 web ACL with the AWS managed baseline rule groups \
                      (AWSManagedRulesCommonRuleSet, AWSManagedRulesKnownBadInputsRuleSet) and \
                      associate it with every internet-facing ALB (aws wafv2 associate-web-acl; \
                      REGIONAL scope) and every CloudFront distribution (WebACLId; CLOUDFRONT \
                      scope in us-east-1).",
        needs: &[Need::Wafv2LoadBalancerAcls, Need::CloudFrontDistributions],
        notes: "**Judges** per audited region every internet-facing application load balancer \
(`DescribeLoadBalancers` Scheme, Type) with `GetWebACLForResource` (a WebACL passes; none or \
`WAFNonexistentItemException` fails), and every CloudFront distribution's `WebACLId` (a WAFv2 ARN \
passes; empty fails; a WAF Classic id fails). A load balancer or region whose association cannot \
be read is unknown; a disabled distribution and an account without such endpoints are \
not_applicable.

**Edge cases**: internal load balancers are not reachable from the internet and network load \
balancers cannot carry a web ACL: out of scope. A WAF Classic regional ACL on an ALB is invisible \
to `GetWebACLForResource` and fails as 'no WAFv2 web ACL', which is true. The ACL's rules are not \
read here: an empty web ACL passes the baseline; `wafv2_web_acl_in_depth_rules` (level 4) judges \
the rules. API Gateway, AppSync \
and Cognito endpoints are not judged.

**Differs from Prowler / Security Hub**: Prowler's `elbv2_waf_acl_attached` and \
`cloudfront_distributions_using_waf` and Security Hub ELB.16 and CloudFront.6 accept WAF Classic; ours fails \
it, because WAF Classic reached end of support and cannot run the managed rule groups the \
remediation names. Disabled distributions are skipped.",
        module: module_path!(),
    },
    evaluate,
};

/// The name of a WAFv2 web ACL from its ARN (`arn:…:wafv2:…:regional/webacl/NAME/ID`), else the
/// ARN itself.
fn acl_name(arn: &str) -> &str {
    arn.split('/').nth(2).unwrap_or(arn)
}

fn distribution(d: &Distribution) -> Verdict {
    let label = format!("Distribution {} ({})", d.id, d.domain_name);
    if !d.enabled {
        return Verdict::not_applicable(
            &d.arn,
            None,
            format!("{label} is disabled and serves no viewer."),
        );
    }
    match d.web_acl_id.as_deref() {
        Some(acl) if acl.starts_with("arn:") && acl.contains(":wafv2:") => Verdict::pass(
            &d.arn,
            None,
            format!("{label} is protected by WAFv2 web ACL {}.", acl_name(acl)),
        ),
        Some(classic) => Verdict::fail(
            &d.arn,
            None,
            format!(
                "{label} is protected only by WAF Classic web ACL {classic}; WAF Classic is retired."
            ),
        ),
        None => Verdict::fail(&d.arn, None, format!("{label} has no web ACL.")),
    }
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = super::per_region_value(
        snap,
        "internet-facing load balancers",
        |r| &r.load_balancer_web_acls,
        |region, acls| {
            let lbs = snap.regional.get(region).map(|r| &r.load_balancers);
            acls.iter()
                .map(|(arn, acl)| {
                    let name = lbs
                        .and_then(|l| l.as_ref().ok())
                        .and_then(|l| l.iter().find(|lb| &lb.arn == arn))
                        .map_or(arn.as_str(), |lb| lb.name.as_str());
                    let label = format!("Internet-facing load balancer {name}");
                    match acl {
                        Err(e) => super::unknown(arn, Some(region), e),
                        Ok(Some(acl)) => Verdict::pass(
                            arn,
                            Some(region),
                            format!("{label} is protected by WAFv2 web ACL {}.", acl_name(acl)),
                        ),
                        Ok(None) => Verdict::fail(
                            arn,
                            Some(region),
                            format!("{label} has no WAFv2 web ACL associated."),
                        ),
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
        Ok(ds) => verdicts.extend(ds.iter().map(distribution)),
    }
    super::or_not_applicable(
        snap,
        verdicts,
        "internet-facing application load balancers or CloudFront distributions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::Fact;
    use crate::model::Status;
    use crate::snapshot::LoadBalancer;

    const LB: &str = "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/1";
    const ACL: &str = "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/baseline/abc";

    fn dist(acl: Option<&str>) -> Distribution {
        Distribution {
            id: "E1".into(),
            arn: format!("arn:aws:cloudfront::{ACCOUNT}:distribution/E1"),
            domain_name: "d1.cloudfront.net".into(),
            enabled: true,
            viewer_protocol_policies: vec![],
            minimum_protocol_version: None,
            default_certificate: true,
            web_acl_id: acl.map(str::to_owned),
            response_headers_policies: vec![],
        }
    }

    /// One public ALB named `web` whose web ACL is `acl`, and the given distributions.
    fn run(
        acl: Option<Fact<Option<String>>>,
        distributions: Fact<Vec<Distribution>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.load_balancers = Ok(vec![LoadBalancer {
            arn: LB.into(),
            name: "web".into(),
            kind: "application".into(),
            scheme: "internet-facing".into(),
            listeners: Ok(vec![]),
        }]);
        r.load_balancer_web_acls = Ok(acl.map(|a| (LB.to_owned(), a)).into_iter().collect());
        s.cloudfront = distributions;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_when_every_endpoint_has_a_wafv2_acl() {
        let v = run(Some(Ok(Some(ACL.into()))), Ok(vec![dist(Some(ACL))]));
        assert_eq!(
            v,
            vec![
                Verdict::pass(
                    LB,
                    Some(REGION),
                    "Internet-facing load balancer web is protected by WAFv2 web ACL baseline."
                ),
                Verdict::pass(
                    "arn:aws:cloudfront::111122223333:distribution/E1",
                    None,
                    "Distribution E1 (d1.cloudfront.net) is protected by WAFv2 web ACL baseline."
                ),
            ]
        );
    }

    /// Each unprotected endpoint fails by name; a WAF Classic ACL is not enough.
    #[test]
    fn fails_each_unprotected_endpoint() {
        let v = run(Some(Ok(None)), Ok(vec![dist(None)]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Internet-facing load balancer web has no WAFv2 web ACL associated."
        );
        assert_eq!(v[1].status, Status::Fail);
        assert_eq!(
            v[1].reason,
            "Distribution E1 (d1.cloudfront.net) has no web ACL."
        );
        let v = run(
            Some(Ok(Some(ACL.into()))),
            Ok(vec![dist(Some("473e64fd-f30b-4765-81a0-62ad96dd167a"))]),
        );
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[1].reason,
            "Distribution E1 (d1.cloudfront.net) is protected only by WAF Classic web ACL 473e64fd-f30b-4765-81a0-62ad96dd167a; WAF Classic is retired."
        );
    }

    /// A disabled distribution serves nothing an attacker could reach.
    #[test]
    fn disabled_distribution_is_not_applicable() {
        let d = Distribution {
            enabled: false,
            ..dist(None)
        };
        let v = run(None, Ok(vec![d]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Distribution E1 (d1.cloudfront.net) is disabled and serves no viewer."
        );
    }

    #[test]
    fn not_applicable_without_public_endpoints() {
        let v = run(None, Ok(vec![]));
        assert_eq!(
            v,
            vec![Verdict::not_applicable(
                "account 111122223333",
                None,
                "Account 111122223333 has no internet-facing application load balancers or CloudFront distributions."
            )]
        );
    }

    /// A load balancer whose web ACL could not be read, a region whose associations could not be
    /// read, and unreadable distributions are each unknown, never a failure.
    #[test]
    fn unknown_when_denied() {
        let v = run(
            Some(Err(denied("wafv2", "GetWebACLForResource", Some(REGION)))),
            Err(denied("cloudfront", "ListDistributions", None)),
        );
        assert_eq!(v.len(), 2);
        assert!(v.iter().all(|v| v.status == Status::Unknown), "{v:?}");
        assert_eq!(
            v[0].reason,
            format!("Cannot judge {LB}: wafv2:GetWebACLForResource in eu-west-1 access denied (AccessDenied: not authorized).")
        );
        assert_eq!(
            v[1].reason,
            "Cannot judge CloudFront distributions of account 111122223333: cloudfront:ListDistributions access denied (AccessDenied: not authorized)."
        );
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().load_balancer_web_acls = Err(denied(
            "elasticloadbalancing",
            "DescribeLoadBalancers",
            Some(REGION),
        ));
        s.cloudfront = Ok(vec![]);
        let v = evaluate(&s, &Settings::default());
        assert_eq!(
            v,
            vec![Verdict::unknown(
                "internet-facing load balancers of eu-west-1",
                Some(REGION),
                "Cannot judge internet-facing load balancers of eu-west-1: elasticloadbalancing:DescribeLoadBalancers in eu-west-1 access denied (AccessDenied: not authorized)."
            )]
        );
    }
}
