//! The root user signs in only with MFA, or has no credentials to sign in with: a member account
//! whose root password and access keys were removed under the organization's centralized root
//! access (IAM `RootCredentialsManagement`, which also blocks password recovery) has no root sign-in
//! left to protect.

use super::unknown;
use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_root_mfa_enabled",
        title: "The root user has MFA enabled, or no credentials under centralized root access",
        practice: Practice::Identity,
        severity: Severity::Critical,
        activity: dsomm::MFA_FOR_ADMINS,
        remediation: "Sign in as the root user and assign an MFA device (preferably a hardware key) \
                      under Security credentials; or, for a member account, enable centralized root \
                      access in the management account (aws iam enable-organizations-root-credentials-management) \
                      and delete the member's root credentials (aws iam delete-login-profile through \
                      sts assume-root).",
        needs: &[Need::IamAccountSummary, Need::OrganizationRootCredentialsManagement],
        notes: "**Judges** `GetAccountSummary`: `AccountMFAEnabled` passes; without it, a member account \
passes only when its root has no password (`AccountPasswordPresent` 0) and no access keys \
(`AccountAccessKeysPresent` 0) and the organization has centralized root access \
(`ListOrganizationsFeatures` lists `RootCredentialsManagement`, read once per run with the \
organization's credentials), which also blocks root password recovery.\n\n\
**Edge cases**: the management account's root cannot be managed centrally and must have MFA; a root \
without a password outside centralized root access can recover one by e-mail, so it fails; when the \
organization's features cannot be read, a root without credentials is `unknown`, a root with a \
password still fails.\n\n\
**Differs from Prowler** `iam_root_mfa_enabled` only in reading the organization's feature rather \
than the credential report; agrees with its centralized-root-access exception. Security Hub IAM.9 \
fails such members.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let root = format!("arn:aws:iam::{}:root", snap.account_id);
    let s = match &snap.iam.account_summary {
        Err(e) => return vec![unknown(&root, None, e)],
        Ok(s) => s,
    };
    if s.account_mfa_enabled {
        return vec![Verdict::pass(
            &root,
            None,
            format!("The root user {root} has MFA enabled."),
        )];
    }
    let fail = |why: &str| {
        vec![Verdict::fail(
            &root,
            None,
            format!("The root user {root} has no MFA device{why}."),
        )]
    };
    if s.account_password_present || s.account_access_keys_present {
        return fail("");
    }
    let org = match snap.organization.as_deref() {
        Err(e) => return vec![unknown(&root, None, e)],
        Ok(o) => o,
    };
    if !org.in_use {
        return fail(" and the account belongs to no organization whose centralized root access could remove its recovery");
    }
    if org.management_account_id == snap.account_id {
        return fail(" (the management account's root cannot be managed centrally)");
    }
    match &org.root_credentials_management {
        Err(e) => vec![unknown(&root, None, e)],
        Ok(true) => vec![Verdict::pass(
            &root,
            None,
            format!(
                "The root user {root} has no password and no access keys, and organization {} manages root credentials centrally (no root sign-in or recovery is possible).",
                org.id
            ),
        )],
        Ok(false) => fail(&format!(
            "; it has no password, but organization {} has not enabled centralized root access, so the password can be recovered",
            org.id
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::AccountSummary;

    fn run(summary: crate::facts::Fact<AccountSummary>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.account_summary = summary;
        evaluate(&s, &Settings::default())
    }

    fn run_in_org(managed: crate::facts::Fact<bool>, account: &str) -> Verdict {
        let mut s = snapshot();
        s.account_id = account.into();
        s.iam.account_summary = Ok(AccountSummary::default());
        let mut org = organization(&[(ACCOUNT, "shop", &[])], &[]);
        org.root_credentials_management = managed;
        s.organization = Ok(std::sync::Arc::new(org));
        evaluate(&s, &Settings::default()).remove(0)
    }

    /// Centralized root access: a member without root credentials passes; the management account,
    /// an organization without the feature, or a root that still has a password do not.
    #[test]
    fn centralized_root_access() {
        let v = run_in_org(Ok(true), ACCOUNT);
        assert_eq!(v.status, Status::Pass, "{}", v.reason);
        assert!(v.reason.contains("manages root credentials centrally"));
        assert_eq!(run_in_org(Ok(false), ACCOUNT).status, Status::Fail);
        assert_eq!(run_in_org(Ok(true), MANAGEMENT).status, Status::Fail);
        let v = run_in_org(
            Err(denied("iam", "ListOrganizationsFeatures", None)),
            ACCOUNT,
        );
        assert_eq!(v.status, Status::Unknown);
        let mut s = snapshot();
        s.iam.account_summary = Ok(AccountSummary {
            account_password_present: true,
            ..Default::default()
        });
        assert_eq!(evaluate(&s, &Settings::default())[0].status, Status::Fail);
    }

    #[test]
    fn passes_with_root_mfa() {
        let v = run(Ok(AccountSummary {
            account_mfa_enabled: true,
            ..Default::default()
        }));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:root",
                None,
                "The root user arn:aws:iam::111122223333:root has MFA enabled."
            )]
        );
    }

    #[test]
    fn fails_without_root_mfa() {
        let v = run(Ok(AccountSummary {
            account_password_present: true,
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "The root user arn:aws:iam::111122223333:root has no MFA device."
        );
    }

    /// Every account has a root user, so this check is never not_applicable: its only other outcome
    /// is unknown when the summary cannot be read.
    #[test]
    fn unknown_when_summary_denied() {
        let v = run(Err(denied("iam", "GetAccountSummary", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge arn:aws:iam::111122223333:root: iam:GetAccountSummary access denied (AccessDenied: not authorized)."
        );
    }
}
