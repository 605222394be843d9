//! maturity-agent, the program around the `maturity-checks` engine: configuration, the one-shot
//! audit's output, and the daemon (scheduler, state, metrics, HTTP).
//!
//! # Layout
//! - [`config`]: the TOML configuration, validated with line numbers.
//! - [`targets`]: which accounts a run audits (static list, Organizations discovery, rules).
//! - [`runner`]: the run loop apart from its clock (no overlap, skipped ticks, grace on shutdown).
//! - [`daemon`]: `run`: scheduler, state, metrics and HTTP wired together; `run_once` is one audit.
//! - [`state`]: the SQLite store; [`metrics`]: the Prometheus series; [`http`]: the server.
//! - [`output`]: the tables of the CLI; [`iam_policy`]: the least-privilege policy (`iam-policy`).
#![forbid(unsafe_code)]

pub mod config;
pub mod daemon;
pub mod http;
pub mod iam_policy;
pub mod metrics;
pub mod output;
pub mod runner;
pub mod state;
pub mod targets;
