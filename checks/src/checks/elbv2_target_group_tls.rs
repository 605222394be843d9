//! Every load-balancer target group sends traffic to its targets over HTTPS or TLS.
//!
//! Encryption between the load balancer and the service is the internal half of encryption in
//! transit. Lambda targets are invoked through the AWS API (always TLS) and have no protocol: they
//! are not applicable; so are UDP, TCP_UDP and GENEVE groups, which have no TLS variant, and groups
//! whose target is an application load balancer (TCP only, the ALB encrypts or not).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "elbv2_target_group_tls",
        title: "Load balancer target groups use HTTPS or TLS to their targets",
        practice: Practice::EdgeEncryption,
        severity: Severity::Medium,
        activity: dsomm::INTERNAL_ENCRYPTION_IN_TRANSIT,
        remediation: "Serve TLS on the targets (a certificate from a private CA or self-signed; the load \
                      balancer does not validate it) and recreate the target group with protocol HTTPS \
                      or TLS.",
        needs: &[Need::Elbv2TargetGroups],
        notes: "**Judges** `DescribeTargetGroups` per audited region, each group's `Protocol` and \
`TargetType`: HTTPS and TLS pass; HTTP and TCP fail; UDP, TCP_UDP, GENEVE, Lambda targets (no \
protocol) and `alb` targets are not_applicable. A region whose listing fails is unknown.

**Edge cases**: TCP_UDP and UDP have no TLS form, and a group whose targets are an ALB must be \
TCP: no remediation exists there. Groups not attached to any load balancer are judged (attaching \
one is all it takes). Known gap: a TCP group behind a TCP listener passes the client's own TLS \
through unchanged and fails here although the bytes are encrypted end to end; telling it from \
plain TCP needs the listener that forwards to the group (its `ForwardConfig` target groups), \
which the ELBv2 collector does not read yet. Targets need no trusted certificate: the load \
balancer does not validate it.

**Differs from Prowler / Security Hub**: neither has an equivalent control (Prowler's ELBv2 checks \
and Security Hub ELB.x judge listeners, not the hop to the targets).",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "target groups",
        |r| &r.target_groups,
        |region, tg| {
            let what = format!("Target group {}", tg.name);
            vec![match tg.protocol.as_deref() {
                Some(p @ ("HTTPS" | "TLS")) => Verdict::pass(
                    &tg.arn,
                    Some(region),
                    format!("{what} reaches its targets over {p}."),
                ),
                // A network load balancer forwarding to an application load balancer must use
                // TCP; the ALB's own listeners decide the encryption.
                Some(_) if tg.target_type == "alb" => Verdict::not_applicable(
                    &tg.arn,
                    Some(region),
                    format!(
                        "{what} forwards to an application load balancer, whose listeners decide encryption."
                    ),
                ),
                Some("HTTP") => Verdict::fail(
                    &tg.arn,
                    Some(region),
                    format!("{what} sends traffic to its targets unencrypted over HTTP."),
                ),
                Some("TCP") => Verdict::fail(
                    &tg.arn,
                    Some(region),
                    format!(
                        "{what} uses TCP, so the load balancer does not encrypt traffic to its targets."
                    ),
                ),
                Some(p) => Verdict::not_applicable(
                    &tg.arn,
                    Some(region),
                    format!("{what} uses {p}, which has no TLS variant."),
                ),
                None => Verdict::not_applicable(
                    &tg.arn,
                    Some(region),
                    format!(
                        "{what} has {} targets, invoked over the AWS API.",
                        tg.target_type
                    ),
                ),
            }]
        },
    );
    super::or_not_applicable(snap, verdicts, "target groups in the audited regions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::TargetGroup;

    fn tg(name: &str, protocol: Option<&str>) -> TargetGroup {
        TargetGroup {
            arn: format!("arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/1"),
            name: name.into(),
            protocol: protocol.map(str::to_owned),
            target_type: if protocol.is_some() {
                "instance"
            } else {
                "lambda"
            }
            .into(),
        }
    }

    fn run(t: crate::facts::Fact<Vec<TargetGroup>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().target_groups = t;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_https_group() {
        let v = run(Ok(vec![tg("api", Some("HTTPS"))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/api/1",
                Some(REGION),
                "Target group api reaches its targets over HTTPS."
            )]
        );
    }

    #[test]
    fn fails_http_group() {
        let v = run(Ok(vec![tg("web", Some("HTTP"))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Target group web sends traffic to its targets unencrypted over HTTP."
        );
    }

    /// TCP is judged (the load balancer adds no encryption); TCP_UDP and UDP cannot be TLS, and an
    /// ALB target must be TCP: those are not the owner's to change.
    #[test]
    fn protocols_without_a_tls_variant_are_not_applicable() {
        let v = run(Ok(vec![tg("nlb", Some("TCP"))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Target group nlb uses TCP, so the load balancer does not encrypt traffic to its targets."
        );
        for p in ["TCP_UDP", "UDP", "GENEVE"] {
            assert_eq!(
                run(Ok(vec![tg("dns", Some(p))]))[0].status,
                Status::NotApplicable,
                "{p}"
            );
        }
        let alb = TargetGroup {
            target_type: "alb".into(),
            ..tg("to-alb", Some("TCP"))
        };
        let v = run(Ok(vec![alb]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Target group to-alb forwards to an application load balancer, whose listeners decide encryption."
        );
    }

    #[test]
    fn not_applicable_for_lambda_or_no_groups() {
        let v = run(Ok(vec![tg("fn", None)]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Target group fn has lambda targets, invoked over the AWS API."
        );
        let v = run(Ok(vec![]));
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no target groups in the audited regions."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied(
            "elasticloadbalancing",
            "DescribeTargetGroups",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge target groups of eu-west-1: elasticloadbalancing:DescribeTargetGroups in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
