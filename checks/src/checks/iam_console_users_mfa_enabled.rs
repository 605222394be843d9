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
        needs: &[Need::IamCredentialReport, Need::IamMfaDevices],
        notes: "**Judges** each IAM user with `password_enabled` true in the credential report: it \
passes when `ListMFADevices` lists a device for it now (virtual, hardware and FIDO alike) and fails \
otherwise; no user with a password is not_applicable; an unreadable report is unknown.

**Edge cases**: IAM serves a credential report up to four hours old (`GenerateCredentialReport` \
returns the cached one), so its `mfa_active` can be hours behind: the devices are listed per user \
in every run and every re-check (`DeactivateMFADevice` shows within seconds); where one user's \
listing fails, the report's `mfa_active` decides and the verdict says so and how old the report is. \
A user deleted since the report is not judged. Which users have a password still comes from the \
report: a password created since shows when IAM next builds it. A user without a \
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
        .filter_map(|r| {
            let mfa = snap.iam.mfa(r);
            if mfa.deleted {
                return None;
            }
            let source = mfa
                .from_report
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            Some(if mfa.active {
                Verdict::pass(
                    &r.arn,
                    None,
                    format!("Console user {} has MFA active{source}.", r.user),
                )
            } else {
                Verdict::fail(
                    &r.arn,
                    None,
                    format!(
                        "Console user {} has a password but no MFA device{source}.",
                        r.user
                    ),
                )
            })
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
    use std::collections::BTreeMap;

    fn row(user: &str, password: bool, mfa: bool) -> CredentialReportRow {
        CredentialReportRow {
            user: user.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            password_enabled: password,
            mfa_active: mfa,
            ..Default::default()
        }
    }

    /// The report as given, its users' devices listed as the report says.
    fn run(rows: crate::facts::Fact<Vec<CredentialReportRow>>) -> Vec<Verdict> {
        let listed = match &rows {
            Ok(rows) => rows
                .iter()
                .map(|r| (r.user.clone(), Ok(Some(usize::from(r.mfa_active)))))
                .collect(),
            Err(_) => Default::default(),
        };
        run_listed(rows, Ok(listed))
    }

    fn run_listed(
        rows: crate::facts::Fact<Vec<CredentialReportRow>>,
        listed: crate::facts::Fact<BTreeMap<String, crate::facts::Fact<Option<usize>>>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.credential_report = rows;
        s.iam.credential_report_generated = "2026-12-01T10:00:00Z".parse().ok();
        s.iam.mfa_devices = listed;
        evaluate(&s, &Settings::default())
    }

    /// The report is hours old: what the listing says now decides, in both directions.
    #[test]
    fn devices_listed_now_override_the_report() {
        let rows = vec![row("alice", true, true), row("bob", true, false)];
        let listed = BTreeMap::from([
            ("alice".to_string(), Ok(Some(0))),
            ("bob".to_string(), Ok(Some(1))),
        ]);
        let v = run_listed(Ok(rows), Ok(listed));
        assert_eq!(
            (v[0].status, v[0].reason.as_str()),
            (
                Status::Fail,
                "Console user alice has a password but no MFA device."
            )
        );
        assert_eq!(
            (v[1].status, v[1].reason.as_str()),
            (Status::Pass, "Console user bob has MFA active.")
        );
    }

    /// A failed listing leaves the report's word, saying how old it is and why.
    #[test]
    fn report_decides_where_the_listing_failed_and_says_so() {
        let rows = vec![row("alice", true, false), row("bob", true, true)];
        let listed = BTreeMap::from([
            (
                "alice".to_string(),
                Err(denied("iam", "ListMFADevices", None)),
            ),
            ("bob".to_string(), Ok(Some(1))),
        ]);
        let v = run_listed(Ok(rows.clone()), Ok(listed));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Console user alice has a password but no MFA device (by the credential report of \
             2026-12-01 10:00 UTC, as iam:ListMFADevices access denied (AccessDenied: not authorized))."
        );
        assert_eq!(v[1].reason, "Console user bob has MFA active.");
        let v = run_listed(Ok(rows), Err(denied("iam", "ListMFADevices", None)));
        assert_eq!(
            v.iter().map(|v| v.status).collect::<Vec<_>>(),
            [Status::Fail, Status::Pass]
        );
        assert!(v[1].reason.contains("by the credential report of"));
    }

    /// A user deleted since the report was generated is gone: not judged.
    #[test]
    fn user_deleted_since_the_report_is_not_judged() {
        let rows = vec![row("alice", true, false), row("bob", true, true)];
        let listed = BTreeMap::from([
            ("alice".to_string(), Ok(None)),
            ("bob".to_string(), Ok(Some(1))),
        ]);
        let v = run_listed(Ok(rows), Ok(listed));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].resource, "arn:aws:iam::111122223333:user/bob");
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
