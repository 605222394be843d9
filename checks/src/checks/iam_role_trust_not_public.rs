//! No IAM role trusts everyone: a trust policy statement that allows the `*` principal must carry a
//! condition (an external id, an organization id, a source account…).
//!
//! Such a role can be assumed by any AWS account in the world. A `*` principal restricted by a
//! condition is a recognised pattern (e.g. `aws:PrincipalOrgID`) and passes.

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::PolicyDocument;
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_role_trust_not_public",
        title: "IAM role trust policies do not trust everyone without a condition",
        practice: Practice::LeastPrivilege,
        severity: Severity::Critical,
        activity: dsomm::SIMPLE_ACCESS_CONTROL,
        remediation: "Name the trusted accounts, services or federated providers in the role's trust \
                      policy (aws iam update-assume-role-policy), or restrict the * principal with a \
                      condition such as aws:PrincipalOrgID or sts:ExternalId.",
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
        .roles
        .iter()
        .map(|role| {
            let Some(text) = &role.trust_policy else {
                return Verdict::unknown(
                    &role.arn,
                    None,
                    format!("Cannot judge role {}: IAM returned no trust policy.", role.name),
                );
            };
            match PolicyDocument::parse(text) {
                Err(e) => Verdict::unknown(
                    &role.arn,
                    None,
                    format!("Cannot judge role {}: its trust policy {e}.", role.name),
                ),
                Ok(doc) => {
                    let open: Vec<String> = doc
                        .statements
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.allow && s.principal_everyone && !s.has_condition)
                        .map(|(i, s)| s.label(i))
                        .collect();
                    if open.is_empty() {
                        Verdict::pass(
                            &role.arn,
                            None,
                            format!("Role {} trusts only named or conditioned principals.", role.name),
                        )
                    } else {
                        Verdict::fail(
                            &role.arn,
                            None,
                            format!(
                                "Role {} can be assumed by anyone: {} allows the * principal without a condition.",
                                role.name,
                                open.join(", ")
                            ),
                        )
                    }
                }
            }
        })
        .collect();
    super::or_not_applicable(snap, verdicts, "IAM roles")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::*;
    use crate::model::Status;
    use crate::snapshot::{AuthorizationDetails, IamRole};

    fn role(name: &str, trust: Option<&str>) -> IamRole {
        IamRole {
            name: name.into(),
            arn: format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
            trust_policy: trust.map(str::to_owned),
            ..Default::default()
        }
    }

    fn run(d: crate::facts::Fact<AuthorizationDetails>) -> Vec<Verdict> {
        let mut s = snapshot();
        s.iam.authorization = d;
        evaluate(&s, &Settings::default())
    }

    fn roles(r: Vec<IamRole>) -> crate::facts::Fact<AuthorizationDetails> {
        Ok(AuthorizationDetails {
            roles: r,
            ..Default::default()
        })
    }

    /// A `*` principal restricted by a condition passes, like a named principal.
    #[test]
    fn passes_named_and_conditioned_principals() {
        let v = run(roles(vec![
            role(
                "app",
                Some(
                    r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
                ),
            ),
            role(
                "org",
                Some(
                    r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#,
                ),
            ),
        ]));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[1].reason,
            "Role org trusts only named or conditioned principals."
        );
    }

    #[test]
    fn fails_star_principal_without_condition() {
        let v = run(roles(vec![role(
            "open",
            Some(
                r#"{"Statement":[{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#,
            ),
        )]));
        assert_eq!(v[0].status, Status::Fail);
        assert_eq!(v[0].resource, "arn:aws:iam::111122223333:role/open");
        assert_eq!(
            v[0].reason,
            "Role open can be assumed by anyone: statement \"Anyone\" allows the * principal without a condition."
        );
    }

    #[test]
    fn not_applicable_without_roles() {
        let v = run(roles(vec![]));
        assert_eq!(v[0].status, Status::NotApplicable);
        assert_eq!(v[0].reason, "Account 111122223333 has no IAM roles.");
    }

    #[test]
    fn unknown_when_denied_or_trust_missing() {
        let v = run(Err(denied("iam", "GetAccountAuthorizationDetails", None)));
        assert_eq!(
            v[0].reason,
            "Cannot judge account 111122223333: iam:GetAccountAuthorizationDetails access denied (AccessDenied: not authorized)."
        );
        let v = run(roles(vec![role("odd", None)]));
        assert_eq!(v[0].status, Status::Unknown);
        assert_eq!(
            v[0].reason,
            "Cannot judge role odd: IAM returned no trust policy."
        );
    }
}
