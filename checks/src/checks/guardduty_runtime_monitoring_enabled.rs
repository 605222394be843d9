//! GuardDuty Runtime Monitoring audits the operating-system events of EC2, ECS and EKS workloads
//! in every audited region.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "guardduty_runtime_monitoring_enabled",
        title: "GuardDuty Runtime Monitoring is enabled in every audited region",
        practice: Practice::Monitoring,
        severity: Severity::Medium,
        activity: dsomm::AUDIT_OF_SYSTEM_EVENTS,
        remediation: "Enable GuardDuty Runtime Monitoring with automated agent management (aws \
                      guardduty update-detector --detector-id ID --features \
                      'Name=RUNTIME_MONITORING,Status=ENABLED,AdditionalConfiguration=[{Name=EC2_AGENT_MANAGEMENT,Status=ENABLED},{Name=ECS_FARGATE_AGENT_MANAGEMENT,Status=ENABLED},{Name=EKS_ADDON_MANAGEMENT,Status=ENABLED}]'), \
                      preferably for the organization from its delegated administrator.",
        needs: &[Need::GuardDutyDetectors],
        notes: "**Judges** `GetDetector` of each detector in each audited region (the same call \
`guardduty_enabled` reads): a region passes when an `ENABLED` detector has the feature \
`RUNTIME_MONITORING` with status `ENABLED`; it fails when the feature is off or absent, or when \
no detector is enabled (nothing audits the hosts' system events). An unreadable detector or \
region is unknown. Never not_applicable.\n\n\
**Edge cases**: the older `EKS_RUNTIME_MONITORING` feature alone does not pass: it watches EKS \
clusters only, and AWS replaced it by `RUNTIME_MONITORING`, which covers EC2, ECS (Fargate too) \
and EKS (the failing reason names it). The feature turns on the analysis of the events that \
GuardDuty's security agent sends; whether the agent runs on each host (automated agent \
management in the feature's `AdditionalConfiguration`, or a manual deployment, as \
`ListCoverage` reports) is not read, so a region whose hosts lack the agent still passes — the \
check proves the runtime audit is switched on, not its coverage.\n\n\
**Differs from Prowler / AWS Config**: we know of no Prowler check of this feature; AWS \
Config's managed rule `guardduty-runtime-monitoring-enabled` asks the same feature; ours also \
fails a region without an enabled detector instead of skipping it, because nothing audits there.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_region_guardduty_plan(
        snap,
        |region, id, features| {
            let status = |name| super::feature_status(features, name);
            match status("RUNTIME_MONITORING") {
                Some("ENABLED") => Ok(format!(
                    "GuardDuty detector {id} audits workloads' runtime events in {region}."
                )),
                _ if status("EKS_RUNTIME_MONITORING") == Some("ENABLED") => Err(format!(
                    "detector {id} has only EKS Runtime Monitoring, which watches EKS clusters alone"
                )),
                other => Err(format!(
                    "detector {id} has Runtime Monitoring {}",
                    other.unwrap_or("not configured")
                )),
            }
        },
        |region, why| format!("Nothing audits workloads' system events in {region}: {why}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::GuardDutyDetector;

    fn detector(id: &str, status: &str, features: &[(&str, &str)]) -> GuardDutyDetector {
        GuardDutyDetector {
            id: id.into(),
            status: Ok(status.into()),
            features: Ok(features
                .iter()
                .map(|(n, s)| (n.to_string(), s.to_string()))
                .collect()),
        }
    }

    fn run(detectors: Vec<GuardDutyDetector>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().guardduty_detectors = Ok(detectors);
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_runtime_monitoring() {
        let v = run(vec![detector(
            "d1",
            "ENABLED",
            &[
                ("EBS_MALWARE_PROTECTION", "DISABLED"),
                ("RUNTIME_MONITORING", "ENABLED"),
            ],
        )]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(v[0].resource, format!("account {ACCOUNT} in eu-west-1"));
        assert_eq!(
            v[0].reason,
            "GuardDuty detector d1 audits workloads' runtime events in eu-west-1."
        );
    }

    #[test]
    fn fails_feature_off_absent_eks_only_or_detector_disabled() {
        let reason = |d| run(vec![d])[0].reason.clone();
        assert_eq!(
            reason(detector("d1", "ENABLED", &[("RUNTIME_MONITORING", "DISABLED")])),
            "Nothing audits workloads' system events in eu-west-1: detector d1 has Runtime Monitoring DISABLED."
        );
        assert_eq!(
            reason(detector("d1", "ENABLED", &[("S3_DATA_EVENTS", "ENABLED")])),
            "Nothing audits workloads' system events in eu-west-1: detector d1 has Runtime Monitoring not configured."
        );
        assert_eq!(
            reason(detector(
                "d1",
                "ENABLED",
                &[
                    ("EKS_RUNTIME_MONITORING", "ENABLED"),
                    ("RUNTIME_MONITORING", "DISABLED")
                ]
            )),
            "Nothing audits workloads' system events in eu-west-1: detector d1 has only EKS Runtime Monitoring, which watches EKS clusters alone."
        );
        // A suspended detector analyses nothing, whatever its features say.
        assert_eq!(
            reason(detector("d1", "DISABLED", &[("RUNTIME_MONITORING", "ENABLED")])),
            "Nothing audits workloads' system events in eu-west-1: no GuardDuty detector is enabled."
        );
        assert_eq!(run(vec![])[0].status, Status::Fail);
    }

    #[test]
    fn unknown_when_unreadable() {
        let unreadable = GuardDutyDetector {
            id: "d1".into(),
            status: Err(denied("guardduty", "GetDetector", Some(REGION))),
            features: Err(denied("guardduty", "GetDetector", Some(REGION))),
        };
        let v = run(vec![unreadable]);
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("GetDetector"), "{}", v[0].reason);
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().guardduty_detectors =
            Err(denied("guardduty", "ListDetectors", Some(REGION)));
        assert_eq!(
            evaluate(&s, &Settings::default())[0].status,
            Status::Unknown
        );
    }
}
