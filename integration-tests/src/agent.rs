//! Runs the `maturity-agent` binary of this workspace.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The agent binary beside the test executable (`target/<profile>/maturity-agent`).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe dir").to_owned();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let bin = dir.join("maturity-agent");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p maturity-agent` (scripts/test does)",
        bin.display()
    );
    bin
}

/// Runs the agent with the emulator's credentials and the given arguments.
pub fn run(args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run maturity-agent")
}
