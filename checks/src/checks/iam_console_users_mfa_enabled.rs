//! Every IAM user who can sign in to the console has MFA.

use super::unknown;
use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Mfa, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_console_users_mfa_enabled",
        title: "IAM users with a console password have MFA",
        practice: Practice::Identity,
        severity: Severity::High,
        activity: dsomm::MFA,
        remediation: "Assign an MFA device to each IAM user with a console password, or remove the password \
                      (aws iam delete-login-profile) and move people to IAM Identity Center with MFA enforced.",
        needs: &[Need::IamCredentialReport, Need::IamSignIn],
        notes: "**Judges** each IAM user with a console password as IAM lists it now \
(`ListUsers`, `GetLoginProfile`): it passes when `ListMFADevices` lists a device for it (virtual, \
hardware and FIDO alike) and fails otherwise; no user with a password is not_applicable; an \
unreadable credential report is unknown.

**Edge cases**: IAM serves a credential report up to four hours old (`GenerateCredentialReport` \
returns the cached one), so its `password_enabled` and `mfa_active` can be hours behind: users, \
passwords and devices are read in every run and every re-check (a `DeactivateMFADevice`, a new \
console user or a deleted password shows within seconds). Where a user's own read fails, the \
report decides for that user and the verdict says so and how old the report is; a user neither \
readable nor in the report is unknown. A user without a console password cannot sign in to the \
console and is not judged here (its access keys are `iam_access_keys_rotated`'s and \
`iam_credentials_unused_disabled`'s). The root user is judged by `iam_root_mfa_enabled`.

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
    let in_report = |user: &str| rows.iter().find(|r| !r.is_root && r.user == user);
    // Who has a console password: as IAM lists it now, else (that read failed) the report's word.
    let users: Vec<(String, String, Result<bool, String>)> = match &snap.iam.sign_in {
        Ok(users) => users
            .iter()
            .map(|(name, u)| {
                let password = match &u.password {
                    Ok(p) => Ok(*p),
                    Err(e) => in_report(name)
                        .map(|r| r.password_enabled)
                        .ok_or_else(|| e.to_string()),
                };
                (name.clone(), u.arn.clone(), password)
            })
            .collect(),
        Err(_) => rows
            .iter()
            .filter(|r| !r.is_root)
            .map(|r| (r.user.clone(), r.arn.clone(), Ok(r.password_enabled)))
            .collect(),
    };
    let mut verdicts = Vec::new();
    for (user, arn, password) in users {
        match password {
            Ok(false) => continue,
            Err(why) => {
                verdicts.push(Verdict::unknown(
                    &arn,
                    None,
                    format!("Cannot tell whether user {user} has a console password: {why}."),
                ));
                continue;
            }
            Ok(true) => {}
        }
        let (active, source) = match snap.iam.mfa(&user) {
            Mfa::Deleted => continue,
            Mfa::Unknown(why) => {
                verdicts.push(Verdict::unknown(
                    &arn,
                    None,
                    format!("Cannot judge console user {user}: {why}."),
                ));
                continue;
            }
            Mfa::Listed(active) => (active, String::new()),
            Mfa::Report(active, why) => {
                (active, why.map(|w| format!(" ({w})")).unwrap_or_default())
            }
        };
        verdicts.push(if active {
            Verdict::pass(
                &arn,
                None,
                format!("Console user {user} has MFA active{source}."),
            )
        } else {
            Verdict::fail(
                &arn,
                None,
                format!("Console user {user} has a password but no MFA device{source}."),
            )
        });
    }
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
    use crate::facts::{Fact, FactError};
    use crate::model::Status;
    use crate::snapshot::{CredentialReportRow, UserSignIn};
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

    /// A user as IAM lists it now.
    fn now(user: &str, password: bool, devices: Fact<usize>) -> (String, UserSignIn) {
        let u = UserSignIn {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            password: Ok(password),
            mfa_devices: devices,
        };
        (user.into(), u)
    }

    /// The report as given, and IAM listing now what the report says.
    fn run(rows: Fact<Vec<CredentialReportRow>>) -> Vec<Verdict> {
        let listed = match &rows {
            Ok(rows) => rows
                .iter()
                .filter(|r| !r.is_root)
                .map(|r| now(&r.user, r.password_enabled, Ok(usize::from(r.mfa_active))))
                .collect(),
            Err(_) => Default::default(),
        };
        run_listed(rows, Ok(listed))
    }

    fn run_listed(
        rows: Fact<Vec<CredentialReportRow>>,
        listed: Fact<BTreeMap<String, UserSignIn>>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.credential_report = rows;
        s.iam.credential_report_generated = "2026-12-01T10:00:00Z".parse().ok();
        s.iam.sign_in = listed;
        evaluate(&s, &Settings::default())
    }

    /// The report is hours old: what IAM lists now decides, in both directions, and a console
    /// user created since the report is judged.
    #[test]
    fn what_iam_lists_now_overrides_the_report() {
        let rows = vec![
            row("alice", true, true),
            row("bob", true, false),
            row("carol", true, false),
        ];
        let listed = BTreeMap::from([
            now("alice", true, Ok(0)),
            now("bob", true, Ok(1)),
            now(
                "carol",
                false,
                Err(FactError::not_collected("iam", "ListMFADevices")),
            ),
            now("dave", true, Ok(0)),
        ]);
        let v = run_listed(Ok(rows), Ok(listed));
        let got: Vec<(&str, Status, &str)> = v
            .iter()
            .map(|v| (v.resource.as_str(), v.status, v.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "arn:aws:iam::111122223333:user/alice",
                    Status::Fail,
                    "Console user alice has a password but no MFA device."
                ),
                (
                    "arn:aws:iam::111122223333:user/bob",
                    Status::Pass,
                    "Console user bob has MFA active."
                ),
                (
                    "arn:aws:iam::111122223333:user/dave",
                    Status::Fail,
                    "Console user dave has a password but no MFA device."
                ),
            ]
        );
    }

    /// A failed read leaves the report's word, saying how old it is and why; a user neither read
    /// nor in the report is unknown.
    #[test]
    fn report_decides_where_a_read_failed_and_says_so() {
        let rows = vec![row("alice", true, false), row("bob", true, true)];
        let listed = BTreeMap::from([
            now("alice", true, Err(denied("iam", "ListMFADevices", None))),
            now("bob", true, Ok(1)),
            now("erin", true, Err(denied("iam", "ListMFADevices", None))),
        ]);
        let v = run_listed(Ok(rows.clone()), Ok(listed));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Console user alice has a password but no MFA device (by the credential report of \
             2026-12-01 10:00 UTC, as iam:ListMFADevices access denied (AccessDenied: not authorized))."
        );
        assert_eq!(v[1].reason, "Console user bob has MFA active.");
        assert_eq!(v[2].status, Status::Unknown, "{:?}", v[2]);
        let v = run_listed(Ok(rows), Err(denied("iam", "ListUsers", None)));
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
        let listed = BTreeMap::from([now("bob", true, Ok(1))]);
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
