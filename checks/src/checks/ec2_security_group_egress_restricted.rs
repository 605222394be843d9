//! No security group allows all outbound traffic to the whole internet.
//!
//! A rule allowing every protocol to `0.0.0.0/0` or `::/0` (the AWS default) fails; egress limited
//! by protocol, port or destination passes. Every group is judged, attached or not.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ec2_security_group_egress_restricted",
        title: "Security groups filter outgoing traffic",
        practice: Practice::Network,
        severity: Severity::Low,
        activity: dsomm::FILTER_OUTGOING_TRAFFIC,
        remediation: "Replace the allow-all egress rule with rules for the protocols, ports and \
                      destinations the workload needs (for example HTTPS to a proxy or VPC \
                      endpoints).",
        needs: &[Need::Ec2SecurityGroups],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "security groups",
        |r| &r.security_groups,
        |region, g| {
            let mut open: Vec<&str> = Vec::new();
            for p in g
                .egress
                .iter()
                .filter(|p| p.protocol == "-1" || p.protocol == "all")
            {
                for src in p.world_sources() {
                    if !open.contains(&src) {
                        open.push(src);
                    }
                }
            }
            let label = format!("Security group {} ({})", g.id, g.name);
            vec![if open.is_empty() {
                Verdict::pass(
                    &g.arn,
                    Some(region),
                    format!("{label} does not allow all outbound traffic to the internet."),
                )
            } else {
                Verdict::fail(
                    &g.arn,
                    Some(region),
                    format!(
                        "{label} allows all outbound traffic to {}.",
                        open.join(", ")
                    ),
                )
            }]
        },
    );
    super::or_not_applicable(snap, verdicts, "security groups in the audited regions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Permission, SecurityGroup};

    fn perm(protocol: &str, v4: &[&str]) -> Permission {
        Permission {
            protocol: protocol.into(),
            from_port: Some(443),
            to_port: Some(443),
            ipv4_ranges: v4.iter().map(|s| s.to_string()).collect(),
            ipv6_ranges: vec![],
        }
    }

    fn sg(egress: Vec<Permission>) -> SecurityGroup {
        SecurityGroup {
            id: "sg-1".into(),
            name: "web".into(),
            vpc_id: Some("vpc-1".into()),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1"),
            ingress: vec![],
            egress,
        }
    }

    fn run(groups: crate::facts::Fact<Vec<SecurityGroup>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().security_groups = groups;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_limited_egress() {
        let v = run(Ok(vec![sg(vec![
            perm("tcp", &["0.0.0.0/0"]),
            perm("-1", &["10.0.0.0/8"]),
        ])]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1",
                Some(REGION),
                "Security group sg-1 (web) does not allow all outbound traffic to the internet."
            )]
        );
    }

    #[test]
    fn fails_allow_all_egress() {
        let v = run(Ok(vec![sg(vec![perm("-1", &["0.0.0.0/0"])])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Security group sg-1 (web) allows all outbound traffic to 0.0.0.0/0."
        );
    }

    #[test]
    fn not_applicable_without_groups() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no security groups in the audited regions."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("ec2", "DescribeSecurityGroups", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge security groups of eu-west-1: ec2:DescribeSecurityGroups in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
