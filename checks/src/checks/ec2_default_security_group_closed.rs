//! Every VPC's default security group has no inbound and no outbound rule.
//!
//! Resources launched without an explicit group land in the default group; closing it forces every
//! workload into a group designed for it.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ec2_default_security_group_closed",
        title: "Default security groups allow no traffic",
        practice: Practice::Network,
        severity: Severity::Medium,
        activity: dsomm::ISOLATED_NETWORKS,
        remediation: "Remove every inbound and outbound rule from each VPC's default security \
                      group and attach purpose-built groups to workloads instead.",
        needs: &[Need::Ec2SecurityGroups],
        notes: "**Judges** `DescribeSecurityGroups` per audited region, the groups named `default` (one \
per VPC): pass with no inbound and no outbound rule, fail with the count of each. A region whose \
listing fails is unknown; no default group is not_applicable.

**Edge cases**: every rule counts, including the self-referencing inbound rule and the \
allow-all outbound rule AWS creates, and rules to prefix lists or groups. The default group \
cannot be deleted, but its rules can: the remediation always applies. Default groups of unused \
or default VPCs are judged (a resource launched without a group lands there).

**Differs from Prowler / Security Hub**: agrees with Prowler's \
`ec2_securitygroup_default_restrict_traffic` and Security Hub EC2.2.",
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
            if g.name != "default" {
                return vec![];
            }
            let label = format!("Default security group {}", g.id);
            vec![if g.ingress.is_empty() && g.egress.is_empty() {
                Verdict::pass(&g.arn, Some(region), format!("{label} has no rule."))
            } else {
                Verdict::fail(
                    &g.arn,
                    Some(region),
                    format!(
                        "{label} has {} inbound and {} outbound rule(s).",
                        g.ingress.len(),
                        g.egress.len()
                    ),
                )
            }]
        },
    );
    super::or_not_applicable(
        snap,
        verdicts,
        "default security groups in the audited regions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Permission, SecurityGroup};

    fn all() -> Permission {
        Permission {
            protocol: "-1".into(),
            from_port: None,
            to_port: None,
            ipv4_ranges: vec!["0.0.0.0/0".into()],
            ipv6_ranges: vec![],
        }
    }

    fn sg(name: &str, ingress: Vec<Permission>, egress: Vec<Permission>) -> SecurityGroup {
        SecurityGroup {
            id: "sg-1".into(),
            name: name.into(),
            vpc_id: Some("vpc-1".into()),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-1"),
            ingress,
            egress,
        }
    }

    fn run(groups: crate::facts::Fact<Vec<SecurityGroup>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().security_groups = groups;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_closed_default_group() {
        let v = run(Ok(vec![sg("default", vec![], vec![])]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-1",
                Some(REGION),
                "Default security group sg-1 has no rule."
            )]
        );
    }

    #[test]
    fn fails_open_default_group() {
        let v = run(Ok(vec![sg("default", vec![all()], vec![all()])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Default security group sg-1 has 1 inbound and 1 outbound rule(s)."
        );
    }

    /// Other groups are not judged here.
    #[test]
    fn not_applicable_without_default_groups() {
        let v = run(Ok(vec![sg("web", vec![all()], vec![])]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no default security groups in the audited regions."
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
