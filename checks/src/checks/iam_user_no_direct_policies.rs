//! No IAM user holds policies directly: rights come from groups or roles.
//!
//! Rights attached to individual users escape role-based review; a user whose policies all come
//! from groups passes. A policy that only denies grants no right: AWS attaches such policies to
//! users itself (the `AWSCompromisedKeyQuarantine` policies when a key leaks), and a deny-only
//! policy on one user is a restriction, not a grant, so neither fails.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::PolicyDocument;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, AuthorizationDetails, IamUser, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_user_no_direct_policies",
        title: "IAM users receive permissions only through groups or roles",
        practice: Practice::LeastPrivilege,
        severity: Severity::Low,
        activity: dsomm::ROLE_BASED_AUTHORIZATION,
        remediation: "Move policies attached to users (aws iam list-attached-user-policies, \
                      list-user-policies) to a group that represents the role, add the users to the \
                      group, then detach or delete the user policies.",
        needs: &[Need::IamAuthorizationDetails],
        notes: "**Judges** `GetAccountAuthorizationDetails`: each user's `AttachedManagedPolicies` \
and `UserPolicyList`. Fail when one of them allows anything; pass when the user has none, or only \
policies that deny; unknown when a direct policy's document is missing or malformed and none \
grants; no user is not_applicable; unreadable details are unknown for the account.

**Edge cases**: permissions boundaries are not grants and are not read as such. A customer policy \
is judged by its default version; an AWS-managed one by name: `AWSDenyAll` and the \
`AWSCompromisedKeyQuarantine` (V1–V3) policies, which AWS attaches to a user whose key leaked, \
only deny and pass. Every other AWS-managed policy is taken as a grant. Group membership is not \
judged here.

**Differs from Prowler / Security Hub**: Prowler's `iam_policy_attached_only_to_group_or_roles` \
and Security Hub IAM.2 fail any attached or inline user policy, including AWS's own quarantine \
policy, whose removal would lift the quarantine; ours fails only policies that grant.",
        module: module_path!(),
    },
    evaluate,
};

/// AWS-managed policies that only deny (read by name: authorization details carry the documents
/// of customer-managed policies only).
const AWS_DENY_ONLY: &[&str] = &[
    "AWSDenyAll",
    "AWSCompromisedKeyQuarantine",
    "AWSCompromisedKeyQuarantineV2",
    "AWSCompromisedKeyQuarantineV3",
];

/// What a policy held directly does.
enum Direct {
    Grants(String),
    DeniesOnly(String),
    /// The document could not be judged: why.
    Unknown(String),
}

/// Judges a policy document held directly by a user, labelled `label`.
fn judge_document(label: String, document: Option<&str>) -> Direct {
    let Some(text) = document else {
        return Direct::Unknown(format!("IAM returned no document for policy {label}"));
    };
    match PolicyDocument::parse(text) {
        Err(e) => Direct::Unknown(format!("the document of policy {label} {e}")),
        Ok(doc) if doc.statements.iter().all(|s| !s.allow) => Direct::DeniesOnly(label),
        Ok(_) => Direct::Grants(label),
    }
}

fn direct_policies(user: &IamUser, details: &AuthorizationDetails) -> Vec<Direct> {
    let attached = user.attached_policy_arns.iter().map(|arn| {
        let name = arn.rsplit('/').next().unwrap_or(arn).to_owned();
        if arn.contains(":iam::aws:policy/") {
            return if AWS_DENY_ONLY.contains(&name.as_str()) {
                Direct::DeniesOnly(name)
            } else {
                Direct::Grants(name)
            };
        }
        let document = details
            .policies
            .iter()
            .find(|p| &p.arn == arn)
            .and_then(|p| p.default_document.as_deref());
        judge_document(name, document)
    });
    let inline = user
        .inline_policies
        .iter()
        .map(|p| judge_document(format!("inline {}", p.name), Some(&p.document)));
    attached.chain(inline).collect()
}

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    let verdicts = details
        .users
        .iter()
        .map(|u| {
            let (mut grants, mut denies, mut unknown) = (vec![], vec![], vec![]);
            for d in direct_policies(u, details) {
                match d {
                    Direct::Grants(l) => grants.push(l),
                    Direct::DeniesOnly(l) => denies.push(l),
                    Direct::Unknown(why) => unknown.push(why),
                }
            }
            if !grants.is_empty() {
                Verdict::fail(
                    &u.arn,
                    None,
                    format!(
                        "User {} holds policies directly: {}.",
                        u.name,
                        grants.join(", ")
                    ),
                )
            } else if let Some(why) = unknown.first() {
                Verdict::unknown(
                    &u.arn,
                    None,
                    format!("Cannot judge user {}: {why}.", u.name),
                )
            } else if !denies.is_empty() {
                Verdict::pass(
                    &u.arn,
                    None,
                    format!(
                        "User {} holds only policies that deny directly ({}), which grant nothing.",
                        u.name,
                        denies.join(", ")
                    ),
                )
            } else {
                Verdict::pass(
                    &u.arn,
                    None,
                    format!("User {} has no policies of its own.", u.name),
                )
            }
        })
        .collect();
    super::or_not_applicable(snap, verdicts, "IAM users")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{InlinePolicy, ManagedPolicy};

    fn run(d: crate::facts::Fact<AuthorizationDetails>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.authorization = d;
        evaluate(&s, &Settings::default())
    }

    fn user(name: &str) -> IamUser {
        IamUser {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
            groups: vec!["deployers".into()],
            ..Default::default()
        }
    }

    fn users(u: Vec<IamUser>) -> crate::facts::Fact<AuthorizationDetails> {
        Ok(AuthorizationDetails {
            users: u,
            ..Default::default()
        })
    }

    #[test]
    fn passes_user_with_group_rights_only() {
        let v = run(users(vec![user("bob")]));
        assert_eq!(
            v,
            vec![Verdict::pass(
                "arn:aws:iam::111122223333:user/bob",
                None,
                "User bob has no policies of its own."
            )]
        );
    }

    const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    /// URL-encoded, as `GetAccountAuthorizationDetails` returns documents.
    const DENY_DELETE: &str = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Deny%22%2C%22Action%22%3A%22s3%3ADeleteBucket%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D";

    fn customer_policy(name: &str, document: Option<&str>) -> ManagedPolicy {
        ManagedPolicy {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:policy/{name}"),
            customer_managed: true,
            attachment_count: 1,
            permissions_boundary_usage_count: 0,
            default_document: document.map(str::to_owned),
            document_error: None,
            other_versions: Vec::new(),
        }
    }

    #[test]
    fn fails_attached_and_inline_user_policies() {
        let mut u = user("bot");
        u.attached_policy_arns = vec![
            format!("arn:aws:iam::{ACCOUNT}:policy/god-mode"),
            "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
        ];
        u.inline_policies = vec![InlinePolicy {
            name: "extra".into(),
            document: ALLOW_ALL.into(),
        }];
        let v = run(Ok(AuthorizationDetails {
            users: vec![u],
            policies: vec![customer_policy("god-mode", Some(ALLOW_ALL))],
            ..Default::default()
        }));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "User bot holds policies directly: god-mode, ReadOnlyAccess, inline extra."
        );
    }

    /// AWS's quarantine of a leaked key, and a deny-only inline policy, restrict the user and
    /// grant nothing: moving them to a group is no remediation.
    #[test]
    fn passes_deny_only_direct_policies() {
        let mut u = user("leaked");
        u.attached_policy_arns =
            vec!["arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3".into()];
        u.inline_policies = vec![InlinePolicy {
            name: "no-delete".into(),
            document: DENY_DELETE.into(),
        }];
        let v = run(users(vec![u]));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[0].reason,
            "User leaked holds only policies that deny directly (AWSCompromisedKeyQuarantineV3, inline no-delete), which grant nothing."
        );
    }

    /// A direct policy whose document cannot be read may be a grant or a restriction: unknown,
    /// unless another direct policy already grants.
    #[test]
    fn unknown_when_a_direct_document_cannot_be_judged() {
        let mut u = user("bot");
        u.attached_policy_arns = vec![format!("arn:aws:iam::{ACCOUNT}:policy/missing")];
        let v = run(users(vec![u.clone()]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge user bot: IAM returned no document for policy missing."
        );
        u.inline_policies = vec![InlinePolicy {
            name: "extra".into(),
            document: ALLOW_ALL.into(),
        }];
        assert_eq!(run(users(vec![u]))[0].status, Status::Fail);
    }

    #[test]
    fn not_applicable_without_users() {
        let v = run(users(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(v[0].reason, "Account 111122223333 has no IAM users.");
    }

    #[test]
    fn unknown_when_denied() {
        let v = run(Err(denied("iam", "GetAccountAuthorizationDetails", None)));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetAccountAuthorizationDetails access denied (AccessDenied: not authorized)."
        );
    }
}
