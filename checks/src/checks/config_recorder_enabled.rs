//! AWS Config records every supported resource type in every audited region.
//!
//! The recorder is the inventory of production components: a region without a recording recorder
//! keeps no history of what exists there. Every account has regions, so this check is never
//! not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "config_recorder_enabled",
        title: "AWS Config records all resources in every audited region",
        practice: Practice::Logging,
        severity: Severity::Medium,
        activity: dsomm::INVENTORY_OF_PRODUCTION_COMPONENTS,
        remediation: "Create a configuration recorder with RecordingGroup.AllSupported=true and a \
                      delivery channel in every region, and start it (aws configservice \
                      start-configuration-recorder).",
        needs: &[Need::ConfigRecorders],
        notes: "**Judges** per audited region the recorders (`DescribeConfigurationRecorders`) and \
their status (`DescribeConfigurationRecorderStatus`): one must record all supported resource types \
(`RecordingGroup.AllSupported`), be recording, and its last recording attempt must not have failed \
(`lastStatus` `FAILURE`, e.g. when the delivery bucket denies writes: the recorder is on but records \
nothing).\n\n\
**Edge cases**: no recorder fails the region (never `not_applicable`); a region whose calls fail is \
`unknown`; a recorder that also excludes types (`exclusionByResourceTypes`) has `AllSupported` false and \
fails.\n\n\
**Differs from Prowler** `config_recorder_all_regions_enabled`, which also fails a `FAILURE` status but \
passes a recorder that records only some resource types; ours asks for every type, as the inventory \
activity needs.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_region_value(
        snap,
        "configuration recorders",
        |r| &r.config_recorders,
        |region, recorders| {
            let failing = |r: &&crate::snapshot::ConfigRecorder| {
                r.last_status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("failure"))
            };
            if let Some(r) = recorders
                .iter()
                .find(|r| r.all_supported && r.recording && !failing(r))
            {
                return vec![Verdict::pass(
                    super::account_in(snap, region),
                    Some(region),
                    format!(
                        "Recorder {} records all supported resources in {region}.",
                        r.name
                    ),
                )];
            }
            let mut why: Vec<String> = recorders
                .iter()
                .map(|r| match (r.all_supported, r.recording) {
                    (true, true) => format!(
                        "recorder {} is on but its last recording failed ({})",
                        r.name,
                        r.last_error.as_deref().unwrap_or("no error code")
                    ),
                    (false, false) => format!(
                        "recorder {} records only some resource types and is stopped",
                        r.name
                    ),
                    (false, true) => {
                        format!("recorder {} records only some resource types", r.name)
                    }
                    _ => format!("recorder {} is stopped", r.name),
                })
                .collect();
            if why.is_empty() {
                why.push("it has no recorder".to_owned());
            }
            vec![Verdict::fail(
                super::account_in(snap, region),
                Some(region),
                format!(
                    "Account {} does not record all resources in {region}: {}.",
                    snap.account_id,
                    why.join("; ")
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
    use crate::snapshot::ConfigRecorder;

    fn rec(all: bool, recording: bool) -> ConfigRecorder {
        ConfigRecorder {
            name: "default".into(),
            all_supported: all,
            recording,
            last_status: Some("SUCCESS".into()),
            last_error: None,
        }
    }

    /// A recorder that is on but whose last delivery failed records nothing: fail, naming the error.
    #[test]
    fn failing_recorder_fails() {
        let mut r = rec(true, true);
        r.last_status = Some("FAILURE".into());
        r.last_error = Some("AccessDenied".into());
        let v = run(Ok(vec![r]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 does not record all resources in eu-west-1: recorder default is on but its last recording failed (AccessDenied)."
        );
    }

    fn run(r: crate::facts::Fact<Vec<ConfigRecorder>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.regional.get_mut(REGION).unwrap().config_recorders = r;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_recording_all_supported() {
        let v = run(Ok(vec![rec(true, true)]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "account 111122223333 in eu-west-1",
                Some(REGION),
                "Recorder default records all supported resources in eu-west-1."
            )]
        );
    }

    /// Never not_applicable: a region without a recorder fails.
    #[test]
    fn fails_partial_stopped_or_missing() {
        let cases = [
            (
                vec![rec(false, true)],
                "recorder default records only some resource types",
            ),
            (vec![rec(true, false)], "recorder default is stopped"),
            (vec![], "it has no recorder"),
        ];
        for (recs, why) in cases {
            let v = run(Ok(recs));
            assert_eq!(v[0].status, Status::Fail);
            assert_eq!(
                v[0].reason,
                format!("Account 111122223333 does not record all resources in eu-west-1: {why}.")
            );
        }
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied(
            "config",
            "DescribeConfigurationRecorders",
            Some(REGION),
        )));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge configuration recorders of eu-west-1: config:DescribeConfigurationRecorders in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
