//! Test harness of maturity-agent against real components: the moto server (AWS emulator), the
//! demo organization seeder, the agent binary, and a fault-injecting endpoint.
//!
//! # Layout
//! - [`moto`]: starts moto on a free loopback port through `scripts/moto-server` and stops it on drop
//!   (the script also stops it when the test process dies), behind the [`shim`].
//! - [`shim`]: a loopback HTTP server in front of moto that serves the operations moto 5.2.5 lacks or
//!   answers in a form the SDK refuses, in AWS's wire format, and passes every other request on.
//! - [`seed`]: builds the demo organization through the real AWS SDK: a management account, and
//!   member accounts of distinct maturity reached through STS AssumeRole.
//! - [`agent`]: finds and runs the `maturity-agent` binary.
//! - [`fault`]: an HTTP endpoint on loopback that answers every request with one canned failure, and a
//!   proxy in front of moto that fails chosen requests.
//! - [`http`]: a minimal HTTP/1.1 GET client for the daemon's endpoints.
//! - [`alertmanager`]: a real Alertmanager on loopback; [`receiver`]: an HTTP receiver that records
//!   webhook, Slack and Alertmanager notifications and verifies webhook signatures.
//! - [`deploy`]: the deploy kit's dashboard queries, alert rules and YAML files as data.
//! - [`prometheus`]: a real Prometheus on loopback with a config derived from the shipped one, and
//!   a client for its query, rules and alerts API.
#![forbid(unsafe_code)]

pub mod agent;
pub mod alertmanager;
pub mod controls;
pub mod deploy;
pub mod events;
pub mod fault;
pub mod http;
pub mod moto;
pub mod prometheus;
pub mod receiver;
pub mod seed;
pub mod shim;

/// The project's root directory.
pub fn project_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free loopback port")
}
