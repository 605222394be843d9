//! Every VPC has a flow log that records all its traffic (accepted and rejected) and delivers it.
//!
//! A flow log of only `ACCEPT` or only `REJECT` records leaves half of an intrusion unrecorded
//! (the probes, or the connections that succeeded), and one whose delivery fails records nothing:
//! neither counts.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, FlowLog, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "vpc_flow_logs_enabled",
        title: "Every VPC has a flow log of all its traffic",
        practice: Practice::Logging,
        severity: Severity::Medium,
        activity: dsomm::LOGGING_OF_SECURITY_EVENTS,
        remediation:
            "Create a flow log for each VPC (aws ec2 create-flow-logs --resource-type VPC \
                      --traffic-type ALL) delivering to CloudWatch Logs or the central log bucket, and \
                      fix the destination or role of any flow log whose delivery fails.",
        needs: &[Need::Ec2VpcFlowLogs],
        notes: "**Judges** `DescribeVpcs` and `DescribeFlowLogs` per audited region; per VPC the flow \
logs whose `ResourceId` is the VPC: pass when one has `FlowLogStatus` ACTIVE, `TrafficType` ALL \
and a `DeliverLogsStatus` other than FAILED; fail otherwise, naming each flow log's shortfall. A \
region whose calls fail is unknown; no VPC is not_applicable.

**Edge cases**: an `ACCEPT`-only log misses the probes, a `REJECT`-only log misses the connections \
that succeeded (an exfiltration leaves no record): neither passes. A log whose delivery fails \
(deleted bucket, role without permission) records nothing and fails with the error AWS gives. A \
missing `DeliverLogsStatus` is not a failure. Logs on subnets or interfaces only do not count: \
they leave the rest of the VPC unrecorded. Default VPCs are judged; deleting an unused one is a \
remediation too.

**Differs from Prowler / Security Hub**: Prowler's `vpc_flow_logs_enabled` passes any flow log on \
the VPC, and Security Hub EC2.6 accepts `REJECT` (its default parameter); ours requires `ALL` and \
working delivery, because a log that misses accepted traffic or delivers nothing is no evidence \
of an intrusion.",
        module: module_path!(),
    },
    evaluate,
};

/// Why a flow log does not record the VPC's traffic, or `None` when it does.
fn shortfall(log: &FlowLog) -> Option<String> {
    if log.status != "ACTIVE" {
        return Some(format!("flow log {} is {}", log.id, log.status));
    }
    if log.deliver_status.as_deref() == Some("FAILED") {
        let why = log
            .deliver_error
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Some(format!("flow log {} fails to deliver{why}", log.id));
    }
    if log.traffic_type != "ALL" {
        return Some(format!(
            "flow log {} records only {} traffic",
            log.id, log.traffic_type
        ));
    }
    None
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let verdicts = super::per_region(
        snap,
        "VPCs",
        |r| &r.vpcs,
        |region, vpc| {
            if let Some(log) = vpc.flow_logs.iter().find(|l| shortfall(l).is_none()) {
                return vec![Verdict::pass(
                    &vpc.arn,
                    Some(region),
                    format!(
                        "VPC {} has flow log {}, recording all traffic.",
                        vpc.id, log.id
                    ),
                )];
            }
            let why = if vpc.flow_logs.is_empty() {
                "it has no flow log".to_owned()
            } else {
                vpc.flow_logs
                    .iter()
                    .filter_map(shortfall)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            vec![Verdict::fail(
                &vpc.arn,
                Some(region),
                format!("VPC {} does not log all its traffic: {why}.", vpc.id),
            )]
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

    /// A flow log as `DescribeFlowLogs` gives it for a working log of all traffic.
    fn log(id: &str) -> FlowLog {
        FlowLog {
            id: id.into(),
            status: "ACTIVE".into(),
            traffic_type: "ALL".into(),
            deliver_status: Some("SUCCESS".into()),
            deliver_error: None,
        }
    }

    fn vpc(flow_logs: Vec<FlowLog>) -> Vpc {
        Vpc {
            id: "vpc-1".into(),
            arn: format!("arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/vpc-1"),
            is_default: false,
            flow_logs,
        }
    }

    fn run(v: crate::facts::Fact<Vec<Vpc>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().vpcs = v;
        evaluate(&s, &Settings::default())
    }

    /// One working log of all traffic is enough, whatever the others are.
    #[test]
    fn passes_with_a_working_log_of_all_traffic() {
        let reject = FlowLog {
            traffic_type: "REJECT".into(),
            ..log("fl-0")
        };
        let v = run(Ok(vec![vpc(vec![reject, log("fl-1")])]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-1",
                Some(REGION),
                "VPC vpc-1 has flow log fl-1, recording all traffic."
            )]
        );
        // An answer without DeliverLogsStatus is not a failed delivery.
        let silent = FlowLog {
            deliver_status: None,
            ..log("fl-2")
        };
        assert_eq!(run(Ok(vec![vpc(vec![silent])]))[0].status, Status::Pass);
    }

    #[test]
    fn fails_without_flow_log() {
        let v = run(Ok(vec![vpc(vec![])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "VPC vpc-1 does not log all its traffic: it has no flow log."
        );
    }

    /// Half the traffic, or a log that delivers nothing, is no record of an intrusion.
    #[test]
    fn fails_partial_or_undelivered_logs() {
        let accept = FlowLog {
            traffic_type: "ACCEPT".into(),
            ..log("fl-a")
        };
        let broken = FlowLog {
            deliver_status: Some("FAILED".into()),
            deliver_error: Some("Access error".into()),
            ..log("fl-b")
        };
        let v = run(Ok(vec![vpc(vec![accept, broken])]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "VPC vpc-1 does not log all its traffic: flow log fl-a records only ACCEPT traffic; flow log fl-b fails to deliver (Access error)."
        );
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
