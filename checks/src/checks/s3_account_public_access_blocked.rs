//! The account-level S3 public access block has all four settings on, so no bucket of the account,
//! present or future, can be made public.
//!
//! Every account has the setting on or off, so this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "s3_account_public_access_blocked",
        title: "The account-level S3 public access block is fully on",
        practice: Practice::DataProtection,
        severity: Severity::High,
        activity: dsomm::BASELINE_HARDENING,
        remediation: "Turn on all four account-level settings (aws s3control put-public-access-block \
                      --account-id ACCOUNT --public-access-block-configuration \
                      BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true).",
        needs: &[Need::S3AccountPublicAccessBlock],
        notes: "**Judges** S3 Control `GetPublicAccessBlock` for the account: pass when BlockPublicAcls, \
IgnorePublicAcls, BlockPublicPolicy and RestrictPublicBuckets are all true; fail naming those \
off; no configuration (`NoSuchPublicAccessBlockConfiguration`) fails. Never not_applicable (every \
account has the setting or not); an unreadable block is unknown.

**Edge cases**: the account block covers every bucket present and future, in every region; a \
missing field counts as off. It does not cover access points' own policies in other accounts, \
and S3 Express directory buckets have their own rules.

**Differs from Prowler / Security Hub**: agrees with Security Hub S3.1 (all four settings). \
Prowler's `s3_account_level_public_access_blocks` requires only IgnorePublicAcls and \
RestrictPublicBuckets (which neutralise what exists); ours also requires the two Block* settings, \
without which a new public grant is accepted and only neutralised by the others, a state one \
setting change from exposure.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    vec![match &snap.s3.account_public_access_block {
        Err(e) => super::unknown(&account, None, e),
        Ok(None) => Verdict::fail(
            &account,
            None,
            format!(
                "Account {} has no account-level S3 public access block.",
                snap.account_id
            ),
        ),
        Ok(Some(p)) if p.all_blocked() => Verdict::pass(
            &account,
            None,
            format!(
                "Account {} blocks public access to all its S3 buckets.",
                snap.account_id
            ),
        ),
        Ok(Some(p)) => Verdict::fail(
            &account,
            None,
            format!(
                "Account {} does not block S3 public access at account level: {} off.",
                snap.account_id,
                p.missing().join(", ")
            ),
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::PublicAccessBlock;

    fn run(p: crate::facts::Fact<Option<PublicAccessBlock>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.s3.account_public_access_block = p;
        evaluate(&s, &Settings::default())
    }

    const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    #[test]
    fn passes_all_four() {
        let v = run(Ok(Some(ALL)));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 blocks public access to all its S3 buckets."
        );
    }

    /// Never not_applicable: a missing block is a failure.
    #[test]
    fn fails_missing_or_partial() {
        let v = run(Ok(None));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no account-level S3 public access block."
        );
        let v = run(Ok(Some(PublicAccessBlock {
            ignore_public_acls: false,
            ..ALL
        })));
        assert_eq!(
            v[0].reason,
            "Account 111122223333 does not block S3 public access at account level: IgnorePublicAcls off."
        );
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("s3control", "GetPublicAccessBlock", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: s3control:GetPublicAccessBlock access denied (AccessDenied: not authorized)."
        );
    }
}
