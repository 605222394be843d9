//! No user, group or role can raise its own privileges: the escalation paths of
//! [`crate::policy::escalation`] (new policy versions, policies written or attached on itself or its
//! groups, joining a group, a role's trust rewritten, credentials for another user, `iam:PassRole` to
//! a service that runs code under the passed role), each found from effective grants with
//! resources, `Deny`, conditions on `iam:PassedToService` / `iam:PolicyARN` and permissions
//! boundaries applied.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::escalation::Analysis;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};
use std::collections::HashSet;

/// How many paths a verdict carries (the strongest and shortest first).
const MAX_PATHS: usize = 5;

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_no_privilege_escalation",
        title: "No IAM principal can raise its own privileges",
        practice: Practice::LeastPrivilege,
        severity: Severity::High,
        activity: dsomm::HARDENING_OF_THE_ENVIRONMENT,
        remediation: "Remove the first step of each path: scope iam:PassRole to the roles the \
                      principal deploys (and iam:PassedToService to their service); scope IAM writes \
                      (CreatePolicyVersion, Put*/Attach*Policy, AddUserToGroup, UpdateAssumeRolePolicy, \
                      CreateAccessKey, Create/UpdateLoginProfile) to named resources other than the \
                      principal itself, or remove them; give the principal a permissions boundary that \
                      denies iam:* writes and boundary changes.",
        needs: &[Need::IamAuthorizationDetails, Need::IamCredentialReport],
        notes: "**Judges** every user, group and role (not service-linked roles, as which nobody \
acts) that is not already an administrator: from its effective grants (inline, managed, through groups, \
`Deny` applied, capped by its permissions boundary) it searches the published primitives of \
`checks/data/privesc.tsv` (Rhino Security Labs' 21 methods, PMapper's and Prowler's lists; 26 rows), each \
asked on the named resource: the role passed (which must trust the service; for EC2 be in an instance \
profile), the user, group or policy written. Acting as another principal continues the search from that \
principal. It fails when a path reaches administrator access or every action of a service the principal \
does not hold in full, and names the path step by step (the JSON report carries each path's steps).\n\n\
**Edge cases**: `iam:PassRole` scoped to roles that hold no more than the principal is no path; a \
`iam:PassedToService` condition limits the services; an attach limited by `iam:PolicyARN` gives only the \
policies it names; `${aws:username}` in a resource is the acting user; a boundary caps self-grants unless \
the principal can delete or replace it (or rewrite the boundary policy); a conditional `Deny` (MFA, source \
IP) is one the actor dodges; `CreateLoginProfile` counts on users without a console password and \
`UpdateLoginProfile` on users with one (either, while the credential report is unknown). Not judged: \
updating existing Lambda functions or Glue endpoints, SSM on instances (they need inventories IAM does not \
give), resource policies and SCPs (they can only narrow, so a reported path may be closed by an SCP). A \
principal with an unreadable policy is `unknown`.\n\n\
**Differs from Prowler** (`iam_policy_allows_privilege_escalation`): Prowler matches action lists per \
policy, on any resource, without the principal's other policies, boundaries, `Deny`, conditions, or which \
roles exist and trust which service; it reports `PassRole` scoped to a harmless role and misses a path that \
spans two policies or two principals. Ours is per principal, on resources, and says the path.",
        module: module_path!(),
    },
    evaluate,
};

fn evaluate(snap: &AccountSnapshot, _: &Settings) -> Vec<Verdict> {
    let details = match super::iam_details(snap) {
        Ok(d) => d,
        Err(v) => return vec![v],
    };
    let passwords: Option<HashSet<String>> = snap.iam.credential_report.as_ref().ok().map(|rows| {
        rows.iter()
            .filter(|r| !r.is_root && r.password_enabled)
            .map(|r| r.arn.clone())
            .collect()
    });
    let analysis = Analysis::new(details, &snap.account_id, passwords);
    let mut verdicts = Vec::new();
    for (i, p) in analysis.principals.iter().enumerate() {
        if p.admin.is_some() {
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
        let paths = analysis.paths(i, MAX_PATHS);
        let Some(best) = paths.first() else {
            verdicts.push(Verdict::pass(
                p.arn,
                None,
                format!("{who} has no path to administrator access or to a service it does not hold in full."),
            ));
            continue;
        };
        let more = match paths.len() {
            1 => String::new(),
            n if n == MAX_PATHS => format!(" ({} or more other paths)", n - 1),
            n => format!(" ({} other path{})", n - 1, if n == 2 { "" } else { "s" }),
        };
        let mut v = Verdict::fail(
            p.arn,
            None,
            format!(
                "{who} can raise its privileges: {}, reaching {}{more}.",
                best.describe(&who),
                best.reaches
            ),
        );
        v.paths = paths;
        verdicts.push(v);
    }
    if verdicts.is_empty() {
        verdicts.push(Verdict::not_applicable(
            snap.account_resource(),
            None,
            "The account has no IAM user, group or role that is not already an administrator.",
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

    fn role(name: &str, doc: Option<&str>, admin: bool) -> IamRole {
        IamRole {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            trust_policy: Some(r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}"#.into()),
            inline_policies: doc
                .map(|d| vec![InlinePolicy { name: "p".into(), document: d.into() }])
                .unwrap_or_default(),
            attached_policy_arns: if admin { vec![ADMIN_ARN.into()] } else { vec![] },
            ..Default::default()
        }
    }

    fn run(roles: Vec<IamRole>) -> Vec<Verdict> {
        evaluate(&with_roles(roles), &Settings::default())
    }

    #[test]
    fn fails_with_the_path_and_carries_its_steps() {
        let v = run(vec![
            role(
                "ci-deploy",
                Some(
                    r#"{"Statement":{"Effect":"Allow","Action":["iam:PassRole","lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}}"#,
                ),
                false,
            ),
            role("admin", None, true),
            role(
                "reader",
                Some(r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#),
                false,
            ),
        ]);
        assert_eq!(v.len(), 2, "the administrator is not judged: {v:?}");
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(
            v[0].reason,
            "role ci-deploy can raise its privileges: role ci-deploy → iam:PassRole on role admin + lambda:CreateFunction, lambda:InvokeFunction → acts as role admin, reaching administrator access (AWS-managed policy AdministratorAccess grants every action on every resource)."
        );
        assert_eq!(v[0].paths.len(), 1);
        assert_eq!(v[0].paths[0].steps[0].primitive, "pass-role-lambda-invoke");
        assert_eq!(
            v[0].paths[0].steps[0].target,
            format!("arn:aws:iam::{ACCOUNT}:role/admin")
        );
        let json = serde_json::to_value(&v[0]).unwrap();
        assert_eq!(json["paths"][0]["steps"][0]["actions"][0], "iam:PassRole");
        assert_eq!(v[1].status, Status::Pass);
        assert!(serde_json::to_value(&v[1]).unwrap().get("paths").is_none());
    }

    #[test]
    fn unreadable_and_empty() {
        let v = run(vec![role("broken", Some("{nope"), false)]);
        assert_eq!(v[0].status, Status::Unknown);
        assert!(v[0].reason.contains("inline policy p"), "{}", v[0].reason);
        let v = run(vec![role("admin", None, true)]);
        assert_eq!(v[0].status, Status::NotApplicable);
        let mut s = snapshot();
        s.iam.authorization = Err(crate::facts::FactError::not_collected(
            "iam",
            "GetAccountAuthorizationDetails",
        ));
        assert_eq!(
            evaluate(&s, &Settings::default())[0].status,
            Status::Unknown
        );
    }
}
