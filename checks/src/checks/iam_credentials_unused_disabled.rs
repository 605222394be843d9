//! No IAM user keeps a console password or an active access key unused for longer than
//! `unused_credentials_days` (default 45).
//!
//! A credential never used counts from the user's creation (for a password) or the key's last
//! rotation (for a key), so a fresh user is not flagged on day one. Root is judged by the root checks.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, CredentialReportRow, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_credentials_unused_disabled",
        title: "Unused IAM passwords and access keys are disabled",
        practice: Practice::Identity,
        severity: Severity::Medium,
        activity: dsomm::TEST_FOR_UNUSED_RESOURCES,
        remediation: "Remove the console password (aws iam delete-login-profile) or deactivate the access \
                      key (aws iam update-access-key --status Inactive) of credentials unused for longer \
                      than the configured number of days.",
        needs: &[Need::IamCredentialReport],
        notes: "**Judges** every IAM user of the credential report that has a console password or an active access key: a password unused (`password_last_used`, or since `user_creation_time` when never used) and a key unused (`access_key_N_last_used_date`, or since `access_key_N_last_rotated` when never used) for more than `unused_credentials_days` (default 45) fail, named with their age in days; root is the root checks' question. Users without a password or active key are not judged; none at all is not_applicable.\n\n\
**Edge cases**: IAM records last use with a delay of up to hours, so the threshold is in days; a date the report gives as `N/A` or `no_information` counts as never used; the credential report is regenerated at most every four hours by IAM, so a change shows at the latest then.\n\n\
**Differs from Prowler** (`iam_user_accesskey_unused`, `iam_user_console_access_unused`) and Security Hub IAM.8/IAM.22: the same rule (CIS 45 days) in one check; a never-used credential counts from its creation, not as infinitely old.",
        module: module_path!(),
    },
    evaluate,
};

/// The stale credentials of one user: (what, days unused); `Err` names a credential whose age is
/// not in the report.
fn stale(
    snap: &AccountSnapshot,
    row: &CredentialReportRow,
    max: i64,
) -> Result<Vec<(String, i64)>, String> {
    let mut out = Vec::new();
    if row.password_enabled {
        // A password counts from its last use or from when it was last set, whichever is later
        // (a password reset last week had no chance to be used for months); the user's creation
        // date only when the report has neither.
        let since = match (row.password_last_used, row.password_last_changed) {
            (Some(u), Some(c)) => Some(u.max(c)),
            (u, c) => u.or(c),
        }
        .or(row.user_creation_time)
        .ok_or("the password has no last-use, change or creation date")?;
        let days = super::days_since(snap, since);
        if days > max {
            out.push(("console password".to_owned(), days));
        }
    }
    for key in row.active_keys() {
        let since = key.last_used.or(key.last_rotated).ok_or(format!(
            "access key {} has no last-use or rotation date",
            key.slot
        ))?;
        let days = super::days_since(snap, since);
        if days > max {
            out.push((format!("access key {}", key.slot), days));
        }
    }
    Ok(out)
}

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let rows = match &snap.iam.credential_report {
        Err(e) => return vec![super::unknown(&account, None, e)],
        Ok(rows) => rows,
    };
    let max = i64::from(settings.unused_credentials_days);
    let verdicts = rows
        .iter()
        .filter(|r| !r.is_root && (r.password_enabled || !r.active_keys().is_empty()))
        .map(|r| match stale(snap, r, max) {
            Err(why) => Verdict::unknown(
                &r.arn,
                None,
                format!("Cannot judge user {}: {why}.", r.user),
            ),
            Ok(s) if s.is_empty() => Verdict::pass(
                &r.arn,
                None,
                format!(
                    "Every credential of user {} was used within {max} days.",
                    r.user
                ),
            ),
            Ok(s) => Verdict::fail(
                &r.arn,
                None,
                format!(
                    "User {} has credentials unused for more than {max} days: {}.",
                    r.user,
                    s.iter()
                        .map(|(what, days)| format!("{what} ({days} days)"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        })
        .collect();
    super::or_not_applicable(
        snap,
        verdicts,
        "IAM users with a password or an active access key",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;

    fn user(name: &str) -> CredentialReportRow {
        CredentialReportRow {
            user: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            user_creation_time: Some(days_ago(500)),
            ..Default::default()
        }
    }

    fn run(rows: crate::facts::Fact<Vec<CredentialReportRow>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.credential_report = rows;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_recently_used_credentials() {
        let mut u = user("alice");
        u.password_enabled = true;
        u.password_last_used = Some(days_ago(3));
        u.access_key_1_active = true;
        u.access_key_1_last_rotated = Some(days_ago(200));
        u.access_key_1_last_used = Some(days_ago(1));
        let v = run(Ok(vec![u]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:user/alice",
                None,
                "Every credential of user alice was used within 45 days."
            )]
        );
    }

    /// A password never used counts from the user's creation; a key never used from its rotation.
    #[test]
    fn fails_never_used_password_and_stale_key() {
        let mut u = user("old");
        u.password_enabled = true;
        u.access_key_2_active = true;
        u.access_key_2_last_rotated = Some(days_ago(90));
        let v = run(Ok(vec![u]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "User old has credentials unused for more than 45 days: console password (500 days), access key 2 (90 days)."
        );
    }

    #[test]
    fn not_applicable_without_credentials() {
        let v = run(Ok(vec![user("role-only")]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no IAM users with a password or an active access key."
        );
    }

    /// A password set recently on an old user is not stale; one set long ago and never used is.
    #[test]
    fn password_age_counts_from_its_last_change() {
        let mut fresh = user("fresh");
        fresh.password_enabled = true;
        fresh.password_last_changed = Some(days_ago(5));
        let mut old = user("old");
        old.password_enabled = true;
        old.password_last_changed = Some(days_ago(200));
        let v = run(Ok(vec![fresh, old]));
        assert_eq!(v[0].status, Status::Pass, "{}", v[0].reason);
        assert_eq!(v[1].status, Status::Fail, "{}", v[1].reason);
        assert!(v[1].reason.contains("console password"), "{}", v[1].reason);
    }

    #[test]
    fn unknown_when_report_denied_or_dates_missing() {
        let v = run(Err(denied("iam", "GetCredentialReport", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetCredentialReport access denied (AccessDenied: not authorized)."
        );
        let mut u = user("x");
        u.password_enabled = true;
        u.user_creation_time = None;
        let v = run(Ok(vec![u]));
        assert_eq!(
            v[0].reason,
            "Cannot judge user x: the password has no last-use, change or creation date."
        );
    }
}
