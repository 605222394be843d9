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
        title: "A multi-region CloudTrail trail is logging",
        practice: Practice::Logging,
        severity: Severity::High,
        activity: dsomm::CENTRALIZED_SYSTEM_LOGGING,
        remediation:
            "Create a multi-region trail (preferably an organization trail from the management \
                      account) delivering to a central log-archive bucket, and start logging on it.",
        needs: &[Need::CloudTrailTrails],
        notes: "",
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
    if let Some(t) = facts
        .trails
        .iter()
        .find(|t| t.multi_region && t.is_logging == Ok(true))
    {
        return vec![Verdict::pass(
            &t.arn,
            Some(&t.home_region),
            format!(
                "Trail {} is multi-region and logging, covering {account}.",
                t.name
            ),
        )];
    }
    // No trail proves it. A failed listing or status read may hide the trail that would.
    let status_error = facts
        .trails
        .iter()
        .filter(|t| t.multi_region)
        .find_map(|t| t.is_logging.as_ref().err());
    if let Some(e) = facts.listing_errors.first().or(status_error) {
        return vec![super::unknown(&account, None, e)];
    }
    let mut why: Vec<String> = facts
        .trails
        .iter()
        .map(|t| {
            if t.multi_region {
                format!("trail {} is multi-region but not logging", t.name)
            } else {
                format!("trail {} covers only {}", t.name, t.home_region)
            }
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
            "{account_cap} has no multi-region trail that is logging: {}.",
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
                "Trail org is multi-region and logging, covering account 111122223333."
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
            "Account 111122223333 has no multi-region trail that is logging: trail main is multi-region but not logging; trail local covers only eu-west-1."
        );
    }

    /// Having no trail at all is a failure, not "nothing to check": every account must be logged.
    /// This check is therefore never not_applicable.
    #[test]
    fn fails_without_trails() {
        let v = run(vec![], vec![]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no multi-region trail that is logging: it has no trail."
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
