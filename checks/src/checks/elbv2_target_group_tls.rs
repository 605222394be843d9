//! Every load-balancer target group sends traffic to its targets over HTTPS or TLS.
//!
//! Encryption between the load balancer and the service is the internal half of encryption in
//! transit. Lambda targets are invoked through the AWS API (always TLS) and have no protocol: they
//! are not applicable; so are UDP and GENEVE groups, which have no TLS variant.

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
        notes: "",
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
                Some(p @ ("HTTP" | "TCP" | "TCP_UDP")) => Verdict::fail(
                    &tg.arn,
                    Some(region),
                    format!("{what} sends traffic to its targets unencrypted over {p}."),
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
