//! The audit engine of maturity-agent: it reads an AWS account's configuration once, judges it with
//! pure checks, and scores the account's maturity per practice on the OWASP DSOMM levels.
//!
//! # Layout
//! - [`collect`]: all AWS I/O. One collector per service reads the facts that the enabled checks need
//!   into an [`snapshot::AccountSnapshot`], counting every call ([`facts::CallRecorder`]) and keeping
//!   every failed read as a typed [`facts::FactError`].
//! - [`checks`]: one module per check, named `<service>_<resource>_<state>`; each is a pure function
//!   from the snapshot to [`model::Verdict`]s. [`catalog::CATALOG`] lists them with their metadata.
//! - [`docs`]: `docs/checks.md`, generated from the catalog (a test keeps it current).
//! - [`policy`]: the IAM policy evaluator (effective grants, administrator access, public trust).
//! - [`filter_pattern`]: CloudWatch Logs JSON filter patterns, parsed and evaluated.
//! - [`dsomm`]: the maturity-model activities the checks prove, verified against the model's data.
//! - [`exceptions`]: accepted findings (check, resource pattern, owner, expiry) applied before scoring.
//! - [`dsomm_export`]: the DSOMM app's team progress and evidence files from reports.
//! - [`scoring`]: the DSOMM level and score per practice and per account.
//! - [`audit`]: one account end to end (collect → evaluate → score) into a [`report::AccountReport`].
//! - [`last_accessed`]: the per-run budget and the cache of IAM's service last-accessed jobs.
//! - [`recheck`]: a targeted re-check of one account's affected checks after an event, merged into
//!   its last report.
//! - [`triggers`]: the CloudTrail events that can change each need's facts, and the EventBridge
//!   patterns of the deploy kit generated from them.
//!
//! Invariants: checks never do I/O; an API error is never a `pass` or a `fail`, only `unknown` with
//! the call and the error named; nothing here knows about HTTP serving, Prometheus or the CLI.
#![forbid(unsafe_code)]

pub mod audit;
pub mod catalog;
pub mod checks;
pub mod collect;
pub mod docs;
pub mod dsomm;
pub mod dsomm_export;
pub mod exceptions;
pub mod facts;
pub mod filter_pattern;
pub mod last_accessed;
pub mod model;
pub mod policy;
pub mod recheck;
pub mod report;
pub mod scoring;
pub mod settings;
pub mod snapshot;
pub mod triggers;
