//! Every change to the account is recorded automatically: a multi-region trail logs every read and
//! write management event (who changed what), and AWS Config records every supported resource type
//! in every audited region (what the configuration was before and after). Together they are the
//! change record that DSOMM's "Definition of a change management process" asks AWS to prove.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{overall_status, Practice, Severity, Status, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudtrail_config_changes_recorded",
        title: "Every change is recorded: a logging multi-region trail and AWS Config in every region",
        practice: Practice::Logging,
        severity: Severity::Medium,
        activity: dsomm::DEFINITION_OF_CHANGE_MANAGEMENT,
        remediation: "Fix what the reason names: a multi-region trail that logs read and write \
                      management events (cloudtrail_multi_region_logging), and an AWS Config \
                      recorder of all supported resource types in every audited region \
                      (config_recorder_enabled).",
        needs: &[Need::CloudTrailTrails, Need::ConfigRecorders],
        notes: "**Judges** the account as a whole from the verdicts of two other checks, asked here \
rather than restated: `cloudtrail_multi_region_logging` (a logging multi-region trail with read and \
write management events) and `config_recorder_enabled` (a recorder of all supported resource types, \
recording, in every audited region). It passes when both pass, fails when either fails (naming what is \
missing, from that check's reasons), and is `unknown` when neither fails and one is unknown.\n\n\
**Edge cases**: an organization trail counts like the account's own; a region without a recorder \
fails even when the trail is perfect (the trail says who called, Config says what changed); change \
approval itself (tickets, reviews) is outside AWS and not judged.\n\n\
**Differs from Prowler**: no single equivalent; Prowler reports the two halves as separate findings \
(`cloudtrail_multi_region_enabled`, `config_recorder_all_regions_enabled`). Here they evidence one DSOMM \
activity, at its level 3.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let parts = [
        (
            "a logging multi-region trail",
            (super::cloudtrail_multi_region_logging::CHECK.evaluate)(snap, settings),
        ),
        (
            "AWS Config recording everything",
            (super::config_recorder_enabled::CHECK.evaluate)(snap, settings),
        ),
    ];
    let mut failing = Vec::new();
    let mut unknown = Vec::new();
    for (what, verdicts) in &parts {
        match overall_status(verdicts) {
            Status::Fail => failing.push(format!(
                "{what} is missing ({})",
                verdicts
                    .iter()
                    .filter(|v| v.status == Status::Fail)
                    .map(|v| v.reason.trim_end_matches('.'))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            Status::Unknown => unknown.push(format!(
                "{what} ({})",
                verdicts
                    .iter()
                    .filter(|v| v.status == Status::Unknown)
                    .map(|v| v.reason.trim_end_matches('.'))
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            _ => {}
        }
    }
    vec![if !failing.is_empty() {
        Verdict::fail(
            &account,
            None,
            format!(
                "Changes to account {} are not all recorded: {}.",
                snap.account_id,
                failing.join("; ")
            ),
        )
    } else if !unknown.is_empty() {
        Verdict::unknown(
            &account,
            None,
            format!(
                "Cannot judge whether changes to account {} are recorded: {}.",
                snap.account_id,
                unknown.join("; ")
            ),
        )
    } else {
        Verdict::pass(
            &account,
            None,
            format!(
                "Changes to account {} are recorded: a logging multi-region trail of read and write management events, and AWS Config recording every supported resource type in every audited region.",
                snap.account_id
            ),
        )
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;

    /// Without any trail or recorder it fails and names both halves; with the facts denied it is
    /// unknown (the other checks' own tests prove each half both ways).
    #[test]
    fn needs_both_halves() {
        let mut s = snapshot();
        s.cloudtrail = Ok(crate::snapshot::CloudTrailFacts {
            trails: vec![],
            listing_errors: vec![],
        });
        s.regional.get_mut(REGION).unwrap().config_recorders = Ok(vec![]);
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Fail);
        assert!(
            v[0].reason
                .contains("a logging multi-region trail is missing"),
            "{}",
            v[0].reason
        );
        assert!(
            v[0].reason
                .contains("AWS Config recording everything is missing"),
            "{}",
            v[0].reason
        );
        let mut d = snapshot();
        d.cloudtrail = Err(denied("cloudtrail", "DescribeTrails", Some(REGION)));
        d.regional.get_mut(REGION).unwrap().config_recorders = Err(denied(
            "config",
            "DescribeConfigurationRecorders",
            Some(REGION),
        ));
        assert_eq!(
            evaluate(&d, &Settings::default())[0].status,
            Status::Unknown
        );
    }
}
