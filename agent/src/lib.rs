//! maturity-agent, the program around the `maturity-checks` engine: configuration, the one-shot
//! audit's output, and the daemon (scheduler, state, metrics, HTTP).
//!
//! # Layout
//! - [`config`]: the TOML configuration, validated with line numbers.
//! - [`targets`]: which accounts a run audits (static list, Organizations discovery, rules).
//! - [`runner`]: the run loop apart from its clock (no overlap, skipped ticks, grace on shutdown).
//! - [`daemon`]: `run`: scheduler, shared schedule, state, metrics and HTTP wired together.
//! - [`state`]: the store, SQLite or PostgreSQL behind one interface; [`metrics`]: the Prometheus series; [`http`]: the server.
//! - [`output`]: the tables of the CLI; [`iam_policy`]: the least-privilege policy (`iam-policy`).
//! - [`alerts`]: regressions, alerts, the durable outbox and the sinks (Alertmanager, webhook, Slack).
//! - [`events`]: re-checks from CloudTrail events (EventBridge → SQS): the `[events]` section,
//!   envelope verification, deduplication, debouncing.
//! - [`exceptions`]: the `[[exceptions]]` section (accepted findings); [`export`]: `export dsomm`
//!   and the `[[teams]]` section.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod config;
pub mod daemon;
pub mod events;
pub mod exceptions;
pub mod export;
pub mod http;
pub mod iam_policy;
pub mod metrics;
pub mod output;
pub mod runner;
pub mod state;
pub mod targets;
