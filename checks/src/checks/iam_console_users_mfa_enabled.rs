//! Every IAM user who can sign in to the console has MFA.

use super::unknown;
use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_console_users_mfa_enabled",
        title: "IAM users with a console password have MFA",
        practice: Practice::Identity,
        severity: Severity::High,
        activity: dsomm::MFA,
        remediation: "Assign an MFA device to each IAM user with a console password, or remove the password \
                      (aws iam delete-login-profile) and move people to IAM Identity Center with MFA enforced.",
        needs: &[Need::IamCredentialReport],
        notes: "**Judges** the credential report: each IAM user with `password_enabled` true passes when \
`mfa_active` is true and fails otherwise; no user with a password is not_applicable; an \
unreadable report is unknown.

**Edge cases**: IAM serves a credential report up to four hours old (`GenerateCredentialReport` returns the cached one), so an MFA device deactivated within that window shows when IAM next builds the report, and a re-check triggered by `DeactivateMFADevice` reads the same report (a known gap, noted on the event re-checks issue). `mfa_active` counts virtual, hardware and FIDO devices alike. A user without a \
console password cannot sign in to the console and is not judged here. The root user is judged \
by `iam_root_mfa_enabled`.

**Differs from Prowler / Security Hub**: agrees with Prowler's \
`iam_user_mfa_enabled_console_access` and Security Hub IAM.5.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let rows = match &snap.iam.credential_report {
        Err(e) => return vec![unknown(&account, None, e)],
        Ok(rows) => rows,
    };
    let verdicts: Vec<Verdict> = rows
        .iter()
        .filter(|r| !r.is_root && r.password_enabled)
        .map(|r| {
            if r.mfa_active {
                Verdict::pass(
                    &r.arn,
                    None,
                    format!("Console user {} has MFA active.", r.user),
                )
            } else {
                Verdict::fail(
                    &r.arn,
                    None,
                    format!("Console user {} has a password but no MFA device.", r.user),
                )
            }
        })
        .collect();
    if verdicts.is_empty() {
        return vec![Verdict::not_applicable(
            &account,
            None,
            format!("No IAM user of {account} has a console password."),
        )];
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::CredentialReportRow;

    fn row(user: &str, password: bool, mfa: bool) -> CredentialReportRow {
        CredentialReportRow {
            user: user.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            password_enabled: password,
            mfa_active: mfa,
            ..Default::default()
        }
    }

    fn run(rows: crate::facts::Fact<Vec<CredentialReportRow>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.credential_report = rows;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_console_user_with_mfa_and_ignores_api_only_users() {
        let v = run(Ok(vec![
            row("alice", true, true),
            row("ci-bot", false, false),
        ]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:user/alice",
                None,
                "Console user alice has MFA active."
            )]
        );
    }

    #[test]
    fn fails_console_user_without_mfa() {
        let v = run(Ok(vec![row("alice", true, true), row("bob", true, false)]));
        assert_eq!(v[1].status, Status::Fail);
        assert_eq!(v[1].resource, "arn:aws:iam::111122223333:user/bob");
        assert_eq!(
            v[1].reason,
            "Console user bob has a password but no MFA device."
        );
    }

    /// The root row is judged by iam_root_mfa_enabled, not here.
    #[test]
    fn not_applicable_without_console_users() {
        let mut root = row("<root_account>", true, false);
        root.is_root = true;
        let v = run(Ok(vec![root, row("ci-bot", false, false)]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "No IAM user of account 111122223333 has a console password."
        );
    }

    #[test]
    fn unknown_when_report_denied() {
        let v = run(Err(denied("iam", "GetCredentialReport", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetCredentialReport access denied (AccessDenied: not authorized)."
        );
    }
}
