//! The effective grants of the account's IAM users, groups and roles, from its authorization
//! details: inline policies, customer- and AWS-managed policies attached directly or (for users)
//! through their groups, with `Deny` applied across all of them and the permissions boundary
//! capping the result (see [`super::grants`]).

use super::document::PolicyDocument;
use super::grants::{DocumentGrants, Grants, PrincipalKind};
use crate::snapshot::{AuthorizationDetails, IamGroup, IamRole, IamUser, InlinePolicy};
use std::collections::HashMap;

/// Whether a policy ARN is AWS-managed, in any partition (`arn:aws:iam::aws:policy/…`,
/// `arn:aws-us-gov:iam::aws:policy/…`, `arn:aws-cn:iam::aws:policy/…`).
pub fn is_aws_managed(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "iam"
        && parts[4] == "aws"
        && parts[5].starts_with("policy/")
}

/// The policy name of a managed policy ARN (its last path segment).
pub fn policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The grants of AWS's `AdministratorAccess` (`Allow` `*` on `*`).
pub(crate) fn administrator_access() -> &'static DocumentGrants {
    static G: std::sync::OnceLock<DocumentGrants> = std::sync::OnceLock::new();
    G.get_or_init(|| {
        let doc = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .expect("a valid document");
        DocumentGrants::of(&doc, "")
    })
}

/// One document that reaches a principal, with what it grants.
#[derive(Debug, Clone)]
pub struct Source {
    /// How it reaches the principal: "AWS-managed policy AdministratorAccess", "policy ci",
    /// "inline policy deploy", "policy ops of group admins".
    pub label: String,
    /// The managed policy's ARN; `None` for an inline policy.
    pub arn: Option<String>,
    pub grants: DocumentGrants,
}

/// What one principal holds.
#[derive(Debug, Clone)]
pub struct Effective {
    pub grants: Grants,
    pub sources: Vec<Source>,
    /// The boundary's label, when one caps the grants.
    pub boundary: Option<String>,
    /// The boundary's ARN and own grants (to tell which single document makes an administrator,
    /// and to ask about named resources).
    pub boundary_arn: Option<String>,
    pub(crate) boundary_grants: Option<DocumentGrants>,
    /// Documents that reach the principal but could not be read, with the reason.
    pub unreadable: Vec<String>,
}

impl Effective {
    /// Why the principal is an administrator ("AWS-managed policy AdministratorAccess grants
    /// every action on every resource"), if it is; the document named is the first that does it
    /// alone, else "its policies together".
    pub fn administrator(&self, kind: PrincipalKind) -> Option<String> {
        let why = self.grants.administrator(kind)?;
        let capped = |g: &DocumentGrants| {
            let alone = Grants::from_documents([g]);
            match (&self.boundary_grants, self.grants.bounded) {
                (Some(b), true) => alone.capped_by(b),
                _ => alone,
            }
        };
        let single = self
            .sources
            .iter()
            .find(|s| capped(&s.grants).administrator(kind).is_some());
        Some(match single {
            Some(s) => format!("{} grants {why}", s.label),
            None => format!("its policies together grant {why}"),
        })
    }
}

/// The parsed managed policies of an account, so that each is evaluated once for all the
/// principals that hold it.
pub struct PolicyIndex<'a> {
    details: &'a AuthorizationDetails,
    account: &'a str,
    managed: HashMap<&'a str, Result<DocumentGrants, String>>,
}

impl<'a> PolicyIndex<'a> {
    pub fn new(details: &'a AuthorizationDetails, account: &'a str) -> PolicyIndex<'a> {
        let managed = details
            .policies
            .iter()
            .map(|p| {
                let g = match p.default_document.as_deref() {
                    None => Err(p
                        .document_error
                        .clone()
                        .unwrap_or_else(|| "IAM returned no document for it".to_owned())),
                    Some(t) => PolicyDocument::parse(t)
                        .map(|d| DocumentGrants::of(&d, account))
                        .map_err(|e| format!("its document {e}")),
                };
                (p.arn.as_str(), g)
            })
            .collect();
        PolicyIndex {
            details,
            account,
            managed,
        }
    }

    fn managed_label(&self, arn: &str) -> String {
        if is_aws_managed(arn) {
            format!("AWS-managed policy {}", policy_name(arn))
        } else {
            format!("policy {}", policy_name(arn))
        }
    }

    /// The grants of a managed policy, or why they cannot be had. AWS publishes
    /// `AdministratorAccess` as `*` on `*` in every partition, so an unreadable copy of it is still
    /// known.
    pub fn managed(&self, arn: &str) -> Result<&DocumentGrants, String> {
        match self.managed.get(arn) {
            Some(Ok(g)) => Ok(g),
            _ if is_aws_managed(arn) && policy_name(arn) == "AdministratorAccess" => {
                Ok(administrator_access())
            }
            Some(Err(e)) => Err(e.clone()),
            None => Err("IAM did not return it".to_owned()),
        }
    }

    fn add_managed(&self, e: &mut Effective, arns: &[String], suffix: &str) {
        for arn in arns {
            let label = format!("{}{suffix}", self.managed_label(arn));
            match self.managed(arn) {
                Ok(g) => e.sources.push(Source {
                    label,
                    arn: Some(arn.clone()),
                    grants: g.clone(),
                }),
                Err(why) => e.unreadable.push(format!("{label} ({why})")),
            }
        }
    }

    fn add_inline(&self, e: &mut Effective, policies: &[InlinePolicy], suffix: &str) {
        for p in policies {
            let label = format!("inline policy {}{suffix}", p.name);
            match PolicyDocument::parse(&p.document) {
                Ok(d) => e.sources.push(Source {
                    label,
                    arn: None,
                    grants: DocumentGrants::of(&d, self.account),
                }),
                Err(why) => e.unreadable.push(format!("{label} (its document {why})")),
            }
        }
    }

    fn finish(&self, mut e: Effective, boundary: Option<&str>) -> Effective {
        e.grants = Grants::from_documents(e.sources.iter().map(|s| &s.grants));
        if let Some(arn) = boundary {
            let label = self.managed_label(arn);
            match self.managed(arn) {
                Ok(b) => {
                    e.grants = e.grants.clone().capped_by(b);
                    e.boundary_grants = Some(b.clone());
                    e.boundary_arn = Some(arn.to_owned());
                    e.boundary = Some(label);
                }
                Err(why) => e
                    .unreadable
                    .push(format!("permissions boundary {label} ({why})")),
            }
        }
        e
    }

    fn empty() -> Effective {
        Effective {
            grants: Grants::from_documents(std::iter::empty::<&DocumentGrants>()),
            sources: Vec::new(),
            boundary: None,
            boundary_arn: None,
            boundary_grants: None,
            unreadable: Vec::new(),
        }
    }

    /// A user's grants: its own policies and those of its groups, under its boundary.
    pub fn user(&self, u: &IamUser) -> Effective {
        let mut e = Self::empty();
        self.add_managed(&mut e, &u.attached_policy_arns, "");
        self.add_inline(&mut e, &u.inline_policies, "");
        for name in &u.groups {
            let suffix = format!(" of group {name}");
            match self.details.groups.iter().find(|g| &g.name == name) {
                Some(g) => {
                    self.add_managed(&mut e, &g.attached_policy_arns, &suffix);
                    self.add_inline(&mut e, &g.inline_policies, &suffix);
                }
                None => e
                    .unreadable
                    .push(format!("group {name} (IAM did not return it)")),
            }
        }
        self.finish(e, u.permissions_boundary.as_deref())
    }

    /// A role's grants, under its boundary.
    pub fn role(&self, r: &IamRole) -> Effective {
        let mut e = Self::empty();
        self.add_managed(&mut e, &r.attached_policy_arns, "");
        self.add_inline(&mut e, &r.inline_policies, "");
        self.finish(e, r.permissions_boundary.as_deref())
    }

    /// A group's grants (what each member holds through it).
    pub fn group(&self, g: &IamGroup) -> Effective {
        let mut e = Self::empty();
        self.add_managed(&mut e, &g.attached_policy_arns, "");
        self.add_inline(&mut e, &g.inline_policies, "");
        self.finish(e, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::ManagedPolicy;

    const ACCOUNT: &str = "111122223333";
    const ADMIN: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn managed(arn: &str, doc: Option<&str>) -> ManagedPolicy {
        ManagedPolicy {
            name: policy_name(arn).into(),
            arn: arn.into(),
            customer_managed: !is_aws_managed(arn),
            attachment_count: 1,
            permissions_boundary_usage_count: 0,
            default_document: doc.map(str::to_owned),
            document_error: None,
            other_versions: Vec::new(),
        }
    }

    #[test]
    fn aws_managed_in_every_partition() {
        assert!(is_aws_managed(
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ));
        assert!(is_aws_managed(
            "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"
        ));
        assert!(is_aws_managed(
            "arn:aws-cn:iam::aws:policy/job-function/ViewOnlyAccess"
        ));
        assert!(!is_aws_managed(
            "arn:aws:iam::111122223333:policy/AdministratorAccess"
        ));
    }

    /// Admin through a group's AWS-managed policy (GovCloud), named in the reason; a boundary
    /// that denies iam:* and organizations:* takes administrator away from a role.
    #[test]
    fn users_through_groups_and_roles_under_boundaries() {
        let gov = "arn:aws-us-gov:iam::aws:policy/AdministratorAccess";
        let boundary = "arn:aws:iam::111122223333:policy/no-iam";
        let details = AuthorizationDetails {
            users: vec![IamUser {
                name: "alice".into(),
                arn: "arn:aws:iam::111122223333:user/alice".into(),
                groups: vec!["admins".into()],
                ..Default::default()
            }],
            groups: vec![IamGroup {
                name: "admins".into(),
                arn: "arn:aws:iam::111122223333:group/admins".into(),
                attached_policy_arns: vec![gov.into()],
                inline_policies: vec![],
            }],
            roles: vec![IamRole {
                name: "app".into(),
                arn: "arn:aws:iam::111122223333:role/app".into(),
                attached_policy_arns: vec![gov.into()],
                permissions_boundary: Some(boundary.into()),
                ..Default::default()
            }],
            policies: vec![
                managed(gov, Some(ADMIN)),
                managed(
                    boundary,
                    Some(
                        r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["iam:*","organizations:*"],"Resource":"*"}]}"#,
                    ),
                ),
            ],
        };
        let index = PolicyIndex::new(&details, ACCOUNT);
        let alice = index.user(&details.users[0]);
        assert_eq!(
            alice.administrator(PrincipalKind::User).unwrap(),
            "AWS-managed policy AdministratorAccess of group admins grants every action on every resource"
        );
        let app = index.role(&details.roles[0]);
        assert_eq!(app.administrator(PrincipalKind::Role), None);
        assert!(app.grants.holds_in_full("s3:GetObject"));
        assert_eq!(app.boundary.as_deref(), Some("policy no-iam"));
    }

    /// A policy IAM did not return, or a document that does not parse, is named as unreadable.
    #[test]
    fn unreadable_documents_are_named() {
        let details = AuthorizationDetails {
            roles: vec![IamRole {
                name: "r".into(),
                arn: "arn:aws:iam::111122223333:role/r".into(),
                attached_policy_arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                inline_policies: vec![InlinePolicy {
                    name: "bad".into(),
                    document: "{not json".into(),
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let index = PolicyIndex::new(&details, ACCOUNT);
        let r = index.role(&details.roles[0]);
        assert_eq!(r.unreadable.len(), 2, "{:?}", r.unreadable);
        assert!(r.unreadable[0]
            .starts_with("AWS-managed policy ReadOnlyAccess (IAM did not return it)"));
        assert!(r.unreadable[1].starts_with("inline policy bad (its document is not valid JSON"));
    }
}
