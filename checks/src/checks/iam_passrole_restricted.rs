//! No principal may pass every role, or an administrator role, to a service: `iam:PassRole` on
//! `*` (or on a pattern that covers a role holding administrator access) lets whoever holds it run
//! code as that role through any service that accepts one.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::escalation::Analysis;
use crate::policy::grants::PrincipalKind;
use crate::policy::resource::Request;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_passrole_restricted",
        title: "No IAM principal may pass every role or an administrator role",
        practice: Practice::LeastPrivilege,
        severity: Severity::High,
        activity: dsomm::ROLE_BASED_AUTHORIZATION,
        remediation: "Scope iam:PassRole to the ARNs of the roles the principal deploys \
                      (arn:aws:iam::ACCOUNT:role/app-*), never an administrator role, and add an \
                      iam:PassedToService condition naming the service that receives them.",
        needs: &[Need::IamAuthorizationDetails],
        notes: "**Judges** every user, group and role that may call `iam:PassRole` on some resource \
(effective grants: inline, managed, through groups, `Deny` and permissions boundary applied) and is not \
already an administrator: it fails when it holds `iam:PassRole` on every role (`*`, `arn:aws:iam::*:role/*`, \
`NotResource`), or when the roles it may pass include one that holds administrator access (the roles of \
the account, asked one by one); the reason names the administrator roles. A principal that may pass \
none of them passes; an account where nobody may pass a role is not applicable.\n\n\
**Edge cases**: an `iam:PassedToService` condition still lets every role go to that service, so \
`PassRole` on `*` limited to Lambda fails; service-linked roles are not \
passable and are not counted; administrators are judged by the administrator checks. Whether a passed \
role also gives a path (a service that runs code, a role that trusts it) is \
`iam_no_privilege_escalation`'s question; this check is the least-privilege rule behind it.\n\n\
**Differs from Prowler**: Prowler has no check of its own for it (only as part of \
`iam_policy_allows_privilege_escalation`, per policy and on any resource); ours judges the principal's \
combined grants against the roles that exist.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    let analysis = Analysis::new(details, &snap.account_id, None);
    let admin_roles: Vec<&str> = analysis
        .principals
        .iter()
        .filter(|p| p.kind == PrincipalKind::Role && p.admin.is_some())
        .map(|p| p.arn)
        .collect();
    let mut verdicts = Vec::new();
    for p in &analysis.principals {
        if p.admin.is_some() || !p.effective.grants.can("iam:PassRole") {
            continue;
        }
        let who = p.label();
        if !p.effective.unreadable.is_empty() {
            verdicts.push(Verdict::unknown(
                p.arn,
                None,
                format!(
                    "Cannot judge {who}: unreadable {}.",
                    p.effective.unreadable.join(", ")
                ),
            ));
            continue;
        }
        let username = (p.kind == PrincipalKind::User).then_some(p.name);
        let may_pass = |role: &str| {
            p.effective.allows(&Request {
                username,
                ..Request::new("iam:PassRole", role)
            })
        };
        let passable: Vec<String> = admin_roles
            .iter()
            .filter(|r| **r != p.arn && may_pass(r))
            .map(|r| crate::policy::escalation::arn_label(r))
            .collect();
        if p.effective.grants.holds_in_full("iam:PassRole") {
            let admins = if passable.is_empty() {
                String::new()
            } else {
                format!(", administrator {} among them", passable.join(", "))
            };
            verdicts.push(Verdict::fail(
                p.arn,
                None,
                format!("{who} may pass every role of the account (iam:PassRole on every resource{admins})."),
            ));
        } else if !passable.is_empty() {
            verdicts.push(Verdict::fail(
                p.arn,
                None,
                format!(
                    "{who} may pass administrator {} (iam:PassRole on a pattern that covers {}).",
                    passable.join(", "),
                    if passable.len() == 1 { "it" } else { "them" }
                ),
            ));
        } else {
            verdicts.push(Verdict::pass(
                p.arn,
                None,
                format!("{who} may pass only some roles, none of them an administrator."),
            ));
        }
    }
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            "No IAM principal of the account that is not an administrator may call iam:PassRole.",
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{IamRole, InlinePolicy};

    const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

    fn role(name: &str, doc: Option<&str>) -> IamRole {
        IamRole {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            inline_policies: doc
                .map(|d| {
                    vec![InlinePolicy {
                        name: "p".into(),
                        document: d.into(),
                    }]
                })
                .unwrap_or_default(),
            attached_policy_arns: if doc.is_none() {
                vec![ADMIN_ARN.into()]
            } else {
                vec![]
            },
            ..Default::default()
        }
    }

    fn run(roles: Vec<IamRole>) -> Vec<Verdict> {
        evaluate(&with_roles(roles), &Settings::default())
    }

    #[test]
    fn every_role_and_admin_patterns_fail_scoped_passes() {
        let v = run(vec![
            role("admin-ops", None),
            role(
                "ci",
                Some(
                    r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}}}"#,
                ),
            ),
            role(
                "deployer",
                Some(
                    r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/admin-*"}}"#,
                ),
            ),
            role(
                "app",
                Some(
                    r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app-*"}}"#,
                ),
            ),
            role(
                "reader",
                Some(r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#),
            ),
        ]);
        assert_eq!(v.len(), 3, "{v:?}");
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].reason, "role ci may pass every role of the account (iam:PassRole on every resource, administrator role admin-ops among them).");
        assert_eq!(v[1].status, Status::Fail);
        assert_eq!(v[1].reason, "role deployer may pass administrator role admin-ops (iam:PassRole on a pattern that covers it).");
        assert_eq!(v[2].status, Status::Pass);
    }

    #[test]
    fn nobody_passes_roles() {
        let v = run(vec![role(
            "reader",
            Some(r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#),
        )]);
        assert_eq!(v[0].status, Status::NotApplicable);
    }
}
