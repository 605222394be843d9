//! Privilege-escalation paths: how a user, group or role of an account gets more than it holds,
//! through the published primitives of `checks/data/privesc.tsv`.
//!
//! Each principal's effective grants come from [`super::principal`] (inline, managed, through
//! groups, `Deny` applied, capped by its permissions boundary). A primitive is usable when the
//! principal may call its first action on the target resource (asked of [`super::resource`], with
//! the request's context keys: `iam:PassedToService` for a passed role, `iam:PolicyARN` for an
//! attached policy) and its other actions on some resource. What a usable primitive gives depends on
//! its target kind:
//! - `own-user`, `own-role`, `own-group` (attach or write a policy on itself or a group it is in),
//!   `own-policy` (a new version of a customer-managed policy it holds): any permission, capped by
//!   its permissions boundary unless it can also lift the boundary (delete or replace it, or rewrite
//!   the boundary policy). An attach limited by an `iam:PolicyARN` condition gives only the policies
//!   it may attach.
//! - `own-policy-version`: the permissions of a stored non-default version of a policy it holds.
//! - `group`: its own permissions plus the group's, capped by its boundary (users only).
//! - `role-trust`: it rewrites the trust of a role to name itself and assumes it (same account: the
//!   trust alone lets it, unless its own policies deny `sts:AssumeRole` on the role).
//! - `user`, `user-without-password`, `user-with-password`: new credentials for another user.
//! - `passed-role`, `passed-instance-profile-role`: code it runs under a role that trusts the
//!   service (for EC2, a role in an instance profile), passed with `iam:PassRole`.
//!
//! The last three act as the other principal, whose own paths then apply in turn (a search over the
//! account's principals). A path is reported when it reaches administrator access, or every action
//! of a service the principal does not hold in full; reaching a weaker role, or one that only adds
//! actions on some resources (a Lambda execution role's log writes), is not a path. Service-linked
//! roles are neither actors nor targets: nobody acts as them and they cannot be passed or have their
//! trust rewritten.

use super::document::PolicyDocument;
use super::grants::{describe_services, DocumentGrants, Grants, PrincipalKind};
use super::principal::{is_aws_managed, policy_name, Effective, PolicyIndex};
use super::resource::Request;
use crate::model::{EscalationPath, EscalationStep};
use crate::snapshot::AuthorizationDetails;
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

/// What a primitive's first action is called on (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    OwnUser,
    OwnRole,
    OwnGroup,
    OwnPolicy,
    OwnPolicyVersion,
    Group,
    RoleTrust,
    User,
    UserWithoutPassword,
    UserWithPassword,
    PassedRole,
    PassedInstanceProfileRole,
}

impl Target {
    fn parse(s: &str) -> Option<Target> {
        Some(match s {
            "own-user" => Target::OwnUser,
            "own-role" => Target::OwnRole,
            "own-group" => Target::OwnGroup,
            "own-policy" => Target::OwnPolicy,
            "own-policy-version" => Target::OwnPolicyVersion,
            "group" => Target::Group,
            "role-trust" => Target::RoleTrust,
            "user" => Target::User,
            "user-without-password" => Target::UserWithoutPassword,
            "user-with-password" => Target::UserWithPassword,
            "passed-role" => Target::PassedRole,
            "passed-instance-profile-role" => Target::PassedInstanceProfileRole,
            _ => return None,
        })
    }
}

/// One row of `checks/data/privesc.tsv`.
#[derive(Debug, Clone)]
pub struct Primitive {
    pub id: String,
    pub target: Target,
    pub actions: Vec<String>,
    /// The service principal a passed role must trust.
    pub service: Option<String>,
    pub sources: String,
}

const DATA: &str = include_str!("../../data/privesc.tsv");

/// Parses the primitives table; an error names the line.
pub fn parse_primitives(text: &str) -> Result<Vec<Primitive>, String> {
    let mut out = Vec::new();
    let mut header = false;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !header {
            header = true;
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [id, target, actions, service, sources] = cols[..] else {
            return Err(format!(
                "line {}: {} columns, expected 5",
                n + 1,
                cols.len()
            ));
        };
        let target = Target::parse(target)
            .ok_or_else(|| format!("line {}: unknown target {target:?}", n + 1))?;
        let actions: Vec<String> = actions.split(',').map(|a| a.trim().to_owned()).collect();
        let service = (service != "-").then(|| service.to_owned());
        if matches!(
            target,
            Target::PassedRole | Target::PassedInstanceProfileRole
        ) != service.is_some()
        {
            return Err(format!(
                "line {}: a service is given exactly for passed roles",
                n + 1
            ));
        }
        out.push(Primitive {
            id: id.to_owned(),
            target,
            actions,
            service,
            sources: sources.to_owned(),
        });
    }
    Ok(out)
}

/// The shipped primitives.
pub fn primitives() -> &'static [Primitive] {
    static P: std::sync::OnceLock<Vec<Primitive>> = std::sync::OnceLock::new();
    P.get_or_init(|| parse_primitives(DATA).expect("checks/data/privesc.tsv is valid (tested)"))
}

/// "role admin", "user alice", "group devs", "policy deploy" for an IAM ARN.
pub fn arn_label(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    let (kind, rest) = resource.split_once('/').unwrap_or(("", resource));
    let name = rest.rsplit('/').next().unwrap_or(rest);
    match kind {
        "role" | "user" | "group" | "policy" => format!("{kind} {name}"),
        _ => arn.to_owned(),
    }
}

/// Whether a role ARN is a service-linked role's.
pub fn is_service_linked(arn: &str) -> bool {
    arn.contains(":role/aws-service-role/")
}

/// One user, group or role, with what it holds.
pub struct Principal<'a> {
    pub kind: PrincipalKind,
    pub name: &'a str,
    pub arn: &'a str,
    pub effective: Effective,
    /// Why it is an administrator already, if it is.
    pub admin: Option<String>,
    full_services: BTreeSet<&'static str>,
    groups: &'a [String],
    in_instance_profile: bool,
    trust: Option<PolicyDocument>,
}

impl Principal<'_> {
    /// "role ci-deploy".
    pub fn label(&self) -> String {
        let kind = match self.kind {
            PrincipalKind::User => "user",
            PrincipalKind::Role => "role",
            _ => "group",
        };
        format!("{kind} {}", self.name)
    }
}

enum To {
    Principal(usize),
    Leaf(Box<Grants>),
}

struct Edge {
    step: EscalationStep,
    to: To,
}

/// The account's principals and the paths between them.
pub struct Analysis<'a> {
    pub principals: Vec<Principal<'a>>,
    index: PolicyIndex<'a>,
    details: &'a AuthorizationDetails,
    /// The ARNs of users with a console password; `None` when unknown.
    passwords: Option<HashSet<String>>,
    edges: Vec<OnceCell<Vec<Edge>>>,
}

fn partition(arn: &str) -> &str {
    arn.split(':').nth(1).unwrap_or("aws")
}

fn administrator_access_arn(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/AdministratorAccess")
}

/// Whether a trust policy lets `service` assume the role.
fn trusts_service(doc: &PolicyDocument, service: &str) -> bool {
    doc.statements.iter().any(|s| {
        let assume = if s.not_actions.is_empty() {
            s.actions
                .iter()
                .any(|a| super::actions::glob_ignore_case(a, "sts:AssumeRole"))
        } else {
            !s.not_actions
                .iter()
                .any(|a| super::actions::glob_ignore_case(a, "sts:AssumeRole"))
        };
        let named = s.principal.get("Service").is_some_and(|v| {
            super::trust::strings(v)
                .iter()
                .any(|v| v.eq_ignore_ascii_case(service))
        });
        s.allow && assume && !s.not_principal && (named || s.principal_everyone)
    })
}

impl<'a> Analysis<'a> {
    /// The principals of `details`; `passwords` lists the users with a console password, when the
    /// credential report is known.
    pub fn new(
        details: &'a AuthorizationDetails,
        account: &'a str,
        passwords: Option<HashSet<String>>,
    ) -> Analysis<'a> {
        let index = PolicyIndex::new(details, account);
        let mut principals = Vec::new();
        let mut add =
            |kind, name: &'a str, arn: &'a str, effective: Effective, groups, ip, trust| {
                let admin = effective.administrator(kind);
                let full_services = effective.grants.services_in_full().into_iter().collect();
                principals.push(Principal {
                    kind,
                    name,
                    arn,
                    effective,
                    admin,
                    full_services,
                    groups,
                    in_instance_profile: ip,
                    trust,
                });
            };
        for u in &details.users {
            add(
                PrincipalKind::User,
                &u.name,
                &u.arn,
                index.user(u),
                &u.groups[..],
                false,
                None,
            );
        }
        for g in &details.groups {
            add(
                PrincipalKind::Group,
                &g.name,
                &g.arn,
                index.group(g),
                &[][..],
                false,
                None,
            );
        }
        for r in details.roles.iter().filter(|r| !is_service_linked(&r.arn)) {
            let trust = r
                .trust_policy
                .as_deref()
                .and_then(|t| PolicyDocument::parse(t).ok());
            add(
                PrincipalKind::Role,
                &r.name,
                &r.arn,
                index.role(r),
                &[][..],
                r.in_instance_profile,
                trust,
            );
        }
        let edges = principals.iter().map(|_| OnceCell::new()).collect();
        Analysis {
            principals,
            index,
            details,
            passwords,
            edges,
        }
    }

    fn request<'r>(&self, q: usize, action: &'r str, resource: &'r str) -> Request<'r>
    where
        'a: 'r,
    {
        let p = &self.principals[q];
        Request {
            username: (p.kind == PrincipalKind::User).then_some(p.name),
            ..Request::new(action, resource)
        }
    }

    fn may(&self, q: usize, req: &Request) -> bool {
        self.principals[q].effective.allows(req)
    }

    /// Whether the principal can lift its own permissions boundary.
    fn can_lift_boundary(&self, q: usize) -> bool {
        let p = &self.principals[q];
        let Some(boundary) = p.effective.boundary_arn.as_deref() else {
            return false;
        };
        let own = match p.kind {
            PrincipalKind::User => [
                "iam:DeleteUserPermissionsBoundary",
                "iam:PutUserPermissionsBoundary",
            ],
            PrincipalKind::Role => [
                "iam:DeleteRolePermissionsBoundary",
                "iam:PutRolePermissionsBoundary",
            ],
            _ => return false,
        };
        own.iter().any(|a| self.may(q, &self.request(q, a, p.arn)))
            || (!is_aws_managed(boundary)
                && self.may(q, &self.request(q, "iam:CreatePolicyVersion", boundary)))
    }

    /// What the principal holds with `extra` documents added to (or, with `replace`, swapped for
    /// one of) its own, under its boundary unless it can lift it.
    fn holding(
        &self,
        q: usize,
        extra: &[&DocumentGrants],
        replace: Option<&str>,
        uncapped: bool,
    ) -> Grants {
        let p = &self.principals[q];
        let docs = p
            .effective
            .sources
            .iter()
            .filter(|s| replace.is_none() || s.arn.as_deref() != replace)
            .map(|s| &s.grants)
            .chain(extra.iter().copied());
        let g = Grants::from_documents(docs);
        match &p.effective.boundary_grants {
            Some(b) if !uncapped && !self.can_lift_boundary(q) => g.capped_by(b),
            _ => g,
        }
    }

    /// What attaching or writing a policy on `target` gives: any permission, or (an attach limited
    /// by `iam:PolicyARN`) the policies it may attach.
    fn self_grant(&self, q: usize, action: &str, target: &str) -> Option<(Grants, String)> {
        let p = &self.principals[q];
        let capped = p.effective.boundary.is_some() && !self.can_lift_boundary(q);
        let under = |what: String| match (&p.effective.boundary, capped) {
            (Some(b), true) => format!("{what}, within its permissions boundary {b}"),
            _ => what,
        };
        if !action.starts_with("iam:Attach") {
            let g = self.holding(q, &[super::principal::administrator_access()], None, false);
            return Some((g, under("any permission".into())));
        }
        let admin_arn = administrator_access_arn(partition(p.arn));
        let attach = |policy: &str| {
            let ctx = [("iam:PolicyARN", policy)];
            let req = Request {
                context: &ctx,
                ..self.request(q, action, target)
            };
            self.may(q, &req)
        };
        if attach(&admin_arn) {
            let g = self.holding(q, &[super::principal::administrator_access()], None, false);
            return Some((g, under("any permission (AdministratorAccess)".into())));
        }
        let mut names = Vec::new();
        let mut docs = Vec::new();
        for pol in &self.details.policies {
            if attach(&pol.arn) {
                if let Ok(g) = self.index.managed(&pol.arn) {
                    names.push(policy_name(&pol.arn).to_owned());
                    docs.push(g);
                }
            }
        }
        if docs.is_empty() {
            return None;
        }
        let g = self.holding(q, &docs, None, false);
        Some((
            g,
            under(format!("the policies it may attach ({})", names.join(", "))),
        ))
    }

    fn step(&self, q: usize, prim: &Primitive, target: &str, gains: String) -> EscalationStep {
        EscalationStep {
            actor: self.principals[q].arn.to_owned(),
            primitive: prim.id.clone(),
            actions: prim.actions.clone(),
            target: target.to_owned(),
            gains,
        }
    }

    fn edges_of(&self, q: usize) -> Vec<Edge> {
        let p = &self.principals[q];
        let mut out = Vec::new();
        for prim in primitives() {
            if !prim.actions.iter().all(|a| p.effective.grants.can(a)) {
                continue;
            }
            let first = prim.actions[0].as_str();
            let on = |t: &str| self.may(q, &self.request(q, first, t));
            let leaf = |out: &mut Vec<Edge>, target: &str, g: Grants, gains: String| {
                out.push(Edge {
                    step: self.step(q, prim, target, gains),
                    to: To::Leaf(Box::new(g)),
                })
            };
            let act_as = |out: &mut Vec<Edge>, target: usize| {
                let t = &self.principals[target];
                out.push(Edge {
                    step: self.step(q, prim, t.arn, format!("acts as {}", t.label())),
                    to: To::Principal(target),
                })
            };
            match prim.target {
                Target::OwnUser | Target::OwnRole => {
                    let kind = if prim.target == Target::OwnUser {
                        PrincipalKind::User
                    } else {
                        PrincipalKind::Role
                    };
                    if p.kind == kind && on(p.arn) {
                        if let Some((g, gains)) = self.self_grant(q, first, p.arn) {
                            leaf(&mut out, p.arn, g, gains);
                        }
                    }
                }
                Target::OwnGroup => {
                    let groups: Vec<&str> = match p.kind {
                        PrincipalKind::Group => vec![p.arn],
                        _ => p
                            .groups
                            .iter()
                            .filter_map(|n| self.details.groups.iter().find(|g| &g.name == n))
                            .map(|g| g.arn.as_str())
                            .collect(),
                    };
                    for g in groups.into_iter().filter(|g| on(g)) {
                        if let Some((grants, gains)) = self.self_grant(q, first, g) {
                            leaf(
                                &mut out,
                                g,
                                grants,
                                format!("{gains} through {}", arn_label(g)),
                            );
                        }
                    }
                }
                Target::OwnPolicy => {
                    let boundary = p.effective.boundary_arn.as_deref();
                    let held = p
                        .effective
                        .sources
                        .iter()
                        .filter_map(|s| s.arn.as_deref())
                        .chain(boundary)
                        .filter(|a| !is_aws_managed(a));
                    let mut seen = HashSet::new();
                    for arn in held.filter(|a| seen.insert(*a) && on(a)) {
                        if Some(arn) == boundary {
                            let g = self.holding(q, &[], None, true);
                            leaf(
                                &mut out,
                                arn,
                                g,
                                "its own permissions without its boundary".into(),
                            );
                        } else {
                            let g = self.holding(
                                q,
                                &[super::principal::administrator_access()],
                                None,
                                false,
                            );
                            let gains = match (&p.effective.boundary, self.can_lift_boundary(q)) {
                                (Some(b), false) => format!("any permission written into {}, within its permissions boundary {b}", arn_label(arn)),
                                _ => format!("any permission written into {}", arn_label(arn)),
                            };
                            leaf(&mut out, arn, g, gains);
                        }
                    }
                }
                Target::OwnPolicyVersion => {
                    for s in &p.effective.sources {
                        let Some(arn) = s.arn.as_deref().filter(|a| !is_aws_managed(a)) else {
                            continue;
                        };
                        let Some(pol) = self.details.policies.iter().find(|x| x.arn == arn) else {
                            continue;
                        };
                        if pol.other_versions.is_empty() || !on(arn) {
                            continue;
                        }
                        let account = arn.split(':').nth(4).unwrap_or("");
                        for v in &pol.other_versions {
                            let Ok(doc) = PolicyDocument::parse(v) else {
                                continue;
                            };
                            let dg = DocumentGrants::of(&doc, account);
                            let g = self.holding(q, &[&dg], Some(arn), false);
                            leaf(
                                &mut out,
                                arn,
                                g,
                                format!(
                                    "the permissions of a stored version of {}",
                                    arn_label(arn)
                                ),
                            );
                        }
                    }
                }
                Target::Group => {
                    if p.kind != PrincipalKind::User {
                        continue;
                    }
                    for (gi, g) in self.principals.iter().enumerate() {
                        if g.kind != PrincipalKind::Group
                            || p.groups.iter().any(|n| n == g.name)
                            || !on(g.arn)
                        {
                            continue;
                        }
                        let docs: Vec<&DocumentGrants> = self.principals[gi]
                            .effective
                            .sources
                            .iter()
                            .map(|s| &s.grants)
                            .collect();
                        let grants = self.holding(q, &docs, None, false);
                        leaf(
                            &mut out,
                            g.arn,
                            grants,
                            format!("the permissions of {}", g.label()),
                        );
                    }
                }
                Target::RoleTrust => {
                    for (ri, r) in self.principals.iter().enumerate() {
                        if r.kind != PrincipalKind::Role || ri == q || !on(r.arn) {
                            continue;
                        }
                        let assume = self.request(q, "sts:AssumeRole", r.arn);
                        if !p.effective.denies(&assume) {
                            act_as(&mut out, ri);
                        }
                    }
                }
                Target::User | Target::UserWithoutPassword | Target::UserWithPassword => {
                    for (ui, u) in self.principals.iter().enumerate() {
                        if u.kind != PrincipalKind::User || ui == q {
                            continue;
                        }
                        let has_password = self.passwords.as_ref().map(|s| s.contains(u.arn));
                        let fits = !matches!(
                            (prim.target, has_password),
                            (Target::UserWithoutPassword, Some(true))
                                | (Target::UserWithPassword, Some(false))
                        );
                        if fits && on(u.arn) {
                            act_as(&mut out, ui);
                        }
                    }
                }
                Target::PassedRole | Target::PassedInstanceProfileRole => {
                    let service = prim.service.as_deref().unwrap_or_default();
                    for (ri, r) in self.principals.iter().enumerate() {
                        if r.kind != PrincipalKind::Role
                            || ri == q
                            || (prim.target == Target::PassedInstanceProfileRole
                                && !r.in_instance_profile)
                            || !r.trust.as_ref().is_some_and(|t| trusts_service(t, service))
                        {
                            continue;
                        }
                        let ctx = [("iam:PassedToService", service)];
                        let req = Request {
                            context: &ctx,
                            ..self.request(q, first, r.arn)
                        };
                        if self.may(q, &req) {
                            act_as(&mut out, ri);
                        }
                    }
                }
            }
        }
        out
    }

    fn edges(&self, q: usize) -> &[Edge] {
        self.edges[q].get_or_init(|| self.edges_of(q))
    }

    /// What reaching `to` gives beyond what `start` holds: (administrator, in words).
    fn exceeds(&self, start: usize, actor: usize, to: &To) -> Option<(bool, String)> {
        let (admin, services): (Option<String>, BTreeSet<&'static str>) = match to {
            To::Principal(r) => (
                self.principals[*r].admin.clone(),
                self.principals[*r].full_services.clone(),
            ),
            To::Leaf(g) => (
                g.administrator(self.principals[actor].kind),
                g.services_in_full().into_iter().collect(),
            ),
        };
        if let Some(why) = admin {
            return Some((true, format!("administrator access ({why})")));
        }
        let new: Vec<&str> = services
            .difference(&self.principals[start].full_services)
            .copied()
            .collect();
        (!new.is_empty()).then(|| {
            (
                false,
                format!(
                    "every action of {} on every resource",
                    describe_services(&new, 6)
                ),
            )
        })
    }

    /// The paths by which principal `start` raises its privileges, those to administrator access
    /// first, then the shortest; at most `limit`. Empty for an administrator.
    pub fn paths(&self, start: usize, limit: usize) -> Vec<EscalationPath> {
        if self.principals[start].admin.is_some() {
            return Vec::new();
        }
        let mut parent: HashMap<usize, (usize, EscalationStep)> = HashMap::new();
        let mut seen = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        let mut found: Vec<(bool, EscalationPath)> = Vec::new();
        while let Some(q) = queue.pop_front() {
            for e in self.edges(q) {
                if let Some((admin, reaches)) = self.exceeds(start, q, &e.to) {
                    let mut steps = vec![e.step.clone()];
                    let mut at = q;
                    while let Some((from, step)) = parent.get(&at) {
                        steps.push(step.clone());
                        at = *from;
                    }
                    steps.reverse();
                    found.push((admin, EscalationPath { steps, reaches }));
                }
                if let To::Principal(r) = e.to {
                    // Past an administrator there is nothing more to reach.
                    if self.principals[r].admin.is_none() && seen.insert(r) {
                        parent.insert(r, (q, e.step.clone()));
                        queue.push_back(r);
                    }
                }
            }
        }
        found.sort_by_key(|(admin, p)| (!admin, p.steps.len()));
        found.into_iter().take(limit).map(|(_, p)| p).collect()
    }

    /// The position of a principal by ARN.
    pub fn find(&self, arn: &str) -> Option<usize> {
        self.principals.iter().position(|p| p.arn == arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::actions::catalog;
    use crate::snapshot::{IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy};

    const ACCOUNT: &str = "111122223333";
    const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";
    const ADMIN_DOC: &str = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn arn(kind: &str, name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:{kind}/{name}")
    }

    fn inline(doc: &str) -> Vec<InlinePolicy> {
        vec![InlinePolicy {
            name: "p".into(),
            document: doc.into(),
        }]
    }

    fn trust(service: &str) -> Option<String> {
        Some(format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"Service":"{service}"}},"Action":"sts:AssumeRole"}}]}}"#
        ))
    }

    fn role(name: &str, doc: &str, service: &str) -> IamRole {
        IamRole {
            name: name.into(),
            arn: arn("role", name),
            trust_policy: trust(service),
            inline_policies: inline(doc),
            ..Default::default()
        }
    }

    fn admin_role(name: &str, service: &str) -> IamRole {
        IamRole {
            name: name.into(),
            arn: arn("role", name),
            trust_policy: trust(service),
            attached_policy_arns: vec![ADMIN_ARN.into()],
            ..Default::default()
        }
    }

    fn admin_policy() -> ManagedPolicy {
        ManagedPolicy {
            name: "AdministratorAccess".into(),
            arn: ADMIN_ARN.into(),
            default_document: Some(ADMIN_DOC.into()),
            ..Default::default()
        }
    }

    fn details(roles: Vec<IamRole>, users: Vec<IamUser>) -> AuthorizationDetails {
        AuthorizationDetails {
            users,
            roles,
            policies: vec![admin_policy()],
            ..Default::default()
        }
    }

    fn described(d: &AuthorizationDetails, who: &str) -> Vec<String> {
        let a = Analysis::new(d, ACCOUNT, None);
        let i = a.find(who).expect("principal");
        let start = a.principals[i].label();
        a.paths(i, 5)
            .iter()
            .map(|p| format!("{}: {}", p.describe(&start), p.reaches))
            .collect()
    }

    const CI: &str = r#"{"Statement":[{"Effect":"Allow","Action":["iam:PassRole","lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}]}"#;

    #[test]
    fn the_data_parses_and_names_real_actions() {
        let p = primitives();
        assert!(p.len() >= 25);
        for prim in p {
            for a in &prim.actions {
                assert!(
                    catalog().index(a).is_some(),
                    "{}: {a} is not an AWS action",
                    prim.id
                );
            }
            assert!(!prim.sources.is_empty());
        }
        let ids: HashSet<&str> = p.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), p.len(), "ids are unique");
        assert!(
            parse_primitives("id\ttarget\tactions\tservice\tsources\nx\tnowhere\ta:b\t-\ts")
                .unwrap_err()
                .contains("line 2")
        );
    }

    /// PassRole on `*` with Lambda reaches the admin role; the admin itself has no path; a
    /// PassRole scoped to a weaker role is not a path.
    #[test]
    fn pass_role_to_lambda() {
        let d = details(
            vec![
                role("ci-deploy", CI, "codebuild.amazonaws.com"),
                admin_role("admin", "lambda.amazonaws.com"),
                role(
                    "app-lambda",
                    r#"{"Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}"#,
                    "lambda.amazonaws.com",
                ),
            ],
            vec![],
        );
        assert_eq!(
            described(&d, &arn("role", "ci-deploy")),
            ["role ci-deploy → iam:PassRole on role admin + lambda:CreateFunction, lambda:InvokeFunction → acts as role admin: administrator access (AWS-managed policy AdministratorAccess grants every action on every resource)"]
        );
        assert!(described(&d, &arn("role", "admin")).is_empty());
        let scoped = r#"{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app-*"},{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}]}"#;
        let mut d2 = d.clone();
        d2.roles[0] = role("ci-deploy", scoped, "codebuild.amazonaws.com");
        assert!(described(&d2, &arn("role", "ci-deploy")).is_empty());
        // Without InvokeFunction (nor an event source) the function never runs as the role.
        let mut d3 = d.clone();
        d3.roles[0] = role(
            "ci-deploy",
            r#"{"Statement":[{"Effect":"Allow","Action":["iam:PassRole","lambda:CreateFunction"],"Resource":"*"}]}"#,
            "codebuild.amazonaws.com",
        );
        assert!(described(&d3, &arn("role", "ci-deploy")).is_empty());
    }

    /// A boundary that removes iam:* closes PassRole; a Deny with NotResource leaving only the
    /// weak role closes it too; PassedToService limited to another service closes it.
    #[test]
    fn boundaries_denies_and_conditions_close_paths() {
        let mut d = details(
            vec![
                role("ci-deploy", CI, "codebuild.amazonaws.com"),
                admin_role("admin", "lambda.amazonaws.com"),
            ],
            vec![],
        );
        let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/no-iam");
        d.policies.push(ManagedPolicy {
            name: "no-iam".into(),
            arn: boundary.clone(),
            customer_managed: true,
            default_document: Some(
                r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#
                    .into(),
            ),
            ..Default::default()
        });
        let mut bounded = d.clone();
        bounded.roles[0].permissions_boundary = Some(boundary);
        assert!(described(&bounded, &arn("role", "ci-deploy")).is_empty());
        let deny = r#"{"Statement":[{"Effect":"Allow","Action":["iam:PassRole","lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"},{"Effect":"Deny","Action":"iam:PassRole","NotResource":"arn:aws:iam::111122223333:role/app-*"}]}"#;
        let mut denied = d.clone();
        denied.roles[0] = role("ci-deploy", deny, "codebuild.amazonaws.com");
        assert!(described(&denied, &arn("role", "ci-deploy")).is_empty());
        let to_ec2 = r#"{"Statement":[{"Effect":"Allow","Action":"iam:PassRole","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}},{"Effect":"Allow","Action":["lambda:CreateFunction","lambda:InvokeFunction"],"Resource":"*"}]}"#;
        let mut ec2 = d.clone();
        ec2.roles[0] = role("ci-deploy", to_ec2, "codebuild.amazonaws.com");
        assert!(described(&ec2, &arn("role", "ci-deploy")).is_empty());
    }

    /// One-call self-grants on itself; an attach limited to ReadOnly by iam:PolicyARN is no path
    /// to admin; a boundary caps a self-grant unless it can be lifted.
    #[test]
    fn self_grants() {
        let put = role(
            "dev",
            r#"{"Statement":[{"Effect":"Allow","Action":"iam:PutRolePolicy","Resource":"arn:aws:iam::111122223333:role/dev"}]}"#,
            "ec2.amazonaws.com",
        );
        let d = details(vec![put.clone()], vec![]);
        let p = described(&d, &arn("role", "dev"));
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with(
                "role dev → iam:PutRolePolicy on role dev → any permission: administrator access"
            ),
            "{p:?}"
        );
        let limited = role(
            "dev",
            r#"{"Statement":[{"Effect":"Allow","Action":"iam:AttachRolePolicy","Resource":"arn:aws:iam::111122223333:role/dev","Condition":{"ArnEquals":{"iam:PolicyARN":"arn:aws:iam::aws:policy/ReadOnlyAccess"}}}]}"#,
            "ec2.amazonaws.com",
        );
        assert!(described(&details(vec![limited], vec![]), &arn("role", "dev")).is_empty());
        let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/s3-only");
        let mut bounded = details(vec![put], vec![]);
        bounded.roles[0].permissions_boundary = Some(boundary.clone());
        bounded.policies.push(ManagedPolicy {
            name: "s3-only".into(),
            arn: boundary,
            customer_managed: true,
            default_document: Some(
                r#"{"Statement":[{"Effect":"Allow","Action":["s3:*","iam:PutRolePolicy"],"Resource":"*"}]}"#.into(),
            ),
            ..Default::default()
        });
        let p = described(&bounded, &arn("role", "dev"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].ends_with("within its permissions boundary policy s3-only: every action of s3 on every resource"), "{p:?}");
    }

    /// Credentials for an admin user; joining an admin group; a trust rewrite of an admin role;
    /// CreateAccessKey on itself only (`${aws:username}`) is no path.
    #[test]
    fn other_principals() {
        let admin = IamUser {
            name: "root-ops".into(),
            arn: arn("user", "root-ops"),
            attached_policy_arns: vec![ADMIN_ARN.into()],
            ..Default::default()
        };
        let helpdesk = |doc: &str| IamUser {
            name: "helpdesk".into(),
            arn: arn("user", "helpdesk"),
            inline_policies: inline(doc),
            ..Default::default()
        };
        let keys = details(
            vec![],
            vec![
                admin.clone(),
                helpdesk(
                    r#"{"Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/*"}}"#,
                ),
            ],
        );
        let p = described(&keys, &arn("user", "helpdesk"));
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("user helpdesk → iam:CreateAccessKey on user root-ops → acts as user root-ops: administrator access"), "{p:?}");
        let own = details(
            vec![],
            vec![
                admin.clone(),
                helpdesk(
                    r#"{"Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"arn:aws:iam::*:user/${aws:username}"}}"#,
                ),
            ],
        );
        assert!(described(&own, &arn("user", "helpdesk")).is_empty());
        let mut group = details(
            vec![],
            vec![helpdesk(
                r#"{"Statement":{"Effect":"Allow","Action":"iam:AddUserToGroup","Resource":"*"}}"#,
            )],
        );
        group.groups.push(IamGroup {
            name: "admins".into(),
            arn: arn("group", "admins"),
            attached_policy_arns: vec![ADMIN_ARN.into()],
            inline_policies: vec![],
        });
        let p = described(&group, &arn("user", "helpdesk"));
        assert!(p[0].starts_with("user helpdesk → iam:AddUserToGroup on group admins → the permissions of group admins: administrator access"), "{p:?}");
        let trust = details(
            vec![admin_role("admin", "ec2.amazonaws.com")],
            vec![helpdesk(
                r#"{"Statement":{"Effect":"Allow","Action":"iam:UpdateAssumeRolePolicy","Resource":"*"}}"#,
            )],
        );
        let p = described(&trust, &arn("user", "helpdesk"));
        assert!(
            p[0].starts_with(
                "user helpdesk → iam:UpdateAssumeRolePolicy on role admin → acts as role admin"
            ),
            "{p:?}"
        );
        let no_assume = details(
            vec![admin_role("admin", "ec2.amazonaws.com")],
            vec![helpdesk(
                r#"{"Statement":[{"Effect":"Allow","Action":"iam:UpdateAssumeRolePolicy","Resource":"*"},{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*"}]}"#,
            )],
        );
        assert!(described(&no_assume, &arn("user", "helpdesk")).is_empty());
    }

    /// Two steps: a role that can create keys for a user who can pass an admin role to EC2.
    #[test]
    fn chains_and_instance_profiles() {
        let mut ec2_admin = admin_role("ec2-admin", "ec2.amazonaws.com");
        let builder = IamUser {
            name: "builder".into(),
            arn: arn("user", "builder"),
            inline_policies: inline(
                r#"{"Statement":{"Effect":"Allow","Action":["iam:PassRole","ec2:RunInstances"],"Resource":"*"}}"#,
            ),
            ..Default::default()
        };
        let keys = role(
            "key-maker",
            r#"{"Statement":{"Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}}"#,
            "lambda.amazonaws.com",
        );
        let d = details(vec![keys.clone(), ec2_admin.clone()], vec![builder.clone()]);
        // Not in an instance profile: EC2 cannot run with it.
        assert!(described(&d, &arn("role", "key-maker")).is_empty());
        ec2_admin.in_instance_profile = true;
        let d = details(vec![keys, ec2_admin], vec![builder]);
        let a = Analysis::new(&d, ACCOUNT, None);
        let i = a.find(&arn("role", "key-maker")).unwrap();
        let paths = a.paths(i, 5);
        assert_eq!(paths[0].steps.len(), 2, "{paths:?}");
        assert_eq!(
            paths[0].describe("role key-maker"),
            "role key-maker → iam:CreateAccessKey on user builder → acts as user builder → iam:PassRole on role ec2-admin + ec2:RunInstances → acts as role ec2-admin"
        );
        assert_eq!(paths[0].steps[1].actor, arn("user", "builder"));
    }

    /// CreatePolicyVersion on a policy it holds is any permission; SetDefaultPolicyVersion gives a
    /// stored version's permissions.
    #[test]
    fn policy_versions() {
        let pol = format!("arn:aws:iam::{ACCOUNT}:policy/dev");
        let mut d = details(
            vec![IamRole {
                name: "dev".into(),
                arn: arn("role", "dev"),
                attached_policy_arns: vec![pol.clone()],
                ..Default::default()
            }],
            vec![],
        );
        d.policies.push(ManagedPolicy {
            name: "dev".into(),
            arn: pol.clone(),
            customer_managed: true,
            default_document: Some(
                r#"{"Statement":{"Effect":"Allow","Action":"iam:SetDefaultPolicyVersion","Resource":"arn:aws:iam::111122223333:policy/dev"}}"#.into(),
            ),
            other_versions: vec![r#"{"Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}}"#.into()],
            ..Default::default()
        });
        let p = described(&d, &arn("role", "dev"));
        assert_eq!(p, ["role dev → iam:SetDefaultPolicyVersion on policy dev → the permissions of a stored version of policy dev: every action of dynamodb on every resource"]);
        d.policies[1].default_document = Some(
            r#"{"Statement":{"Effect":"Allow","Action":"iam:CreatePolicyVersion","Resource":"arn:aws:iam::111122223333:policy/dev"}}"#.into(),
        );
        let p = described(&d, &arn("role", "dev"));
        assert!(p[0].starts_with("role dev → iam:CreatePolicyVersion on policy dev → any permission written into policy dev: administrator access"), "{p:?}");
    }
}
