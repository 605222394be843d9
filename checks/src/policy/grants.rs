//! Effective grants: what a set of identity policies allows once `Deny` statements and a
//! permissions boundary are applied, answered per action of the catalog.
//!
//! The rules, in the order IAM applies them to one principal's identity policies:
//! - An `Allow` statement grants every catalog action its `Action` matches, or every action its
//!   `NotAction` does not match. It grants an action **in full** when its resources cover every
//!   resource of the action's service: `Resource` `*`, or an ARN pattern whose region, account
//!   (empty, `*` or the audited account) and resource parts are wildcards
//!   (`arn:aws:s3:::*`, `arn:aws:iam::111122223333:*`), in any partition; or `NotResource`
//!   patterns none of which can name a resource of that service.
//! - A conditional `Allow` still grants: a condition narrows when the grant applies (source IP,
//!   MFA, time), not what whoever meets it can do.
//! - An unconditional `Deny` that covers every resource of the service takes the action away; a
//!   `Deny` with `NotResource` that can name resources of the service leaves the action held on
//!   those resources only (no longer in full); a `Deny` of named resources leaves the action held
//!   in full elsewhere (it narrows, it does not remove). A conditional `Deny` (the usual "deny
//!   unless MFA") removes nothing: the principal holds the action whenever the condition is not met.
//! - A permissions boundary caps the result: an action is held (in full) only when the boundary
//!   also allows it (in full) and does not deny it. A boundary alone grants nothing.
//!
//! Not modelled here: service control policies, resource policies and session policies (they can
//! only narrow what identity policies grant, so an answer of "held" may overstate, never hide).

use super::actions::{catalog, glob, ActionSet, Catalog, Service};
use super::document::{PolicyDocument, Statement};

/// What one document allows and denies, per catalog action.
#[derive(Debug, Clone)]
pub struct DocumentGrants {
    /// The document itself, for questions about named resources ([`super::resource`]).
    pub(crate) doc: std::sync::Arc<PolicyDocument>,
    allow_full: ActionSet,
    allow_any: ActionSet,
    deny_everywhere: ActionSet,
    deny_most: ActionSet,
}

/// Partitions whose ARNs a resource pattern may name.
const PARTITIONS: [&str; 3] = ["aws", "aws-us-gov", "aws-cn"];
/// Stands for "any value" in a probe ARN: only a wildcard of the pattern can match it.
const ANY: &str = "\u{7}";

/// Whether a `Resource` pattern covers every resource of `service` (see the module doc).
fn covers_service(pattern: &str, service: &str, account: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    if !pattern.is_empty() && pattern.bytes().all(|b| b == b'*') {
        return true;
    }
    let account = account.to_ascii_lowercase();
    PARTITIONS.iter().any(|p| {
        ["", ANY].iter().any(|region| {
            ["", ANY, account.as_str()].iter().any(|acct| {
                let probe = format!("arn:{p}:{service}:{region}:{acct}:{ANY}");
                glob(pattern.as_bytes(), probe.as_bytes())
            })
        })
    })
}

/// Whether a `Resource`/`NotResource` pattern can name some resource of `service`.
fn touches_service(pattern: &str, service: &str) -> bool {
    let pattern = pattern.trim().to_ascii_lowercase();
    let parts: Vec<&str> = pattern.splitn(4, ':').collect();
    if parts.len() < 3 {
        return pattern.contains('*');
    }
    glob(parts[2].as_bytes(), service.as_bytes()) || parts[..2].iter().any(|p| p.contains('*'))
}

enum Scope<'a> {
    Listed(&'a [String]),
    AllBut(&'a [String]),
}

impl Scope<'_> {
    fn of(s: &Statement) -> Scope<'_> {
        if !s.not_resources.is_empty() {
            Scope::AllBut(&s.not_resources)
        } else {
            Scope::Listed(&s.resources)
        }
    }
    /// Every resource of the service (`true`), or only some.
    fn full(&self, service: &str, account: &str) -> bool {
        match self {
            // A statement without Resource (not valid in identity policies) is read as `*`.
            Scope::Listed([]) => true,
            Scope::Listed(r) => r.iter().any(|p| covers_service(p, service, account)),
            Scope::AllBut(r) => !r.iter().any(|p| touches_service(p, service)),
        }
    }
}

/// The catalog actions a statement's `Action` or `NotAction` matches.
pub fn statement_actions(c: &Catalog, s: &Statement) -> ActionSet {
    if !s.actions.is_empty() || s.not_actions.is_empty() {
        let mut set = ActionSet::empty(c);
        for p in &s.actions {
            set.union_with(&c.matching(p));
        }
        set
    } else {
        let mut excluded = ActionSet::empty(c);
        for p in &s.not_actions {
            excluded.union_with(&c.matching(p));
        }
        excluded.complement()
    }
}

impl DocumentGrants {
    /// The grants of one identity policy (or boundary) of a principal of `account`.
    pub fn of(doc: &PolicyDocument, account: &str) -> DocumentGrants {
        let c = catalog();
        let mut g = DocumentGrants {
            doc: std::sync::Arc::new(doc.clone()),
            allow_full: ActionSet::empty(c),
            allow_any: ActionSet::empty(c),
            deny_everywhere: ActionSet::empty(c),
            deny_most: ActionSet::empty(c),
        };
        for s in &doc.statements {
            let matched = statement_actions(c, s);
            if matched.is_empty() || (!s.allow && s.has_condition) {
                continue;
            }
            let scope = Scope::of(s);
            for service in &c.services {
                if !matched.touches_service(service) {
                    continue;
                }
                let full = scope.full(&service.prefix, account);
                let part = restrict(&matched, service, c);
                match (s.allow, full, &scope) {
                    (true, true, _) => {
                        g.allow_full.union_with(&part);
                        g.allow_any.union_with(&part);
                    }
                    (true, false, _) => g.allow_any.union_with(&part),
                    (false, true, _) => g.deny_everywhere.union_with(&part),
                    (false, false, Scope::AllBut(_)) => g.deny_most.union_with(&part),
                    (false, false, Scope::Listed(_)) => {}
                }
            }
        }
        g
    }

    /// This document alone, as the grants of a principal that holds nothing else.
    pub fn alone(&self) -> Grants {
        Grants::from_documents([self])
    }
}

/// The actions of `set` that belong to `service`.
fn restrict(set: &ActionSet, service: &Service, c: &Catalog) -> ActionSet {
    let mut out = ActionSet::empty(c);
    for i in service.first..service.end {
        if set.contains(i) {
            out.insert(i);
        }
    }
    out
}

/// What a principal holds.
#[derive(Debug, Clone)]
pub struct Grants {
    /// Actions held on every resource of their service.
    pub full: ActionSet,
    /// Actions held on at least some resource.
    pub any: ActionSet,
    /// A permissions boundary capped these grants.
    pub bounded: bool,
}

/// The kind of principal, for [`Grants::administrator`]: which one-call self-grants apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    User,
    Role,
    Group,
    /// A policy judged on its own, whoever holds it.
    AnyHolder,
}

/// The IAM actions with which a principal holding them on every resource gives itself any
/// permission in one call (attach or write a policy on itself, or rewrite a policy it holds).
fn self_grants(kind: PrincipalKind) -> &'static [&'static str] {
    match kind {
        PrincipalKind::User => &[
            "iam:AttachUserPolicy",
            "iam:PutUserPolicy",
            "iam:CreatePolicyVersion",
        ],
        PrincipalKind::Role => &[
            "iam:AttachRolePolicy",
            "iam:PutRolePolicy",
            "iam:CreatePolicyVersion",
        ],
        PrincipalKind::Group => &[
            "iam:AttachGroupPolicy",
            "iam:PutGroupPolicy",
            "iam:CreatePolicyVersion",
        ],
        PrincipalKind::AnyHolder => &[
            "iam:AttachUserPolicy",
            "iam:PutUserPolicy",
            "iam:AttachRolePolicy",
            "iam:PutRolePolicy",
            "iam:AttachGroupPolicy",
            "iam:PutGroupPolicy",
            "iam:CreatePolicyVersion",
        ],
    }
}

/// The actions that lift a permissions boundary off a user or role.
const BOUNDARY_LIFTS: [&str; 4] = [
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
];

impl Grants {
    /// The grants of a principal's identity policies together.
    pub fn from_documents<'a>(docs: impl IntoIterator<Item = &'a DocumentGrants>) -> Grants {
        let c = catalog();
        let mut full = ActionSet::empty(c);
        let mut any = ActionSet::empty(c);
        let mut denied = ActionSet::empty(c);
        let mut narrowed = ActionSet::empty(c);
        for d in docs {
            full.union_with(&d.allow_full);
            any.union_with(&d.allow_any);
            denied.union_with(&d.deny_everywhere);
            narrowed.union_with(&d.deny_most);
        }
        full.subtract(&denied);
        full.subtract(&narrowed);
        any.subtract(&denied);
        Grants {
            full,
            any,
            bounded: false,
        }
    }

    /// These grants capped by a permissions boundary.
    pub fn capped_by(mut self, boundary: &DocumentGrants) -> Grants {
        let mut full = boundary.allow_full.clone();
        full.subtract(&boundary.deny_everywhere);
        full.subtract(&boundary.deny_most);
        let mut any = boundary.allow_any.clone();
        any.subtract(&boundary.deny_everywhere);
        self.full.intersect_with(&full);
        self.any.intersect_with(&any);
        self.bounded = true;
        self
    }

    /// Every action of every service on every resource.
    pub fn everything(&self) -> bool {
        self.full.is_all()
    }

    /// Whether the principal holds `action` on every resource (false for an action the catalog
    /// does not know).
    pub fn holds_in_full(&self, action: &str) -> bool {
        catalog()
            .index(action)
            .is_some_and(|i| self.full.contains(i))
    }

    /// Whether the principal may perform `action` on some resource.
    pub fn can(&self, action: &str) -> bool {
        catalog()
            .index(action)
            .is_some_and(|i| self.any.contains(i))
    }

    /// Why the principal is an administrator, if it is: it holds every action on every
    /// resource, or one of the IAM actions with which it gives itself any permission in one call
    /// (and, under a permissions boundary, also one that lifts the boundary).
    pub fn administrator(&self, kind: PrincipalKind) -> Option<String> {
        if self.everything() {
            return Some("every action on every resource".into());
        }
        let held: Vec<&str> = self_grants(kind)
            .iter()
            .copied()
            .filter(|a| self.holds_in_full(a))
            .collect();
        if held.is_empty() {
            return None;
        }
        if self.bounded {
            let lift = BOUNDARY_LIFTS.iter().find(|a| self.holds_in_full(a))?;
            return Some(format!(
                "{} and {lift} on every resource, with which it can lift its boundary and grant itself any permission",
                held[0]
            ));
        }
        Some(format!(
            "{} on every resource, with which it can grant itself any permission",
            held[0]
        ))
    }

    /// The services every action of which is held on every resource, in catalog order.
    pub fn services_in_full(&self) -> Vec<&'static str> {
        catalog()
            .services
            .iter()
            .filter(|s| self.full.holds_service(s))
            .map(|s| s.prefix.as_str())
            .collect()
    }
}

/// A list of services for a reason: all of them up to `max`, else the first ones and a count.
pub fn describe_services(services: &[&str], max: usize) -> String {
    let total = catalog().services.len();
    if services.len() == total {
        return format!("every service ({total})");
    }
    if services.len() > max {
        let missing: Vec<&str> = catalog()
            .services
            .iter()
            .map(|s| s.prefix.as_str())
            .filter(|p| !services.contains(p))
            .collect();
        if missing.len() <= max {
            return format!(
                "{} services: every service but {}",
                services.len(),
                missing.join(", ")
            );
        }
        return format!(
            "{} services ({}, …)",
            services.len(),
            services[..max].join(", ")
        );
    }
    services.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "111122223333";

    fn grants(docs: &[&str]) -> Grants {
        let d: Vec<DocumentGrants> = docs
            .iter()
            .map(|t| DocumentGrants::of(&PolicyDocument::parse(t).unwrap(), ACCOUNT))
            .collect();
        Grants::from_documents(&d)
    }

    fn doc(t: &str) -> DocumentGrants {
        DocumentGrants::of(&PolicyDocument::parse(t).unwrap(), ACCOUNT)
    }

    /// AdministratorAccess as AWS publishes it, and a customer copy written with `*:*`.
    #[test]
    fn administrator_access_is_everything() {
        let g = grants(&[
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ]);
        assert!(g.everything());
        assert_eq!(
            g.administrator(PrincipalKind::User).unwrap(),
            "every action on every resource"
        );
        assert!(grants(&[
            r#"{"Statement":{"Effect":"Allow","Action":["*:*"],"Resource":["arn:aws:*:*:*:*"]}}"#
        ])
        .everything());
    }

    /// `NotAction: aws-portal:*` is everything but billing: not "everything", yet an
    /// administrator (it holds IAM in full); PowerUserAccess's `NotAction` is neither.
    #[test]
    fn not_action_grants_count() {
        let billing = grants(&[
            r#"{"Statement":[{"Effect":"Allow","NotAction":"aws-portal:*","Resource":"*"}]}"#,
        ]);
        assert!(!billing.everything());
        assert!(billing
            .administrator(PrincipalKind::User)
            .unwrap()
            .contains("iam:AttachUserPolicy"));
        let power = grants(&[r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},
                {"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}"#]);
        assert_eq!(power.administrator(PrincipalKind::User), None);
        let services = power.services_in_full();
        assert!(services.contains(&"ec2") && services.contains(&"s3"));
        assert!(!services.contains(&"iam") && !services.contains(&"organizations"));
        assert!(power.can("iam:ListRoles") && !power.can("iam:PassRole"));
    }

    /// Deny takes away within one document and across documents; a scoped Deny narrows only.
    #[test]
    fn deny_applies_across_documents() {
        let all = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let deny_iam = r#"{"Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#;
        let g = grants(&[all, deny_iam]);
        assert!(!g.everything());
        assert_eq!(g.administrator(PrincipalKind::Role), None);
        assert!(!g.can("iam:PassRole") && g.holds_in_full("s3:GetObject"));
        let scoped = r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::secret/*"}]}"#;
        assert!(grants(&[all, scoped]).holds_in_full("s3:GetObject"));
        // NotResource: s3 only on one bucket is no longer s3 in full, but still possible.
        let only = r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::mine","arn:aws:s3:::mine/*"]}]}"#;
        let g = grants(&[all, only]);
        assert!(!g.holds_in_full("s3:GetObject") && g.can("s3:GetObject"));
        assert!(g.holds_in_full("ec2:RunInstances"));
        // The usual "deny everything without MFA" removes nothing.
        let mfa = r#"{"Statement":[{"Effect":"Deny","NotAction":["iam:*MFA*"],"Resource":"*",
            "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
        assert!(grants(&[all, mfa]).everything());
    }

    /// Resource patterns: service-wide ARNs and the account's own ARNs cover the service;
    /// a region or a resource type does not.
    #[test]
    fn resource_coverage() {
        assert!(covers_service("arn:aws:s3:::*", "s3", ACCOUNT));
        assert!(covers_service("arn:aws-us-gov:s3:::*", "s3", ACCOUNT));
        assert!(covers_service(
            "arn:aws:iam::111122223333:*",
            "iam",
            ACCOUNT
        ));
        assert!(!covers_service(
            "arn:aws:iam::999999999999:*",
            "iam",
            ACCOUNT
        ));
        assert!(!covers_service("arn:aws:iam::*:role/*", "iam", ACCOUNT));
        assert!(!covers_service("arn:aws:ec2:eu-west-1:*:*", "ec2", ACCOUNT));
        assert!(covers_service("arn:aws:ec2:*:*:*", "ec2", ACCOUNT));
        assert!(!covers_service("arn:aws:s3:::*", "ec2", ACCOUNT));
        let s3 = grants(&[
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::*"}]}"#,
        ]);
        assert_eq!(s3.services_in_full(), ["s3"]);
        let bucket = grants(&[
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::logs/*"}]}"#,
        ]);
        assert!(bucket.services_in_full().is_empty() && bucket.can("s3:PutObject"));
        // Allow with NotResource of another service's ARNs is full for this one.
        let nr = grants(&[
            r#"{"Statement":[{"Effect":"Allow","Action":"ec2:*","NotResource":"arn:aws:s3:::x"}]}"#,
        ]);
        assert_eq!(nr.services_in_full(), ["ec2"]);
    }

    /// A boundary caps; a boundary of "Allow * minus Denies" grants nothing on its own; an
    /// administrator under a boundary that denies iam:* is no longer one.
    #[test]
    fn boundaries_cap() {
        let boundary = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
                {"Effect":"Deny","Action":["iam:*","organizations:*"],"Resource":"*"}]}"#,
        );
        let admin = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
        let g = Grants::from_documents([&admin]).capped_by(&boundary);
        assert_eq!(g.administrator(PrincipalKind::Role), None);
        assert!(g.holds_in_full("ec2:RunInstances") && !g.can("iam:PassRole"));
        // Nothing but the boundary: nothing held.
        let none =
            Grants::from_documents(std::iter::empty::<&DocumentGrants>()).capped_by(&boundary);
        assert!(none.any.is_empty());
        // A boundary that lets iam:* through but the principal holds only AttachRolePolicy:
        // it cannot exceed the boundary unless it can also lift it.
        let open = doc(r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
        let attach = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"*"}]}"#,
        );
        let g = Grants::from_documents([&attach]).capped_by(&open);
        assert_eq!(g.administrator(PrincipalKind::Role), None);
        let lift = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":["iam:AttachRolePolicy","iam:DeleteRolePermissionsBoundary"],"Resource":"*"}]}"#,
        );
        assert!(Grants::from_documents([&lift])
            .capped_by(&open)
            .administrator(PrincipalKind::Role)
            .is_some());
    }

    /// One-call self-grants depend on who holds them.
    #[test]
    fn self_grants_by_kind() {
        let g = grants(&[
            r#"{"Statement":[{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"*"}]}"#,
        ]);
        assert!(g.administrator(PrincipalKind::Role).is_some());
        assert!(g.administrator(PrincipalKind::User).is_none());
        assert!(g.administrator(PrincipalKind::AnyHolder).is_some());
    }

    #[test]
    fn service_lists_read_well() {
        assert_eq!(describe_services(&["iam", "kms"], 8), "iam, kms");
        let all: Vec<&str> = catalog()
            .services
            .iter()
            .map(|s| s.prefix.as_str())
            .collect();
        assert!(describe_services(&all, 8).starts_with("every service"));
        let but: Vec<&str> = all.iter().copied().filter(|p| *p != "iam").collect();
        assert!(describe_services(&but, 8).ends_with("every service but iam"));
    }
}
