//! Role trust policies read as an attacker reads them: who outside the organization can assume
//! the role.
//!
//! An `Allow` statement that grants `sts:AssumeRole`, `sts:AssumeRoleWithWebIdentity` or
//! `sts:AssumeRoleWithSAML` (written out or through a wildcard) opens the role when:
//! - its principal is everyone (`"*"`, `{"AWS": "*"}`, or any `NotPrincipal`) and no condition
//!   pins the caller to concrete accounts, an organization, principal ARNs or a VPC: a condition
//!   counts only with a positive operator (`StringEquals`, `StringLike`, `ArnEquals`, `ArnLike`,
//!   their `ForAnyValue:` forms) whose every value is concrete: a 12-digit account, an ARN whose
//!   account is 12 digits, an organization id or path without wildcards, a VPC or endpoint id.
//!   MFA, source IP, time and `sts:ExternalId` alone do not pin the caller (anyone can meet them);
//!   nor does a `…IfExists` operator on a key that is absent for callers outside an organization
//!   or a VPC (it then matches everyone).
//! - its principal is an OIDC provider and the conditions do not bind the token's subject
//!   (`PROVIDER:sub`; for Cognito identity pools and Google, the audience `…:aud`; for Facebook and
//!   Login with Amazon, `…:app_id`) to concrete values. With GitHub Actions an `aud` condition
//!   alone lets every repository on GitHub assume the role; a `sub` pattern must name the owner
//!   (`repo:OWNER/…`).
//! - its principal is a SAML provider and the conditions do not bind `SAML:aud`.
//!
//! Named AWS principals (accounts, roles, users) and service principals are not public here: an
//! account outside the organization is a foreign trust, a different question.

use super::actions::glob_ignore_case;
use super::document::{PolicyDocument, Statement};
use serde_json::Value;

/// Why one statement opens the role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// The statement's label ("statement \"GitHub\"", "statement 2").
    pub statement: String,
    /// Who can assume the role, and why no condition stops them.
    pub why: String,
}

const ASSUME: [&str; 3] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
];

/// Positive operators, without their `IfExists` suffix and set prefix.
fn positive(op: &str) -> Option<(&str, bool)> {
    let op = op
        .strip_prefix("ForAnyValue:")
        .or_else(|| op.strip_prefix("forAnyValue:"))
        .unwrap_or(op);
    if op.starts_with("ForAllValues:") {
        // ForAllValues is true for an empty or absent key: it pins nothing.
        return None;
    }
    let (base, if_exists) = match op.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (op, false),
    };
    matches!(
        base,
        "StringEquals" | "StringEqualsIgnoreCase" | "StringLike" | "ArnEquals" | "ArnLike"
    )
    .then_some((base, if_exists))
}

fn is_account_id(v: &str) -> bool {
    v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit())
}

fn arn_with_account(v: &str) -> bool {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && is_account_id(parts[4])
}

/// The literal text before a pattern's first wildcard.
fn literal_prefix(v: &str) -> &str {
    &v[..v.find(['*', '?']).unwrap_or(v.len())]
}

/// Whether a value of a key pins the caller, and the description of what it pins it to.
fn pins(key: &str, v: &str) -> bool {
    let wild = v.contains(['*', '?']);
    match key {
        "aws:principalaccount"
        | "aws:sourceaccount"
        | "aws:sourceowner"
        | "aws:resourceaccount"
        | "kms:calleraccount" => is_account_id(v),
        "aws:principalarn" | "aws:sourcearn" => arn_with_account(v),
        "aws:principalorgid" | "aws:sourceorgid" => !wild && v.starts_with("o-"),
        "aws:principalorgpaths" | "aws:sourceorgpaths" => {
            literal_prefix(v)
                .split('/')
                .next()
                .is_some_and(|o| o.starts_with("o-") && o.len() > 2)
                && literal_prefix(v).contains('/')
        }
        "aws:sourcevpc" => !wild && v.starts_with("vpc-"),
        "aws:sourcevpce" => !wild && v.starts_with("vpce-"),
        _ => false,
    }
}

/// Keys absent from the request context of a caller outside an organization or a VPC: an
/// `IfExists` test of them matches such a caller.
fn absent_for_strangers(key: &str) -> bool {
    matches!(
        key,
        "aws:principalorgid"
            | "aws:principalorgpaths"
            | "aws:sourceorgid"
            | "aws:sourceorgpaths"
            | "aws:sourcevpc"
            | "aws:sourcevpce"
            | "aws:sourceaccount"
            | "aws:sourcearn"
            | "aws:sourceowner"
    )
}

/// The condition that pins an `*` caller, if any: "aws:PrincipalOrgID".
pub(crate) fn pinning_condition(s: &Statement) -> Option<String> {
    s.conditions().into_iter().find_map(|(op, key, values)| {
        let (_, if_exists) = positive(op)?;
        let k = key.to_ascii_lowercase();
        if if_exists && absent_for_strangers(&k) {
            return None;
        }
        (!values.is_empty() && values.iter().all(|v| pins(&k, v))).then(|| key.to_owned())
    })
}

/// The value patterns that a positive condition binds `key` to (case-insensitive key).
fn bound_values(s: &Statement, key: &str) -> Option<Vec<String>> {
    s.conditions().into_iter().find_map(|(op, k, values)| {
        let (_, if_exists) = positive(op)?;
        (!if_exists && k.eq_ignore_ascii_case(key) && !values.is_empty()).then_some(values)
    })
}

/// Whether a subject pattern names something concrete: no wildcard, or a literal prefix that
/// completes at least one segment beyond the claim's fixed prefix (`repo:OWNER/`,
/// `system:serviceaccount:NAMESPACE:`, `project_path:GROUP/`).
fn concrete_subject(v: &str) -> bool {
    if !v.contains(['*', '?']) {
        return !v.is_empty();
    }
    let lit = literal_prefix(v).to_ascii_lowercase();
    let rest = ["repo:", "system:serviceaccount:", "project_path:"]
        .iter()
        .find_map(|p| lit.strip_prefix(p))
        .unwrap_or(&lit);
    match rest.find(['/', ':']) {
        Some(i) => i > 0,
        None => false,
    }
}

/// The condition keys that must bind a web identity provider's tokens, by provider.
fn required_claims(provider: &str) -> (String, &'static str) {
    let p = provider.to_ascii_lowercase();
    match p.as_str() {
        "cognito-identity.amazonaws.com" => (format!("{provider}:aud"), "identity pool (aud)"),
        "accounts.google.com" => (format!("{provider}:aud"), "OAuth client (aud)"),
        "graph.facebook.com" | "www.amazon.com" => (format!("{provider}:app_id"), "app (app_id)"),
        _ => (format!("{provider}:sub"), "subject (sub)"),
    }
}

/// The provider host of a federated principal: the URL of an OIDC provider ARN
/// (`arn:aws:iam::1:oidc-provider/token.actions.githubusercontent.com`), or the name itself
/// (`cognito-identity.amazonaws.com`); `None` for a SAML provider.
fn oidc_provider(federated: &str) -> Option<&str> {
    if federated.contains(":saml-provider/") {
        return None;
    }
    Some(
        federated
            .split_once(":oidc-provider/")
            .map_or(federated, |(_, url)| url),
    )
}

/// A string or a list of strings of a policy element (anything else: none).
pub(crate) fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// Whether an `Allow` statement grants one of `actions` (written out, through a wildcard, or left
/// out of its `NotAction`).
fn grants_any(s: &Statement, actions: &[&str]) -> bool {
    if !s.allow {
        return false;
    }
    if s.not_actions.is_empty() {
        s.actions
            .iter()
            .any(|a| actions.iter().any(|x| glob_ignore_case(a, x)))
    } else {
        actions
            .iter()
            .any(|x| !s.not_actions.iter().any(|a| glob_ignore_case(a, x)))
    }
}

/// Why a statement whose principal is everyone (`"*"`, `{"AWS": "*"}`, any `NotPrincipal`) lets
/// anyone `what` ("assume the role"): `None` when its principal is someone in particular or a
/// condition pins the caller.
fn everyone_opening(s: &Statement, what: &str) -> Option<String> {
    if !(s.not_principal || s.principal_everyone) || pinning_condition(s).is_some() {
        return None;
    }
    let who = if s.not_principal {
        "everyone but the NotPrincipal list"
    } else {
        "any AWS principal (*)"
    };
    let has = if s.has_condition {
        let keys: Vec<&str> = s.conditions().into_iter().map(|(_, k, _)| k).collect();
        format!(
            "its conditions ({}) do not pin the caller to accounts, an organization, principal ARNs or a VPC",
            keys.join(", ")
        )
    } else {
        "it has no condition".to_owned()
    };
    Some(format!("lets {who} {what}: {has}"))
}

/// Why one statement lets someone outside the organization assume the role, if it does.
fn opening(s: &Statement) -> Option<String> {
    if !grants_any(s, &ASSUME) {
        return None;
    }
    if s.not_principal || s.principal_everyone {
        return everyone_opening(s, "assume the role");
    }
    let federated = s
        .principal
        .get("Federated")
        .map(strings)
        .unwrap_or_default();
    for f in federated {
        match oidc_provider(f) {
            None => {
                if bound_values(s, "SAML:aud").is_none() {
                    return Some(format!(
                        "trusts SAML provider {} without binding the assertion's audience (SAML:aud)",
                        f.rsplit('/').next().unwrap_or(f)
                    ));
                }
            }
            Some(provider) => {
                let (key, what) = required_claims(provider);
                let github = provider.eq_ignore_ascii_case("token.actions.githubusercontent.com");
                let ok = bound_values(s, &key).is_some_and(|vals| {
                    vals.iter().all(|v| {
                        if key.ends_with(":sub") {
                            concrete_subject(v)
                        } else {
                            !v.contains(['*', '?']) && !v.is_empty()
                        }
                    })
                });
                if !ok {
                    let anyone = if github {
                        "any repository on GitHub can assume it".to_owned()
                    } else {
                        format!("any token {provider} issues can assume it")
                    };
                    return Some(format!(
                        "trusts web identities of {provider} without binding the token's {what} to concrete values ({key}): {anyone}"
                    ));
                }
            }
        }
    }
    None
}

/// Every statement of a trust policy that lets someone outside the organization assume the role.
pub fn openings(doc: &PolicyDocument) -> Vec<Opening> {
    doc.statements
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            opening(s).map(|why| Opening {
                statement: s.label(i),
                why,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(doc: &str) -> Vec<String> {
        openings(&PolicyDocument::parse(doc).unwrap())
            .into_iter()
            .map(|o| o.why)
            .collect()
    }

    const GITHUB: &str =
        "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";

    fn github(condition: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"{GITHUB}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{condition}}}]}}"#
        )
    }

    /// GitHub Actions: `aud` alone is public; `sub` pinned to a repository or an owner is not;
    /// `repo:*` or an owner prefix without its slash is.
    #[test]
    fn github_actions_trusts() {
        let aud = github(
            r#"{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}"#,
        );
        let why = open(&aud);
        assert_eq!(why.len(), 1);
        assert!(why[0].contains("any repository on GitHub"), "{why:?}");
        for ok in [
            r#"{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com","token.actions.githubusercontent.com:sub":"repo:octo-org/app:ref:refs/heads/main"}}"#,
            r#"{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:octo-org/*"},"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}"#,
            r#"{"StringLike":{"token.actions.githubusercontent.com:sub":["repo:octo-org/app:*","repo:octo-org/lib:environment:prod"]}}"#,
        ] {
            assert!(open(&github(ok)).is_empty(), "{ok}");
        }
        for bad in [
            r#"{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:*"}}"#,
            r#"{"StringLike":{"token.actions.githubusercontent.com:sub":"repo:octo*"}}"#,
            r#"{"StringLike":{"token.actions.githubusercontent.com:sub":["repo:octo-org/app:*","*"]}}"#,
            r#"{"StringNotEquals":{"token.actions.githubusercontent.com:sub":"repo:evil/x"}}"#,
            r#"{"StringLikeIfExists":{"token.actions.githubusercontent.com:sub":"repo:octo-org/*"}}"#,
        ] {
            assert_eq!(open(&github(bad)).len(), 1, "{bad}");
        }
    }

    /// EKS service accounts: `sub` binds a service account or namespace; without it any pod of
    /// the cluster; Cognito needs the identity pool (`aud`).
    #[test]
    fn eks_and_cognito_trusts() {
        let eks = |cond: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{cond}}}]}}"#
            )
        };
        assert!(open(&eks(r#"{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:payments:api","oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com"}}"#)).is_empty());
        assert!(open(&eks(r#"{"StringLike":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:payments:*"}}"#)).is_empty());
        assert_eq!(open(&eks(r#"{"StringEquals":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com"}}"#)).len(), 1);
        assert_eq!(open(&eks(r#"{"StringLike":{"oidc.eks.eu-west-1.amazonaws.com/id/ABC:sub":"system:serviceaccount:*"}}"#)).len(), 1);
        let cognito = |cond: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"cognito-identity.amazonaws.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{cond}}}]}}"#
            )
        };
        assert!(open(&cognito(r#"{"StringEquals":{"cognito-identity.amazonaws.com:aud":"eu-west-1:12345678-aaaa-bbbb-cccc-123456789012"},"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}"#)).is_empty());
        assert_eq!(open(&cognito(r#"{"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}"#)).len(), 1);
    }

    /// `*` principals: organization, accounts, ARNs and VPCs pin; MFA, source IP, external id
    /// and wildcard organizations do not; IfExists on an organization key does not.
    #[test]
    fn everyone_with_and_without_pinning_conditions() {
        let star = |cond: &str| {
            format!(
                r#"{{"Statement":[{{"Sid":"Open","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"sts:AssumeRole","Condition":{cond}}}]}}"#
            )
        };
        for ok in [
            r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
            r#"{"StringEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}"#,
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/ci-*"}}"#,
            r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-abc123/r-ab12/ou-ab12-11111111/*"}}"#,
            r#"{"StringEquals":{"aws:SourceVpce":"vpce-0abc"}}"#,
        ] {
            assert!(open(&star(ok)).is_empty(), "{ok}");
        }
        for bad in [
            r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#,
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            r#"{"StringEquals":{"sts:ExternalId":"secret"}}"#,
            r#"{"StringLike":{"aws:PrincipalOrgID":"o-*"}}"#,
            r#"{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalAccount":"999999999999"}}"#,
            r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ci"}}"#,
        ] {
            let why = open(&star(bad));
            assert_eq!(why.len(), 1, "{bad}");
            assert!(why[0].contains("do not pin the caller"), "{why:?}");
        }
        assert_eq!(
            open(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:*"}}"#),
            ["lets any AWS principal (*) assume the role: it has no condition"]
        );
    }

    /// Named accounts and services are not public; Deny and other actions are ignored; SAML
    /// needs its audience.
    #[test]
    fn named_principals_and_saml() {
        assert!(open(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"},
            {"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":"sts:AssumeRole"},
            {"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"},
            {"Effect":"Allow","Principal":"*","Action":"sts:TagSession"}]}"#)
        .is_empty());
        let saml = |cond: &str| {
            format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::111122223333:saml-provider/Okta"}},"Action":"sts:AssumeRoleWithSAML","Condition":{cond}}}]}}"#
            )
        };
        assert!(open(&saml(
            r#"{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}"#
        ))
        .is_empty());
        assert_eq!(open(&saml("{}")).len(), 1);
    }
}
