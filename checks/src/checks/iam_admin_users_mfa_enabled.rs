//! Every IAM user with administrator rights has an MFA device active.
//!
//! A user is an administrator when its effective grants (every policy that reaches it: inline,
//! customer- and AWS-managed, directly or through its groups; `Deny` applied; capped by its
//! permissions boundary) hold every action on every resource, or an IAM action with which it
//! grants itself anything in one call ([`crate::policy::Grants::administrator`]). Detecting only
//! `AdministratorAccess` would miss customer copies of it and `NotAction` spellings. Root is
//! judged by `iam_root_mfa_enabled`.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::{PolicyIndex, PrincipalKind};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Mfa, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_admin_users_mfa_enabled",
        title: "IAM users with administrator rights have MFA",
        practice: Practice::Identity,
        severity: Severity::Critical,
        activity: dsomm::MFA_FOR_ADMINS,
        remediation: "Assign an MFA device to every IAM user with administrator rights, or remove their \
                      administrator policies and let administrators assume a role that requires MFA \
                      (aws:MultiFactorAuthPresent).",
        needs: &[
            Need::IamAuthorizationDetails,
            Need::IamCredentialReport,
            Need::IamSignIn,
        ],
        notes: "**Judges** every IAM user whose effective grants make it an administrator (every \
action on every resource, written in any form, or `iam:AttachUserPolicy` / `iam:PutUserPolicy` / \
`iam:CreatePolicyVersion` on every resource), from all the policies that reach it — inline, \
customer- and AWS-managed (read with `GetPolicy`/`GetPolicyVersion`), directly or through its groups — \
with `Deny` statements applied and its permissions boundary capping them; the MFA devices \
`ListMFADevices` lists for the user now decide (virtual, hardware and FIDO alike). Users who are not \
administrators are not judged.\n\n\
**Edge cases**: users and devices are read in every run and re-check because IAM serves a \
credential report up to four hours old (a `DeactivateMFADevice`, or an administrator created since \
the report, shows within seconds); where a user's listing fails, or the user holds no credential \
(no password, no active key: it is not listed), the report's `mfa_active` decides and a listing \
failure is named in the verdict with the report's age; a user neither listed nor in the report is \
`unknown`; an administrator deleted since the report is not judged; a boundary that denies IAM takes administrator away (unless the user can also lift \
the boundary); `NotAction: aws-portal:*` is administrator; an unreadable policy of a user who is not \
an administrator by its other policies makes that user `unknown`, never a pass.\n\n\
**Differs from Prowler** (`iam_administrator_access_with_mfa`, which looks for the \
`AdministratorAccess` policy on groups only) and Security Hub (no such control): ours finds customer \
copies, inline grants, `NotAction` spellings and self-grants, and honours boundaries.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    if let Err(e) = &snap.iam.credential_report {
        return vec![super::unknown(&account, None, e)];
    }
    let index = PolicyIndex::new(details, &snap.account_id);
    let mut verdicts = Vec::new();
    for user in &details.users {
        let effective = index.user(user);
        let Some(via) = effective.administrator(PrincipalKind::User) else {
            if !effective.unreadable.is_empty() {
                verdicts.push(Verdict::unknown(
                    &user.arn,
                    None,
                    format!(
                        "Cannot judge whether user {} is an administrator: {} could not be read.",
                        user.name,
                        effective.unreadable.join(", ")
                    ),
                ));
            }
            continue;
        };
        let (active, source) = match snap.iam.mfa(&user.name) {
            Mfa::Deleted => continue,
            Mfa::Unknown(why) => {
                verdicts.push(Verdict::unknown(
                    &user.arn,
                    None,
                    format!("Cannot judge administrator {}: {why}.", user.name),
                ));
                continue;
            }
            Mfa::Listed(active) => (active, String::new()),
            Mfa::Report(active, why) => {
                (active, why.map(|w| format!(" ({w})")).unwrap_or_default())
            }
        };
        let verdict = if active {
            Verdict::pass(
                &user.arn,
                None,
                format!(
                    "Administrator {} ({via}) has MFA active{source}.",
                    user.name
                ),
            )
        } else {
            Verdict::fail(
                &user.arn,
                None,
                format!(
                    "User {} is an administrator ({via}) without an MFA device{source}.",
                    user.name
                ),
            )
        };
        verdicts.push(verdict);
    }
    super::or_not_applicable(snap, verdicts, "IAM users with administrator rights")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{
        AuthorizationDetails, CredentialReportRow, IamGroup, IamUser, InlinePolicy, ManagedPolicy,
        UserSignIn,
    };
    use std::collections::BTreeMap;

    const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    const ADMIN: &str = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const READ: &str =
        r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

    fn user(name: &str, attached: &[&str], groups: &[&str], inline: Option<&str>) -> IamUser {
        IamUser {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            attached_policy_arns: attached.iter().map(|a| a.to_string()).collect(),
            inline_policies: inline
                .map(|d| {
                    vec![InlinePolicy {
                        name: "own".into(),
                        document: d.into(),
                    }]
                })
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    /// A user as IAM lists it now, with or without an MFA device.
    fn now(name: &str, mfa: bool) -> (String, UserSignIn) {
        let u = UserSignIn {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            password: Ok(true),
            mfa_devices: Ok(usize::from(mfa)),
        };
        (name.into(), u)
    }

    fn row(name: &str, mfa: bool) -> CredentialReportRow {
        CredentialReportRow {
            user: name.into(),
            mfa_active: mfa,
            ..Default::default()
        }
    }

    fn details(users: Vec<IamUser>) -> AuthorizationDetails {
        AuthorizationDetails {
            users,
            groups: vec![IamGroup {
                name: "ops".into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:group/ops"),
                attached_policy_arns: vec![format!("arn:aws:iam::{ACCOUNT}:policy/god")],
                inline_policies: vec![],
            }],
            roles: vec![],
            policies: vec![ManagedPolicy {
                name: "god".into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:policy/god"),
                customer_managed: true,
                attachment_count: 1,
                permissions_boundary_usage_count: 0,
                default_document: Some(ADMIN.into()),
                document_error: None,
                other_versions: Vec::new(),
            }],
        }
    }

    fn run(
        d: crate::facts::Fact<AuthorizationDetails>,
        rows: Vec<CredentialReportRow>,
    ) -> Vec<Verdict> {
        let listed = rows.iter().map(|r| now(&r.user, r.mfa_active)).collect();
        let mut s = snapshot();
        s.iam.authorization = d;
        s.iam.credential_report = Ok(rows);
        s.iam.sign_in = Ok(listed);
        evaluate(&s, &Settings::default())
    }

    /// The report (hours old) says active, the devices listed now say none: the listing decides.
    #[test]
    fn devices_listed_now_decide_over_the_report() {
        let mut s = snapshot();
        s.iam.authorization = Ok(details(vec![user(
            "alice",
            &[ADMINISTRATOR_ACCESS],
            &[],
            None,
        )]));
        s.iam.credential_report = Ok(vec![row("alice", true)]);
        s.iam.sign_in = Ok([now("alice", false)].into());
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Fail);
        s.iam.sign_in = Ok(BTreeMap::new());
        let v = evaluate(&s, &Settings::default());
        assert_eq!(
            v[0].status,
            Status::NotApplicable,
            "deleted since the report: {v:?}"
        );
    }

    #[test]
    fn passes_admin_with_mfa() {
        let v = run(
            Ok(details(vec![user(
                "alice",
                &[ADMINISTRATOR_ACCESS],
                &[],
                None,
            )])),
            vec![row("alice", true)],
        );
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:user/alice",
                None,
                "Administrator alice (AWS-managed policy AdministratorAccess grants every action on every resource) has MFA active."
            )]
        );
    }

    /// Admin rights through a group's customer policy or an inline policy count like AdministratorAccess.
    #[test]
    fn fails_admins_via_group_or_inline_policy_without_mfa() {
        let v = run(
            Ok(details(vec![
                user("bob", &[], &["ops"], None),
                user("carol", &[], &[], Some(ADMIN)),
                user("reader", &[], &[], Some(READ)),
            ])),
            vec![row("bob", false), row("carol", false), row("reader", false)],
        );
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "User bob is an administrator (policy god of group ops grants every action on every resource) without an MFA device."
        );
        assert_eq!(
            v[1].reason,
            "User carol is an administrator (inline policy own grants every action on every resource) without an MFA device."
        );
    }

    /// NotAction of billing is administrator; a boundary that removes IAM takes it away; an
    /// unreadable policy of a non-administrator is unknown.
    #[test]
    fn effective_grants_decide() {
        let mut d = details(vec![
            user(
                "dave",
                &[],
                &[],
                Some(
                    r#"{"Statement":{"Effect":"Allow","NotAction":"aws-portal:*","Resource":"*"}}"#,
                ),
            ),
            user("erin", &[], &[], Some(ADMIN)),
            user(
                "frank",
                &[&format!("arn:aws:iam::{ACCOUNT}:policy/missing")],
                &[],
                None,
            ),
        ]);
        d.users[1].permissions_boundary = Some(format!("arn:aws:iam::{ACCOUNT}:policy/cap"));
        d.policies.push(ManagedPolicy {
            name: "cap".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:policy/cap"),
            customer_managed: true,
            attachment_count: 0,
            permissions_boundary_usage_count: 1,
            default_document: Some(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#.into()),
            document_error: None,
            other_versions: Vec::new(),
        });
        let v = run(
            Ok(d),
            vec![row("dave", false), row("erin", false), row("frank", false)],
        );
        assert_eq!(v.len(), 2, "{v:#?}");
        assert_eq!(v[0].status, Status::Fail);
        assert!(
            v[0].reason
                .contains("iam:AttachUserPolicy on every resource"),
            "{}",
            v[0].reason
        );
        assert_eq!(v[1].status, Status::Unknown);
        assert_eq!(v[1].reason, "Cannot judge whether user frank is an administrator: policy missing (IAM did not return it) could not be read.");
    }

    #[test]
    fn not_applicable_without_admins() {
        let v = run(
            Ok(details(vec![user("reader", &[], &[], Some(READ))])),
            vec![],
        );
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no IAM users with administrator rights."
        );
    }

    #[test]
    fn unknown_when_details_denied_or_user_not_reported() {
        let v = run(
            Err(denied("iam", "GetAccountAuthorizationDetails", None)),
            vec![],
        );
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetAccountAuthorizationDetails access denied (AccessDenied: not authorized)."
        );
        // An administrator created since the report: judged from what IAM lists now, or unknown
        // when that cannot be read either.
        let mut s = snapshot();
        s.iam.authorization = Ok(details(vec![user(
            "new",
            &[ADMINISTRATOR_ACCESS],
            &[],
            None,
        )]));
        s.iam.credential_report = Ok(vec![]);
        s.iam.sign_in = Ok([now("new", false)].into());
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Fail, "{v:?}");
        s.iam.sign_in = Err(denied("iam", "ListUsers", None));
        let v = evaluate(&s, &Settings::default());
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge administrator new: iam:ListUsers access denied (AccessDenied: not authorized)."
        );
    }
}
