//! The IAM policy evaluator the checks ask their questions of; no check reads policy text itself.
//!
//! - [`document`]: the JSON grammar (`PolicyDocument::parse`).
//! - [`actions`]: every AWS action (pinned data), pattern matching, action sets.
//! - [`grants`]: what documents grant once `Deny` and a permissions boundary apply: every action
//!   on every resource, the services held in full, a given action, administrator access.
//! - [`principal`]: those grants for the account's users (with their groups), groups and roles.
//! - [`trust`]: who outside the organization can assume a role.
//! - [`public`]: which statements of a resource policy let anyone use the resource.
//! - [`resource`]: one action on one named resource, with the request's context keys.
//! - [`escalation`]: privilege-escalation paths between the account's principals.

pub mod actions;
pub mod document;
pub mod escalation;
pub mod grants;
pub mod principal;
pub mod public;
pub mod resource;
pub mod trust;

pub use document::{PolicyDocument, PolicyError, Statement};
pub use grants::{describe_services, DocumentGrants, Grants, PrincipalKind};
pub use principal::{is_aws_managed, Effective, PolicyIndex};
