//! A multi-region CloudTrail trail is logging the account.
//!
//! An organization trail created in the management account counts for every member account: it is
//! listed there as a shadow trail and its status is read by ARN.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudtrail_multi_region_logging",
        title: "A multi-region CloudTrail trail logs every read and write management event",
        practice: Practice::Logging,
        severity: Severity::High,
        activity: dsomm::CENTRALIZED_SYSTEM_LOGGING,
        remediation:
            "Create a multi-region trail (preferably an organization trail from the management \
                      account) delivering to a central log-archive bucket, and start logging on it.",
        needs: &[Need::CloudTrailTrails],
        notes: "**Judges** the trails the account sees in every audited region (`DescribeTrails` with \
shadow trails, so an organization trail of the management account counts for its members), each \
once: one must be multi-region, logging (`GetTrailStatus` `IsLogging`) and record read and write \
management events (`GetEventSelectors`: basic selectors with `IncludeManagementEvents` and \
`ReadWriteType`, or advanced selectors with `eventCategory = Management` and no `readOnly` restriction). \
No trail is a failure, never `not_applicable`.\n\n\
**Edge cases**: a trail that records only S3 data events, only writes or only reads does not count; \
leaving out `kms.amazonaws.com` or `rdsdata.amazonaws.com` (the high-volume sources the console offers to \
exclude) still counts, leaving out any other source does not; a trail without selectors records AWS's \
default (all management events); a region whose listing failed, or a trail whose status or selectors \
cannot be read, makes the verdict `unknown` unless another trail already proves it.\n\n\
**Agrees with Prowler** `cloudtrail_multi_region_enabled_logging_management_events` (CIS 3.1) on the \
selector reading; unlike Prowler's `cloudtrail_multi_region_enabled`, a multi-region trail that logs only \
data events does not pass here.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let facts = match &snap.cloudtrail {
        Err(e) => return vec![super::unknown(&account, None, e)],
        Ok(f) => f,
    };
    if let Some(t) = facts.trails.iter().find(|t| t.logging_gap() == Ok(None)) {
        return vec![Verdict::pass(
            &t.arn,
            Some(&t.home_region),
            format!(
                "Trail {} is multi-region, logging, and records every read and write management event, covering {account}.",
                t.name
            ),
        )];
    }
    // No trail proves it. A failed listing, status or selector read may hide the trail that would.
    let read_error = facts.trails.iter().find_map(|t| t.logging_gap().err());
    if let Some(e) = facts.listing_errors.first().or(read_error) {
        return vec![super::unknown(&account, None, e)];
    }
    let mut why: Vec<String> = facts
        .trails
        .iter()
        .filter_map(|t| {
            let gap = t.logging_gap().ok().flatten()?;
            Some(format!("trail {} {gap}", t.name))
        })
        .collect();
    if why.is_empty() {
        why.push("it has no trail".to_owned());
    }
    let account_cap = format!("Account {}", snap.account_id);
    vec![Verdict::fail(
        &account,
        None,
        format!(
            "{account_cap} has no multi-region trail logging its management events: {}.",
            why.join("; ")
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::facts::ErrorKind;
    use crate::model::Status;
    use crate::snapshot::{CloudTrailFacts, Trail};

    fn trail(name: &str, multi: bool, logging: crate::facts::Fact<bool>) -> Trail {
        Trail {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"),
            home_region: REGION.into(),
            multi_region: multi,
            organization_trail: false,
            s3_bucket: Some("logs".into()),
            kms_key_id: None,
            log_file_validation: false,
            is_logging: logging,
            management_events: Ok(crate::snapshot::ManagementEvents::all()),
            log_group_arn: None,
        }
    }

    fn run(trails: Vec<Trail>, listing_errors: Vec<crate::facts::FactError>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.cloudtrail = Ok(CloudTrailFacts {
            trails,
            listing_errors,
        });
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_logging_multi_region_trail() {
        let v = run(
            vec![
                trail("single", false, Ok(true)),
                trail("org", true, Ok(true)),
            ],
            vec![],
        );
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org",
                Some(REGION),
                "Trail org is multi-region, logging, and records every read and write management event, covering account 111122223333."
            )]
        );
    }

    #[test]
    fn fails_when_multi_region_trail_stopped_and_others_single_region() {
        let v = run(
            vec![
                trail("main", true, Ok(false)),
                trail("local", false, Ok(true)),
            ],
            vec![],
        );
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no multi-region trail logging its management events: trail main is multi-region but not logging; trail local covers only eu-west-1."
        );
    }

    /// Having no trail at all is a failure, not "nothing to check": every account must be logged.
    /// This check is therefore never not_applicable.
    /// A multi-region trail that records only S3 data events (or only writes) does not count.
    #[test]
    fn data_events_only_trail_does_not_count() {
        let mut data = trail("data", true, Ok(true));
        data.management_events = Ok(crate::snapshot::ManagementEvents::default());
        let mut writes = trail("writes", true, Ok(true));
        writes.management_events = Ok(crate::snapshot::ManagementEvents {
            write: true,
            ..Default::default()
        });
        let v = run(vec![data, writes], vec![]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no multi-region trail logging its management events: trail data records no management events; trail writes records only write management events."
        );
        let mut unread = trail("main", true, Ok(true));
        unread.management_events = Err(denied("cloudtrail", "GetEventSelectors", Some(REGION)));
        assert_eq!(run(vec![unread], vec![])[0].status, Status::Unknown);
    }

    #[test]
    fn fails_without_trails() {
        let v = run(vec![], vec![]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no multi-region trail logging its management events: it has no trail."
        );
    }

    /// A region whose listing failed may hold the trail: unknown, not fail.
    #[test]
    fn unknown_when_a_listing_failed() {
        let e = crate::facts::FactError::new(
            "cloudtrail",
            "DescribeTrails",
            Some("us-east-1"),
            ErrorKind::Timeout,
            "operation timeout (all attempts including retries) occurred after 20s",
        );
        let v = run(vec![trail("local", false, Ok(true))], vec![e]);
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: cloudtrail:DescribeTrails in us-east-1 timed out (operation timeout (all attempts including retries) occurred after 20s)."
        );
    }

    #[test]
    fn unknown_when_status_unreadable() {
        let v = run(
            vec![trail(
                "main",
                true,
                Err(denied("cloudtrail", "GetTrailStatus", Some(REGION))),
            )],
            vec![],
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: cloudtrail:GetTrailStatus in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
