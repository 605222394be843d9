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
    run_as(args, ("testing", "testing"))
}

/// Runs the agent with the access key `(id, secret)` and the given arguments.
pub fn run_as(args: &[&str], (key_id, secret): (&str, &str)) -> Output {
    Command::new(binary())
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run maturity-agent")
}

/// A daemon (`maturity-agent run`) started by a test, with the emulator's credentials and extra
/// environment variables; killed on drop.
pub struct Daemon {
    child: Option<std::process::Child>,
    pub log: PathBuf,
}

impl Daemon {
    pub fn spawn(config: &std::path::Path, log: &std::path::Path, env: &[(&str, &str)]) -> Daemon {
        let child = Command::new(binary())
            .args(["run", "--config"])
            .arg(config)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .expect("daemon log"),
            )
            .spawn()
            .expect("spawn the daemon");
        Daemon {
            child: Some(child),
            log: log.to_owned(),
        }
    }

    /// The process, for a test that stops it by hand (no kill on drop any more).
    pub fn into_child(mut self) -> std::process::Child {
        self.child.take().expect("running")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, |c| c.id())
    }

    /// Polls `f` every 100 ms until it gives `Some`, for at most `secs` seconds; on timeout, or
    /// as soon as the daemon has exited (a refused config, a crash), panics with the daemon's log.
    pub fn wait_for<T>(&self, secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
        let pid = self.pid();
        wait_for(secs, what, &self.log, || {
            if let Some(v) = f() {
                return Some(v);
            }
            // An exited child stays a zombie until it is waited for: its state is `Z`.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next());
            if pid != 0 && matches!(state, Some("Z") | None) {
                panic!(
                    "the daemon exited while waiting for {what}; its log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            None
        })
    }

    /// SIGTERM, then waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        child.wait().expect("wait for the daemon")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls `f` every 100 ms until it gives `Some`, for at most `secs` seconds; on timeout panics with
/// the log at `log`.
pub fn wait_for<T>(
    secs: u64,
    what: &str,
    log: &std::path::Path,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if std::time::Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}; daemon log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Writes `agent.toml` in `dir`: one demo account audited on `cron` through `endpoint`, the daemon
/// listening on `port`, SQLite state in `dir`, root MFA disabled (moto cannot hold it), and `extra`
/// TOML appended. Returns its path.
pub fn one_account_config(
    dir: &std::path::Path,
    endpoint: &str,
    a: &crate::seed::DemoAccount,
    port: u16,
    cron: &str,
    extra: &str,
) -> PathBuf {
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{endpoint}\"\ncall_timeout_seconds = 3\nmax_attempts = 2\n\n\
             [audit]\naccount_timeout_seconds = 120\n\n\
             [[accounts]]\nid = \"{id}\"\nname = \"{name}\"\nrole_arn = \"{role}\"\nexternal_id = \"{ext}\"\n\n\
             [schedule]\ncron = \"{cron}\"\nshutdown_grace_seconds = 10\n\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n\n[state]\npath = \"{state}\"\n\n\
             [checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n\n{extra}",
            id = a.id,
            name = a.name,
            role = a.role_arn,
            ext = crate::seed::EXTERNAL_ID,
            state = dir.join("state.db").display(),
        ),
    )
    .expect("write agent.toml");
    path
}
