//! Every S3 bucket encrypts new objects by default.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "s3_bucket_default_encryption",
        title: "S3 buckets encrypt new objects by default",
        practice: Practice::DataProtection,
        severity: Severity::Medium,
        activity: dsomm::ENCRYPTION_AT_REST,
        remediation: "Set a default encryption configuration on the bucket (aws s3api \
                      put-bucket-encryption), with SSE-KMS and a customer-managed key for sensitive data.",
        needs: &[Need::S3Buckets, Need::S3BucketEncryption],
        notes: "**Judges** `ListBuckets` and `GetBucketEncryption` per bucket: pass with any default \
encryption rule (`AES256`, `aws:kms`, `aws:kms:dsse`, naming the key), fail when S3 answers \
`ServerSideEncryptionConfigurationNotFoundError`; an unreadable bucket is unknown; no bucket is \
not_applicable.

**Edge cases**: since January 2023 S3 encrypts every new object with SSE-S3 and \
`GetBucketEncryption` always answers a rule on AWS, so a failure now comes only from endpoints \
without that default; the check still proves the setting per bucket. Only the first rule is read \
(S3 allows one). Whether a KMS key is customer-managed is not judged.

**Differs from Prowler / Security Hub**: agrees with Prowler's `s3_bucket_default_encryption`; \
Security Hub retired S3.4 for the same reason (the default is always on). Requiring SSE-KMS \
(Security Hub S3.17 for some resources) is left to a stricter check.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_bucket(snap, |b, arn, region| match &b.encryption {
        Err(e) => super::unknown(arn, region, e),
        Ok(None) => Verdict::fail(
            arn,
            region,
            format!("Bucket {} has no default encryption.", b.name),
        ),
        Ok(Some(enc)) => {
            let key = enc
                .kms_key_id
                .as_deref()
                .map(|k| format!(" (key {k})"))
                .unwrap_or_default();
            Verdict::pass(
                arn,
                region,
                format!(
                    "Bucket {} encrypts new objects with {}{key}.",
                    b.name, enc.algorithm
                ),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{Bucket, BucketEncryption};

    fn bucket(name: &str, enc: crate::facts::Fact<Option<BucketEncryption>>) -> Bucket {
        let mut b = Bucket::new(name);
        b.region = Ok(REGION.into());
        b.encryption = enc;
        b
    }

    fn run(buckets: crate::facts::Fact<Vec<Bucket>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.s3.buckets = buckets;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_with_kms_default_encryption() {
        let enc = BucketEncryption {
            algorithm: "aws:kms".into(),
            kms_key_id: Some("alias/data".into()),
        };
        let v = run(Ok(vec![bucket("data", Ok(Some(enc)))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:s3:::data",
                Some(REGION),
                "Bucket data encrypts new objects with aws:kms (key alias/data)."
            )]
        );
    }

    #[test]
    fn fails_without_configuration() {
        let v = run(Ok(vec![bucket("legacy", Ok(None))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "Bucket legacy has no default encryption.");
    }

    #[test]
    fn not_applicable_without_buckets() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(v[0].reason, "Account 111122223333 has no S3 buckets.");
    }

    /// One unreadable bucket is unknown; the others are still judged.
    #[test]
    fn unknown_per_bucket_when_denied() {
        let v = run(Ok(vec![
            bucket(
                "secret",
                Err(denied("s3", "GetBucketEncryption", Some(REGION))),
            ),
            bucket("legacy", Ok(None)),
        ]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:s3:::secret: s3:GetBucketEncryption in eu-west-1 access denied (AccessDenied: not authorized)."
        );
        assert_eq!(v[1].status, Status::Fail);
    }

    #[test]
    fn unknown_when_listing_denied() {
        let v = run(Err(denied("s3", "ListBuckets", None)));
        assert_eq!(v[0].reason, "Cannot judge account 111122223333: s3:ListBuckets access denied (AccessDenied: not authorized).");
    }
}
