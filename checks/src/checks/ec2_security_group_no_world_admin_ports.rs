//! No security group lets the whole internet reach an administration port (SSH, RDP by default).
//!
//! Every group is judged, attached or not: an unused group open to the world is one attachment away
//! from exposure, and hiding it would hide the finding.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ec2_security_group_no_world_admin_ports",
        title: "No security group opens administration ports to the internet",
        practice: Practice::Network,
        severity: Severity::High,
        activity: dsomm::ISOLATED_NETWORKS,
        remediation:
            "Remove ingress rules from 0.0.0.0/0 and ::/0 to administration ports; reach hosts \
                      through SSM Session Manager or a VPN and allow only its CIDR.",
        needs: &[Need::Ec2SecurityGroups],
        notes: "**Judges** `DescribeSecurityGroups` per audited region, every group's inbound rules: fail \
when a rule from `0.0.0.0/0` or `::/0` opens one of `admin_ports` (default 22, 3389) over TCP, \
through a port range or all protocols (`-1`); pass otherwise. A region whose listing fails is \
unknown; no group is not_applicable.

**Edge cases**: every group is judged, attached or not: an unused open group is one attachment \
away from exposure. Ranges (`0-65535`) and protocol `6` count as TCP. Only the two world CIDRs are \
matched: a split such as `0.0.0.0/1` + `128.0.0.0/1`, or a prefix list containing `0.0.0.0/0`, \
passes (a known gap). UDP 3389 is not judged.

**Differs from Prowler / Security Hub**: agrees with Prowler's \
`ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22` / `_3389` and Security Hub EC2.13 \
/ EC2.14 on the world CIDRs; the port list is configurable.",
        module: module_path!(),
    },
    evaluate,
};

fn port_name(port: u16) -> String {
    match port {
        22 => "22 (SSH)".to_owned(),
        3389 => "3389 (RDP)".to_owned(),
        p => p.to_string(),
    }
}

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "security groups",
        |r| &r.security_groups,
        |region, g| {
            let mut open: Vec<String> = Vec::new();
            for port in &settings.admin_ports {
                for p in g.ingress.iter().filter(|p| p.opens_tcp_port(*port)) {
                    for src in p.world_sources() {
                        let finding = format!("{src} to port {}", port_name(*port));
                        if !open.contains(&finding) {
                            open.push(finding);
                        }
                    }
                }
            }
            let label = format!("Security group {} ({})", g.id, g.name);
            vec![if open.is_empty() {
                Verdict::pass(
                    &g.arn,
                    Some(region),
                    format!("{label} opens no administration port to the internet."),
                )
            } else {
                Verdict::fail(
                    &g.arn,
                    Some(region),
                    format!("{label} allows {}.", open.join(", ")),
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

    fn perm(protocol: &str, from: i32, to: i32, v4: &[&str], v6: &[&str]) -> Permission {
        Permission {
            protocol: protocol.into(),
            from_port: Some(from),
            to_port: Some(to),
            ipv4_ranges: v4.iter().map(|s| s.to_string()).collect(),
            ipv6_ranges: v6.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn sg(id: &str, ingress: Vec<Permission>) -> SecurityGroup {
        SecurityGroup {
            id: id.into(),
            name: "web".into(),
            vpc_id: Some("vpc-1".into()),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{id}"),
            ingress,
            egress: vec![],
        }
    }

    fn run(groups: crate::facts::Fact<Vec<SecurityGroup>>, settings: &Settings) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().security_groups = groups;
        evaluate(&s, settings)
    }

    /// HTTPS from the world and SSH from a private range pass.
    #[test]
    fn passes_web_and_private_ssh() {
        let g = sg(
            "sg-1",
            vec![
                perm("tcp", 443, 443, &["0.0.0.0/0"], &[]),
                perm("tcp", 22, 22, &["10.0.0.0/8"], &[]),
            ],
        );
        let v = run(Ok(vec![g]), &Settings::default());
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Security group sg-1 (web) opens no administration port to the internet."
        );
    }

    /// A port range covering 22, all-protocol rules and IPv6 sources are all caught.
    #[test]
    fn fails_on_ranges_all_protocols_and_ipv6() {
        let g = sg(
            "sg-2",
            vec![
                perm("tcp", 0, 1024, &["0.0.0.0/0"], &[]),
                perm("-1", -1, -1, &[], &["::/0"]),
            ],
        );
        let v = run(Ok(vec![g]), &Settings::default());
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].resource,
            "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-2"
        );
        assert_eq!(
            v[0].reason,
            "Security group sg-2 (web) allows 0.0.0.0/0 to port 22 (SSH), ::/0 to port 22 (SSH), ::/0 to port 3389 (RDP)."
        );
    }

    /// The admin ports come from the settings.
    #[test]
    fn admin_ports_are_configurable() {
        let g = sg("sg-3", vec![perm("tcp", 5432, 5432, &["0.0.0.0/0"], &[])]);
        let settings = Settings {
            admin_ports: vec![5432],
            ..Settings::default()
        };
        let v = run(Ok(vec![g]), &settings);
        assert_eq!(
            v[0].reason,
            "Security group sg-3 (web) allows 0.0.0.0/0 to port 5432."
        );
    }

    #[test]
    fn not_applicable_without_groups() {
        let v = run(Ok(vec![]), &Settings::default());
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no security groups in the audited regions."
        );
    }

    #[test]
    fn unknown_when_region_denied() {
        let v = run(
            Err(denied("ec2", "DescribeSecurityGroups", Some(REGION))),
            &Settings::default(),
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge security groups of eu-west-1: ec2:DescribeSecurityGroups in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
