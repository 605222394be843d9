//! No IAM user holds policies directly: rights come from groups or roles.
//!
//! Rights attached to individual users escape role-based review; a user whose policies all come
//! from groups passes.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

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
        notes: "",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    let verdicts = details
        .users
        .iter()
        .map(|u| {
            let mut direct: Vec<String> = u
                .attached_policy_arns
                .iter()
                .map(|a| a.rsplit('/').next().unwrap_or(a).to_owned())
                .collect();
            direct.extend(
                u.inline_policies
                    .iter()
                    .map(|p| format!("inline {}", p.name)),
            );
            if direct.is_empty() {
                Verdict::pass(
                    &u.arn,
                    None,
                    format!("User {} has no policies of its own.", u.name),
                )
            } else {
                Verdict::fail(
                    &u.arn,
                    None,
                    format!(
                        "User {} holds policies directly: {}.",
                        u.name,
                        direct.join(", ")
                    ),
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
    use crate::snapshot::{AuthorizationDetails, IamUser, InlinePolicy};

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

    #[test]
    fn fails_attached_and_inline_user_policies() {
        let mut u = user("bot");
        u.attached_policy_arns = vec![format!("arn:aws:iam::{ACCOUNT}:policy/god-mode")];
        u.inline_policies = vec![InlinePolicy {
            name: "extra".into(),
            document: "{}".into(),
        }];
        let v = run(users(vec![u]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "User bot holds policies directly: god-mode, inline extra."
        );
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
