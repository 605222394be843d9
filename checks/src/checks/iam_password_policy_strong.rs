//! The account password policy requires long passwords and prevents their reuse.
//!
//! Length and reuse prevention are the two settings CIS keeps (its benchmark dropped composition
//! rules, following NIST SP 800-63B); both thresholds are settings. Without a policy IAM applies
//! its default of 8 characters and no reuse prevention, which fails. The account always has a
//! policy or not, so this check is never not_applicable.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_password_policy_strong",
        title: "The IAM password policy requires long passwords and prevents reuse",
        practice: Practice::Identity,
        severity: Severity::Medium,
        activity: dsomm::SIMPLE_ACCESS_CONTROL,
        remediation: "Set an account password policy (aws iam update-account-password-policy) with \
                      --minimum-password-length 14 and --password-reuse-prevention 24, or the values \
                      configured in [checks.settings].",
        needs: &[Need::IamPasswordPolicy],
        notes: "**Judges** `GetAccountPasswordPolicy`: `MinimumPasswordLength` against \
`password_min_length` (default 14) and `PasswordReusePrevention` against \
`password_reuse_prevention` (default 24). Pass when both are met; fail naming each shortfall; \
no policy (`NoSuchEntity`) fails, since IAM then allows 8 characters and reuse. Never \
not_applicable; an unreadable policy is unknown.

**Edge cases**: settings above IAM's limits (128 characters, 24 passwords) are capped at those \
limits, so the check never asks for what IAM refuses. Composition rules (symbols, digits, case) \
and expiry are not required, following NIST SP 800-63B and CIS AWS 3.0. The policy is judged even \
without console users: it applies to every password set later. IAM Identity Center users are \
outside this policy.

**Differs from Prowler / Security Hub**: agrees with Prowler's \
`iam_password_policy_minimum_length_14` and `iam_password_policy_reuse_24` (CIS 1.8, 1.9); \
Security Hub IAM.7 also requires composition rules and 90-day expiry, which NIST advises against \
and we do not require.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let policy = match &snap.iam.password_policy {
        Err(e) => return vec![super::unknown(&account, None, e)],
        Ok(None) => {
            return vec![Verdict::fail(
                &account,
                None,
                format!(
                    "Account {} has no password policy (IAM's default allows 8-character passwords and reuse).",
                    snap.account_id
                ),
            )]
        }
        Ok(Some(p)) => p,
    };
    let mut weak = Vec::new();
    // IAM accepts at most 128 characters and 24 remembered passwords: a stricter setting could
    // never be met, so the check asks for IAM's maximum instead.
    let min = i32::from(settings.password_min_length).min(128);
    if policy.minimum_length < min {
        weak.push(format!(
            "minimum length {} is below {min}",
            policy.minimum_length
        ));
    }
    let reuse = i32::from(settings.password_reuse_prevention).min(24);
    match policy.reuse_prevention {
        None => weak.push("password reuse is not prevented".to_owned()),
        Some(n) if n < reuse => weak.push(format!(
            "reuse prevention remembers {n} passwords, fewer than {reuse}"
        )),
        Some(_) => {}
    }
    if weak.is_empty() {
        vec![Verdict::pass(
            &account,
            None,
            format!(
                "The password policy of account {} requires {} characters and prevents reuse of the last {}.",
                snap.account_id,
                policy.minimum_length,
                policy.reuse_prevention.unwrap_or_default()
            ),
        )]
    } else {
        vec![Verdict::fail(
            &account,
            None,
            format!(
                "The password policy of account {} is weak: {}.",
                snap.account_id,
                weak.join("; ")
            ),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::PasswordPolicy;

    fn run(p: crate::facts::Fact<Option<PasswordPolicy>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.password_policy = p;
        evaluate(&s, &Settings::default())
    }

    fn policy(len: i32, reuse: Option<i32>) -> PasswordPolicy {
        PasswordPolicy {
            minimum_length: len,
            reuse_prevention: reuse,
            ..Default::default()
        }
    }

    /// A setting stricter than IAM allows is capped at IAM's limit, which a policy can meet.
    #[test]
    fn settings_beyond_iam_limits_are_capped() {
        let mut s = snapshot();
        s.iam.password_policy = Ok(Some(PasswordPolicy {
            minimum_length: 128,
            reuse_prevention: Some(24),
            ..Default::default()
        }));
        let settings = Settings {
            password_min_length: 200,
            password_reuse_prevention: 50,
            ..Settings::default()
        };
        assert_eq!(evaluate(&s, &settings)[0].status, Status::Pass);
    }

    #[test]
    fn passes_long_passwords_without_reuse() {
        let v = run(Ok(Some(policy(16, Some(24)))));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "The password policy of account 111122223333 requires 16 characters and prevents reuse of the last 24."
        );
    }

    #[test]
    fn fails_short_passwords_and_reuse() {
        let v = run(Ok(Some(policy(8, None))));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "The password policy of account 111122223333 is weak: minimum length 8 is below 14; password reuse is not prevented."
        );
        let v = run(Ok(Some(policy(14, Some(5)))));
        assert_eq!(
            v[0].reason,
            "The password policy of account 111122223333 is weak: reuse prevention remembers 5 passwords, fewer than 24."
        );
    }

    #[test]
    fn fails_without_policy() {
        let v = run(Ok(None));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no password policy (IAM's default allows 8-character passwords and reuse)."
        );
    }

    #[test]
    fn unknown_when_policy_denied() {
        let v = run(Err(denied("iam", "GetAccountPasswordPolicy", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetAccountPasswordPolicy access denied (AccessDenied: not authorized)."
        );
    }
}
