//! A logging CloudTrail trail delivers the account's events to a central place: it is an
//! organization trail, or it delivers to an S3 bucket that is not one of the account's own buckets
//! (a log-archive account's bucket, out of reach of the account's administrators).
//!
//! Having no trail at all fails (every account must be logged), so this check is never
//! not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, Trail};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudtrail_central_bucket",
        title: "CloudTrail delivers to a central bucket outside the account",
        practice: Practice::Logging,
        severity: Severity::High,
        activity: dsomm::CENTRALIZED_SYSTEM_LOGGING,
        remediation:
            "Log the account with an organization trail, or deliver its trail to a bucket \
                      in a dedicated log-archive account.",
        needs: &[Need::CloudTrailTrails, Need::S3Buckets],
        notes: "**Judges** the trails of `DescribeTrails` (every region, deduplicated) with their `GetTrailStatus`: it passes when one trail that is logging is an organization trail, or delivers to an S3 bucket that is not among the account's own buckets (a log-archive account's bucket, out of reach of the account's administrators); it fails otherwise, saying for each trail why (not logging, the account's own bucket, no bucket). No trail fails. A trail whose status cannot be read makes the verdict `unknown` unless another trail passes.\n\n\
**Edge cases**: the bucket's owner is inferred from the account's bucket listing (a bucket the account does not list is someone else's); the bucket's own policy and object lock are not read; an organization trail delivered by the management account counts for every member.\n\n\
**Differs from Prowler** (`cloudtrail_logs_s3_bucket_is_not_publicly_accessible`, `cloudtrail_multi_region_enabled`): Prowler does not ask where logs go; CIS asks for a central log archive, which this check proves from the account's side.",
        module: module_path!(),
    },
    evaluate,
};

/// Why a trail is central: `Ok(Some(why))`, `Ok(None)` when it is not, `Err` when the bucket listing
/// needed to tell could not be read.
fn central<'a>(
    snap: &'a AccountSnapshot,
    t: &Trail,
) -> Result<Option<String>, &'a crate::facts::FactError> {
    if t.organization_trail {
        return Ok(Some("is an organization trail".to_owned()));
    }
    let Some(bucket) = t.s3_bucket.as_deref() else {
        return Ok(None);
    };
    let own = snap.s3.buckets.as_ref()?;
    Ok(if own.iter().any(|b| b.name == bucket) {
        None
    } else {
        Some(format!("delivers to bucket {bucket} outside the account"))
    })
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let facts = match &snap.cloudtrail {
        Err(e) => return vec![super::unknown(&account, None, e)],
        Ok(f) => f,
    };
    let mut first_error = facts.listing_errors.first();
    let mut why = Vec::new();
    for t in &facts.trails {
        match (central(snap, t), &t.is_logging) {
            (Ok(Some(how)), Ok(true)) => {
                return vec![Verdict::pass(
                    &t.arn,
                    Some(&t.home_region),
                    format!("Trail {} {how} and is logging {account}.", t.name),
                )]
            }
            (Ok(Some(_)), Ok(false)) => why.push(format!("trail {} is not logging", t.name)),
            (Ok(Some(_)), Err(e)) | (Err(e), _) => {
                first_error = first_error.or(Some(e));
            }
            (Ok(None), _) => why.push(match &t.s3_bucket {
                Some(b) => format!("trail {} delivers to the account's own bucket {b}", t.name),
                None => format!("trail {} delivers to no bucket", t.name),
            }),
        }
    }
    if let Some(e) = first_error {
        return vec![super::unknown(&account, None, e)];
    }
    if why.is_empty() {
        why.push("it has no trail".to_owned());
    }
    vec![Verdict::fail(
        &account,
        None,
        format!(
            "Account {} has no logging trail delivering to a central bucket: {}.",
            snap.account_id,
            why.join("; ")
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Bucket, CloudTrailFacts};

    fn trail(name: &str, org: bool, bucket: &str) -> Trail {
        Trail {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}"),
            home_region: REGION.into(),
            multi_region: true,
            organization_trail: org,
            s3_bucket: Some(bucket.into()),
            kms_key_id: None,
            log_file_validation: false,
            is_logging: Ok(true),
            management_events: Ok(crate::snapshot::ManagementEvents::all()),
            log_group_arn: None,
        }
    }

    fn run(trails: Vec<Trail>, buckets: crate::facts::Fact<Vec<Bucket>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.cloudtrail = Ok(CloudTrailFacts {
            trails,
            listing_errors: vec![],
        });
        s.s3.buckets = buckets;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_external_bucket() {
        let v = run(
            vec![trail("main", false, "archive-logs")],
            Ok(vec![Bucket::new("app")]),
        );
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main",
                Some(REGION),
                "Trail main delivers to bucket archive-logs outside the account and is logging account 111122223333."
            )]
        );
    }

    /// An organization trail is central even when the bucket listing is denied.
    #[test]
    fn passes_with_organization_trail() {
        let v = run(
            vec![trail("org", true, "x")],
            Err(denied("s3", "ListBuckets", None)),
        );
        assert_eq!(
            v[0].reason,
            "Trail org is an organization trail and is logging account 111122223333."
        );
    }

    #[test]
    fn fails_with_own_bucket_or_no_trail() {
        let v = run(
            vec![trail("main", false, "logs")],
            Ok(vec![Bucket::new("logs")]),
        );
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].resource, "account 111122223333");
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no logging trail delivering to a central bucket: trail main delivers to the account's own bucket logs."
        );
        let v = run(vec![], Ok(vec![]));
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no logging trail delivering to a central bucket: it has no trail."
        );
    }

    #[test]
    fn unknown_when_buckets_unreadable() {
        let v = run(
            vec![trail("main", false, "logs")],
            Err(denied("s3", "ListBuckets", None)),
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: s3:ListBuckets access denied (AccessDenied: not authorized)."
        );
    }
}
