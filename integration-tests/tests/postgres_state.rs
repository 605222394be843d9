//! The daemon with its state in a real PostgreSQL (Debian's, a cluster of this test): over TLS
//! with a certificate of the test's own CA and the password in a file; `validate` checks the
//! `[state]` section (a wrong password, an unverifiable certificate: exit 64 naming the database);
//! and a team moving from SQLite with `state copy`, whose first audit in PostgreSQL compares with
//! the baseline saved in SQLite: a control broken across the move is one regression, nothing else is.

use integration_tests::agent::{run, Daemon};
use integration_tests::free_port;
use integration_tests::http::{get, sample};
use integration_tests::moto::Moto;
use integration_tests::postgres::Postgres;
use integration_tests::seed::{self, DemoAccount, Profile};
use std::path::{Path, PathBuf};
use std::process::Command;

const MFA: &str = "iam_console_users_mfa_enabled";

/// A CA and a server certificate for 127.0.0.1 signed by it (openssl): (ca, cert, key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca, ca_key) = (dir.join("ca.pem"), dir.join("ca.key"));
    let (cert, key, csr) = (
        dir.join("server.pem"),
        dir.join("server.key"),
        dir.join("server.csr"),
    );
    let ext = dir.join("ext.cnf");
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\n").unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is missing: apt-get install openssl (scripts/install-test-deps does)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "server.pem",
    ]);
    let _ = (ca_key, csr);
    (ca, cert, key)
}

/// A config auditing one demo account every 2 seconds, with its `[state]` section.
fn config(
    dir: &Path,
    name: &str,
    endpoint: &str,
    a: &DemoAccount,
    port: u16,
    state: &str,
) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{endpoint}\"\ncall_timeout_seconds = 3\nmax_attempts = 2\n\n\
             [audit]\naccount_timeout_seconds = 120\n\n\
             [[accounts]]\nid = \"{id}\"\nname = \"{name}\"\nrole_arn = \"{role}\"\nexternal_id = \"{ext}\"\n\n\
             [schedule]\ncron = \"*/2 * * * * *\"\nshutdown_grace_seconds = 10\n\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n\n[state]\n{state}\n\n\
             [checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n",
            id = a.id,
            name = a.name,
            role = a.role_arn,
            ext = seed::EXTERNAL_ID,
        ),
    )
    .unwrap();
    path
}

fn runs(port: u16) -> f64 {
    let text = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
    sample(&text, "maturity_audit_runs_total{result=\"success\"}").unwrap_or(0.0)
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn state_moves_from_sqlite_to_postgres_over_tls_and_keeps_the_baseline() {
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
    let prod = org.account(Profile::Production).clone();
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificates(dir.path());
    let pg = Postgres::start(Some((&cert, &key)));
    let db = pg.create_database();
    let password = dir.path().join("pg-password");
    std::fs::write(&password, format!("{}\n", pg.password)).unwrap();
    let url = pg.url(&db, "sslmode=require");

    // One agent on SQLite: two audits, its baseline.
    let sqlite = dir.path().join("state.db");
    let port = free_port();
    let cfg = config(
        dir.path(),
        "sqlite.toml",
        &moto.endpoint,
        &prod,
        port,
        &format!("path = \"{}\"", sqlite.display()),
    );
    let mut daemon = Daemon::spawn(&cfg, &dir.path().join("sqlite.log"), &[]);
    daemon.wait_for(120, "two audits on SQLite", || {
        (runs(port) >= 2.0).then_some(())
    });
    assert!(daemon.terminate().success());

    // The move.
    let from = format!("sqlite:{}", sqlite.display());
    let (pw, ca_arg) = (password.display().to_string(), ca.display().to_string());
    let out = run(&[
        "state",
        "copy",
        "--from",
        &from,
        "--to",
        &url,
        "--password-file",
        &pw,
        "--ca-file",
        &ca_arg,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).starts_with(&format!("copied {} to {url}: runs ", sqlite.display())),
        "{}",
        text(&out)
    );
    let copied: i64 = pg.psql(&db, "SELECT COUNT(*) FROM runs").parse().unwrap();
    assert!(copied >= 2, "{copied}");
    let out = run(&[
        "state",
        "copy",
        "--from",
        &from,
        "--to",
        &url,
        "--password-file",
        &pw,
        "--ca-file",
        &ca_arg,
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("already holds a state"),
        "{}",
        text(&out)
    );

    // `validate` connects as `run` would: the right password and CA pass; a wrong password, or a
    // certificate the default roots do not know, is exit 64 naming the database, never the password.
    let pg_port = free_port();
    let state = format!("url = \"{url}\"\npassword_file = \"{pw}\"\nca_file = \"{ca_arg}\"");
    let cfg = config(
        dir.path(),
        "pg.toml",
        &moto.endpoint,
        &prod,
        pg_port,
        &state,
    );
    let out = run(&["validate", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let wrong = dir.path().join("wrong-password");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    let bad = config(
        dir.path(),
        "bad.toml",
        &moto.endpoint,
        &prod,
        pg_port,
        &format!(
            "url = \"{url}\"\npassword_file = \"{}\"\nca_file = \"{ca_arg}\"",
            wrong.display()
        ),
    );
    let out = run(&["validate", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("state database {url}: "))
            && text(&out).contains("password authentication failed"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains(&pg.password));
    let unverified = config(
        dir.path(),
        "unverified.toml",
        &moto.endpoint,
        &prod,
        pg_port,
        &format!("url = \"{url}\"\npassword_file = \"{pw}\""),
    );
    let out = run(&["validate", "--config", unverified.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("state database {url}: "))
            && text(&out).contains("UnknownIssuer"),
        "{}",
        text(&out)
    );

    // A control broken across the move, then the agent on PostgreSQL.
    seed::break_mfa(&moto.endpoint, &prod.id).await;
    let mut daemon = Daemon::spawn(&cfg, &dir.path().join("pg.log"), &[]);
    daemon.wait_for(120, "an audit on PostgreSQL", || {
        (runs(pg_port) >= 1.0).then_some(())
    });
    let (status, body) = get(pg_port, "/api/v1/alerts").unwrap();
    assert_eq!(status, 200, "{body}");
    let alerts: serde_json::Value = serde_json::from_str(&body).unwrap();
    let regressions = alerts["regressions"].as_array().unwrap();
    assert!(
        regressions
            .iter()
            .any(|r| r["check"] == MFA && r["kind"] == "check_failed"),
        "the first audit in PostgreSQL compares with SQLite's baseline: {body}"
    );
    for r in regressions {
        let about_mfa =
            r["check"] == MFA || r["resources"].as_array().unwrap().iter().any(|x| x == MFA);
        assert!(about_mfa, "only the broken control regressed: {r}");
    }
    let ran: i64 = pg.psql(&db, "SELECT COUNT(*) FROM runs").parse().unwrap();
    assert!(ran > copied, "{ran} after {copied}");
    let status = daemon.terminate();
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(dir.path().join("pg.log")).unwrap_or_default()
    );
}

fn series(port: u16, name: &str) -> f64 {
    let text = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
    sample(&text, name).unwrap_or(0.0)
}

/// Three replicas on one PostgreSQL state, one moto, an organization of 30 accounts discovered
/// through AWS Organizations, a schedule of a few seconds and leases of 3 seconds: every cycle
/// audits each account exactly once (from the state's run records: none twice, none skipped), the
/// replicas share the accounts (each audits some) and serve the same levels; `kill -9` of the
/// lease holder right after a control breaks → the others audit its accounts and start the next
/// cycles, and the regression reaches a real Alertmanager (which notifies once) and the signed
/// webhook exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn replicas_share_the_accounts_and_alert_once_across_kill() {
    const SECRET: &str = "hook-secret-for-tests";
    const ACCOUNTS: usize = 30;
    let moto = Moto::start();
    let ids = seed::bare_organization(&moto.endpoint, ACCOUNTS, "replica-test").await;
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start(None);
    let db = pg.create_database();
    let receiver = integration_tests::receiver::Receiver::start(SECRET).await;
    // A real Alertmanager, which notifies the same receiver (path /alertmanager).
    let am = integration_tests::alertmanager::Alertmanager::start(
        dir.path(),
        &format!(
            "route:\n  receiver: agent-test\n  group_by: [alertname, account_id, check, practice]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: agent-test\n    webhook_configs:\n      - url: {}/alertmanager\n",
            receiver.url
        ),
    );
    // Two checks keep a cycle of 30 accounts within the schedule on moto.
    let disabled: Vec<String> = maturity_checks::catalog::CATALOG
        .iter()
        .map(|c| c.id())
        .filter(|id| *id != MFA && *id != "iam_password_policy_strong")
        .map(|id| format!("\"{id}\""))
        .collect();
    let env = [
        ("TEST_PG_PASSWORD", pg.password.as_str()),
        ("TEST_HOOK_SECRET", SECRET),
    ];
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut replicas: Vec<Option<Daemon>> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let path = dir.path().join(format!("r{i}.toml"));
            std::fs::write(
                &path,
                format!(
                    "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{endpoint}\"\ncall_timeout_seconds = 5\nmax_attempts = 2\n\n\
                     [audit]\naccount_timeout_seconds = 120\nmax_concurrent_accounts = 4\n\n\
                     [organization]\ndiscover = true\nrole_name = \"OrganizationAccountAccessRole\"\nexclude_account_ids = [\"123456789012\"]\n\n\
                     [schedule]\ncron = \"*/10 * * * * *\"\nshutdown_grace_seconds = 10\n\n\
                     [server]\nlisten = \"127.0.0.1:{port}\"\n\n\
                     [state]\nurl = \"{url}\"\npassword_env = \"TEST_PG_PASSWORD\"\nlease_seconds = 3\n\n\
                     [alerts]\nretry_initial_seconds = 0.5\nretry_max_seconds = 2\n\n\
                     [[alerts.sinks]]\ntype = \"alertmanager\"\nurls = [\"{am}\"]\n\n\
                     [[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{hook}/hook\"\nsecret_env = \"TEST_HOOK_SECRET\"\n\n\
                     [checks]\ndisabled = [{disabled}]\n",
                    endpoint = moto.endpoint,
                    url = pg.url(&db, "sslmode=disable"),
                    hook = receiver.url,
                    am = am.url,
                    disabled = disabled.join(", "),
                ),
            )
            .unwrap();
            Some(Daemon::spawn(&path, &dir.path().join(format!("r{i}.log")), &env))
        })
        .collect();
    let first = replicas[0].as_ref().unwrap();
    let complete = |n: usize| {
        let c = pg.cycles(&db);
        (c.iter().filter(|(_, k)| *k == ACCOUNTS).count() >= n).then_some(c)
    };
    first.wait_for(180, "two complete cycles", || complete(2));

    // Shared: every replica audited some of the accounts; each serves all of them alike.
    let audits: Vec<f64> = ports
        .iter()
        .map(|p| series(*p, "maturity_audit_accounts_total"))
        .collect();
    assert!(
        audits.iter().all(|n| *n > 0.0),
        "each replica audits a share: {audits:?}"
    );
    let level = format!(
        "maturity_account_level{{account_id=\"{}\",account_name=\"replica-test-00\"}}",
        ids[0]
    );
    first.wait_for(30, "every replica serves the same levels", || {
        let levels: Vec<Option<f64>> = ports
            .iter()
            .map(|p| {
                let text = get(*p, "/metrics").map(|(_, b)| b).unwrap_or_default();
                sample(&text, &level)
            })
            .collect();
        (levels[0].is_some() && levels.iter().all(|l| *l == levels[0])).then_some(())
    });
    let leaders: Vec<usize> = (0..3)
        .filter(|i| series(ports[*i], "maturity_replica_leader") == 1.0)
        .collect();
    assert_eq!(leaders.len(), 1, "one lease holder: {leaders:?}");
    let leader = leaders[0];

    // A control breaks, and the lease holder (which delivers the alerts) dies at once.
    seed::break_mfa(&moto.endpoint, &ids[0]).await;
    let mut dead = replicas[leader].take().unwrap().into_child();
    dead.kill().unwrap(); // SIGKILL
    dead.wait().unwrap();
    let killed = pg.cycles(&db).len();
    let survivor = replicas.iter().flatten().next().unwrap();
    let after = survivor.wait_for(
        120,
        "two more complete cycles without the dead replica",
        || {
            let c = complete(0).unwrap();
            (c.iter()
                .skip(killed)
                .filter(|(_, k)| *k == ACCOUNTS)
                .count()
                >= 2)
                .then_some(c)
        },
    );
    let mfa_firing = || {
        receiver
            .received("hook")
            .into_iter()
            .filter(|n| n.body["alert"]["labels"]["check"] == MFA && n.body["status"] == "firing")
            .collect::<Vec<_>>()
    };
    survivor.wait_for(60, "the regression reaches the webhook", || {
        (!mfa_firing().is_empty()).then_some(())
    });
    // Alertmanager holds the alert once and notified its receiver once, whichever replicas sent
    // or re-sent it (the labels never name a replica).
    let in_am = |a: &serde_json::Value| a["labels"]["check"] == MFA;
    let am_notices = || {
        receiver
            .received("alertmanager")
            .into_iter()
            .filter(|n| {
                n.body["alerts"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(in_am))
            })
            .count()
    };
    survivor.wait_for(60, "the alert in Alertmanager, notified", || {
        (am_notices() >= 1).then_some(())
    });
    assert_eq!(
        am.alerts().iter().filter(|a| in_am(a)).count(),
        1,
        "{:?}",
        am.alerts()
    );
    let am_notices = am_notices();
    assert_eq!(am_notices, 1, "Alertmanager notified once");
    let notices = mfa_firing();
    assert_eq!(
        notices.len(),
        1,
        "{:?}",
        notices.iter().map(|n| &n.body).collect::<Vec<_>>()
    );
    assert_eq!(notices[0].signature_ok, Some(true));
    assert_eq!(
        notices[0].body["alert"]["labels"]["account_id"],
        ids[0].as_str()
    );
    // The labels are the account's and the check's only: the same whichever replica sends.
    let labels = notices[0].body["alert"]["labels"].as_object().unwrap();
    let keys: Vec<&str> = labels.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "account_id",
            "account_name",
            "alertname",
            "check",
            "practice",
            "severity"
        ]
    );

    // The run records: no cycle saved an account twice (the key forbids it) or more than 30, and
    // every cycle but the newest (maybe in progress, or skipped at a tick) saved all 30.
    eprintln!("accounts audited per replica before the kill: {audits:?}; cycles: {after:?}");
    let last = after.last().map(|(id, _)| *id);
    for (id, n) in &after {
        assert!(*n <= ACCOUNTS, "cycle {id}: {n} accounts");
        if Some(*id) != last && *n > 0 {
            assert_eq!(*n, ACCOUNTS, "cycle {id} skipped accounts: {after:?}");
        }
    }
    let twice = pg.psql(
        &db,
        "SELECT run_id, account_id FROM account_runs GROUP BY run_id, account_id HAVING COUNT(*) > 1",
    );
    assert!(twice.is_empty(), "{twice}");
    for r in replicas.iter_mut().flatten() {
        assert!(r.terminate().success());
    }
}
