//! Questions about one action on one named resource: "may role ci-deploy call `iam:PassRole` on
//! role admin when passing it to Lambda?". [`super::grants`] answers per action for every resource
//! at once; escalation paths need the resource (which role, which user, which policy) and the
//! request's context keys that a condition can test (`iam:PassedToService`, `iam:PolicyARN`).
//!
//! The rules, as IAM evaluates identity policies and a permissions boundary:
//! - A statement applies when its `Action` (or `NotAction`) covers the action, its `Resource`
//!   (or `NotResource`) covers the resource ARN (`*` and `?` wildcards; `${aws:username}` read as
//!   the acting user's name), and its condition can hold.
//! - A condition entry on a key the request context gives is evaluated (string and ARN operators,
//!   their negations, `IfExists` and the set prefixes); an entry on any other key (MFA, source IP,
//!   tags, time) is one the actor may meet. So an `Allow` applies unless one of its entries is
//!   false, and a `Deny` applies only when every entry of it is true: a conditional `Deny` the
//!   actor can dodge removes nothing.
//! - The action is allowed when some document allows it, none denies it and, under a permissions
//!   boundary, the boundary allows it and does not deny it.

use super::actions::{glob, glob_ignore_case};
use super::document::Statement;
use super::grants::DocumentGrants;
use super::principal::Effective;

/// The request: an action on a resource, with the context keys a condition may test.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    /// Context keys and their values (keys compared without regard to case, as IAM does).
    pub context: &'a [(&'a str, &'a str)],
    /// The acting user's name, for `${aws:username}` in resource patterns.
    pub username: Option<&'a str>,
}

impl<'a> Request<'a> {
    pub fn new(action: &'a str, resource: &'a str) -> Request<'a> {
        Request {
            action,
            resource,
            context: &[],
            username: None,
        }
    }
}

/// Whether the resource pattern `pattern` matches every ARN that starts with `prefix` (every
/// object of a bucket: `prefix` `arn:aws:s3:::BUCKET/`): it ends in `*` and the rest matches a
/// prefix of `prefix`, so the final `*` takes any remainder. A question about all resources of a
/// kind that no single request answers.
pub fn covers_every_key(pattern: &str, prefix: &str) -> bool {
    let Some(head) = pattern.strip_suffix('*') else {
        return false;
    };
    (0..=prefix.len())
        .filter(|&i| prefix.is_char_boundary(i))
        .any(|i| glob(head.as_bytes(), &prefix.as_bytes()[..i]))
}

/// How one condition entry evaluates for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    /// The key is not in the request's context, or the operator tests something else.
    Open,
}

fn action_covered(s: &Statement, action: &str) -> bool {
    if !s.actions.is_empty() || s.not_actions.is_empty() {
        s.actions.iter().any(|p| glob_ignore_case(p.trim(), action))
    } else {
        !s.not_actions
            .iter()
            .any(|p| glob_ignore_case(p.trim(), action))
    }
}

fn resource_pattern_matches(pattern: &str, req: &Request) -> bool {
    let pattern = pattern.trim();
    let expanded;
    let pattern = match (req.username, pattern.contains("${aws:username}")) {
        (Some(name), true) => {
            expanded = pattern.replace("${aws:username}", name);
            expanded.as_str()
        }
        _ => pattern,
    };
    glob(pattern.as_bytes(), req.resource.as_bytes())
}

fn resource_covered(s: &Statement, req: &Request) -> bool {
    if !s.not_resources.is_empty() {
        !s.not_resources
            .iter()
            .any(|p| resource_pattern_matches(p, req))
    } else {
        // No Resource (not valid in identity policies) reads as `*`.
        s.resources.is_empty() || s.resources.iter().any(|p| resource_pattern_matches(p, req))
    }
}

/// One condition entry for a request.
fn entry(op: &str, key: &str, values: &[String], req: &Request) -> Truth {
    let Some((_, actual)) = req
        .context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
    else {
        return Truth::Open;
    };
    let op = op
        .strip_prefix("ForAnyValue:")
        .or_else(|| op.strip_prefix("ForAllValues:"))
        .unwrap_or(op);
    let op = op.strip_suffix("IfExists").unwrap_or(op);
    let (negated, base) = match op {
        "StringNotEquals" => (true, "StringEquals"),
        "StringNotEqualsIgnoreCase" => (true, "StringEqualsIgnoreCase"),
        "StringNotLike" => (true, "StringLike"),
        "ArnNotEquals" => (true, "ArnLike"),
        "ArnNotLike" => (true, "ArnLike"),
        "ArnEquals" => (false, "ArnLike"),
        other => (false, other),
    };
    let hit = |v: &String| match base {
        "StringEquals" => v == actual,
        "StringEqualsIgnoreCase" => v.eq_ignore_ascii_case(actual),
        "StringLike" | "ArnLike" => glob(v.as_bytes(), actual.as_bytes()),
        _ => false,
    };
    if !matches!(
        base,
        "StringEquals" | "StringEqualsIgnoreCase" | "StringLike" | "ArnLike"
    ) {
        return Truth::Open;
    }
    if values.iter().any(hit) != negated {
        Truth::True
    } else {
        Truth::False
    }
}

/// Whether `s` applies to `req` (see the module doc for conditions).
fn applies(s: &Statement, req: &Request) -> bool {
    if !action_covered(s, req.action) || !resource_covered(s, req) {
        return false;
    }
    let truths: Vec<Truth> = s
        .conditions()
        .into_iter()
        .map(|(op, key, values)| entry(op, key, &values, req))
        .collect();
    if s.allow {
        !truths.contains(&Truth::False)
    } else {
        truths.iter().all(|t| *t == Truth::True)
    }
}

/// (some statement allows, some statement denies) in one document.
fn decide(g: &DocumentGrants, req: &Request) -> (bool, bool) {
    let mut allowed = false;
    for s in &g.doc.statements {
        if applies(s, req) {
            if s.allow {
                allowed = true;
            } else {
                return (allowed, true);
            }
        }
    }
    (allowed, false)
}

/// Whether `docs` together, under `boundary`, allow the request.
pub fn allows<'a>(
    docs: impl IntoIterator<Item = &'a DocumentGrants>,
    boundary: Option<&DocumentGrants>,
    req: &Request,
) -> bool {
    let mut allowed = false;
    for d in docs {
        let (a, denied) = decide(d, req);
        if denied {
            return false;
        }
        allowed |= a;
    }
    allowed
        && boundary.is_none_or(|b| {
            let (a, denied) = decide(b, req);
            a && !denied
        })
}

/// Whether `docs` deny the request outright (whatever allows it).
pub fn denies<'a>(docs: impl IntoIterator<Item = &'a DocumentGrants>, req: &Request) -> bool {
    docs.into_iter().any(|d| decide(d, req).1)
}

impl Effective {
    /// Whether the principal may make the request.
    pub fn allows(&self, req: &Request) -> bool {
        allows(
            self.sources.iter().map(|s| &s.grants),
            self.boundary_grants.as_ref(),
            req,
        )
    }

    /// Whether the principal's policies or boundary deny the request outright.
    pub fn denies(&self, req: &Request) -> bool {
        denies(
            self.sources
                .iter()
                .map(|s| &s.grants)
                .chain(self.boundary_grants.as_ref()),
            req,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicyDocument;

    fn doc(t: &str) -> DocumentGrants {
        DocumentGrants::of(&PolicyDocument::parse(t).unwrap(), "111122223333")
    }

    const ADMIN_ROLE: &str = "arn:aws:iam::111122223333:role/admin";
    const APP_ROLE: &str = "arn:aws:iam::111122223333:role/app-lambda";

    fn pass(docs: &[&DocumentGrants], role: &str, service: &str) -> bool {
        let ctx = [("iam:PassedToService", service)];
        let req = Request {
            context: &ctx,
            ..Request::new("iam:PassRole", role)
        };
        allows(docs.iter().copied(), None, &req)
    }

    #[test]
    fn resources_and_wildcards() {
        let scoped = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app-*"}}"#,
        );
        assert!(pass(&[&scoped], APP_ROLE, "lambda.amazonaws.com"));
        assert!(!pass(&[&scoped], ADMIN_ROLE, "lambda.amazonaws.com"));
        let any = doc(r#"{"Statement":{"Effect":"Allow","Action":"iam:Pass*","Resource":"*"}}"#);
        assert!(pass(&[&any], ADMIN_ROLE, "lambda.amazonaws.com"));
        let not_action =
            doc(r#"{"Statement":{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}}"#);
        assert!(pass(&[&not_action], ADMIN_ROLE, "ec2.amazonaws.com"));
    }

    /// `iam:PassedToService` is evaluated; an MFA condition is one the actor may meet.
    #[test]
    fn conditions_on_context_keys() {
        let lambda_only = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#,
        );
        assert!(pass(&[&lambda_only], ADMIN_ROLE, "lambda.amazonaws.com"));
        assert!(!pass(&[&lambda_only], ADMIN_ROLE, "ec2.amazonaws.com"));
        let not_ec2 = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringNotLike":{"iam:PassedToService":"ec2.*"}}}}"#,
        );
        assert!(!pass(&[&not_ec2], ADMIN_ROLE, "ec2.amazonaws.com"));
        assert!(pass(&[&not_ec2], ADMIN_ROLE, "glue.amazonaws.com"));
    }

    /// An unconditional Deny wins; a Deny with `NotResource` denies everything else; a Deny
    /// conditioned on MFA is dodged by an actor without MFA.
    #[test]
    fn denies_take_away() {
        let allow = doc(r#"{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}"#);
        let deny_admin = doc(
            r#"{"Statement":{"Effect":"Deny","Action":"iam:PassRole","Resource":"arn:aws:iam::*:role/admin"}}"#,
        );
        assert!(!pass(
            &[&allow, &deny_admin],
            ADMIN_ROLE,
            "lambda.amazonaws.com"
        ));
        assert!(pass(
            &[&allow, &deny_admin],
            APP_ROLE,
            "lambda.amazonaws.com"
        ));
        let deny_others = doc(
            r#"{"Statement":{"Effect":"Deny","Action":"iam:PassRole","NotResource":"arn:aws:iam::111122223333:role/app-*"}}"#,
        );
        assert!(!pass(
            &[&allow, &deny_others],
            ADMIN_ROLE,
            "lambda.amazonaws.com"
        ));
        assert!(pass(
            &[&allow, &deny_others],
            APP_ROLE,
            "lambda.amazonaws.com"
        ));
        let deny_without_mfa = doc(
            r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}"#,
        );
        assert!(pass(
            &[&allow, &deny_without_mfa],
            ADMIN_ROLE,
            "lambda.amazonaws.com"
        ));
        let deny_to_ec2 = doc(
            r#"{"Statement":{"Effect":"Deny","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}}"#,
        );
        assert!(!pass(
            &[&allow, &deny_to_ec2],
            ADMIN_ROLE,
            "ec2.amazonaws.com"
        ));
        assert!(pass(
            &[&allow, &deny_to_ec2],
            ADMIN_ROLE,
            "lambda.amazonaws.com"
        ));
    }

    #[test]
    fn boundary_caps_and_username() {
        let allow = doc(r#"{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}"#);
        let boundary = doc(
            r#"{"Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::111122223333:user/${aws:username}"}}"#,
        );
        let own = Request {
            username: Some("alice"),
            ..Request::new(
                "iam:CreateAccessKey",
                "arn:aws:iam::111122223333:user/alice",
            )
        };
        let other = Request {
            username: Some("alice"),
            ..Request::new("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob")
        };
        assert!(allows([&allow], Some(&boundary), &own));
        assert!(!allows([&allow], Some(&boundary), &other));
        assert!(allows([&allow], None, &other));
        assert!(!denies([&allow, &boundary], &other));
    }

    #[test]
    fn every_key_coverage_follows_wildcards() {
        let prefix = "arn:aws:s3:::data/";
        for p in [
            "*",
            "arn:aws:s3:::*",
            "arn:aws:s3:::data/*",
            "arn:aws:s3:::d?ta*",
            "arn:*:s3:::data/*",
        ] {
            assert!(covers_every_key(p, prefix), "{p}");
        }
        for p in [
            "arn:aws:s3:::data",
            "arn:aws:s3:::data/logs/*",
            "arn:aws:s3:::other/*",
            "arn:aws:s3:::data/?*",
        ] {
            assert!(!covers_every_key(p, prefix), "{p}");
        }
    }
}
