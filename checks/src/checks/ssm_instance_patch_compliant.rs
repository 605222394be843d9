//! Every running EC2 instance and managed node is scanned by Patch Manager and has no missing
//! patches.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};
use std::collections::BTreeSet;

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "ssm_instance_patch_compliant",
        title: "Instances are scanned by Patch Manager and patch compliant",
        practice: Practice::Monitoring,
        severity: Severity::High,
        activity: dsomm::TEST_INFRASTRUCTURE_KNOWN_VULNERABILITIES,
        remediation: "Manage every instance with Systems Manager (the SSM agent and an instance \
                      profile with AmazonSSMManagedInstanceCore), scan and install patches on a \
                      schedule (a Quick Setup patch policy or AWS-RunPatchBaseline in a \
                      maintenance window), and fix the instances that stay non-compliant.",
        needs: &[Need::SsmPatchCompliance, Need::Ec2Instances],
        notes:
            "**Judges** per audited region the nodes of `DescribeInstanceInformation` with their \
`Patch` compliance from `ListResourceComplianceSummaries` (one listing, filtered to the `Patch` \
type): `COMPLIANT` passes; `NON_COMPLIANT` fails with the count of missing patches (critical and \
high named); a node Patch Manager never reported on fails. Every running EC2 instance of \
`DescribeInstances` that Systems Manager does not manage fails too: nothing reports its patch \
state. A region whose nodes or compliance cannot be read is unknown (and its EC2 instances are \
not judged alone); no instance is not_applicable.

**Edge cases**: compliance is what the last scan found: a node offline since (`PingStatus` other \
than `Online`) is judged on that scan and the reason names its status. Stopped instances are not \
judged (they run nothing and cannot be scanned). Inspector's EC2 findings are the other AWS \
source for known vulnerabilities; its coverage is judged by `inspector2_scanning_enabled`.

**Differs from Prowler / Security Hub**: Prowler's `ssm_managed_compliant_patching` (Security \
Hub SSM.2) judges the managed nodes only; Prowler's `ec2_instance_managed_by_ssm` (SSM.1) is a \
separate check. Ours fails unmanaged running instances here too, because their patch state is \
unknown to AWS, which is what this activity tests.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (region, facts) in &snap.regional {
        let region = region.as_str();
        let nodes = match &facts.ssm_instances {
            Err(e) => {
                verdicts.push(super::unknown(
                    &format!("managed nodes of {region}"),
                    Some(region),
                    e,
                ));
                continue;
            }
            Ok(n) => n,
        };
        let arn = |id: &str| {
            if id.starts_with("i-") {
                format!("arn:aws:ec2:{region}:{}:instance/{id}", snap.account_id)
            } else {
                format!(
                    "arn:aws:ssm:{region}:{}:managed-instance/{id}",
                    snap.account_id
                )
            }
        };
        for n in nodes {
            let offline = if n.ping_status == "Online" || n.ping_status.is_empty() {
                String::new()
            } else {
                format!(" (node {})", n.ping_status)
            };
            let id = &n.id;
            verdicts.push(match &n.patch {
                None => Verdict::fail(
                    arn(id),
                    Some(region),
                    format!("Node {id} has never been scanned by Patch Manager{offline}."),
                ),
                Some(p) if p.status == "COMPLIANT" => Verdict::pass(
                    arn(id),
                    Some(region),
                    format!("Node {id} is patch compliant{offline}."),
                ),
                Some(p) => Verdict::fail(
                    arn(id),
                    Some(region),
                    format!(
                        "Node {id} misses {} patches ({} critical, {} high){offline}.",
                        p.non_compliant, p.critical, p.high
                    ),
                ),
            });
        }
        let managed: BTreeSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
        match &facts.instances {
            Err(e) => verdicts.push(super::unknown(
                &format!("instances of {region}"),
                Some(region),
                e,
            )),
            Ok(instances) => verdicts.extend(
                instances
                    .iter()
                    .filter(|i| i.state == "running" && !managed.contains(i.id.as_str()))
                    .map(|i| {
                        Verdict::fail(
                            &i.arn,
                            Some(region),
                            format!(
                                "Instance {} is not managed by Systems Manager: no patch compliance is reported for it.",
                                i.id
                            ),
                        )
                    }),
            ),
        }
    }
    super::or_not_applicable(
        snap,
        verdicts,
        "running instances or managed nodes in the audited regions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Instance, ManagedInstance, PatchCompliance};

    fn node(id: &str, patch: Option<(&str, i32)>) -> ManagedInstance {
        ManagedInstance {
            id: id.into(),
            ping_status: "Online".into(),
            patch: patch.map(|(status, missing)| PatchCompliance {
                status: status.into(),
                non_compliant: missing,
                critical: missing.min(1),
                high: 0,
            }),
        }
    }

    fn inst(id: &str, state: &str) -> Instance {
        Instance {
            id: id.into(),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}"),
            state: state.into(),
            http_tokens: None,
            http_endpoint: None,
            image_id: None,
            launch_time: None,
        }
    }

    fn run(nodes: Vec<ManagedInstance>, instances: Vec<Instance>) -> Vec<Verdict> {
        let mut s = snapshot();
        let r = s.regional.get_mut(REGION).unwrap();
        r.ssm_instances = Ok(nodes);
        r.instances = Ok(instances);
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_compliant_nodes() {
        let v = run(
            vec![node("i-1", Some(("COMPLIANT", 0)))],
            vec![inst("i-1", "running")],
        );
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
                Some(REGION),
                "Node i-1 is patch compliant."
            )]
        );
    }

    #[test]
    fn fails_missing_patches_unscanned_and_unmanaged() {
        let v = run(
            vec![node("i-1", Some(("NON_COMPLIANT", 3))), node("mi-2", None)],
            vec![
                inst("i-1", "running"),
                inst("i-3", "running"),
                inst("i-4", "stopped"),
            ],
        );
        let reasons: Vec<(&str, Status)> =
            v.iter().map(|v| (v.reason.as_str(), v.status)).collect();
        assert_eq!(
            reasons,
            vec![
                ("Node i-1 misses 3 patches (1 critical, 0 high).", Status::Fail),
                ("Node mi-2 has never been scanned by Patch Manager.", Status::Fail),
                (
                    "Instance i-3 is not managed by Systems Manager: no patch compliance is reported for it.",
                    Status::Fail
                ),
            ]
        );
        assert_eq!(
            v[1].resource,
            "arn:aws:ssm:eu-west-1:111122223333:managed-instance/mi-2"
        );
    }

    #[test]
    fn unknown_and_not_applicable() {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().ssm_instances =
            Err(denied("ssm", "DescribeInstanceInformation", Some(REGION)));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            run(vec![], vec![inst("i-4", "stopped")])[0].status,
            Status::NotApplicable
        );
    }
}
