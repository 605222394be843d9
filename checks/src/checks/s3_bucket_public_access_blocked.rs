//! Every S3 bucket blocks public access with all four public-access-block settings.
//!
//! This judges the bucket-level configuration. The account-level block (S3 Control) is judged by its
//! own check in the catalog; a bucket covered only at account level fails here so that removing the
//! account setting cannot silently expose it.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "s3_bucket_public_access_blocked",
        title: "S3 buckets block public access",
        practice: Practice::DataProtection,
        severity: Severity::High,
        activity: dsomm::BASELINE_HARDENING,
        remediation: "Turn on all four settings of the bucket's public access block (aws s3api \
                      put-public-access-block); serve public content through CloudFront with origin access \
                      control instead.",
        needs: &[Need::S3Buckets, Need::S3BucketPublicAccessBlock],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_bucket(snap, |b, arn, region| match &b.public_access_block {
        Err(e) => super::unknown(arn, region, e),
        Ok(None) => Verdict::fail(
            arn,
            region,
            format!("Bucket {} has no public access block.", b.name),
        ),
        Ok(Some(pab)) if pab.all_blocked() => Verdict::pass(
            arn,
            region,
            format!("Bucket {} blocks all public access.", b.name),
        ),
        Ok(Some(pab)) => Verdict::fail(
            arn,
            region,
            format!(
                "Bucket {} does not block public access: {} off.",
                b.name,
                pab.missing().join(", ")
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Bucket, PublicAccessBlock};

    fn bucket(name: &str, pab: crate::facts::Fact<Option<PublicAccessBlock>>) -> Bucket {
        let mut b = Bucket::new(name);
        b.region = Ok(REGION.into());
        b.public_access_block = pab;
        b
    }

    fn run(buckets: crate::facts::Fact<Vec<Bucket>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.s3.buckets = buckets;
        evaluate(&s, &Settings::default())
    }

    const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    #[test]
    fn passes_with_all_four_settings() {
        let v = run(Ok(vec![bucket("data", Ok(Some(ALL)))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:s3:::data",
                Some(REGION),
                "Bucket data blocks all public access."
            )]
        );
    }

    #[test]
    fn fails_partial_or_missing_block() {
        let partial = PublicAccessBlock {
            block_public_policy: false,
            restrict_public_buckets: false,
            ..ALL
        };
        let v = run(Ok(vec![
            bucket("site", Ok(Some(partial))),
            bucket("legacy", Ok(None)),
        ]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "Bucket site does not block public access: BlockPublicPolicy, RestrictPublicBuckets off.");
        assert_eq!(v[1].reason, "Bucket legacy has no public access block.");
    }

    #[test]
    fn not_applicable_without_buckets() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(v[0].reason, "Account 111122223333 has no S3 buckets.");
    }

    #[test]
    fn unknown_when_block_unreadable() {
        let v = run(Ok(vec![bucket(
            "data",
            Err(denied("s3", "GetPublicAccessBlock", Some(REGION))),
        )]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:s3:::data: s3:GetPublicAccessBlock in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
