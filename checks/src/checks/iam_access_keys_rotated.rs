//! Every active access key of an IAM user was rotated within the configured age
//! (`access_key_max_age_days`, default 90).
//!
//! Long-lived keys are confidential parameters handed to machines; rotating them bounds how long a
//! leaked key stays useful. Root keys are judged by `iam_root_access_keys_absent`.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_access_keys_rotated",
        title: "Active IAM access keys are rotated within the maximum age",
        practice: Practice::Identity,
        severity: Severity::Medium,
        activity: dsomm::HANDOVER_OF_CONFIDENTIAL_PARAMETERS,
        remediation: "Create a new access key, move its consumer to it, then deactivate and delete the \
                      old one (aws iam update-access-key --status Inactive); better, replace user keys \
                      with roles (instance profiles, IRSA, OIDC federation).",
        needs: &[Need::IamCredentialReport],
        notes: "**Judges** the credential report: each active access key of an IAM user \
(`access_key_N_active`) by `access_key_N_last_rotated` against `access_key_max_age_days` \
(default 90) at collection time: within passes, older fails; an active key without a date is \
unknown; no active key is not_applicable; an unreadable report is unknown.

**Edge cases**: inactive keys cannot sign requests and are not judged (deleting them is \
`iam_credentials_unused_disabled`'s concern). The root user's keys are judged by \
`iam_root_access_keys_absent`. The report can be up to four hours old: a key rotated since shows \
its old age until IAM regenerates it.

**Differs from Prowler / Security Hub**: agrees with Prowler's `iam_rotate_access_key_90_days` and \
Security Hub IAM.3; the age is configurable.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, settings: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let rows = match &snap.iam.credential_report {
        Err(e) => return vec![super::unknown(&account, None, e)],
        Ok(rows) => rows,
    };
    let max = i64::from(settings.access_key_max_age_days);
    let mut verdicts = Vec::new();
    for row in rows.iter().filter(|r| !r.is_root) {
        for key in row.active_keys() {
            let resource = format!("{}/access-key-{}", row.arn, key.slot);
            let what = format!("Access key {} of user {}", key.slot, row.user);
            verdicts.push(match key.last_rotated {
                None => Verdict::unknown(
                    resource,
                    None,
                    format!("Cannot judge {what}: the credential report gives no rotation date."),
                ),
                Some(t) => {
                    let age = super::days_since(snap, t);
                    if age <= max {
                        Verdict::pass(
                            resource,
                            None,
                            format!("{what} is {age} days old (at most {max} allowed)."),
                        )
                    } else {
                        Verdict::fail(
                            resource,
                            None,
                            format!(
                                "{what} is {age} days old; keys must be rotated within {max} days."
                            ),
                        )
                    }
                }
            });
        }
    }
    super::or_not_applicable(snap, verdicts, "active IAM user access keys")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::CredentialReportRow;

    fn row(user: &str, key1: Option<i64>, key2: Option<i64>) -> CredentialReportRow {
        CredentialReportRow {
            user: user.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{user}"),
            access_key_1_active: key1.is_some(),
            access_key_1_last_rotated: key1.map(days_ago),
            access_key_2_active: key2.is_some(),
            access_key_2_last_rotated: key2.map(days_ago),
            ..Default::default()
        }
    }

    fn run(rows: crate::facts::Fact<Vec<CredentialReportRow>>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.credential_report = rows;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_recent_key() {
        let v = run(Ok(vec![row("ci", Some(30), None)]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:user/ci/access-key-1",
                None,
                "Access key 1 of user ci is 30 days old (at most 90 allowed)."
            )]
        );
    }

    #[test]
    fn fails_old_second_key() {
        let v = run(Ok(vec![row("ci", Some(10), Some(400))]));
        assert_eq!(v[1].status, Status::Fail);
        assert_eq!(
            v[1].reason,
            "Access key 2 of user ci is 400 days old; keys must be rotated within 90 days."
        );
    }

    #[test]
    fn not_applicable_without_active_keys() {
        let v = run(Ok(vec![row("alice", None, None)]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no active IAM user access keys."
        );
    }

    #[test]
    fn unknown_when_report_denied_or_date_missing() {
        let v = run(Err(denied("iam", "GetCredentialReport", None)));
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetCredentialReport access denied (AccessDenied: not authorized)."
        );
        let mut r = row("ci", Some(1), None);
        r.access_key_1_last_rotated = None;
        let v = run(Ok(vec![r]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge Access key 1 of user ci: the credential report gives no rotation date."
        );
    }
}
