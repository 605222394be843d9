//! No customer-managed or inline policy grants administrator access.
//!
//! Administrator access is what the policy grants once read by the evaluator
//! ([`crate::policy::grants`]): every action on every resource however it is written (`*`, `*:*`,
//! `NotAction` of a few services, wildcards, minus its own `Deny` statements), or one of the IAM
//! actions with which whoever holds it grants itself any permission in one call
//! (`iam:AttachUserPolicy`, `iam:PutRolePolicy`, `iam:CreatePolicyVersion`, … on every resource).
//! AWS-managed policies (`AdministratorAccess`) are AWS's to define; who holds them is judged by
//! the identity checks. A policy used only as a permissions boundary grants nothing and passes.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::PrincipalKind;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_policy_no_full_admin",
        title: "No customer-managed or inline policy grants administrator access",
        practice: Practice::LeastPrivilege,
        severity: Severity::High,
        activity: dsomm::ROLE_BASED_AUTHORIZATION,
        remediation: "Replace the grant with the actions and resources the principals need (IAM Access \
                      Analyzer can generate a policy from CloudTrail activity); scope IAM policy \
                      writes to named resources; keep break-glass administration on the AWS-managed \
                      AdministratorAccess policy behind a role that requires MFA.",
        needs: &[Need::IamAuthorizationDetails],
        notes: "**Judges** the default version of every customer-managed policy and every inline \
policy of users, groups and roles, by its effective grants: it fails when the document grants every \
action on every resource (written as `*`, `*:*`, `arn:aws:*:*:*:*`, or `NotAction` of a few services such \
as `aws-portal:*`, after its own `Deny` statements), or an IAM action that lets its holder grant itself \
anything in one call (`iam:AttachUserPolicy`, `iam:PutUserPolicy`, `iam:AttachRolePolicy`, \
`iam:PutRolePolicy`, `iam:AttachGroupPolicy`, `iam:PutGroupPolicy`, `iam:CreatePolicyVersion`) on every \
resource. A malformed document is `unknown`.\n\n\
**Edge cases**: a policy attached to no one and used only as a permissions boundary passes (\"Allow * \
minus these Denies\" caps, grants nothing); an unattached policy is still judged (it can be attached in \
one call); a conditional `Allow` still grants (the condition says when, not what); a conditional `Deny` \
removes nothing; resource-scoped self-grants (`iam:PutRolePolicy` on one role) are escalation paths, not \
judged here.\n\n\
**Differs from Prowler** (`iam_customer_attached_policy_no_administrative_privileges`, \
`iam_inline_policy_no_administrative_privileges`) and Security Hub IAM.1: they flag `*` on `*` (Prowler \
also any `NotAction`-only Allow, so it fails PowerUserAccess copies as admin and ignores `Deny`); ours \
expands `NotAction` against the whole action list, applies `Deny`, exempts boundary-only policies, and \
adds the one-call self-grants that are administrator access by another name.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_policy(snap, |grants, resource, what| {
        match grants.administrator(PrincipalKind::AnyHolder) {
            None => Verdict::pass(
                resource,
                None,
                format!("{what} does not grant administrator access."),
            ),
            Some(why) => Verdict::fail(
                resource,
                None,
                format!("{what} grants administrator access: {why}."),
            ),
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
            permissions_boundary_usage_count: 0,
            default_document: doc.map(str::to_owned),
            document_error: None,
            other_versions: Vec::new(),
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
                "Customer-managed policy reader does not grant administrator access."
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
            "Customer-managed policy god-mode grants administrator access: every action on every resource."
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
            "Inline policy all of role deployer grants administrator access: every action on every resource."
        );
    }

    /// Documents as they appear in real accounts: an AdministratorAccess copy written with
    /// `NotAction` of billing, a self-grant, "Allow * minus Deny iam:*" attached (no longer admin),
    /// the same used only as a boundary (passes), PowerUserAccess (not admin).
    #[test]
    fn judges_effective_grants() {
        let boundary = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["iam:*","organizations:*","account:*"],"Resource":"*"}]}"#;
        let mut only_boundary = policy("cap", Some(boundary), true);
        only_boundary.attachment_count = 0;
        only_boundary.permissions_boundary_usage_count = 3;
        let v = run(Ok(AuthorizationDetails {
            policies: vec![
                policy(
                    "billing-less",
                    Some(
                        r#"{"Statement":{"Effect":"Allow","NotAction":"aws-portal:*","Resource":"*"}}"#,
                    ),
                    true,
                ),
                policy(
                    "self-grant",
                    Some(
                        r#"{"Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:PutRolePolicy"],"Resource":"*"}]}"#,
                    ),
                    true,
                ),
                policy("minus-iam", Some(boundary), true),
                only_boundary,
                policy(
                    "power",
                    Some(
                        r#"{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}"#,
                    ),
                    true,
                ),
            ],
            ..Default::default()
        }));
        let s: Vec<(Status, &str)> = v.iter().map(|v| (v.status, v.reason.as_str())).collect();
        assert_eq!(s[0].0, Status::Fail, "{}", s[0].1);
        assert!(
            s[0].1.contains("iam:AttachUserPolicy on every resource"),
            "{}",
            s[0].1
        );
        assert_eq!(s[1].0, Status::Fail);
        assert!(
            s[1].1.contains("iam:PutRolePolicy on every resource"),
            "{}",
            s[1].1
        );
        assert_eq!(s[2].0, Status::Pass, "{}", s[2].1);
        assert_eq!(s[3], (Status::Pass, "Customer-managed policy cap is attached to no one and only used as the permissions boundary of 3 principal(s): a boundary grants nothing, it caps what their own policies grant."));
        assert_eq!(s[4].0, Status::Pass, "{}", s[4].1);
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
