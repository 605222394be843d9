//! The daemon end to end against moto: accounts discovered through Organizations, one account whose
//! audit role cannot be assumed (a proxy in front of moto denies it), scheduled runs every few
//! seconds, `/metrics`, the API and the page (rendered by headless Chromium), a change in the
//! emulator reaching the metrics, `kill -9` during a run, restart, and SIGTERM.

use integration_tests::fault::Proxy;
use integration_tests::http::{get, sample};
use integration_tests::moto::Moto;
use integration_tests::seed::{self, DemoOrg, Profile};
use maturity_checks::report::{AccountStatus, Report};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::process::{Child, Command};

use integration_tests::agent::wait_for;
use integration_tests::free_port;

/// This test kills and restarts by hand, so it keeps the process rather than the guard.
fn spawn_daemon(config: &Path, log: &Path) -> Child {
    integration_tests::agent::Daemon::spawn(config, log, &[]).into_child()
}

fn metrics(port: u16) -> String {
    get(port, "/metrics").map(|(_, b)| b).unwrap_or_default()
}

struct Killer(Child);
impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn daemon_audits_the_organization_on_schedule_and_survives_kill() {
    let moto = Moto::start();
    let org: DemoOrg = seed::seed_demo(&moto.endpoint).await.expect("seed");
    // A fourth member whose audit role cannot be assumed.
    let mgmt = seed::management_config(&moto.endpoint).await;
    let broken = aws_sdk_organizations::Client::new(&mgmt)
        .create_account()
        .email("aws+broken@example.com")
        .account_name("broken")
        .send()
        .await
        .unwrap()
        .create_account_status()
        .and_then(|s| s.account_id().map(str::to_owned))
        .unwrap();
    let proxy = Proxy::start(moto.port, format!("{broken}%3Arole")).await;

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("daemon.toml");
    std::fs::write(
        &config,
        format!(
            "[aws]\nregions = [\"us-east-1\", \"eu-west-1\"]\nendpoint_url = \"{endpoint}\"\ncall_timeout_seconds = 20\nmax_attempts = 2\n\n\
             [organization]\ndiscover = true\nrole_name = \"{role}\"\nexternal_id = \"{ext}\"\nexclude_account_ids = [\"{mgmt}\"]\n\n\
             [schedule]\ncron = \"*/2 * * * * *\"\nshutdown_grace_seconds = 10\n\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n\n[state]\npath = \"{state}\"\n\n\
             [checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n",
            endpoint = proxy.endpoint,
            role = seed::AUDIT_ROLE,
            ext = seed::EXTERNAL_ID,
            mgmt = org.management_account_id,
            state = dir.path().join("state/state.db").display(),
        ),
    )
    .unwrap();
    let log = dir.path().join("daemon.log");
    let mut daemon = Killer(spawn_daemon(&config, &log));

    // Ready once the first audit has finished.
    wait_for(90, "/readyz", &log, || {
        get(port, "/readyz").ok().filter(|(s, _)| *s == 200)
    });
    assert_eq!(get(port, "/healthz").unwrap(), (200, "ok\n".into()));
    let text = metrics(port);
    for a in &org.accounts {
        let (practices, level) = a.expected_levels();
        let labels = format!("account_id=\"{}\",account_name=\"{}\"", a.id, a.name);
        assert_eq!(
            sample(&text, &format!("maturity_account_level{{{labels}}}")),
            Some(f64::from(level)),
            "{}\n{text}",
            a.name
        );
        assert_eq!(
            sample(&text, &format!("maturity_account_up{{{labels}}}")),
            Some(1.0)
        );
        for (practice, l) in practices {
            assert_eq!(
                sample(
                    &text,
                    &format!("maturity_level{{{labels},practice=\"{practice}\"}}")
                ),
                Some(f64::from(l)),
                "{} {practice}",
                a.name
            );
        }
    }
    assert_eq!(
        sample(
            &text,
            &format!("maturity_account_up{{account_id=\"{broken}\",account_name=\"broken\"}}")
        ),
        Some(0.0),
        "{text}"
    );
    assert!(text.contains("maturity_aws_api_calls_total{operation=\"ListAccountsForParent\",service=\"organizations\"}"), "{text}");

    let (status, body) = get(port, "/api/v1/report").unwrap();
    assert_eq!(status, 200);
    let report: Report = serde_json::from_str(&body).unwrap();
    // Streamed from the store a few results at a time, it is exactly the report serialized whole.
    assert_eq!(body, serde_json::to_string(&report).unwrap());
    assert_eq!(
        report.accounts.len(),
        5,
        "four demo accounts (production, legacy, sandbox, security) and the broken one, not the management account"
    );
    let down = report.account(&broken).unwrap();
    assert_eq!(down.status, AccountStatus::Failed);
    assert!(
        down.error.as_deref().unwrap().contains("cannot assume"),
        "{:?}",
        down.error
    );

    // The page renders in a real browser: a heatmap row per account.
    // Kept outside the temp dir so that a person can look at it after the run.
    let shot = std::env::temp_dir().join("maturity-agent-heatmap.png");
    let dom = chromium(port, &shot);
    assert!(dom.contains("id=\"heatmap\""), "{dom}");
    let practices = report
        .accounts
        .iter()
        .find(|a| a.status == AccountStatus::Audited)
        .unwrap()
        .practices
        .len();
    let audited = report
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Audited)
        .count();
    assert_eq!(audited, 4, "production, legacy, sandbox, security");
    assert_eq!(
        dom.matches("data-level=").count(),
        audited * (1 + practices),
        "audited accounts × (account + practices)"
    );
    assert!(dom.contains("not audited: cannot assume"), "{dom}");
    // The second heatmap: a level per DSOMM sub-dimension for each audited account.
    assert!(dom.contains("id=\"dsomm\""), "{dom}");
    assert!(dom.matches("data-dsomm-level=").count() >= audited, "{dom}");
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "screenshot {} looks empty",
        shot.display()
    );

    // A change in the emulator reaches the metrics at a later scheduled run.
    let prod = org.account(Profile::Production);
    let iam = aws_sdk_iam::Client::new(&seed::member_config(&mgmt, &prod.id).await.unwrap());
    seed::console_user(&iam, "contractor", false).await.unwrap();
    let identity = format!(
        "maturity_level{{account_id=\"{}\",account_name=\"production\",practice=\"identity\"}}",
        prod.id
    );
    wait_for(60, "production's identity level to drop to 1", &log, || {
        (sample(&metrics(port), &identity) == Some(1.0)).then_some(())
    });
    let (_, body) = get(port, &format!("/api/v1/accounts/{}", prod.id)).unwrap();
    let account: serde_json::Value = serde_json::from_str(&body).unwrap();
    let history = account["history"].as_array().unwrap();
    let identity_levels: Vec<u64> = history
        .iter()
        .filter_map(|h| h["practices"]["identity"].as_u64())
        .collect();
    let before = prod
        .expected_levels()
        .0
        .iter()
        .find(|(p, _)| *p == "identity")
        .map(|(_, l)| u64::from(*l))
        .unwrap();
    assert!(
        before > 1,
        "the production profile must be above identity level 1 for this test"
    );
    assert!(
        identity_levels.contains(&1) && identity_levels.contains(&before),
        "{identity_levels:?}"
    );

    // kill -9 in the middle of a run, then restart: the previous state is intact and served at once.
    let runs_before = saved_runs(dir.path());
    wait_for(60, "a run in progress", &log, || {
        (sample(&metrics(port), "maturity_audit_in_progress") == Some(1.0)).then_some(())
    });
    kill(Pid::from_raw(daemon.0.id() as i32), Signal::SIGKILL).unwrap();
    let _ = daemon.0.wait();
    let after_kill = saved_runs(dir.path());
    assert!(
        after_kill >= runs_before,
        "runs were lost: {runs_before} before, {after_kill} after"
    );
    let store = maturity_agent::state::Store::open(&dir.path().join("state/state.db"))
        .expect("the state opens after kill -9");
    let last = store.latest_report().unwrap().expect("a saved run");
    assert_eq!(last.accounts.len(), 5, "the last saved run is whole");
    drop(store);

    let log2 = dir.path().join("daemon2.log");
    let mut daemon = Killer(spawn_daemon(&config, &log2));
    let (_, body) = wait_for(30, "the restored report", &log2, || {
        get(port, "/api/v1/report").ok().filter(|(s, _)| *s == 200)
    });
    let restored: Report = serde_json::from_str(&body).unwrap();
    assert_eq!(restored.accounts.len(), 5);
    wait_for(60, "/readyz after restart", &log2, || {
        get(port, "/readyz").ok().filter(|(s, _)| *s == 200)
    });

    // SIGTERM stops it cleanly with exit code 0.
    kill(Pid::from_raw(daemon.0.id() as i32), Signal::SIGTERM).unwrap();
    let status = wait_for(20, "exit after SIGTERM", &log2, || {
        daemon.0.try_wait().unwrap()
    });
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        std::fs::read_to_string(&log2).unwrap_or_default()
    );
}

fn saved_runs(dir: &Path) -> i64 {
    maturity_agent::state::Store::open(&dir.join("state/state.db"))
        .and_then(|s| s.run_count())
        .unwrap_or(0)
}

/// Renders the page in headless Chromium: saves a screenshot and returns the DOM.
fn chromium(port: u16, shot: &Path) -> String {
    let bin = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok())
        .unwrap_or_else(|| {
            panic!(
                "Chromium is missing: install Debian's chromium package (apt-get install chromium)"
            )
        });
    let profile = tempfile::tempdir().unwrap();
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
    ];
    let url = format!("http://127.0.0.1:{port}/");
    let out = Command::new(bin)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium --screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(bin)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
