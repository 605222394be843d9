//! No customer-managed or inline policy allows every action of a service on every resource.
//!
//! The services are the ones the document holds in full once read by the evaluator: `s3:*`,
//! `s3:*` written as `s3:Get*` plus `s3:Put*` plus …, or a `NotAction` that leaves them whole
//! ("everything but IAM", the PowerUserAccess shape, holds some 450 services in full).
//! AWS-managed policies are AWS's to define; who holds them is judged by the identity checks.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::describe_services;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_policy_no_service_wildcard",
        title: "No customer-managed or inline policy allows a whole service on every resource",
        practice: Practice::LeastPrivilege,
        severity: Severity::High,
        activity: dsomm::ROLE_BASED_AUTHORIZATION,
        remediation: "Replace service-wide grants such as iam:*, kms:* or s3:* on \"Resource\": \"*\" (and \
                      NotAction grants that leave whole services open) with the actions the principal \
                      uses (IAM Access Analyzer can generate a policy from CloudTrail activity) and \
                      scope the resources.",
        needs: &[Need::IamAuthorizationDetails],
        notes: "**Judges** the same documents as `iam_policy_no_full_admin`, by the services whose every \
action the document grants on every resource of the service (`Resource` `*`, `arn:aws:s3:::*`, \
`arn:aws:iam::ACCOUNT:*`; `NotResource` that names none of the service's resources), after its own \
unconditional `Deny` statements. Fails naming the services (the first ones and a count when there are \
many).\n\n\
**Edge cases**: `NotAction` grants count (\"Allow NotAction iam:*\" holds every other service); a \
document granting everything fails here too (every service is whole), as well as in \
`iam_policy_no_full_admin`; boundary-only policies pass; a `Deny` of named resources leaves the service \
whole elsewhere, so it still fails.\n\n\
**Differs from Prowler** (`iam_policy_no_full_access_to_cloudtrail`, `…_to_kms` look at two services, \
by the literal `service:*`): ours covers every service and every spelling, including `NotAction`.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    super::per_policy(snap, |grants, resource, what| {
        let whole = grants.services_in_full();
        if whole.is_empty() {
            Verdict::pass(
                resource,
                None,
                format!("{what} grants no whole service on every resource."),
            )
        } else {
            Verdict::fail(
                resource,
                None,
                format!(
                    "{what} allows every action of {} on every resource.",
                    describe_services(&whole, 8)
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

    fn policy(name: &str, doc: &str, customer: bool) -> ManagedPolicy {
        ManagedPolicy {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:policy/{name}"),
            customer_managed: customer,
            attachment_count: 1,
            permissions_boundary_usage_count: 0,
            default_document: Some(doc.into()),
            document_error: None,
            other_versions: Vec::new(),
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
            "Inline policy broad of role ops allows every action of iam, kms on every resource."
        );
    }

    /// "Power user" written with NotAction, and s3 spelled out by prefixes, fail; a Deny of the
    /// whole service within the document removes it.
    #[test]
    fn not_action_and_spelled_out_services_fail() {
        let v = run(Ok(AuthorizationDetails {
            policies: vec![
                policy(
                    "power",
                    r#"{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}"#,
                    true,
                ),
                policy(
                    "ec2-minus",
                    r#"{"Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*"],"Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
                    true,
                ),
            ],
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::Fail);
        assert!(
            v[0].reason.contains("every service but iam"),
            "{}",
            v[0].reason
        );
        assert_eq!(
            v[1].reason,
            "Customer-managed policy ec2-minus allows every action of ec2 on every resource."
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
