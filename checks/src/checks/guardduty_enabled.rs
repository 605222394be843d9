//! GuardDuty has an enabled detector in every audited region.
//!
//! Every account has regions, so this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "guardduty_enabled",
        title: "GuardDuty is enabled in every audited region",
        practice: Practice::Monitoring,
        severity: Severity::High,
        activity: dsomm::ANALYZE_LOGS,
        remediation:
            "Enable GuardDuty in every region, preferably for the whole organization from a \
                      delegated administrator account (aws guardduty create-detector --enable).",
        needs: &[Need::GuardDutyDetectors],
        notes:
            "**Judges** `ListDetectors` and `GetDetector` in each audited region: a detector with \
`Status` `ENABLED` passes; a disabled detector or none fails; an unreadable detector or region is \
unknown (unless another detector is enabled). Never not_applicable.

**Edge cases**: a member account of a GuardDuty administrator has its own detector, listed and \
judged the same way. A detector suspended by the administrator reports `DISABLED` and fails, \
which is true. Protection plans (S3, EKS, Malware) are not judged.

**Differs from Prowler / Security Hub**: agrees with Prowler's `guardduty_is_enabled` and Security \
Hub GuardDuty.1; Prowler can skip regions without resources, ours judges every audited region, \
because an attacker picks the region nobody watches.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_region_value(
        snap,
        "GuardDuty detectors",
        |r| &r.guardduty_detectors,
        |region, detectors| {
            let resource = super::account_in(snap, region);
            if let Some(d) = detectors
                .iter()
                .find(|d| d.status.as_deref() == Ok("ENABLED"))
            {
                return vec![Verdict::pass(
                    resource,
                    Some(region),
                    format!("GuardDuty detector {} is enabled in {region}.", d.id),
                )];
            }
            if let Some(e) = detectors.iter().find_map(|d| d.status.as_ref().err()) {
                return vec![super::unknown(&resource, Some(region), e)];
            }
            let why = match detectors.first() {
                Some(d) => format!("detector {} is disabled", d.id),
                None => "it has no detector".to_owned(),
            };
            vec![Verdict::fail(
                resource,
                Some(region),
                format!(
                    "GuardDuty is not enabled for account {} in {region}: {why}.",
                    snap.account_id
                ),
            )]
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::GuardDutyDetector;

    fn det(status: crate::facts::Fact<String>) -> GuardDutyDetector {
        GuardDutyDetector {
            id: "d1".into(),
            status,
            features: Ok(vec![]),
        }
    }

    fn run(d: crate::facts::Fact<Vec<GuardDutyDetector>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().guardduty_detectors = d;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_enabled_detector() {
        let v = run(Ok(vec![det(Ok("ENABLED".into()))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "account 111122223333 in eu-west-1",
                Some(REGION),
                "GuardDuty detector d1 is enabled in eu-west-1."
            )]
        );
    }

    /// Never not_applicable: a region without a detector fails.
    #[test]
    fn fails_disabled_or_missing() {
        let v = run(Ok(vec![det(Ok("DISABLED".into()))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "GuardDuty is not enabled for account 111122223333 in eu-west-1: detector d1 is disabled."
        );
        let v = run(Ok(vec![]));
        assert_eq!(
            v[0].reason,
            "GuardDuty is not enabled for account 111122223333 in eu-west-1: it has no detector."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("guardduty", "ListDetectors", Some(REGION))));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge GuardDuty detectors of eu-west-1: guardduty:ListDetectors in eu-west-1 access denied (AccessDenied: not authorized)."
        );
        let v = run(Ok(vec![det(Err(denied(
            "guardduty",
            "GetDetector",
            Some(REGION),
        )))]));
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333 in eu-west-1: guardduty:GetDetector in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
