//! A moto server for one test, on a free loopback port, behind the [`crate::shim`] that serves what
//! moto 5.2.5 lacks.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server behind its shim; both stopped when dropped (moto by SIGTERM to the
/// script, which stops it).
pub struct Moto {
    child: Child,
    /// The shim's port: every request to it reaches moto unless the shim serves it.
    pub port: u16,
    /// `http://127.0.0.1:PORT` of the shim: the endpoint tests, seeds and the agent use.
    pub endpoint: String,
    /// moto's own endpoint, without the shim.
    pub moto_endpoint: String,
    _shim: crate::shim::Shim,
}

impl Moto {
    /// Starts moto, waits until it accepts connections, and starts the shim in front of it. Panics, saying how to install it, when
    /// moto is missing: a test never passes or skips without its emulator.
    pub fn start() -> Moto {
        let script = crate::project_root().join("scripts/moto-server");
        for _attempt in 0..3 {
            let port = crate::free_port();
            let log = std::env::temp_dir().join(format!("moto-{port}.log"));
            let mut child = Command::new("bash")
                .arg(&script)
                .args([
                    "run",
                    "--port",
                    &port.to_string(),
                    "--parent",
                    &std::process::id().to_string(),
                ])
                .args(["--log", log.to_str().unwrap_or("/dev/null")])
                .stdin(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if let Some(status) = child.try_wait().expect("wait for moto-server") {
                    let mut err = String::new();
                    if let Some(mut s) = child.stderr.take() {
                        let _ = std::io::Read::read_to_string(&mut s, &mut err);
                    }
                    if status.code() == Some(127) {
                        panic!("moto is not installed: {err}\nInstall it with: scripts/moto-server install");
                    }
                    eprintln!(
                        "moto-server exited early ({status}): {err}; retrying on another port"
                    );
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    pin_ecs_tasks(port);
                    let moto_endpoint = format!("http://127.0.0.1:{port}");
                    let shim = crate::shim::Shim::start(&moto_endpoint);
                    return Moto {
                        child,
                        port: shim.port,
                        endpoint: shim.endpoint.clone(),
                        moto_endpoint,
                        _shim: shim,
                    };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!(
                        "moto did not accept connections on port {port} within 60 s (log: {})",
                        log.display()
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("moto could not be started (three attempts)");
    }
}

/// moto advances an ECS task's state at every `DescribeTasks` (`RUNNING`, then `DEACTIVATING` …
/// `STOPPED`), so a task is never seen running twice; AWS keeps a task `RUNNING` until it is
/// stopped. moto's state manager (`/moto-api/state-manager/set-transition`) is told to advance
/// it only after a million descriptions.
fn pin_ecs_tasks(port: u16) {
    let body =
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#;
    let (status, answer) = crate::http::post(port, "/moto-api/state-manager/set-transition", body)
        .expect("moto set-transition");
    assert_eq!(
        status, 201,
        "moto refused the ECS task transition: {answer}"
    );
}

impl Moto {
    /// Turns IAM enforcement on from now: every later request must be signed with credentials moto
    /// knows (an IAM user's access key, or an assumed role's) and be allowed by their policies. This
    /// is moto's `INITIAL_NO_AUTH_ACTION_COUNT` set to 0 at run time through `/moto-api/reset-auth`
    /// (what its `set_initial_no_auth_action_count` decorator does in server mode), so that seeding
    /// needs no credentials and no count of its requests.
    pub fn enforce_iam(&self) {
        let (status, body) =
            crate::http::post(self.port, "/moto-api/reset-auth", "0").expect("moto reset-auth");
        assert!(
            status == 200 && body.contains("PREVIOUS_INITIAL_NO_AUTH_ACTION_COUNT"),
            "moto refused to enforce IAM: HTTP {status}: {body}"
        );
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
        let _ = self.child.wait();
    }
}
