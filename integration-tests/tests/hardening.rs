//! The daemon probed as a hostile-but-fair reviewer would (issue #11): configs that would crash or
//! hang `run`, half-written auth, idle and trickling clients, a state store that stops taking
//! writes, and an account of which nothing can be read. No AWS is needed except in the last test
//! (moto behind a proxy that lets only STS through).

use integration_tests::agent::{binary, Daemon};
use integration_tests::fault::FlakyProxy;
use integration_tests::free_port;
use integration_tests::http::{get, sample};
use integration_tests::moto::Moto;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A config of one account behind a closed port (it is down, every run is short), served on
/// `port`, with `extra` appended (its own sections).
fn config(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let closed = free_port();
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"http://127.0.0.1:{closed}\"\ncall_timeout_seconds = 2\nmax_attempts = 1\n\n\
             [[accounts]]\nid = \"111111111111\"\nname = \"unreachable\"\n\n\
             [state]\npath = \"{}\"\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n{extra}",
            dir.join("state.db").display()
        ),
    )
    .unwrap();
    path
}

/// Runs the agent with `args`, killing it after `secs` (a hang is a failure, not a stuck test).
fn run_bounded(args: &[&str], env: &[(&str, &str)], secs: u64) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run maturity-agent");
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "maturity-agent {args:?} did not exit within {secs} s: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Every value that used to panic or hang `run`, every half-written pairing, and every outside
/// resource `run` needs: `validate` exits 64 naming the line (or the resource), and `run` exits 64
/// too, within seconds, never panicking.
#[test]
fn bad_configs_exit_64_from_validate_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let not_a_dir = dir.path().join("a-file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let cases: Vec<(String, String)> = vec![
        ("[alerts]\nretry_initial_seconds = 1e300\n".into(), "line 17: alerts.retry_initial_seconds = 1e300 is out of range".into()),
        ("[alerts]\nretry_max_seconds = inf\n".into(), "line 17: alerts.retry_max_seconds = inf is out of range".into()),
        ("[alerts]\nresend_interval_seconds = 9223372036854775807\n".into(), "line 17: alerts.resend_interval_seconds = 9223372036854775807 is out of range: 1 to 3600".into()),
        ("[audit]\naccount_timeout_seconds = 0\n".into(), "line 17: audit.account_timeout_seconds = 0 is out of range".into()),
        ("basic_auth_password_env = \"MATURITY_TEST_PW\"\n".into(), "line 16: server.basic_auth_password_env is set without server.basic_auth_user".into()),
        ("basic_auth_user = \"g\"\nbasic_auth_password_env = \"MATURITY_TEST_UNSET_PW\"\n".into(), "environment variable MATURITY_TEST_UNSET_PW is not set".into()),
        ("basic_auth_user = \"g\"\nbasic_auth_password_file = \"/nonexistent/pw\"\n".into(), "cannot read /nonexistent/pw".into()),
        ("tls_cert_file = \"/nonexistent/c.pem\"\n".into(), "line 16: server.tls_cert_file needs server.tls_key_file".into()),
        ("tls_cert_file = \"/nonexistent/c.pem\"\ntls_key_file = \"/nonexistent/k.pem\"\n".into(), "server TLS (/nonexistent/c.pem / /nonexistent/k.pem)".into()),
        ("[[alerts.sinks]]\ntype = \"slack\"\nurl_env = \"MATURITY_TEST_UNSET_SLACK\"\n".into(), "environment variable MATURITY_TEST_UNSET_SLACK is not set".into()),
    ];
    let mut cases = cases;
    // Values in the [aws] and [state] sections of the base config, replaced in place.
    let base = std::fs::read_to_string(config(dir.path(), port, "")).unwrap();
    let replaced = [
        (
            "max_attempts = 1",
            "max_attempts = 4294967295",
            "line 5: aws.max_attempts = 4294967295 is out of range: 1 to 20",
        ),
        (
            "max_attempts = 1",
            "max_attempts = 1\nmax_requests_per_second = 1e-20",
            "line 6: aws.max_requests_per_second = 1e-20 is out of range",
        ),
        (
            "[state]\n",
            "[state]\nretention_days = 1000000000\n",
            "line 12: state.retention_days = 1000000000 is out of range: 1 to 36500",
        ),
    ];
    for (case, (from, to, expected)) in replaced.iter().enumerate() {
        let path = dir.path().join(format!("replaced-{case}.toml"));
        std::fs::write(&path, base.replace(from, to)).unwrap();
        check_refused(&path, expected);
    }
    let state_under_a_file = base.replace(
        &dir.path().join("state.db").display().to_string(),
        &not_a_dir.join("state.db").display().to_string(),
    );
    let path = dir.path().join("state-under-file.toml");
    std::fs::write(&path, state_under_a_file).unwrap();
    check_refused(&path, "is not a directory");
    for (i, (extra, expected)) in cases.drain(..).enumerate() {
        let sub = dir.path().join(format!("case-{i}"));
        std::fs::create_dir(&sub).unwrap();
        let path = config(&sub, port, &extra);
        check_refused(&path, &expected);
    }
}

fn check_refused(path: &Path, expected: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let p = path.to_str().unwrap();
    let out = run_bounded(&["validate", "--config", p], &[], 30);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(64),
        "validate {expected}: {err}\n{text}"
    );
    assert!(
        err.contains(expected),
        "validate: expected {expected:?} in {err}\n{text}"
    );
    let out = run_bounded(&["run", "--config", p], &[], 30);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "run {expected}: {err}\n{text}");
    assert!(
        err.contains(expected),
        "run: expected {expected:?} in {err}\n{text}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// With `--log-format json`, a config error is a JSON event like every other log line.
#[test]
fn config_errors_are_json_with_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), free_port(), "max_connections = 0\n");
    let out = run_bounded(
        &[
            "--log-format",
            "json",
            "validate",
            "--config",
            path.to_str().unwrap(),
        ],
        &[],
        30,
    );
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().next().expect("one line");
    let event: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {err}"));
    assert_eq!(event["level"], "ERROR", "{event}");
    assert!(
        event["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("line 16: server.max_connections = 0 is out of range")),
        "{event}"
    );
}

/// The password file is trimmed like the sinks' secrets, so a trailing newline or space written
/// by an editor or `echo` does not lock everybody out.
#[test]
fn password_file_is_trimmed() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "  s3cret \r\n").unwrap();
    let path = config(
        dir.path(),
        port,
        &format!(
            "basic_auth_user = \"grafana\"\nbasic_auth_password_file = \"{}\"\n",
            pw.display()
        ),
    );
    let log = dir.path().join("daemon.log");
    let daemon = Daemon::spawn(&path, &log, &[]);
    daemon.wait_for(30, "/healthz", || get(port, "/healthz").ok());
    let auth = |creds: &str| {
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--max-time",
                "5",
                "-u",
                creds,
            ])
            .arg(format!("http://127.0.0.1:{port}/metrics"))
            .output()
            .unwrap_or_else(|e| panic!("curl is missing ({e}): apt-get install curl"));
        String::from_utf8_lossy(&out.stdout)
            .parse::<u16>()
            .unwrap_or(0)
    };
    assert_eq!(auth("grafana:s3cret"), 200);
    assert_eq!(auth("grafana:  s3cret "), 401);
    assert_eq!(get(port, "/metrics").unwrap().0, 401);
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("basic_auth=true"), "{log_text}");
}

/// Hundreds of idle and trickling sockets do not starve `/healthz`, and the server sheds them
/// after the header-read timeout; past `server.max_connections`, new connections are closed at
/// once and the probes answer again once the slow ones are shed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_and_trickling_clients_are_shed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = config(
        dir.path(),
        port,
        "max_connections = 400\nheader_read_timeout_seconds = 3\n",
    );
    let log = dir.path().join("daemon.log");
    let _daemon = Daemon::spawn(&path, &log, &[]);
    let started = Instant::now();
    while get(port, "/healthz").is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "no /healthz");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connect = || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect")
    };
    // 300 sockets that send nothing, 60 that send a header byte every 300 ms.
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(connect().await);
    }
    let mut trickling = Vec::new();
    for _ in 0..60 {
        let mut s = connect().await;
        trickling.push(tokio::spawn(async move {
            let opened = Instant::now();
            if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await
                .is_err()
            {
                return opened.elapsed();
            }
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if s.write_all(b"a").await.is_err() {
                    return opened.elapsed();
                }
                let mut buf = [0u8; 1];
                match tokio::time::timeout(Duration::from_millis(1), s.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return opened.elapsed(),
                    _ => {}
                }
                if opened.elapsed() > Duration::from_secs(30) {
                    return opened.elapsed();
                }
            }
        }));
    }
    // The probe keeps answering while they are held (the liveness probe's 1 s would be met).
    for _ in 0..5 {
        let t = Instant::now();
        let (status, body) = tokio::task::spawn_blocking(move || get(port, "/healthz"))
            .await
            .unwrap()
            .expect("/healthz answers");
        assert_eq!((status, body.as_str()), (200, "ok\n"));
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "/healthz took {:?}",
            t.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Past the cap (400): new connections are closed at once, without an answer.
    let mut over = Vec::new();
    for _ in 0..60 {
        over.push(connect().await);
    }
    let reads = over.iter_mut().map(|s| async move {
        let mut buf = [0u8; 16];
        matches!(
            tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    });
    let closed_at_once = futures::future::join_all(reads)
        .await
        .into_iter()
        .filter(|closed| *closed)
        .count();
    // 300 + 60 held, the cap is 400: at least 20 of these 60 are over it.
    assert!(
        closed_at_once >= 20,
        "only {closed_at_once} of 60 connections past the cap were closed"
    );
    // The idle sockets are shed after the 3 s header-read timeout (not held forever).
    for s in idle.iter_mut() {
        let mut buf = [0u8; 256];
        let shed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(shed.is_ok(), "an idle socket was not closed by the server");
    }
    for t in trickling {
        let held = t.await.unwrap();
        assert!(
            held < Duration::from_secs(10),
            "a trickling socket was held {held:?}"
        );
    }
    let (status, _) = tokio::task::spawn_blocking(move || get(port, "/healthz"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
}

/// `chattr +i` on a path, undone on drop (root ignores mode bits; the immutable flag stops it).
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(paths: &[PathBuf]) -> Immutable {
        for p in paths {
            let out = Command::new("chattr")
                .arg("+i")
                .arg(p)
                .output()
                .unwrap_or_else(|e| panic!("chattr is missing ({e}): apt-get install e2fsprogs"));
            assert!(
                out.status.success(),
                "chattr +i {}: {}",
                p.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Immutable(paths.to_vec())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = Command::new("chattr").arg("-i").arg(p).status();
        }
    }
}

/// A state store that stops taking writes shows: the save failures count, /readyz says why (with
/// the file), the metrics of the `MaturityStateNotSaved` rule move; once writable again it heals.
/// A database that cannot be written, or one of a newer schema, stops `run` at start (exit 64).
#[test]
fn a_state_store_that_cannot_be_written_shows_and_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let path = config(dir.path(), port, "[schedule]\ncron = \"*/2 * * * * *\"\n");
    let db = dir.path().join("state.db");
    let wal = dir.path().join("state.db-wal");
    let log = dir.path().join("daemon.log");
    let mut daemon = Daemon::spawn(&path, &log, &[]);
    daemon.wait_for(60, "ready", || {
        get(port, "/readyz").ok().filter(|(s, _)| *s == 200)
    });
    let metrics = || get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
    assert_eq!(
        sample(&metrics(), "maturity_state_save_failures_total"),
        Some(0.0)
    );
    assert!(sample(&metrics(), "maturity_state_last_save_timestamp_seconds").unwrap() > 0.0);
    {
        let _frozen = Immutable::set(&[db.clone(), wal.clone()]);
        let (_, why) = daemon.wait_for(30, "/readyz 503 after a failed save", || {
            get(port, "/readyz").ok().filter(|(s, _)| *s == 503)
        });
        assert!(
            why.contains("the last run could not be saved") || why.contains("not writable"),
            "{why}"
        );
        assert!(why.contains(&db.display().to_string()), "{why}");
        let text = daemon.wait_for(30, "a counted save failure", || {
            let t = metrics();
            (sample(&t, "maturity_state_save_failures_total")? >= 1.0).then_some(t)
        });
        let failed = sample(&text, "maturity_state_last_save_failure_timestamp_seconds").unwrap();
        let saved = sample(&text, "maturity_state_last_save_timestamp_seconds").unwrap();
        assert!(
            failed > saved,
            "the rule's condition holds: {failed} > {saved}"
        );
    }
    daemon.wait_for(30, "ready again once writable", || {
        get(port, "/readyz").ok().filter(|(s, _)| *s == 200)
    });
    let text = metrics();
    assert!(
        sample(&text, "maturity_state_last_save_timestamp_seconds").unwrap()
            >= sample(&text, "maturity_state_last_save_failure_timestamp_seconds").unwrap()
    );
    assert!(daemon.terminate().success());

    let p = path.to_str().unwrap();
    {
        let _frozen = Immutable::set(std::slice::from_ref(&db));
        for args in [["run", "--config", p], ["validate", "--config", p]] {
            let out = run_bounded(&args, &[], 30);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(64), "{args:?}: {err}");
            assert!(
                err.contains(&format!(
                    "state database {} cannot be written",
                    db.display()
                )),
                "{args:?}: {err}"
            );
        }
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    for args in [["run", "--config", p], ["validate", "--config", p]] {
        let out = run_bounded(&args, &[], 30);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "state database {} has schema version 99, newer than this agent's",
                db.display()
            )),
            "{args:?}: {err}"
        );
    }
}

/// Behind a network that lets STS through and nothing else, the account is not audited: with a
/// baseline its last levels are kept (`maturity_account_up 0`, no level rises or falls); without
/// one, there is no level at all; the run is not a success.
#[tokio::test(flavor = "multi_thread")]
async fn an_account_of_which_nothing_can_be_read_is_not_audited() {
    let moto = Moto::start();
    let proxy = FlakyProxy::start(moto.port, Duration::from_millis(50)).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let write = |dir: &Path, port: u16| {
        let path = dir.join("sts-only.toml");
        std::fs::write(
            &path,
            format!(
                "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{}\"\ncall_timeout_seconds = 5\nmax_attempts = 1\n\n\
                 [[accounts]]\nid = \"123456789012\"\nname = \"moto\"\n\n\
                 [schedule]\ncron = \"*/2 * * * * *\"\nshutdown_grace_seconds = 5\n\n\
                 [server]\nlisten = \"127.0.0.1:{port}\"\n\n[state]\npath = \"{}\"\n",
                proxy.endpoint,
                dir.join("state.db").display()
            ),
        )
        .unwrap();
        path
    };
    let path = write(dir.path(), port);
    let labels = "account_id=\"123456789012\",account_name=\"moto\"";
    let levels = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                l.starts_with("maturity_level{") || l.starts_with("maturity_account_level{")
            })
            .filter(|l| l.contains("123456789012"))
            .map(str::to_owned)
            .collect()
    };
    let log = dir.path().join("daemon.log");
    let daemon = Daemon::spawn(&path, &log, &[]);
    let metrics = move || get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
    let before = daemon.wait_for(180, "an audited run", || {
        let t = metrics();
        (sample(&t, &format!("maturity_account_up{{{labels}}}")) == Some(1.0)).then_some(t)
    });
    let baseline = levels(&before);
    assert!(!baseline.is_empty(), "{before}");
    let errors_before = sample(&before, "maturity_audit_runs_total{result=\"error\"}").unwrap();

    proxy.set_failure_percent(100);
    let after = daemon.wait_for(180, "the account down", || {
        let t = metrics();
        (sample(&t, &format!("maturity_account_up{{{labels}}}")) == Some(0.0)).then_some(t)
    });
    assert_eq!(
        levels(&after),
        baseline,
        "the levels changed because reads failed"
    );
    assert!(sample(&after, "maturity_audit_runs_total{result=\"error\"}").unwrap() > errors_before);
    let (_, body) = get(port, "/api/v1/report").unwrap();
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    let account = &report["accounts"][0];
    assert_eq!(account["status"], "failed", "{account}");
    assert!(
        account["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("no check could read the account")),
        "{account}"
    );
    drop(daemon);

    // Without a baseline: no level at all, in the metrics and in the one-shot report.
    let fresh = tempfile::tempdir().unwrap();
    let port2 = free_port();
    let path2 = write(fresh.path(), port2);
    let log2 = fresh.path().join("daemon.log");
    let daemon2 = Daemon::spawn(&path2, &log2, &[]);
    let text = daemon2.wait_for(180, "the first run", || {
        get(port2, "/readyz").ok().filter(|(s, _)| *s == 200)?;
        get(port2, "/metrics").ok().map(|(_, b)| b)
    });
    assert_eq!(
        sample(&text, &format!("maturity_account_up{{{labels}}}")),
        Some(0.0),
        "{text}"
    );
    assert!(levels(&text).is_empty(), "{text}");
    drop(daemon2);
    let out = run_bounded(
        &[
            "audit",
            "--config",
            path2.to_str().unwrap(),
            "--format",
            "json",
        ],
        &[],
        180,
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accounts"][0]["status"], "failed");
    assert!(report["accounts"][0]["level"].is_null());
    let _ = std::io::stdout().flush();
}
