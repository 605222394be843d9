//! Every S3 bucket keeps object versions (versioning `Enabled`), so overwritten or deleted objects
//! can be restored.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "s3_bucket_versioning_enabled",
        title: "S3 buckets have versioning enabled",
        practice: Practice::Backups,
        severity: Severity::Medium,
        activity: dsomm::BACKUP,
        remediation:
            "Enable versioning (aws s3api put-bucket-versioning --versioning-configuration \
                      Status=Enabled) and add a lifecycle rule that expires noncurrent versions.",
        needs: &[Need::S3Buckets, Need::S3BucketVersioning],
        notes: "**Judges** `ListBuckets` and `GetBucketVersioning` per bucket: `Status` `Enabled` passes; \
`Suspended` fails; no status (never enabled) fails; an unreadable bucket is unknown; no bucket is \
not_applicable.

**Edge cases**: a suspended bucket keeps its old versions but makes none for new writes, so it \
fails. MFA Delete is not required (it can only be set by the root user). Object Lock buckets \
always have versioning enabled and pass. Lifecycle expiry of noncurrent versions is not judged.

**Differs from Prowler / Security Hub**: agrees with Prowler's `s3_bucket_object_versioning` and \
Security Hub S3.14.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_bucket(snap, |b, arn, region| match &b.versioning {
        Err(e) => super::unknown(arn, region, e),
        Ok(Some(s)) if s == "Enabled" => Verdict::pass(
            arn,
            region,
            format!("Bucket {} keeps object versions.", b.name),
        ),
        Ok(Some(s)) => Verdict::fail(
            arn,
            region,
            format!("Bucket {} has versioning {s}.", b.name),
        ),
        Ok(None) => Verdict::fail(
            arn,
            region,
            format!("Bucket {} has never had versioning enabled.", b.name),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Bucket;

    fn bucket(v: crate::facts::Fact<Option<String>>) -> Bucket {
        let mut b = Bucket::new("data");
        b.region = Ok(REGION.into());
        b.versioning = v;
        b
    }

    fn run(buckets: crate::facts::Fact<Vec<Bucket>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.s3.buckets = buckets;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_enabled() {
        let v = run(Ok(vec![bucket(Ok(Some("Enabled".into())))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:s3:::data",
                Some(REGION),
                "Bucket data keeps object versions."
            )]
        );
    }

    #[test]
    fn fails_suspended_or_never_enabled() {
        let v = run(Ok(vec![
            bucket(Ok(Some("Suspended".into()))),
            bucket(Ok(None)),
        ]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "Bucket data has versioning Suspended.");
        assert_eq!(v[1].reason, "Bucket data has never had versioning enabled.");
    }

    #[test]
    fn not_applicable_without_buckets() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(v[0].reason, "Account 111122223333 has no S3 buckets.");
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Ok(vec![bucket(Err(denied(
            "s3",
            "GetBucketVersioning",
            Some(REGION),
        )))]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:s3:::data: s3:GetBucketVersioning in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
