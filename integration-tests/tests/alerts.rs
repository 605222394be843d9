//! Regression alerting end to end: moto (the demo organization), the daemon on a 2-second schedule,
//! a real Alertmanager (Debian's `prometheus-alertmanager`), and a local receiver standing in for a
//! signed webhook endpoint and Slack. Controls are broken and restored in the emulator through the
//! AWS SDK; what arrives is read from Alertmanager's own API and from the receiver.

use integration_tests::agent::Daemon;
use integration_tests::alertmanager::Alertmanager;
use integration_tests::controls::Controls;
use integration_tests::fault::FlakyProxy;
use integration_tests::free_port;
use integration_tests::http::{get, sample};
use integration_tests::moto::Moto;
use integration_tests::receiver::Receiver;
use integration_tests::seed::{self, DemoAccount, Profile};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "hook-secret-for-tests";
const MFA: &str = "iam_console_users_mfa_enabled";
const SSH: &str = "ec2_security_group_no_world_admin_ports";
const TRAIL: &str = "cloudtrail_multi_region_logging";

/// The one-account config of these tests (schedule `*/2 * * * * *`).
fn config(
    dir: &Path,
    endpoint: &str,
    a: &DemoAccount,
    port: u16,
    extra: &str,
) -> std::path::PathBuf {
    integration_tests::agent::one_account_config(dir, endpoint, a, port, "*/2 * * * * *", extra)
}

fn metrics(port: u16) -> String {
    get(port, "/metrics").map(|(_, b)| b).unwrap_or_default()
}

/// Successful runs of the daemon process so far.
fn runs(port: u16) -> f64 {
    sample(
        &metrics(port),
        "maturity_audit_runs_total{result=\"success\"}",
    )
    .unwrap_or(0.0)
}

fn am_alert<'a>(alerts: &'a [Value], check: &str) -> Option<&'a Value> {
    alerts.iter().find(|a| {
        a["labels"]["alertname"] == "MaturityCheckRegressed" && a["labels"]["check"] == check
    })
}

fn hook_notices(r: &Receiver, check: &str, status: &str) -> Vec<Value> {
    r.received("hook")
        .into_iter()
        .filter(|n| n.body["alert"]["labels"]["check"] == check && n.body["status"] == status)
        .map(|n| n.body)
        .collect()
}

/// Broken controls reach Alertmanager (labels, resources), the signed webhook and Slack; restored
/// controls resolve them; a regression made while Alertmanager is down is delivered once it is
/// back; restarting the agent sends nothing twice.
#[tokio::test(flavor = "multi_thread")]
async fn regressions_reach_every_sink_resolve_and_survive_restarts() {
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
    let prod = org.account(Profile::Production).clone();
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(SECRET).await;
    let mut am = Alertmanager::start(
        dir.path(),
        &format!(
            "route:\n  receiver: agent-test\n  group_by: [alertname, account_id, check, practice]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: agent-test\n    webhook_configs:\n      - url: {}/alertmanager\n        send_resolved: true\n",
            receiver.url
        ),
    );
    let port = free_port();
    let cfg = config(
        dir.path(),
        &moto.endpoint,
        &prod,
        port,
        &format!(
            "[alerts]\nagent_url = \"https://maturity.example.com\"\nresend_interval_seconds = 2\nretry_initial_seconds = 0.5\nretry_max_seconds = 2\n\n\
             [[alerts.sinks]]\ntype = \"alertmanager\"\nurls = [\"{am}\"]\n\n\
             [[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{hook}/hook\"\nsecret_env = \"TEST_HOOK_SECRET\"\nheaders = {{ X-Team = \"platform\" }}\n\n\
             [[alerts.sinks]]\ntype = \"slack\"\nurl_env = \"TEST_SLACK_URL\"\nmin_severity = \"high\"\n",
            am = am.url,
            hook = receiver.url
        ),
    );
    let slack_url = format!("{}/slack", receiver.url);
    let env = [
        ("TEST_HOOK_SECRET", SECRET),
        ("TEST_SLACK_URL", slack_url.as_str()),
    ];
    let log = dir.path().join("agent.log");
    let mut daemon = Daemon::spawn(&cfg, &log, &env);
    daemon.wait_for(120, "two audits", || (runs(port) >= 2.0).then_some(()));
    assert!(
        receiver.received("hook").is_empty(),
        "the first runs raise nothing"
    );
    assert!(am.alerts().is_empty());
    let controls = Controls::new(&moto.endpoint, &prod.id).await;
    // Creating the closed bastion group is no regression: wait for a run that saw it.
    let seen = runs(port);
    daemon.wait_for(60, "a run after the new group", || {
        (runs(port) >= seen + 2.0).then_some(())
    });
    assert!(
        receiver.received("hook").is_empty(),
        "{:?}",
        receiver.received("hook")
    );

    controls.break_all().await;
    let alerts = daemon.wait_for(90, "three regression alerts in Alertmanager", || {
        let a = am.alerts();
        [MFA, SSH, TRAIL]
            .iter()
            .all(|c| am_alert(&a, c).is_some())
            .then_some(a)
    });
    let mfa = am_alert(&alerts, MFA).unwrap();
    assert_eq!(mfa["labels"]["account_id"], prod.id.as_str());
    assert_eq!(mfa["labels"]["account_name"], "production");
    assert_eq!(mfa["labels"]["practice"], "identity");
    assert_eq!(mfa["labels"]["severity"], "high");
    assert!(
        mfa["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains("alice"),
        "{mfa}"
    );
    assert!(!mfa["annotations"]["remediation"]
        .as_str()
        .unwrap()
        .is_empty());
    assert_eq!(
        mfa["generatorURL"],
        format!("https://maturity.example.com/api/v1/accounts/{}", prod.id)
    );
    let ssh = am_alert(&alerts, SSH).unwrap();
    assert_eq!(ssh["labels"]["practice"], "network");
    assert!(
        ssh["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains(&controls.sg),
        "{ssh}"
    );

    let hooks = daemon.wait_for(30, "webhook notifications", || {
        let h = hook_notices(&receiver, MFA, "firing");
        (!h.is_empty()).then_some(h)
    });
    let raw = receiver.received("hook");
    assert!(
        raw.iter().all(|r| r.signature_ok == Some(true)),
        "every webhook request is signed"
    );
    assert!(raw.iter().all(|r| r.headers["x-team"] == "platform"));
    assert!(raw
        .iter()
        .all(|r| r.headers.contains_key("x-maturity-delivery")));
    assert_eq!(hooks[0]["regressions"][0]["kind"], "check_failed");
    assert!(hooks[0]["regressions"][0]["resources"]
        .to_string()
        .contains("alice"));
    let slack = daemon.wait_for(30, "a Slack message", || {
        let s = receiver.received("slack");
        s.iter()
            .map(|m| {
                m.body["blocks"][0]["text"]["text"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .find(|t| t.contains("alice"))
    });
    assert!(slack.contains("production"), "{slack}");
    let text = metrics(port);
    for practice in ["identity", "network", "logging"] {
        let n = sample(
            &text,
            &format!(
                "maturity_regressions_total{{account_id=\"{}\",practice=\"{practice}\"}}",
                prod.id
            ),
        );
        assert!(n >= Some(1.0), "{practice}: {n:?}");
    }
    assert!(
        sample(
            &text,
            "maturity_alerts_sent_total{result=\"ok\",sink=\"alertmanager\"}"
        ) >= Some(1.0)
    );

    // Recovery resolves: Alertmanager drops the alerts and notifies "resolved" itself.
    controls.restore_all().await;
    daemon.wait_for(90, "alerts resolved in Alertmanager", || {
        let a = am.alerts();
        [MFA, SSH, TRAIL]
            .iter()
            .all(|c| am_alert(&a, c).is_none())
            .then_some(())
    });
    daemon.wait_for(30, "Alertmanager's resolved notification", || {
        receiver
            .received("alertmanager")
            .iter()
            .find(|n| {
                n.body["status"] == "resolved"
                    && n.body["alerts"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["labels"]["check"] == MFA))
            })
            .map(|_| ())
    });
    daemon.wait_for(30, "the webhook's resolved notification", || {
        (!hook_notices(&receiver, MFA, "resolved").is_empty()).then_some(())
    });

    // Alertmanager down during a regression: queued, retried, delivered after it restarts.
    am.stop();
    controls.ssh_open(true).await;
    daemon.wait_for(60, "the regression queued for Alertmanager", || {
        let t = metrics(port);
        (hook_notices(&receiver, SSH, "firing").len() >= 2
            && sample(&t, "maturity_alert_queue_depth{sink=\"alertmanager\"}") >= Some(1.0)
            && sample(
                &t,
                "maturity_alerts_sent_total{result=\"error\",sink=\"alertmanager\"}",
            ) >= Some(1.0))
        .then_some(())
    });
    am.restart();
    daemon.wait_for(60, "the queued alert in the restarted Alertmanager", || {
        am_alert(&am.alerts(), SSH).map(|_| ())
    });
    daemon.wait_for(30, "an empty queue", || {
        (sample(
            &metrics(port),
            "maturity_alert_queue_depth{sink=\"alertmanager\"}",
        ) == Some(0.0))
        .then_some(())
    });

    // A restart of the agent sends no notification twice.
    let before: Vec<String> = receiver
        .received("hook")
        .iter()
        .map(|r| r.body["id"].to_string())
        .collect();
    assert!(daemon.terminate().success());
    let mut daemon = Daemon::spawn(&cfg, &log, &env);
    daemon.wait_for(60, "two audits after the restart", || {
        (runs(port) >= 2.0).then_some(())
    });
    let after: Vec<String> = receiver
        .received("hook")
        .iter()
        .map(|r| r.body["id"].to_string())
        .collect();
    assert_eq!(
        before, after,
        "nothing new after the restart: the regression was already sent"
    );
    let mut unique = after.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), after.len(), "no notification id twice");
    assert!(
        am_alert(&am.alerts(), SSH).is_some(),
        "still firing: re-sent by the new process"
    );
    assert!(daemon.terminate().success());
}

/// The demo organization behind a fault proxy, a receiver as the webhook sink, and a daemon config
/// auditing the production account through the proxy.
struct Rig {
    _moto: Moto,
    prod: DemoAccount,
    proxy: FlakyProxy,
    dir: tempfile::TempDir,
    receiver: Receiver,
    port: u16,
    cfg: std::path::PathBuf,
}

impl Rig {
    /// `alerts` is the `[alerts]` section without sinks.
    async fn start(alerts: &str) -> Rig {
        let moto = Moto::start();
        let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
        let prod = org.account(Profile::Production).clone();
        let proxy = FlakyProxy::start(moto.port, Duration::from_secs(5)).await;
        let dir = tempfile::tempdir().unwrap();
        let receiver = Receiver::start(SECRET).await;
        let port = free_port();
        let sink = format!(
            "{alerts}\n[[alerts.sinks]]\ntype = \"webhook\"\nurl = \"{}/hook\"\n",
            receiver.url
        );
        let cfg = config(dir.path(), &proxy.endpoint, &prod, port, &sink);
        Rig {
            _moto: moto,
            prod,
            proxy,
            dir,
            receiver,
            port,
            cfg,
        }
    }

    fn daemon(&self) -> Daemon {
        Daemon::spawn(&self.cfg, &self.dir.path().join("agent.log"), &[])
    }
}

/// Faults of the emulator's API (500s, throttling, calls that never answer) on a share of the calls
/// raise no regression and no alert: unknown verdicts are never failures.
#[tokio::test(flavor = "multi_thread")]
async fn api_faults_raise_no_regression() {
    let rig = Rig::start(
        "[alerts]\naudit_failing_after_runs = 100\nnew_failing_resources_min_severity = \"low\"\n",
    )
    .await;
    let (proxy, receiver, port) = (&rig.proxy, &rig.receiver, rig.port);
    let daemon = rig.daemon();
    daemon.wait_for(120, "a clean baseline audit", || {
        (runs(port) >= 1.0).then_some(())
    });
    proxy.set_failure_percent(35);
    let start = runs(port);
    daemon.wait_for(240, "four audits under faults", || {
        (runs(port) >= start + 4.0).then_some(())
    });
    let text = metrics(port);
    assert!(
        proxy.injected() > 20,
        "faults were injected: {}",
        proxy.injected()
    );
    let errors: f64 = text
        .lines()
        .filter(|l| l.starts_with("maturity_aws_api_errors_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(errors > 0.0, "the agent saw the faults");
    let regressions: f64 = text
        .lines()
        .filter(|l| l.starts_with("maturity_regressions_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(regressions, 0.0, "{text}");
    assert!(
        receiver.received("hook").is_empty(),
        "{:?}",
        receiver.received("hook")
    );
    let (_, alerts) = get(port, "/api/v1/alerts").unwrap();
    let alerts: Value = serde_json::from_str(&alerts).unwrap();
    assert_eq!(alerts["active"], serde_json::json!([]), "{alerts}");
    assert_eq!(alerts["regressions"], serde_json::json!([]));
}

/// An account whose role cannot be assumed raises `MaturityAuditFailing` after the configured number
/// of failed runs in a row (not before), and it resolves when the account is audited again.
#[tokio::test(flavor = "multi_thread")]
async fn audit_failing_raises_then_resolves() {
    let rig = Rig::start("[alerts]\naudit_failing_after_runs = 3\n").await;
    let (proxy, receiver, port, prod) = (&rig.proxy, &rig.receiver, rig.port, &rig.prod);
    proxy.deny_assume_role(true);
    let daemon = rig.daemon();
    let failed_runs = |port| {
        sample(
            &metrics(port),
            "maturity_audit_runs_total{result=\"error\"}",
        )
        .unwrap_or(0.0)
    };
    daemon.wait_for(60, "two failed runs", || {
        (failed_runs(port) >= 2.0).then_some(())
    });
    assert!(
        receiver.received("hook").is_empty(),
        "two failures are below the threshold of three"
    );
    let firing = daemon.wait_for(60, "the audit-failing alert", || {
        receiver
            .received("hook")
            .into_iter()
            .find(|r| r.body["alert"]["labels"]["alertname"] == "MaturityAuditFailing")
    });
    assert_eq!(firing.body["status"], "firing");
    assert!(failed_runs(port) >= 3.0);
    assert_eq!(
        firing.body["alert"]["labels"]["account_id"],
        prod.id.as_str()
    );
    let description = firing.body["alert"]["annotations"]["description"].to_string();
    assert!(description.contains("AccessDenied"), "{description}");
    proxy.deny_assume_role(false);
    daemon.wait_for(60, "the resolution", || {
        receiver.received("hook").into_iter().find(|r| {
            r.body["alert"]["labels"]["alertname"] == "MaturityAuditFailing"
                && r.body["status"] == "resolved"
        })
    });
    let firing_count = receiver
        .received("hook")
        .iter()
        .filter(|r| r.body["status"] == "firing")
        .count();
    assert_eq!(
        firing_count, 1,
        "raised once, and the first audit raises no regression"
    );
}
