//! The daemon's server over TLS with basic auth: probes answer without credentials, everything else
//! needs them. No AWS is needed: the one configured account points at a closed port and is down.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sk", "--max-time", "5", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("curl is missing ({e}): apt-get install curl"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "000"));
    (code.to_owned(), body.to_owned())
}

#[test]
fn tls_and_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("openssl is missing ({e}): apt-get install openssl"));
    assert!(status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("tls.toml");
    std::fs::write(
        &config,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"http://127.0.0.1:{closed}\"\ncall_timeout_seconds = 2\nmax_attempts = 1\n\n\
             [[accounts]]\nid = \"111111111111\"\nname = \"unreachable\"\n\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\ntls_cert_file = \"{}\"\ntls_key_file = \"{}\"\n\
             basic_auth_user = \"grafana\"\nbasic_auth_password_env = \"MATURITY_TEST_PASSWORD\"\n\n\
             [state]\npath = \"{}\"\n",
            cert.display(),
            key.display(),
            dir.path().join("state.db").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    let mut daemon = Command::new(integration_tests::agent::binary())
        .args(["run", "--config"])
        .arg(&config)
        .env("MATURITY_TEST_PASSWORD", "s3cret")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("https://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while curl(&[&format!("{base}/readyz")]).0 != "200" {
        assert!(
            Instant::now() < deadline,
            "not ready over TLS; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(curl(&[&format!("{base}/healthz")]).0, "200");
    assert_eq!(curl(&[&format!("{base}/metrics")]).0, "401");
    assert_eq!(
        curl(&["-u", "grafana:nope", &format!("{base}/metrics")]).0,
        "401"
    );
    let (code, body) = curl(&["-u", "grafana:s3cret", &format!("{base}/metrics")]);
    assert_eq!(code, "200");
    assert!(
        body.contains(
            "maturity_account_up{account_id=\"111111111111\",account_name=\"unreachable\"} 0"
        ),
        "{body}"
    );
    // Plain HTTP on the TLS port gets no page.
    assert_ne!(
        curl(&[&format!("http://127.0.0.1:{port}/healthz")]).0,
        "200"
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = daemon.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
