//! No customer-managed or inline policy allows every action on every resource.
//!
//! AWS-managed policies (`AdministratorAccess`) are AWS's to define; who holds them is judged by the
//! identity checks. A customer policy with `"Action": "*"` on `"Resource": "*"` is an unreviewed copy
//! of it, which CIS and AWS Security Hub (IAM.1) both flag. Inline policies of users, groups and
//! roles are judged too, since they grant the same rights outside any policy review.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_policy_no_full_admin",
        title: "No customer-managed or inline policy allows * on *",
        practice: Practice::LeastPrivilege,
        severity: Severity::High,
        activity: dsomm::ROLE_BASED_AUTHORIZATION,
        remediation:
            "Replace \"Action\": \"*\" on \"Resource\": \"*\" with the actions and resources the \
                      principals need; keep break-glass administration on the AWS-managed \
                      AdministratorAccess policy behind a role with MFA.",
        needs: &[Need::IamAuthorizationDetails],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_policy(snap, |doc, resource, what| {
        let admin = doc.full_admin_statements();
        if admin.is_empty() {
            Verdict::pass(
                resource,
                None,
                format!("{what} does not allow every action on every resource."),
            )
        } else {
            Verdict::fail(
                resource,
                None,
                format!(
                    "{what} allows every action on every resource ({}).",
                    admin.join(", ")
                ),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{AuthorizationDetails, IamRole, InlinePolicy, ManagedPolicy};

    const ADMIN: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;

    fn policy(name: &str, doc: Option<&str>, customer: bool) -> ManagedPolicy {
        ManagedPolicy {
            name: name.into(),
            arn: if customer {
                format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
            } else {
                format!("arn:aws:iam::aws:policy/{name}")
            },
            customer_managed: customer,
            attachment_count: 1,
            default_document: doc.map(str::to_owned),
        }
    }

    fn run(details: crate::facts::Fact<AuthorizationDetails>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.authorization = details;
        evaluate(&s, &Settings::default())
    }

    /// The AWS-managed AdministratorAccess is not judged here; a scoped customer policy passes.
    #[test]
    fn passes_scoped_customer_policy() {
        let v = run(Ok(AuthorizationDetails {
            policies: vec![
                policy("AdministratorAccess", Some(ADMIN), false),
                policy("reader", Some(READ), true),
            ],
            ..Default::default()
        }));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:policy/reader",
                None,
                "Customer-managed policy reader does not allow every action on every resource."
            )]
        );
    }

    #[test]
    fn fails_customer_policy_with_star_on_star() {
        let v = run(Ok(AuthorizationDetails {
            policies: vec![policy("god-mode", Some(ADMIN), true)],
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "Customer-managed policy god-mode allows every action on every resource (statement \"Everything\")."
        );
    }

    #[test]
    fn fails_inline_role_policy_with_star_on_star() {
        let role = IamRole {
            name: "deployer".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/deployer"),
            inline_policies: vec![InlinePolicy {
                name: "all".into(),
                document: ADMIN.into(),
            }],
            ..Default::default()
        };
        let v = run(Ok(AuthorizationDetails {
            roles: vec![role],
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].resource,
            "arn:aws:iam::111122223333:role/deployer/inline/all"
        );
        assert_eq!(
            v[0].reason,
            "Inline policy all of role deployer allows every action on every resource (statement \"Everything\")."
        );
    }

    /// A malformed document is unknown with the parse error, never a pass or a fail.
    #[test]
    fn malformed_document_is_unknown_with_reason() {
        let v = run(Ok(AuthorizationDetails {
            policies: vec![policy("broken", Some("{oops"), true)],
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::Unknown);
        assert!(
            v[0].reason.starts_with("Cannot judge Customer-managed policy broken: its policy document is not valid JSON: "),
            "{}",
            v[0].reason
        );
    }

    #[test]
    fn not_applicable_without_customer_policies() {
        let v = run(Ok(AuthorizationDetails {
            policies: vec![policy("ReadOnlyAccess", Some(READ), false)],
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no customer-managed or inline IAM policies."
        );
    }

    #[test]
    fn unknown_when_details_denied() {
        let v = run(Err(denied("iam", "GetAccountAuthorizationDetails", None)));
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetAccountAuthorizationDetails access denied (AccessDenied: not authorized)."
        );
    }
}
