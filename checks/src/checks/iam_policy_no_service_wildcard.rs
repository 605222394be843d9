//! No customer-managed or inline policy allows every action of a service (`iam:*`, `kms:*`,
//! `s3:*`, …) on every resource.
//!
//! `*` on `*` is judged by `iam_policy_no_full_admin`; this check catches the service-wide grants
//! that are nearly as broad (`iam:*` on `*` is admin by another name). AWS-managed policies are
//! AWS's to define.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_policy_no_service_wildcard",
        title: "No customer-managed or inline policy allows a whole service on every resource",
        practice: Practice::LeastPrivilege,
        severity: Severity::High,
        activity: dsomm::ROLE_BASED_AUTHORIZATION,
        remediation: "Replace service wildcards such as iam:*, kms:* or s3:* on \"Resource\": \"*\" with \
                      the actions the principal uses (IAM Access Analyzer can generate a policy from \
                      CloudTrail activity) and scope the resources.",
        needs: &[Need::IamAuthorizationDetails],
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_policy(snap, |doc, resource, what| {
        let wild: Vec<&str> = doc
            .statements
            .iter()
            .flat_map(|s| s.service_wildcards())
            .collect();
        if wild.is_empty() {
            Verdict::pass(
                resource,
                None,
                format!("{what} grants no whole service on every resource."),
            )
        } else {
            Verdict::fail(
                resource,
                None,
                format!("{what} allows {} on every resource.", wild.join(", ")),
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

    fn policy(name: &str, doc: &str, customer: bool) -> ManagedPolicy {
        ManagedPolicy {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:policy/{name}"),
            customer_managed: customer,
            attachment_count: 1,
            default_document: Some(doc.into()),
        }
    }

    fn run(d: crate::facts::Fact<AuthorizationDetails>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.authorization = d;
        evaluate(&s, &Settings::default())
    }

    #[test]
    fn passes_scoped_actions() {
        let v = run(Ok(AuthorizationDetails {
            policies: vec![policy(
                "deploy",
                r#"{"Statement":[{"Effect":"Allow","Action":["ecs:UpdateService"],"Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::assets/*"}]}"#,
                true,
            )],
            ..Default::default()
        }));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:policy/deploy",
                None,
                "Customer-managed policy deploy grants no whole service on every resource."
            )]
        );
    }

    #[test]
    fn fails_service_wildcards_in_inline_role_policy() {
        let role = IamRole {
            name: "ops".into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/ops"),
            inline_policies: vec![InlinePolicy {
                name: "broad".into(),
                document:
                    r#"{"Statement":{"Effect":"Allow","Action":["iam:*","kms:*"],"Resource":"*"}}"#
                        .into(),
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
            "arn:aws:iam::111122223333:role/ops/inline/broad"
        );
        assert_eq!(
            v[0].reason,
            "Inline policy broad of role ops allows iam:*, kms:* on every resource."
        );
    }

    #[test]
    fn not_applicable_without_customer_policies() {
        let v = run(Ok(AuthorizationDetails {
            policies: vec![policy("ReadOnlyAccess", "{}", false)],
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(
            v[0].reason,
            "Account 111122223333 has no customer-managed or inline IAM policies."
        );
    }

    #[test]
    fn unknown_when_denied_or_malformed() {
        let v = run(Err(denied("iam", "GetAccountAuthorizationDetails", None)));
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetAccountAuthorizationDetails access denied (AccessDenied: not authorized)."
        );
        let v = run(Ok(AuthorizationDetails {
            policies: vec![policy("bad", r#"{"Version":"2012-10-17"}"#, true)],
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge Customer-managed policy bad: its policy document has no Statement."
        );
    }
}
