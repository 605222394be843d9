//! Internet-facing Classic Load Balancers serve clients over TLS only: every listener is HTTPS or
//! SSL.
//!
//! A Classic Load Balancer cannot redirect HTTP to HTTPS, so an HTTP listener serves plaintext.
//! TCP listeners pass bytes through; whether those are encrypted cannot be seen from the
//! configuration, so they are not judged (as in `elbv2_listener_tls_only`). Internal load
//! balancers are not edge endpoints.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "elb_listener_tls_only",
        title: "Internet-facing Classic Load Balancer listeners use TLS",
        practice: Practice::EdgeEncryption,
        severity: Severity::High,
        activity: dsomm::EDGE_ENCRYPTION_IN_TRANSIT,
        remediation: "Replace each HTTP listener of the Classic Load Balancer with an HTTPS (or SSL) \
                      listener (aws elb create-load-balancer-listeners, then \
                      delete-load-balancer-listeners), or migrate to an Application Load Balancer, \
                      which can redirect HTTP to HTTPS.",
        needs: &[Need::ElbClassicListeners],
        notes: "**Judges** the listeners of every internet-facing Classic Load Balancer \
(`elasticloadbalancing` 2012-06-01 `DescribeLoadBalancers`, which carries them): `HTTPS` and `SSL` pass, \
`HTTP` fails.\n\n\
**Edge cases**: `TCP` listeners are not judged (pass-through: the payload may be TLS end to end, which \
the configuration does not show); internal load balancers are not edge endpoints; a region whose \
listing fails is `unknown`.\n\n\
**Differs from Prowler** `elb_ssl_listeners`, which also fails TCP listeners: a TCP listener in front \
of instances that terminate TLS is encrypted, and failing it would ask the owner to break it.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "Classic Load Balancers",
        |r| &r.classic_load_balancers,
        |region, lb| {
            if lb.scheme != "internet-facing" {
                return vec![];
            }
            lb.listeners
                .iter()
                .filter_map(|l| {
                    let what = format!(
                        "Listener {}:{} of Classic Load Balancer {}",
                        l.protocol, l.port, lb.name
                    );
                    let resource = format!("{}/listener/{}", lb.arn, l.port);
                    match l.protocol.as_str() {
                        "HTTPS" | "SSL" => Some(Verdict::pass(
                            &resource,
                            Some(region),
                            format!("{what} terminates TLS."),
                        )),
                        "HTTP" => Some(Verdict::fail(
                            &resource,
                            Some(region),
                            format!("{what} serves plaintext HTTP to the internet."),
                        )),
                        _ => None,
                    }
                })
                .collect()
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "internet-facing Classic Load Balancer listeners serving HTTP, HTTPS or SSL",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{ClassicListener, ClassicLoadBalancer};

    fn lb(scheme: &str, listeners: &[(&str, i32)]) -> ClassicLoadBalancer {
        ClassicLoadBalancer {
            name: "web".into(),
            arn: format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/web"),
            scheme: scheme.into(),
            listeners: listeners
                .iter()
                .map(|(p, port)| ClassicListener {
                    protocol: p.to_string(),
                    port: *port,
                    instance_protocol: Some("HTTP".into()),
                })
                .collect(),
        }
    }

    fn run(lbs: crate::facts::Fact<Vec<ClassicLoadBalancer>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().classic_load_balancers = lbs;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn https_passes_http_fails_tcp_is_not_judged() {
        let v = run(Ok(vec![lb(
            "internet-facing",
            &[("HTTPS", 443), ("HTTP", 80), ("TCP", 5432)],
        )]));
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[1],
            Verdict::fail(
                "arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/web/listener/80",
                Some(REGION),
                "Listener HTTP:80 of Classic Load Balancer web serves plaintext HTTP to the internet."
            )
        );
    }

    #[test]
    fn internal_is_not_applicable_and_errors_unknown() {
        let v = run(Ok(vec![lb("internal", &[("HTTP", 80)])]));
        assert_eq!(v[0].status, Status::NotApplicable);
        let v = run(Err(denied("elb", "DescribeLoadBalancers", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
    }
}
