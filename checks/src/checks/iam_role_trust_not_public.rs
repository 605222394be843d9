//! No IAM role can be assumed by anyone outside the organization: its trust policy is read as an
//! attacker reads it ([`crate::policy::trust`]): a `*` principal whose conditions do not pin the
//! caller to concrete accounts, an organization, principal ARNs or a VPC, and web-identity or SAML
//! federation whose conditions do not bind the token's subject or audience (a GitHub Actions role
//! with only an `aud` condition can be assumed from any repository on GitHub).

use crate::catalog::{Check, CheckMeta};
use crate::dsomm;
use crate::model::{Practice, Severity, Verdict};
use crate::policy::{trust, PolicyDocument};
use crate::settings::Settings;
use crate::snapshot::{AccountSnapshot, Need};

pub const CHECK: Check = Check {
    meta: CheckMeta {
        id: "iam_role_trust_not_public",
        title: "No IAM role can be assumed from outside the organization through an open trust policy",
        practice: Practice::LeastPrivilege,
        severity: Severity::Critical,
        activity: dsomm::SIMPLE_ACCESS_CONTROL,
        remediation: "Name the trusted accounts, services or federated providers in the role's trust \
                      policy (aws iam update-assume-role-policy); pin a * principal with \
                      aws:PrincipalOrgID, aws:PrincipalAccount or aws:PrincipalArn; bind web identity \
                      tokens to their subject (GitHub: token.actions.githubusercontent.com:sub = \
                      repo:OWNER/REPO:…; EKS: …:sub = system:serviceaccount:NS:NAME; Cognito: \
                      cognito-identity.amazonaws.com:aud = the identity pool) and SAML to SAML:aud.",
        needs: &[Need::IamAuthorizationDetails],
        notes: "**Judges** every role's trust policy: each `Allow` of `sts:AssumeRole`, \
`sts:AssumeRoleWithWebIdentity` or `sts:AssumeRoleWithSAML` (also through wildcards or `NotAction`). A `*` \
principal (or any `NotPrincipal`) fails unless a positive condition (`StringEquals`, `StringLike`, \
`ArnEquals`, `ArnLike`, `ForAnyValue:` forms) pins every value to a 12-digit account \
(`aws:PrincipalAccount`, `aws:SourceAccount`), an ARN in a concrete account (`aws:PrincipalArn`), an \
organization id or path without wildcards, or a VPC / VPC endpoint. OIDC federation fails unless the \
token's subject is bound (`PROVIDER:sub`; Cognito and Google `…:aud`; Facebook and Amazon `…:app_id`) to \
concrete values: a `sub` pattern must complete its owner segment (`repo:OWNER/…`, \
`system:serviceaccount:NS:…`). SAML fails without `SAML:aud`.\n\n\
**Edge cases**: `sts:ExternalId`, MFA, source IP and time conditions alone do not pin a `*` caller (anyone \
can meet them); `…IfExists` on an organization, VPC or source key matches callers that lack the key, so \
it pins nothing; `ForAllValues:` matches an absent key; `StringNotEquals` pins nothing; named accounts and \
service principals pass here (an account outside the organization is a foreign trust, judged apart).\n\n\
**Differs from Prowler** (`iam_role_cross_account_readonlyaccess_policy`, `is_policy_public` in \
`lib/policy.py`): Prowler treats any `aws:SourceVpc`/`aws:SourceVpce` or `aws:PrincipalOrgID` without `*` as \
restrictive even under `IfExists`, counts private `aws:SourceIp` ranges as restrictive, and does not judge \
federated principals; ours refuses `IfExists` on keys a stranger lacks, ignores source IP, and fails \
GitHub/EKS/Cognito/SAML trusts that do not bind subject or audience.",
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
                    format!(
                        "Cannot judge role {}: IAM returned no trust policy.",
                        role.name
                    ),
                );
            };
            match PolicyDocument::parse(text) {
                Err(e) => Verdict::unknown(
                    &role.arn,
                    None,
                    format!("Cannot judge role {}: its trust policy {e}.", role.name),
                ),
                Ok(doc) => {
                    let open = trust::openings(&doc);
                    if open.is_empty() {
                        Verdict::pass(
                            &role.arn,
                            None,
                            format!(
                                "Role {} can be assumed only by named, pinned or bound principals.",
                                role.name
                            ),
                        )
                    } else {
                        let why: Vec<String> = open
                            .iter()
                            .map(|o| format!("{} {}", o.statement, o.why))
                            .collect();
                        Verdict::fail(
                            &role.arn,
                            None,
                            format!(
                                "Role {} can be assumed from outside the organization: {}.",
                                role.name,
                                why.join("; ")
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
                    r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3"}}}]}"#,
                ),
            ),
        ]));
        assert_eq!(v[0].status, Status::Pass);
        assert_eq!(
            v[1].reason,
            "Role org can be assumed only by named, pinned or bound principals."
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
            "Role open can be assumed from outside the organization: statement \"Anyone\" lets any AWS principal (*) assume the role: it has no condition."
        );
    }

    /// GitHub Actions with only `aud` fails naming the provider; pinned to a repository passes.
    #[test]
    fn github_actions_roles() {
        let gh = |cond: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"GitHub","Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{cond}}}]}}"#
            )
        };
        let v = run(roles(vec![
            role(
                "ci-open",
                Some(&gh(
                    r#"{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}"#,
                )),
            ),
            role(
                "ci",
                Some(&gh(
                    r#"{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/deploy:ref:refs/heads/main"}}"#,
                )),
            ),
        ]));
        assert_eq!(v[0].status, Status::Fail);
        assert!(v[0].reason.contains("statement \"GitHub\" trusts web identities of token.actions.githubusercontent.com without binding the token's subject (sub)"), "{}", v[0].reason);
        assert!(v[0].reason.contains("any repository on GitHub"));
        assert_eq!(v[1].status, Status::Pass, "{}", v[1].reason);
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
