//! Every VPC has an active flow log.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "vpc_flow_logs_enabled",
        title: "Every VPC has an active flow log",
        practice: Practice::Logging,
        severity: Severity::Medium,
        activity: dsomm::LOGGING_OF_SECURITY_EVENTS,
        remediation:
            "Create a flow log for each VPC (aws ec2 create-flow-logs --resource-type VPC \
                      --traffic-type ALL) delivering to CloudWatch Logs or the central log bucket.",
        needs: &[Need::Ec2VpcFlowLogs],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "VPCs",
        |r| &r.vpcs,
        |region, vpc| {
            vec![
                match vpc.flow_logs.iter().find(|(_, status)| status == "ACTIVE") {
                    Some((id, _)) => Verdict::pass(
                        &vpc.arn,
                        Some(region),
                        format!("VPC {} has active flow log {id}.", vpc.id),
                    ),
                    None => Verdict::fail(
                        &vpc.arn,
                        Some(region),
                        format!("VPC {} has no active flow log.", vpc.id),
                    ),
                },
            ]
        },
    );
    super::or_not_applicable(snap, verdicts, "VPCs in the audited regions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Vpc;

    fn vpc(logs: &[(&str, &str)]) -> Vpc {
        Vpc {
            id: "vpc-1".into(),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-1"),
            is_default: false,
            flow_logs: logs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    fn run(v: crate::facts::Fact<Vec<Vpc>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().vpcs = v;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_active_flow_log() {
        let v = run(Ok(vec![vpc(&[("fl-0", "FAILED"), ("fl-1", "ACTIVE")])]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1",
                Some(REGION),
                "VPC vpc-1 has active flow log fl-1."
            )]
        );
    }

    #[test]
    fn fails_without_active_flow_log() {
        let v = run(Ok(vec![vpc(&[("fl-0", "FAILED")])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "VPC vpc-1 has no active flow log.");
    }

    #[test]
    fn not_applicable_without_vpcs() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no VPCs in the audited regions."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("ec2", "DescribeVpcs", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge VPCs of eu-west-1: ec2:DescribeVpcs in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
