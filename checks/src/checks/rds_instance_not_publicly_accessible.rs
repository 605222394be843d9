//! No RDS instance is reachable from the internet: `PubliclyAccessible` gives its endpoint a public
//! address, and a security group that admits `0.0.0.0/0` or `::/0` on its port lets anyone reach
//! the database's login.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "rds_instance_not_publicly_accessible",
        title: "No RDS instance is reachable from the internet",
        practice: Practice::Network,
        severity: Severity::Critical,
        activity: dsomm::TEST_FOR_EXPOSED_SERVICES,
        remediation: "Turn public access off (aws rds modify-db-instance --no-publicly-accessible \
                      --apply-immediately) and reach the database from inside the VPC (a bastion \
                      through SSM, a VPN, RDS Proxy); remove 0.0.0.0/0 and ::/0 from its security \
                      groups.",
        needs: &[Need::RdsInstances, Need::Ec2SecurityGroups],
        notes: "**Judges** every DB instance of `DescribeDBInstances` per audited region: it fails when \
the instance is `PubliclyAccessible` and one of its VPC security groups (read with \
`DescribeSecurityGroups`) admits `0.0.0.0/0` or `::/0` on the endpoint's port over TCP (a range or all \
protocols included), naming the group and the source. A publicly accessible instance whose groups admit \
no internet source passes with that said (one rule away from exposure: the reason tells so); one that is \
not publicly accessible passes. Security groups that cannot be read, or a group the listing lacks, make \
the instance `unknown`.\n\n\
**Edge cases**: cluster members (Aurora) carry their own `PubliclyAccessible` and are judged one by one; \
an instance still being created has no endpoint yet, and its configured port is used; network ACLs and \
routes are not read (a public subnet is what `PubliclyAccessible` needs to be reachable, a private one \
makes the public address unreachable: the check judges the configuration the owner controls).\n\n\
**Differs from Prowler** (`rds_instance_no_public_access`) and Security Hub RDS.2: Security Hub fails \
`PubliclyAccessible` alone; Prowler also requires an open security group but on any port; ours requires \
the database's own port open to the world, so it fails exactly the instances anyone can connect to.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = super::per_region(
        snap,
        "DB instances",
        |r| &r.db_instances,
        |region, db| {
            let who = format!("DB instance {}", db.id);
            if !db.publicly_accessible {
                return vec![Verdict::pass(
                    &db.arn,
                    Some(region),
                    format!("{who} is not publicly accessible."),
                )];
            }
            let groups = match &snap.regional[region].security_groups {
                Ok(g) => g,
                Err(e) => return vec![super::unknown(&db.arn, Some(region), e)],
            };
            let port = db.port.and_then(|p| u16::try_from(p).ok());
            let mut open = Vec::new();
            for id in &db.security_groups {
                let Some(g) = groups.iter().find(|g| &g.id == id) else {
                    return vec![Verdict::unknown(
                        &db.arn,
                        Some(region),
                        format!("Cannot judge {who}: its security group {id} is not in the listing of {region}."),
                    )];
                };
                for p in &g.ingress {
                    let reaches = match port {
                        Some(port) => p.opens_tcp_port(port),
                        None => p.protocol == "-1" || p.protocol == "tcp" || p.protocol == "6",
                    };
                    if reaches {
                        for src in p.world_sources() {
                            open.push(format!("security group {id} admits {src}"));
                        }
                    }
                }
            }
            let on = port.map(|p| format!(" on port {p}")).unwrap_or_default();
            vec![if open.is_empty() {
                Verdict::pass(
                    &db.arn,
                    Some(region),
                    format!("{who} is publicly accessible, but no security group of it admits an internet source{on}."),
                )
            } else {
                open.dedup();
                Verdict::fail(
                    &db.arn,
                    Some(region),
                    format!(
                        "{who} is publicly accessible and reachable from the internet{on}: {}.",
                        open.join(", ")
                    ),
                )
            }]
        },
    );
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            "The account has no DB instance in the audited regions.",
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{DbInstance, Permission, SecurityGroup};

    fn db(public: bool, groups: &[&str]) -> DbInstance {
        DbInstance {
            id: "orders".into(),
            arn: format!("arn:aws:rds:{REGION}:{ACCOUNT}:db:orders"),
            engine: "postgres".into(),
            publicly_accessible: public,
            port: Some(5432),
            security_groups: groups.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        }
    }

    fn group(id: &str, port: i32, cidr: &str) -> SecurityGroup {
        SecurityGroup {
            id: id.into(),
            name: id.into(),
            vpc_id: None,
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{id}"),
            ingress: vec![Permission {
                protocol: "tcp".into(),
                from_port: Some(port),
                to_port: Some(port),
                ipv4_ranges: vec![cidr.into()],
                ipv6_ranges: vec![],
            }],
            egress: vec![],
        }
    }

    fn run(dbs: Vec<DbInstance>, groups: crate::facts::Fact<Vec<SecurityGroup>>) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.db_instances = Ok(dbs);
        r.security_groups = groups;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn public_and_open_on_its_port_fails() {
        let groups = vec![
            group("sg-open", 5432, "0.0.0.0/0"),
            group("sg-office", 5432, "203.0.113.0/24"),
            group("sg-web", 443, "0.0.0.0/0"),
        ];
        let v = run(vec![db(true, &["sg-open"])], Ok(groups.clone()));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "DB instance orders is publicly accessible and reachable from the internet on port 5432: security group sg-open admits 0.0.0.0/0.");
        let v = run(vec![db(true, &["sg-office", "sg-web"])], Ok(groups.clone()));
        assert_eq!(v[0].status, Status::Pass, "{}", v[0].reason);
        assert_eq!(
            run(vec![db(false, &["sg-open"])], Ok(groups.clone()))[0].status,
            Status::Pass
        );
        assert_eq!(
            run(vec![db(true, &["sg-missing"])], Ok(groups))[0].status,
            Status::Unknown
        );
        let err = Err(crate::facts::FactError::not_collected(
            "ec2",
            "DescribeSecurityGroups",
        ));
        assert_eq!(
            run(vec![db(true, &["sg-open"])], err)[0].status,
            Status::Unknown
        );
        assert_eq!(run(vec![], Ok(vec![]))[0].status, Status::NotApplicable);
    }
}
