//! A real Alertmanager (Debian's `prometheus-alertmanager`) for one test, on a loopback port, bound
//! to the test process through `scripts/bound` so that it stops when the test does.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = "/usr/bin/prometheus-alertmanager";

/// A running Alertmanager; stopped on drop.
pub struct Alertmanager {
    child: Option<Child>,
    pub port: u16,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    config: PathBuf,
    storage: PathBuf,
    log: PathBuf,
}

impl Alertmanager {
    /// Starts Alertmanager with `config_yaml` in `dir`, on a free port, and waits until it is ready.
    /// Panics, saying how to install it, when the binary is missing.
    pub fn start(dir: &Path, config_yaml: &str) -> Alertmanager {
        assert!(
            Path::new(BINARY).exists(),
            "{BINARY} is missing: install Debian's Alertmanager with `apt-get install prometheus-alertmanager` (.ci/run does)"
        );
        let config = dir.join("alertmanager.yml");
        std::fs::write(&config, config_yaml).expect("write alertmanager.yml");
        let port = crate::free_port();
        let mut am = Alertmanager {
            child: None,
            port,
            url: format!("http://127.0.0.1:{port}"),
            config,
            storage: dir.join("alertmanager-data"),
            log: dir.join("alertmanager.log"),
        };
        am.restart();
        am
    }

    /// Starts it (again) on the same port and waits for `/-/ready`.
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("alertmanager log");
        let child = Command::new(crate::project_root().join("scripts/bound"))
            .args([&std::process::id().to_string(), "1800", "--", BINARY])
            .arg(format!("--config.file={}", self.config.display()))
            .arg(format!("--storage.path={}", self.storage.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start alertmanager");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, _)) = crate::http::get(self.port, "/-/ready") {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "Alertmanager did not get ready on port {}; its log:\n{}",
            self.port,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// Stops it (SIGTERM to the wrapper, which stops Alertmanager) and waits.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = c.wait();
        }
    }

    /// The alerts Alertmanager holds (`GET /api/v2/alerts`: active, not resolved).
    pub fn alerts(&self) -> Vec<serde_json::Value> {
        match crate::http::get(self.port, "/api/v2/alerts") {
            Ok((200, body)) => serde_json::from_str(&body).unwrap_or_default(),
            _ => vec![],
        }
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        self.stop();
    }
}
