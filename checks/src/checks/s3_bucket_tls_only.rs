//! Every S3 bucket's policy denies requests that do not use TLS (`aws:SecureTransport` false).
//!
//! S3 accepts plain HTTP unless the bucket policy refuses it. The refusing statement must be a
//! `Deny` of all S3 actions (`s3:*` or `*`) to every principal, on the bucket and all its
//! objects, under `Bool` (or `BoolIfExists`) `aws:SecureTransport = false` and no other condition:
//! a narrower resource or an extra condition leaves some plain-HTTP requests allowed.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::actions::glob;
use crate::policy::resource::covers_every_key;
use crate::policy::{PolicyDocument, Statement};
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
        notes: "**Judges** `ListBuckets` and `GetBucketPolicy` per bucket. Pass when one statement is \
`Deny` to every principal (`*` or `{\"AWS\": \"*\"}`) of `s3:*` or `*`, on resources matching the \
bucket ARN and every object (`BUCKET/*`, `BUCKET*`, `*`; wildcards are expanded), whose only \
condition is `Bool` or `BoolIfExists` `aws:SecureTransport` `false`. No policy \
(`NoSuchBucketPolicy`) fails; a policy that is not valid JSON is unknown; no bucket is \
not_applicable.

**Edge cases**: lists and booleans (`[\"false\"]`, `false`), keys in any case. A Deny narrowed by \
another condition (`aws:SourceVpce`, `aws:SourceIp`), by `NotPrincipal`, `NotAction`, \
`NotResource`, named principals, a subset of actions or objects, leaves some plain-HTTP request \
allowed and does not count; the failure names the closest statement's gap. A Deny on \
`s3:TlsVersion` alone does not refuse plain HTTP (the key is absent there).

**Differs from Prowler / Security Hub**: Prowler's `s3_bucket_secure_transport_policy` accepts a \
Deny of `s3:PutObject` alone and never reads Resource, Principal or other conditions, so it passes \
policies under which plain-HTTP reads still succeed; ours does not. Agrees with Security Hub S3.5 \
on the statement AWS recommends.",
        module: module_path!(),
    },
    evaluate,
};

/// What keeps a statement from refusing every plain-HTTP request to the bucket, in the order
/// the statement is tested: a later gap means the statement came closer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    NoTlsDeny,
    Principal,
    Actions,
    NotResource,
    Objects,
    Bucket,
}

impl Gap {
    fn reason(self) -> &'static str {
        match self {
            Gap::NoTlsDeny => "it has no Deny under aws:SecureTransport false alone",
            Gap::Principal => "the Deny does not apply to every principal",
            Gap::Actions => "the Deny does not cover every S3 action",
            Gap::NotResource => "the Deny excludes resources (NotResource)",
            Gap::Objects => "the Deny does not cover every object of the bucket",
            Gap::Bucket => "the Deny does not cover the bucket itself",
        }
    }
}

/// `Ok` when `s` refuses every plain-HTTP request to `bucket`, else what it lacks.
fn judge(s: &Statement, bucket: &str) -> Result<(), Gap> {
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let objects = format!("{bucket_arn}/");
    // The TLS test must be the statement's only condition: any other narrows the Deny.
    let tls_condition = ["Bool", "BoolIfExists"].iter().any(|op| {
        s.condition_has(op, "aws:SecureTransport", "false")
            && s.condition.as_object().is_some_and(|c| c.len() == 1)
            && s.condition[*op]
                .as_object()
                .is_some_and(|keys| keys.len() == 1)
    });
    if s.allow || !tls_condition {
        return Err(Gap::NoTlsDeny);
    }
    if !s.principal_everyone {
        return Err(Gap::Principal);
    }
    let all_actions = s
        .actions
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case("s3:*"));
    if !s.not_actions.is_empty() || !all_actions {
        return Err(Gap::Actions);
    }
    if !s.not_resources.is_empty() {
        return Err(Gap::NotResource);
    }
    if !s.resources.iter().any(|r| covers_every_key(r, &objects)) {
        return Err(Gap::Objects);
    }
    if !s
        .resources
        .iter()
        .any(|r| glob(r.as_bytes(), bucket_arn.as_bytes()))
    {
        return Err(Gap::Bucket);
    }
    Ok(())
}

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
                let mut closest = Gap::NoTlsDeny;
                for statement in &doc.statements {
                    match judge(statement, &b.name) {
                        Ok(()) => {
                            return Verdict::pass(
                                arn,
                                region,
                                format!("Bucket {} denies every request without TLS.", b.name),
                            )
                        }
                        Err(gap) => closest = closest.max(gap),
                    }
                }
                Verdict::fail(
                    arn,
                    region,
                    format!(
                        "Bucket {}'s policy does not deny every request without TLS: {}.",
                        b.name,
                        closest.reason()
                    ),
                )
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
            "Bucket data's policy does not deny every request without TLS: it has no Deny under aws:SecureTransport false alone."
        );
    }

    fn judge_policy(policy: &str) -> Verdict {
        run(Ok(vec![bucket(Ok(Some(policy.into())))])).remove(0)
    }

    /// The forms real policies take: a list of values, `BoolIfExists`, `{"AWS": "*"}`, a bucket
    /// wildcard covering both ARNs, and the TLS Deny among other statements.
    #[test]
    fn passes_equivalent_forms() {
        for policy in [
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"AllowRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"},{"Sid":"DenyInsecure","Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:*"],"Resource":"arn:aws:s3:::data*","Condition":{"Bool":{"aws:SecureTransport":["false"]}}}]}"#,
            r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"*","Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"],"Condition":{"BoolIfExists":{"aws:SecureTransport":false}}}}"#,
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"S3:*","Resource":"*","Condition":{"Bool":{"aws:securetransport":"false"}}}]}"#,
        ] {
            assert_eq!(judge_policy(policy).status, Status::Pass, "{policy}");
        }
    }

    /// Each narrowing leaves some plain-HTTP request allowed, and the reason names it.
    #[test]
    fn fails_a_deny_that_leaves_a_gap() {
        let deny = |principal: &str, action: &str, resource: &str, condition: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Deny","Principal":{principal},"Action":{action},"Resource":{resource},"Condition":{condition}}}]}}"#
            )
        };
        let tls = r#"{"Bool":{"aws:SecureTransport":"false"}}"#;
        let both = r#"["arn:aws:s3:::data","arn:aws:s3:::data/*"]"#;
        let cases = [
            (
                deny(r#""*""#, r#""s3:*""#, r#""arn:aws:s3:::data/*""#, tls),
                "the Deny does not cover the bucket itself",
            ),
            (
                deny(
                    r#""*""#,
                    r#""s3:*""#,
                    r#"["arn:aws:s3:::data","arn:aws:s3:::data/private/*"]"#,
                    tls,
                ),
                "the Deny does not cover every object of the bucket",
            ),
            (
                deny(r#""*""#, r#""s3:GetObject""#, both, tls),
                "the Deny does not cover every S3 action",
            ),
            (
                deny(
                    r#"{"AWS":"arn:aws:iam::111122223333:role/app"}"#,
                    r#""s3:*""#,
                    both,
                    tls,
                ),
                "the Deny does not apply to every principal",
            ),
            (
                deny(
                    r#""*""#,
                    r#""s3:*""#,
                    both,
                    r#"{"Bool":{"aws:SecureTransport":"false"},"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}"#,
                ),
                "it has no Deny under aws:SecureTransport false alone",
            ),
            (
                // Plain HTTP has no TLS version: a NumericLessThan on it never matches HTTP.
                deny(
                    r#""*""#,
                    r#""s3:*""#,
                    both,
                    r#"{"NumericLessThan":{"s3:TlsVersion":"1.2"}}"#,
                ),
                "it has no Deny under aws:SecureTransport false alone",
            ),
        ];
        for (policy, why) in cases {
            let v = judge_policy(&policy);
            assert_eq!(v.status, Status::Fail, "{policy}");
            assert_eq!(
                v.reason,
                format!("Bucket data's policy does not deny every request without TLS: {why}."),
                "{policy}"
            );
        }
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
