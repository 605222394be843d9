//! Every TLS-terminating listener (HTTPS or TLS) of an internet-facing load balancer uses a security
//! policy that refuses TLS 1.0 and 1.1.
//!
//! AWS names its TLS 1.2+ policies with `TLS-1-2`, `FS-1-2`, `TLS13-1-2` or `TLS13-1-3`
//! (`ELBSecurityPolicy-TLS13-1-2-2021-06`, …); every other predefined policy, including the
//! default `ELBSecurityPolicy-2016-08`, still accepts TLS 1.0. Plain HTTP listeners are judged by
//! `elbv2_listener_tls_only`.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "elbv2_listener_modern_tls_policy",
        title: "Internet-facing TLS listeners refuse TLS versions below 1.2",
        practice: Practice::EdgeEncryption,
        severity: Severity::Medium,
        activity: dsomm::EDGE_ENCRYPTION_IN_TRANSIT,
        remediation:
            "Set the listener's security policy to ELBSecurityPolicy-TLS13-1-2-2021-06 (or \
                      another TLS 1.2+ policy) with aws elbv2 modify-listener --ssl-policy.",
        needs: &[Need::Elbv2Listeners],
        notes: "**Judges** `DescribeLoadBalancers` and `DescribeListeners` per audited region, the HTTPS \
and TLS listeners of internet-facing load balancers: `SslPolicy` containing `TLS-1-2`, \
`FS-1-2`, `TLS13-1-2` or `TLS13-1-3` passes; any other predefined policy fails; a listener \
without a policy is unknown; none is not_applicable.

**Edge cases**: AWS names its policies by their lowest protocol, so `ELBSecurityPolicy-2016-08` \
(the default), `TLS13-1-0`, `TLS13-1-1`, `FS-1-1` and `TLS-1-1` fail, and FIPS and post-quantum \
TLS 1.2+ variants pass. ALB and NLB listeners take predefined policies only. Internal load \
balancers are out of scope (edge encryption); plain HTTP listeners are judged by \
`elbv2_listener_tls_only`.

**Differs from Prowler / Security Hub**: Prowler's `elbv2_insecure_ssl_ciphers` and Security Hub \
ELB.17 judge every load balancer, internal ones included; ours judges the internet-facing edge, \
where a downgrade is reachable by anyone.",
        module: module_path!(),
    },
    evaluate,
};

/// Whether an ELB security policy allows only TLS 1.2 and later.
pub fn is_tls12_or_later(policy: &str) -> bool {
    ["TLS-1-2", "FS-1-2", "TLS13-1-2", "TLS13-1-3"]
        .iter()
        .any(|m| policy.contains(m))
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "load balancers",
        |r| &r.load_balancers,
        |region, lb| {
            if lb.scheme != "internet-facing" {
                return vec![];
            }
            let listeners = match &lb.listeners {
                Err(e) => return vec![super::unknown(&lb.arn, Some(region), e)],
                Ok(ls) => ls,
            };
            listeners
                .iter()
                .filter(|l| l.protocol == "HTTPS" || l.protocol == "TLS")
                .map(|l| {
                    let port = l.port.map(|p| p.to_string()).unwrap_or_else(|| "?".into());
                    let what = format!(
                        "Listener {}:{port} of load balancer {}",
                        l.protocol, lb.name
                    );
                    match l.ssl_policy.as_deref() {
                        None => Verdict::unknown(
                            &l.arn,
                            Some(region),
                            format!("Cannot judge {what}: it reports no security policy."),
                        ),
                        Some(p) if is_tls12_or_later(p) => Verdict::pass(
                            &l.arn,
                            Some(region),
                            format!("{what} uses {p}, which requires TLS 1.2 or later."),
                        ),
                        Some(p) => Verdict::fail(
                            &l.arn,
                            Some(region),
                            format!("{what} uses {p}, which still accepts TLS 1.0 or 1.1."),
                        ),
                    }
                })
                .collect()
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "TLS listeners on internet-facing load balancers in the audited regions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Listener, LoadBalancer};

    fn listener(protocol: &str, policy: Option<&str>) -> Listener {
        Listener {
            arn: format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web/1/443"),
            port: Some(443),
            protocol: protocol.into(),
            ssl_policy: policy.map(str::to_owned),
            default_actions: vec![],
            rules: Ok(vec![]),
        }
    }

    fn run(lbs: crate::facts::Fact<Vec<LoadBalancer>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().load_balancers = lbs;
        evaluate(&s, &Settings::default())
    }

    fn lb(listeners: crate::facts::Fact<Vec<Listener>>) -> LoadBalancer {
        LoadBalancer {
            arn: format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/1"),
            name: "web".into(),
            kind: "application".into(),
            scheme: "internet-facing".into(),
            listeners,
        }
    }

    #[test]
    fn passes_tls13_policy() {
        let v = run(Ok(vec![lb(Ok(vec![listener(
            "HTTPS",
            Some("ELBSecurityPolicy-TLS13-1-2-2021-06"),
        )]))]));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Listener HTTPS:443 of load balancer web uses ELBSecurityPolicy-TLS13-1-2-2021-06, which requires TLS 1.2 or later."
        );
    }

    #[test]
    fn fails_default_2016_policy() {
        let v = run(Ok(vec![lb(Ok(vec![listener(
            "HTTPS",
            Some("ELBSecurityPolicy-2016-08"),
        )]))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Listener HTTPS:443 of load balancer web uses ELBSecurityPolicy-2016-08, which still accepts TLS 1.0 or 1.1."
        );
    }

    /// HTTP listeners are elbv2_listener_tls_only's business.
    #[test]
    fn not_applicable_without_tls_listeners() {
        let v = run(Ok(vec![lb(Ok(vec![listener("HTTP", None)]))]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no TLS listeners on internet-facing load balancers in the audited regions."
        );
    }

    #[test]
    fn unknown_when_listeners_denied() {
        let v = run(Ok(vec![lb(Err(denied(
            "elasticloadbalancing",
            "DescribeListeners",
            Some(REGION),
        )))]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/1: elasticloadbalancing:DescribeListeners in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
