//! No security group lets the whole internet reach a high-risk service port: databases, caches,
//! search engines, file sharing, remote procedure calls, the Docker API, plain-text protocols.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ec2_security_group_no_world_high_risk_ports",
        title: "No security group opens high-risk service ports to the internet",
        practice: Practice::Network,
        severity: Severity::High,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Remove the ingress rules from 0.0.0.0/0 and ::/0 to these ports; let only the \
                      security groups of the clients (or a VPN's CIDR) reach databases, caches and \
                      internal services; publish web services through a load balancer on 443.",
        needs: &[Need::Ec2SecurityGroups],
        notes: "**Judges** `DescribeSecurityGroups` per audited region, every group's inbound rules: fail \
when a rule from `0.0.0.0/0` or `::/0` opens one of `high_risk_ports` over TCP (a range or all protocols \
included), naming the ports; pass otherwise. The default list is Security Hub EC2.19's (20, 21, 23, 25, \
110, 135, 143, 445, 1433, 1434, 3000, 3306, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300) \
plus Oracle 1521, Redis 6379, memcached 11211, MongoDB 27017, Cassandra 9042 and the Docker API \
2375/2376; SSH and RDP are `ec2_security_group_no_world_admin_ports`' question.\n\n\
**Edge cases**: every group is judged, attached or not (one attachment away from exposure); a rule of \
all ports (`-1`, `0-65535`) names every listed port; only the two world CIDRs count (a known gap: \
`0.0.0.0/1` + `128.0.0.0/1`, prefix lists); a web application on 8080 behind no load balancer is an \
exposure the owner can accept with an `[[exceptions]]` entry.\n\n\
**Differs from Prowler** (`ec2_securitygroup_allow_ingress_from_internet_to_high_risk_tcp_ports` and \
the per-service port checks) and Security Hub EC2.19: the same idea; ours is one check with a \
configurable list, so a finding names every open port of the group at once.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "security groups",
        |r| &r.security_groups,
        |region, g| {
            let mut ports: Vec<u16> = Vec::new();
            let mut sources: Vec<&str> = Vec::new();
            for port in &settings.high_risk_ports {
                for p in g.ingress.iter().filter(|p| p.opens_tcp_port(*port)) {
                    let world = p.world_sources();
                    if !world.is_empty() && !ports.contains(port) {
                        ports.push(*port);
                    }
                    for s in world {
                        if !sources.contains(&s) {
                            sources.push(s);
                        }
                    }
                }
            }
            let label = format!("Security group {} ({})", g.id, g.name);
            vec![if ports.is_empty() {
                Verdict::pass(
                    &g.arn,
                    Some(region),
                    format!("{label} opens no high-risk port to the internet."),
                )
            } else {
                let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                Verdict::fail(
                    &g.arn,
                    Some(region),
                    format!(
                        "{label} allows {} to port{} {}.",
                        sources.join(" and "),
                        if ports.len() == 1 { "" } else { "s" },
                        list.join(", ")
                    ),
                )
            }]
        },
    );
    if verdicts.is_empty() {
        return vec![Verdict::not_applicable(
            snap.account_resource(),
            None,
            "The account has no security group in the audited regions.",
        )];
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Permission, SecurityGroup};

    fn group(id: &str, protocol: &str, from: i32, to: i32, cidr: &str) -> SecurityGroup {
        SecurityGroup {
            id: id.into(),
            name: id.into(),
            vpc_id: None,
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{id}"),
            ingress: vec![Permission {
                protocol: protocol.into(),
                from_port: Some(from),
                to_port: Some(to),
                ipv4_ranges: if cidr.contains('.') {
                    vec![cidr.into()]
                } else {
                    vec![]
                },
                ipv6_ranges: if cidr.contains(':') {
                    vec![cidr.into()]
                } else {
                    vec![]
                },
            }],
            egress: vec![],
        }
    }

    #[test]
    fn world_open_databases_fail_web_and_private_pass() {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().security_groups = Ok(vec![
            group("sg-db", "tcp", 3306, 3306, "0.0.0.0/0"),
            group("sg-range", "tcp", 6000, 7000, "::/0"),
            group("sg-web", "tcp", 443, 443, "0.0.0.0/0"),
            group("sg-private", "tcp", 5432, 5432, "10.0.0.0/8"),
            group("sg-ssh", "tcp", 22, 22, "0.0.0.0/0"),
        ]);
        let v = evaluate(&s, &Settings::default());
        let got: Vec<(Status, &str)> = v.iter().map(|v| (v.status, v.reason.as_str())).collect();
        assert_eq!(got, vec![
            (Status::Fail, "Security group sg-db (sg-db) allows 0.0.0.0/0 to port 3306."),
            (Status::Fail, "Security group sg-range (sg-range) allows ::/0 to port 6379."),
            (Status::Pass, "Security group sg-web (sg-web) opens no high-risk port to the internet."),
            (Status::Pass, "Security group sg-private (sg-private) opens no high-risk port to the internet."),
            (Status::Pass, "Security group sg-ssh (sg-ssh) opens no high-risk port to the internet."),
        ]);
        let narrow = Settings {
            high_risk_ports: vec![443],
            ..Default::default()
        };
        assert_eq!(evaluate(&s, &narrow)[2].status, Status::Fail);
    }
}
