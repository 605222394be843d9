//! Every IAM user with administrator rights has an MFA device active.
//!
//! A user is an administrator when a policy allows every action on every resource, however it
//! reaches the user: the AWS-managed `AdministratorAccess`, a customer-managed policy or an inline
//! policy, attached to the user directly or to one of its groups. Detecting only
//! `AdministratorAccess` would miss customer copies of it. Root is judged by `iam_root_mfa_enabled`.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::PolicyDocument;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, AuthorizationDetails, InlinePolicy, Need};

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
        needs: &[Need::IamAuthorizationDetails, Need::IamCredentialReport],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

fn full_admin(document: &str) -> bool {
    PolicyDocument::parse(document).is_ok_and(|d| !d.full_admin_statements().is_empty())
}

/// How the principal's policies make it an administrator, if they do: the first policy that does.
fn admin_via(
    d: &AuthorizationDetails,
    attached: &[String],
    inline: &[InlinePolicy],
) -> Option<String> {
    for arn in attached {
        if arn == ADMINISTRATOR_ACCESS {
            return Some("AdministratorAccess".to_owned());
        }
        if let Some(p) = d.policies.iter().find(|p| &p.arn == arn) {
            if p.default_document.as_deref().is_some_and(full_admin) {
                return Some(format!("policy {}", p.name));
            }
        }
    }
    inline
        .iter()
        .find(|p| full_admin(&p.document))
        .map(|p| format!("inline policy {}", p.name))
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let account = snap.account_resource();
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    let rows = match &snap.iam.credential_report {
        Err(e) => return vec![super::unknown(&account, None, e)],
        Ok(r) => r,
    };
    let mut verdicts = Vec::new();
    for user in &details.users {
        let direct = admin_via(details, &user.attached_policy_arns, &user.inline_policies);
        let via = direct.or_else(|| {
            user.groups.iter().find_map(|g| {
                let group = details.groups.iter().find(|x| &x.name == g)?;
                admin_via(details, &group.attached_policy_arns, &group.inline_policies)
                    .map(|how| format!("{how} of group {g}"))
            })
        });
        let Some(via) = via else { continue };
        let verdict = match rows.iter().find(|r| r.user == user.name) {
            None => Verdict::unknown(
                &user.arn,
                None,
                format!(
                    "Cannot judge administrator {}: the user is not in the credential report.",
                    user.name
                ),
            ),
            Some(r) if r.mfa_active => Verdict::pass(
                &user.arn,
                None,
                format!(
                    "Administrator {} (through {via}) has MFA active.",
                    user.name
                ),
            ),
            Some(_) => Verdict::fail(
                &user.arn,
                None,
                format!(
                    "User {} is an administrator (through {via}) without an MFA device.",
                    user.name
                ),
            ),
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
    use crate::snapshot::{CredentialReportRow, IamGroup, IamUser, ManagedPolicy};

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
        }
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
                default_document: Some(ADMIN.into()),
            }],
        }
    }

    fn run(
        d: crate::facts::Fact<AuthorizationDetails>,
        rows: Vec<CredentialReportRow>,
    ) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.authorization = d;
        s.iam.credential_report = Ok(rows);
        evaluate(&s, &Settings::default())
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
                "Administrator alice (through AdministratorAccess) has MFA active."
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
            "User bob is an administrator (through policy god of group ops) without an MFA device."
        );
        assert_eq!(
            v[1].reason,
            "User carol is an administrator (through inline policy own) without an MFA device."
        );
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
        let v = run(
            Ok(details(vec![user(
                "new",
                &[ADMINISTRATOR_ACCESS],
                &[],
                None,
            )])),
            vec![],
        );
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge administrator new: the user is not in the credential report."
        );
    }
}
