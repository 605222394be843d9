//! Internet-facing load balancers serve clients over TLS only: every listener is HTTPS/TLS, or an HTTP
//! listener whose every rule redirects to HTTPS.
//!
//! Internal load balancers are judged by internal-encryption checks, not this edge check. TCP and UDP
//! listeners pass bytes through; whether those are encrypted cannot be seen from the configuration,
//! so they are reported as not applicable rather than guessed.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Listener, LoadBalancer, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "elbv2_listener_tls_only",
        title: "Internet-facing load balancer listeners use TLS or redirect to HTTPS",
        practice: Practice::EdgeEncryption,
        severity: Severity::High,
        activity: dsomm::EDGE_ENCRYPTION_IN_TRANSIT,
        remediation:
            "Serve clients on an HTTPS (or TLS) listener and change every HTTP listener's actions \
                      to a redirect to HTTPS (status HTTP_301).",
        needs: &[Need::Elbv2Listeners],
        notes: "**Judges** every internet-facing application and network load balancer of `DescribeLoadBalancers` with `DescribeListeners` (and `DescribeRules` of HTTP listeners): a listener passes when it is HTTPS or TLS, or HTTP with every rule (the default included) redirecting to HTTPS; an HTTP listener that forwards or answers fails, naming its port. TCP, UDP and TCP_UDP listeners pass bytes through whose encryption the configuration cannot show: not_applicable. A listing that fails is `unknown`.\n\n\
**Edge cases**: internal load balancers are the internal-encryption checks' question; a fixed-response rule on HTTP (e.g. a health page) fails: it serves content in clear; listeners of gateway load balancers (GENEVE) are not_applicable like TCP.\n\n\
**Differs from Prowler** (`elbv2_ssl_listeners`) and Security Hub ELB.1: both look at the default action's redirect; ours requires every rule of the HTTP listener to redirect, so a path rule that forwards in clear fails.",
        module: module_path!(),
    },
    evaluate,
};

fn judge(lb: &LoadBalancer, l: &Listener, region: &str) -> Verdict {
    let port = l.port.map(|p| p.to_string()).unwrap_or_else(|| "?".into());
    let what = format!(
        "Listener {}:{port} of load balancer {}",
        l.protocol, lb.name
    );
    match l.protocol.as_str() {
        "HTTPS" | "TLS" => Verdict::pass(&l.arn, Some(region), format!("{what} terminates TLS.")),
        "HTTP" => {
            let rules = match &l.rules {
                Err(e) => return super::unknown(&l.arn, Some(region), e),
                Ok(r) => r,
            };
            // Every action of every rule (the default rule holds the default actions) must redirect.
            let mut actions = l.default_actions.iter().chain(rules.iter().flat_map(|r| r.actions.iter()));
            match actions.find(|a| !a.redirects_to_https()) {
                None => Verdict::pass(&l.arn, Some(region), format!("{what} only redirects to HTTPS.")),
                Some(a) => Verdict::fail(
                    &l.arn,
                    Some(region),
                    format!("{what} serves plain HTTP (a {} action) instead of redirecting to HTTPS.", a.kind),
                ),
            }
        }
        other => Verdict::not_applicable(
            &l.arn,
            Some(region),
            format!("{what} passes {other} through; whether its payload is encrypted is not visible in the configuration."),
        ),
    }
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
            match &lb.listeners {
                Err(e) => vec![super::unknown(&lb.arn, Some(region), e)],
                Ok(ls) if ls.is_empty() => vec![Verdict::not_applicable(
                    &lb.arn,
                    Some(region),
                    format!("Load balancer {} has no listeners.", lb.name),
                )],
                Ok(ls) => ls.iter().map(|l| judge(lb, l, region)).collect(),
            }
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "internet-facing load balancers in the audited regions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{ListenerAction, ListenerRule};

    fn action(kind: &str, redirect: Option<&str>) -> ListenerAction {
        ListenerAction {
            kind: kind.into(),
            redirect_protocol: redirect.map(str::to_owned),
        }
    }

    fn listener(
        protocol: &str,
        port: i32,
        default: ListenerAction,
        rules: Vec<ListenerRule>,
    ) -> Listener {
        Listener {
            arn: format!(
                "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/web/1/{port}"
            ),
            port: Some(port),
            protocol: protocol.into(),
            ssl_policy: None,
            default_actions: vec![default],
            rules: Ok(rules),
        }
    }

    fn lb(scheme: &str, listeners: crate::facts::Fact<Vec<Listener>>) -> LoadBalancer {
        LoadBalancer {
            arn: format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/web/1"),
            name: "web".into(),
            kind: "application".into(),
            scheme: scheme.into(),
            listeners,
        }
    }

    fn run(lbs: crate::facts::Fact<Vec<LoadBalancer>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().load_balancers = lbs;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_https_and_redirecting_http() {
        let ls = vec![
            listener("HTTPS", 443, action("forward", None), vec![]),
            listener("HTTP", 80, action("redirect", Some("HTTPS")), vec![]),
        ];
        let v = run(Ok(vec![lb("internet-facing", Ok(ls))]));
        assert_eq!(
            v[0].reason,
            "Listener HTTPS:443 of load balancer web terminates TLS."
        );
        assert_eq!(v[1].status, Status::Pass);
        assert_eq!(
            v[1].reason,
            "Listener HTTP:80 of load balancer web only redirects to HTTPS."
        );
    }

    /// A non-default rule that forwards defeats a redirecting default action.
    #[test]
    fn fails_http_forward_even_behind_a_rule() {
        let rule = ListenerRule {
            arn: "rule/1".into(),
            is_default: false,
            actions: vec![action("forward", None)],
        };
        let ls = vec![listener(
            "HTTP",
            80,
            action("redirect", Some("HTTPS")),
            vec![rule],
        )];
        let v = run(Ok(vec![lb("internet-facing", Ok(ls))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].resource,
            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:listener/app/web/1/80"
        );
        assert_eq!(
            v[0].reason,
            "Listener HTTP:80 of load balancer web serves plain HTTP (a forward action) instead of redirecting to HTTPS."
        );
    }

    /// Internal load balancers are out of this edge check's scope.
    #[test]
    fn not_applicable_for_internal_only() {
        let ls = vec![listener("HTTP", 80, action("forward", None), vec![])];
        let v = run(Ok(vec![lb("internal", Ok(ls))]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no internet-facing load balancers in the audited regions."
        );
    }

    #[test]
    fn unknown_when_listeners_unreadable() {
        let v = run(Ok(vec![lb(
            "internet-facing",
            Err(denied(
                "elasticloadbalancing",
                "DescribeListeners",
                Some(REGION),
            )),
        )]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/web/1: elasticloadbalancing:DescribeListeners in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
