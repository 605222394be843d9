//! Every CloudTrail trail the account sees encrypts its log files with a KMS key (SSE-KMS).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "cloudtrail_kms_encrypted",
        title: "CloudTrail trails encrypt their logs with KMS",
        practice: Practice::Logging,
        severity: Severity::Medium,
        activity: dsomm::LOGGING_OF_SECURITY_EVENTS,
        remediation:
            "Encrypt every trail with a customer-managed KMS key (aws cloudtrail update-trail \
                      --name NAME --kms-key-id KEY) whose policy lets CloudTrail encrypt and only \
                      the log readers decrypt.",
        needs: &[Need::CloudTrailTrails],
        notes: "**Judges** every trail the account sees (`DescribeTrails` in every audited region, deduplicated by ARN): it passes when the trail's `KmsKeyId` is set (SSE-KMS), fails otherwise; an account without trails is not_applicable here (the logging checks fail it).\n\n\
**Edge cases**: the key's policy and rotation are not judged here (`kms_key_rotation_enabled`, `kms_key_policy_not_public`); a shadow copy of an organization trail listed in a member region is judged once, by its ARN.\n\n\
**Differs from Prowler** (`cloudtrail_kms_encryption_enabled`) and Security Hub CloudTrail.2: the same rule.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_trail(snap, |t| {
        match t.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
            Some(key) => Verdict::pass(
                &t.arn,
                Some(&t.home_region),
                format!("Trail {} encrypts its logs with KMS key {key}.", t.name),
            ),
            None => Verdict::fail(
                &t.arn,
                Some(&t.home_region),
                format!("Trail {} does not encrypt its logs with a KMS key.", t.name),
            ),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{CloudTrailFacts, Trail};

    fn trail(key: Option<&str>) -> Trail {
        Trail {
            name: "main".into(),
            arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"),
            home_region: REGION.into(),
            multi_region: true,
            organization_trail: false,
            s3_bucket: Some("logs".into()),
            kms_key_id: key.map(str::to_owned),
            log_file_validation: false,
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
    fn passes_with_kms_key() {
        let v = run(
            vec![trail(Some("arn:aws:kms:eu-west-1:111122223333:key/k1"))],
            vec![],
        );
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main",
                Some(REGION),
                "Trail main encrypts its logs with KMS key arn:aws:kms:eu-west-1:111122223333:key/k1."
            )]
        );
    }

    #[test]
    fn fails_without_kms_key() {
        let v = run(vec![trail(None)], vec![]);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Trail main does not encrypt its logs with a KMS key."
        );
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
            vec![trail(Some("k1"))],
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
