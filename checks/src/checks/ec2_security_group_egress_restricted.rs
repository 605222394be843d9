//! No security group allows all outbound traffic to the whole internet.
//!
//! A rule allowing every protocol (the AWS default), or every port of TCP or UDP, to `0.0.0.0/0`
//! or `::/0` fails: either carries any outbound connection. Egress limited by port or destination
//! passes. Every group is judged, attached or not.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, Permission};

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
        notes: "**Judges** `DescribeSecurityGroups` per audited region, every group's \
`IpPermissionsEgress`: fail when a rule to `0.0.0.0/0` or `::/0` allows all protocols (`-1`), or \
every port (0-65535) of TCP or UDP; pass otherwise. A region whose listing fails is unknown; no \
group is not_applicable.

**Edge cases**: the default allow-all rule of every new group fails, attached or not (an \
unattached group is one attachment away from use). Rules to prefix lists or other groups are \
destinations the owner chose and pass. A rule to a broad but not world CIDR (`0.0.0.0/1`) passes: \
only the two world CIDRs are matched. ICMP and partial port ranges are filtering.

**Differs from Prowler / Security Hub**: Security Hub has no egress control besides EC2.2 (default \
groups); Prowler's egress finding (`ec2_securitygroup_allow_wide_open_public_ipv4` family) is about \
ingress mostly. Ours treats all TCP ports like all protocols, because either lets malware reach any \
command-and-control port.",
        module: module_path!(),
    },
    evaluate,
};

/// What a permission lets out without filtering: `all protocols`, `every TCP port` or `every UDP
/// port`; `None` when it is limited to some ports or is another protocol (ICMP, …).
fn unfiltered(p: &Permission) -> Option<&'static str> {
    let every_port = matches!(
        (p.from_port, p.to_port),
        (None, None) | (Some(-1), Some(-1)) | (Some(0), Some(65535))
    );
    match p.protocol.as_str() {
        "-1" | "all" => Some("all protocols"),
        "tcp" | "6" if every_port => Some("every TCP port"),
        "udp" | "17" if every_port => Some("every UDP port"),
        _ => None,
    }
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "security groups",
        |r| &r.security_groups,
        |region, g| {
            let mut open: Vec<String> = Vec::new();
            for p in &g.egress {
                let Some(what) = unfiltered(p) else {
                    continue;
                };
                for dst in p.world_sources() {
                    let finding = format!("{what} to {dst}");
                    if !open.contains(&finding) {
                        open.push(finding);
                    }
                }
            }
            let label = format!("Security group {} ({})", g.id, g.name);
            vec![if open.is_empty() {
                Verdict::pass(
                    &g.arn,
                    Some(region),
                    format!("{label} does not allow unfiltered outbound traffic to the internet."),
                )
            } else {
                Verdict::fail(
                    &g.arn,
                    Some(region),
                    format!(
                        "{label} allows unfiltered outbound traffic: {}.",
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
                "Security group sg-1 (web) does not allow unfiltered outbound traffic to the internet."
            )]
        );
    }

    #[test]
    fn fails_allow_all_egress() {
        let v = run(Ok(vec![sg(vec![perm("-1", &["0.0.0.0/0"])])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Security group sg-1 (web) allows unfiltered outbound traffic: all protocols to 0.0.0.0/0."
        );
    }

    /// Every TCP or UDP port to the world carries any connection an attacker needs: as open as
    /// "all protocols". A port range short of the whole, or ICMP, is filtered.
    #[test]
    fn fails_every_port_of_tcp_or_udp() {
        let range = |protocol: &str, from: i32, to: i32, v6: &[&str]| Permission {
            from_port: Some(from),
            to_port: Some(to),
            ipv6_ranges: v6.iter().map(|s| s.to_string()).collect(),
            ..perm(protocol, &[])
        };
        let v = run(Ok(vec![sg(vec![
            range("tcp", 0, 65535, &["::/0"]),
            range("17", 0, 65535, &["::/0"]),
            range("tcp", 1024, 65535, &["::/0"]),
            range("icmp", -1, -1, &["::/0"]),
        ])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Security group sg-1 (web) allows unfiltered outbound traffic: every TCP port to ::/0, every UDP port to ::/0."
        );
        let v = run(Ok(vec![sg(vec![range("tcp", 1, 65535, &["::/0"])])]));
        assert_eq!(v[0].status, Status::Pass);
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
