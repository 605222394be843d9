//! Every S3 bucket's policy denies requests that do not use TLS (`aws:SecureTransport` false).
//!
//! S3 accepts plain HTTP unless the bucket policy refuses it. The refusing statement must be a
//! `Deny` of all S3 actions (`s3:*` or `*`) to every principal under `Bool`
//! `aws:SecureTransport = false`.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::PolicyDocument;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "s3_bucket_tls_only",
        title: "S3 bucket policies deny requests without TLS",
        practice: Practice::EdgeEncryption,
        severity: Severity::Medium,
        activity: dsomm::EDGE_ENCRYPTION_IN_TRANSIT,
        remediation: "Add a bucket policy statement {\"Effect\": \"Deny\", \"Principal\": \"*\", \
                      \"Action\": \"s3:*\", \"Resource\": [bucket ARN, bucket ARN/*], \"Condition\": \
                      {\"Bool\": {\"aws:SecureTransport\": \"false\"}}}.",
        needs: &[Need::S3Buckets, Need::S3BucketPolicy],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_bucket(snap, |b, arn, region| match &b.policy {
        Err(e) => super::unknown(arn, region, e),
        Ok(None) => Verdict::fail(
            arn,
            region,
            format!(
                "Bucket {} has no policy, so it accepts requests without TLS.",
                b.name
            ),
        ),
        Ok(Some(text)) => match PolicyDocument::parse(text) {
            Err(e) => Verdict::unknown(
                arn,
                region,
                format!("Cannot judge bucket {}: its policy {e}.", b.name),
            ),
            Ok(doc) => {
                let denies = doc.statements.iter().any(|s| {
                    !s.allow
                        && s.principal_everyone
                        && s.actions.iter().any(|a| a == "s3:*" || a == "*")
                        && s.condition_has("Bool", "aws:SecureTransport", "false")
                });
                if denies {
                    Verdict::pass(
                        arn,
                        region,
                        format!("Bucket {} denies every request without TLS.", b.name),
                    )
                } else {
                    Verdict::fail(
                        arn,
                        region,
                        format!(
                            "Bucket {}'s policy does not deny requests without TLS (aws:SecureTransport false).",
                            b.name
                        ),
                    )
                }
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::Bucket;

    const TLS_ONLY: &str = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

    fn bucket(policy: crate::facts::Fact<Option<String>>) -> Bucket {
        let mut b = Bucket::new("data");
        b.region = Ok(REGION.into());
        b.policy = policy;
        b
    }

    fn run(buckets: crate::facts::Fact<Vec<Bucket>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.s3.buckets = buckets;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_deny_insecure_transport() {
        let v = run(Ok(vec![bucket(Ok(Some(TLS_ONLY.into())))]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:s3:::data",
                Some(REGION),
                "Bucket data denies every request without TLS."
            )]
        );
    }

    #[test]
    fn fails_without_policy_or_deny() {
        let v = run(Ok(vec![bucket(Ok(None))]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Bucket data has no policy, so it accepts requests without TLS."
        );
        let allow = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject","Resource":"*"}]}"#;
        let v = run(Ok(vec![bucket(Ok(Some(allow.into())))]));
        assert_eq!(
            v[0].reason,
            "Bucket data's policy does not deny requests without TLS (aws:SecureTransport false)."
        );
    }

    #[test]
    fn not_applicable_without_buckets() {
        let v = run(Ok(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(v[0].reason, "Account 111122223333 has no S3 buckets.");
    }

    #[test]
    fn unknown_when_policy_unreadable() {
        let v = run(Ok(vec![bucket(Err(denied(
            "s3",
            "GetBucketPolicy",
            Some(REGION),
        )))]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:s3:::data: s3:GetBucketPolicy in eu-west-1 access denied (AccessDenied: not authorized)."
        );
    }
}
