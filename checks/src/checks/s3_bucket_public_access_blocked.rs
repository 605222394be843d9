//! Every S3 bucket blocks public access with all four public-access-block settings in force.
//!
//! S3 applies, per setting, the most restrictive of the bucket's and the account's block, so a
//! setting is in force when either has it on. A bucket whose own block is partial but which the
//! account-level block covers passes (removing the account block is a failure of
//! `s3_account_public_access_blocked`, and then of this check).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need, PublicAccessBlock};

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
        needs: &[
            Need::S3Buckets,
            Need::S3BucketPublicAccessBlock,
            Need::S3AccountPublicAccessBlock,
        ],
        notes: "**Judges** `ListBuckets`, `GetPublicAccessBlock` per bucket and the account's block \
(S3 Control `GetPublicAccessBlock`). Per setting (BlockPublicAcls, IgnorePublicAcls, \
BlockPublicPolicy, RestrictPublicBuckets) the setting in force is on when the bucket or the \
account has it on, as S3 evaluates them. Pass when all four are in force, fail naming those off on \
both; no bucket is not_applicable.

**Edge cases**: no bucket-level block (`NoSuchPublicAccessBlockConfiguration`) counts as four \
settings off. A bucket covered by the account block passes and says so; an unreadable bucket \
block passes when the account block has all four on (it cannot change the result), and an \
unreadable account block makes a partial bucket unknown. All four settings are required: Block* \
stops new public ACLs and policies, Ignore/Restrict neutralise existing ones. Access points' own \
blocks are not judged.

**Differs from Prowler / Security Hub**: agrees with Prowler's \
`s3_bucket_level_public_access_block`, which also counts the account block; Security Hub S3.8 \
reads the bucket's block only and fails buckets the account block already protects, a failure no \
attacker can use.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = &snap.s3.account_public_access_block;
    let account_covers = matches!(account, Ok(Some(a)) if a.all_blocked());
    super::per_bucket(snap, |b, arn, region| {
        let own = match &b.public_access_block {
            Ok(own) => own.unwrap_or_default(),
            // The account-level block decides alone when it has every setting on.
            Err(_) if account_covers => {
                return Verdict::pass(
                    arn,
                    region,
                    format!(
                        "Bucket {} is covered by the account-level public access block.",
                        b.name
                    ),
                )
            }
            Err(e) => return super::unknown(arn, region, e),
        };
        if own.all_blocked() {
            return Verdict::pass(
                arn,
                region,
                format!("Bucket {} blocks all public access.", b.name),
            );
        }
        let in_force: PublicAccessBlock = match account {
            Ok(a) => own.union(&a.unwrap_or_default()),
            Err(e) => {
                return Verdict::unknown(
                    arn,
                    region,
                    format!(
                        "Cannot judge bucket {}: its own block leaves {} off and the account-level block could not be read: {e}.",
                        b.name,
                        own.missing().join(", ")
                    ),
                )
            }
        };
        if in_force.all_blocked() {
            Verdict::pass(
                arn,
                region,
                format!(
                    "Bucket {} is covered by the account-level public access block ({} off on the bucket).",
                    b.name,
                    own.missing().join(", ")
                ),
            )
        } else {
            Verdict::fail(
                arn,
                region,
                format!(
                    "Bucket {} does not block public access: {} off on the bucket and the account.",
                    b.name,
                    in_force.missing().join(", ")
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
    use crate::snapshot::{Bucket, PublicAccessBlock};

    fn bucket(name: &str, pab: crate::facts::Fact<Option<PublicAccessBlock>>) -> Bucket {
        let mut b = Bucket::new(name);
        b.region = Ok(REGION.into());
        b.public_access_block = pab;
        b
    }

    /// Judges `buckets` in an account without an account-level block.
    fn run(buckets: crate::facts::Fact<Vec<Bucket>>) -> Vec<Verdict> {
        run_with(buckets, Ok(None))
    }

    fn run_with(
        buckets: crate::facts::Fact<Vec<Bucket>>,
        account: crate::facts::Fact<Option<PublicAccessBlock>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        s.s3.buckets = buckets;
        s.s3.account_public_access_block = account;
        evaluate(&s, &Settings::default())
    }

    /// S3 applies the most restrictive combination: settings on at account level complete a
    /// partial bucket block; together they may still leave one off.
    #[test]
    fn account_block_completes_the_bucket_block() {
        let acls_only = PublicAccessBlock {
            block_public_policy: false,
            restrict_public_buckets: false,
            ..ALL
        };
        let policy_only = PublicAccessBlock {
            block_public_acls: false,
            ignore_public_acls: false,
            ..ALL
        };
        let v = run_with(
            Ok(vec![bucket("site", Ok(Some(acls_only)))]),
            Ok(Some(policy_only)),
        );
        assert_eq!(
            v[0].reason,
            "Bucket site is covered by the account-level public access block (BlockPublicPolicy, RestrictPublicBuckets off on the bucket)."
        );
        assert_eq!(v[0].status, Status::Pass);
        let v = run_with(
            Ok(vec![bucket("site", Ok(None))]),
            Ok(Some(PublicAccessBlock {
                restrict_public_buckets: false,
                ..ALL
            })),
        );
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Bucket site does not block public access: RestrictPublicBuckets off on the bucket and the account."
        );
    }

    /// An unreadable block decides nothing when the other one has all four settings on.
    #[test]
    fn unreadable_block_matters_only_when_it_could_change_the_result() {
        let denied_bucket = || {
            bucket(
                "data",
                Err(denied("s3", "GetPublicAccessBlock", Some(REGION))),
            )
        };
        let v = run_with(Ok(vec![denied_bucket()]), Ok(Some(ALL)));
        assert_eq!(
            v[0].reason,
            "Bucket data is covered by the account-level public access block."
        );
        let v = run_with(
            Ok(vec![bucket("data", Ok(Some(ALL)))]),
            Err(denied("s3control", "GetPublicAccessBlock", None)),
        );
        assert_eq!(v[0].status, Status::Pass);
        let v = run_with(
            Ok(vec![bucket("data", Ok(None))]),
            Err(denied("s3control", "GetPublicAccessBlock", None)),
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge bucket data: its own block leaves BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets off and the account-level block could not be read: s3control:GetPublicAccessBlock access denied (AccessDenied: not authorized)."
        );
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
        assert_eq!(v[0].reason, "Bucket site does not block public access: BlockPublicPolicy, RestrictPublicBuckets off on the bucket and the account.");
        assert_eq!(v[1].reason, "Bucket legacy does not block public access: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets off on the bucket and the account.");
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
