//! Every CloudTrail trail the account sees has log file integrity validation enabled.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudtrail_log_file_validation",
        title: "CloudTrail trails validate their log files",
        practice: Practice::Logging,
        severity: Severity::Medium,
        activity: dsomm::LOGGING_OF_SECURITY_EVENTS,
        remediation: "Enable log file validation on every trail (aws cloudtrail update-trail \
                      --name NAME --enable-log-file-validation) so tampered logs can be detected.",
        needs: &[Need::CloudTrailTrails],
        notes: "**Judges** every trail the account sees (`DescribeTrails` in every audited region, deduplicated by ARN): it passes when `LogFileValidationEnabled` is true (CloudTrail writes signed digest files that prove logs were not altered), fails otherwise; an account without trails is not_applicable here.\n\n\
**Edge cases**: validation proves integrity only when someone runs `aws cloudtrail validate-logs`; that is not visible from the API and not judged; digest files in a bucket the account can delete from protect less than in a log-archive account (`cloudtrail_central_bucket`).\n\n\
**Differs from Prowler** (`cloudtrail_log_file_validation_enabled`) and Security Hub CloudTrail.4: the same rule.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_trail(snap, |t| {
        if t.log_file_validation {
            Verdict::pass(
                &t.arn,
                Some(&t.home_region),
                format!("Trail {} validates its log files.", t.name),
            )
        } else {
            Verdict::fail(
                &t.arn,
                Some(&t.home_region),
                format!("Trail {} does not validate its log files.", t.name),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{CloudTrailFacts, Trail};

    fn trail(validation: bool) -> Trail {
        Trail {
            name: "main".into(),
            arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"),
            home_region: REGION.into(),
            multi_region: true,
            organization_trail: false,
            s3_bucket: Some("logs".into()),
            kms_key_id: None,
            log_file_validation: validation,
            is_logging: Ok(true),
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
    fn passes_with_validation() {
        let v = run(vec![trail(true)], vec![]);
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main",
                Some(REGION),
                "Trail main validates its log files."
            )]
        );
    }

    #[test]
    fn fails_without_validation() {
        let v = run(vec![trail(false)], vec![]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "Trail main does not validate its log files.");
    }

    #[test]
    fn not_applicable_without_trails() {
        let v = run(vec![], vec![]);
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no CloudTrail trails."
        );
    }

    /// A failed listing may hide a trail: the trails seen are judged and the gap is unknown.
    #[test]
    fn unknown_when_a_listing_failed() {
        let v = run(
            vec![trail(true)],
            vec![denied("cloudtrail", "DescribeTrails", Some("us-east-1"))],
        );
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(v[1].status, Status::Unknown);
        assert_eq!(
            v[1].reason,
            "Cannot judge account 111122223333: cloudtrail:DescribeTrails in us-east-1 access denied (AccessDenied: not authorized)."
        );
    }
}
