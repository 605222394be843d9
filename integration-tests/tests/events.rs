//! Event-driven re-checks end to end: moto (the demo organization and an SQS queue), the daemon with
//! `[events]` on and an hourly schedule (so that only the first audit and the events can find a
//! change), and a real Alertmanager. A control is broken in the emulator through the AWS SDK and
//! the CloudTrail-shaped EventBridge event AWS would emit is sent to the queue: the regression
//! reaches Alertmanager, and undoing the change resolves it. Duplicates, a burst, a spoofed source,
//! an account that is not audited and a poison message are counted and dropped, never acted on.

use integration_tests::agent::Daemon;
use integration_tests::alertmanager::Alertmanager;
use integration_tests::controls::Controls;
use integration_tests::events::{event, event_at, put_cloudtrail_event, Queue};
use integration_tests::fault::{FlakyProxy, SqsFault};
use integration_tests::free_port;
use integration_tests::http::{get, sample};
use integration_tests::moto::Moto;
use integration_tests::seed::{self, DemoAccount, Profile};
use serde_json::Value;
use std::path::Path;

const SSH: &str = "ec2_security_group_no_world_admin_ports";
const MFA: &str = "iam_console_users_mfa_enabled";
const TRAIL: &str = "cloudtrail_multi_region_logging";

/// The one-account config of these tests (schedule `0 0 * * * *`).
fn config(
    dir: &Path,
    endpoint: &str,
    a: &DemoAccount,
    port: u16,
    extra: &str,
) -> std::path::PathBuf {
    integration_tests::agent::one_account_config(dir, endpoint, a, port, "0 0 * * * *", extra)
}

fn metrics(port: u16) -> String {
    get(port, "/metrics").map(|(_, b)| b).unwrap_or_default()
}

fn count(port: u16, series: &str) -> f64 {
    sample(&metrics(port), series).unwrap_or(0.0)
}

fn received(port: u16, result: &str) -> f64 {
    count(
        port,
        &format!("maturity_events_received_total{{result=\"{result}\"}}"),
    )
}

fn am_alert<'a>(alerts: &'a [Value], check: &str) -> Option<&'a Value> {
    alerts.iter().find(|a| {
        a["labels"]["alertname"] == "MaturityCheckRegressed" && a["labels"]["check"] == check
    })
}

/// A change made in the emulator plus its CloudTrail event → a regression alert within seconds,
/// without a scheduled audit; the change undone → resolved. Duplicates, a burst of 1,000 events
/// for one group (one re-check per debounce window it spans), a spoofed source, an unaudited
/// account and a poison message are dropped and counted; the queue ends empty. Events delivered
/// out of order, or long after their change, are judged on what AWS holds when they are
/// re-checked.
#[tokio::test(flavor = "multi_thread")]
async fn events_recheck_raise_and_resolve_within_seconds() {
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
    let prod = org.account(Profile::Production).clone();
    let legacy = org.account(Profile::Legacy).clone();
    let queue = Queue::create(&moto.endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let am = Alertmanager::start(
        dir.path(),
        "route:\n  receiver: none\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: none\n",
    );
    let port = free_port();
    let cfg = config(
        dir.path(),
        &moto.endpoint,
        &prod,
        port,
        &format!(
            "[alerts]\nresend_interval_seconds = 2\nretry_initial_seconds = 0.5\nretry_max_seconds = 2\n\n\
             [[alerts.sinks]]\ntype = \"alertmanager\"\nurls = [\"{am}\"]\n\n\
             [events]\nqueue_url = \"{queue}\"\ndebounce_seconds = 2\nwait_time_seconds = 1\nvisibility_timeout_seconds = 60\nretry_initial_seconds = 0.5\nretry_max_seconds = 2\n",
            am = am.url,
            queue = queue.url
        ),
    );
    let log = dir.path().join("agent.log");
    let daemon = Daemon::spawn(&cfg, &log, &[]);
    let full_runs = || count(port, "maturity_audit_runs_total{result=\"success\"}");
    daemon.wait_for(120, "the first audit", || {
        (full_runs() >= 1.0).then_some(())
    });
    let controls = Controls::new(&moto.endpoint, &prod.id).await;
    let rechecked = |port| count(port, "maturity_rechecks_total{result=\"success\"}");

    // The bastion group appears (closed): its event re-checks and raises nothing.
    queue
        .send(&event(
            "evt-create",
            &prod.id,
            "aws.ec2",
            "ec2.amazonaws.com",
            "CreateSecurityGroup",
        ))
        .await;
    daemon.wait_for(60, "the first re-check", || {
        (rechecked(port) >= 1.0).then_some(())
    });
    assert!(am.alerts().is_empty(), "{:?}", am.alerts());

    // SSH opened to the world, and its event: the alert arrives from a re-check alone.
    controls.ssh_open(true).await;
    let ssh_event = event(
        "evt-ssh-open",
        &prod.id,
        "aws.ec2",
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
    );
    queue.send(&ssh_event).await;
    let alerts = daemon.wait_for(60, "the SSH regression in Alertmanager", || {
        let a = am.alerts();
        am_alert(&a, SSH).is_some().then_some(a)
    });
    assert!(
        am_alert(&alerts, SSH).unwrap()["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains(&controls.sg),
        "{alerts:?}"
    );
    assert_eq!(
        full_runs(),
        1.0,
        "no scheduled audit ran: the re-check found it"
    );
    let report: Value = serde_json::from_str(
        &get(port, &format!("/api/v1/accounts/{}", prod.id))
            .unwrap()
            .1,
    )
    .unwrap();
    let ssh_check = report["account"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == SSH)
        .unwrap()
        .clone();
    assert_eq!(ssh_check["status"], "fail");
    assert!(
        ssh_check["rechecked"].is_object(),
        "the verdict says it comes from a re-check: {ssh_check}"
    );

    // The same event delivered again, a burst of 1,000 for the group, and messages that must not
    // be acted on.
    let before = (
        received(port, "duplicate"),
        received(port, "ignored"),
        received(port, "invalid"),
        rechecked(port),
    );
    queue.send(&ssh_event).await;
    let burst: Vec<String> = (0..1000)
        .map(|i| {
            event(
                &format!("evt-burst-{i}"),
                &prod.id,
                "aws.ec2",
                "ec2.amazonaws.com",
                "ModifySecurityGroupRules",
            )
        })
        .collect();
    let sending = std::time::Instant::now();
    queue.send_batch(&burst).await;
    let sent_in = sending.elapsed().as_secs_f64();
    queue
        .send(&event(
            "evt-spoofed",
            &prod.id,
            "aws.s3",
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
        ))
        .await;
    queue
        .send(&event(
            "evt-foreign",
            &legacy.id,
            "aws.ec2",
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
        ))
        .await;
    queue.send("this is not an event {").await;
    daemon.wait_for(60, "every message handled and deleted", || {
        let depth = block_on(queue.depth());
        (depth == 0
            && received(port, "duplicate") >= before.0 + 1.0
            && received(port, "ignored") >= before.1 + 2.0
            && received(port, "invalid") >= before.2 + 1.0)
            .then_some(())
    });
    // Debounce windows of 2 s from the first event of each: the burst spans
    // ceil(sent_in / 2) of them at most, plus the one the receives may still be in.
    let burst_rechecks = rechecked(port) - before.3;
    let windows = (sent_in / 2.0).ceil() + 1.0;
    assert!(
        burst_rechecks >= 1.0 && burst_rechecks <= windows,
        "1,000 events for one group sent in {sent_in:.1} s make one re-check per debounce window, at most {windows}, not {burst_rechecks}"
    );
    assert!(
        received(port, "debounced") >= 1000.0 - windows,
        "{}",
        metrics(port)
    );

    // Undone, with its event: resolved.
    controls.ssh_open(false).await;
    queue
        .send(&event(
            "evt-ssh-close",
            &prod.id,
            "aws.ec2",
            "ec2.amazonaws.com",
            "RevokeSecurityGroupIngress",
        ))
        .await;
    daemon.wait_for(60, "the SSH alert resolved", || {
        am_alert(&am.alerts(), SSH).is_none().then_some(())
    });

    // Out of order: SSH opened and closed again, the closing event delivered before the opening
    // one (whose eventTime is earlier). The re-check reads the group as it is (closed): no
    // regression, whatever the order.
    // Every regression of the account, over its practices.
    let regressions = || -> f64 {
        let prefix = format!("maturity_regressions_total{{account_id=\"{}\",", prod.id);
        metrics(port)
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    let (regressed, rechecks) = (regressions(), rechecked(port));
    let opened_at = chrono::Utc::now();
    controls.ssh_open(true).await;
    controls.ssh_open(false).await;
    let closed_at = chrono::Utc::now() + chrono::Duration::seconds(1);
    let ec2 =
        |id: &str, name: &str, at| event_at(id, &prod.id, "aws.ec2", "ec2.amazonaws.com", name, at);
    queue
        .send(&ec2(
            "evt-late-close",
            "RevokeSecurityGroupIngress",
            closed_at,
        ))
        .await;
    queue
        .send(&ec2(
            "evt-late-open",
            "AuthorizeSecurityGroupIngress",
            opened_at,
        ))
        .await;
    daemon.wait_for(60, "the re-check of the reordered events", || {
        (rechecked(port) > rechecks && block_on(queue.depth()) == 0).then_some(())
    });
    assert_eq!(
        regressions(),
        regressed,
        "no regression from reordered events"
    );
    assert_eq!(check_status(port, &prod.id, SSH), "pass");

    // Late: SSH opened now, its event stamped an hour ago (before the first audit): still
    // re-checked, and the regression raised.
    controls.ssh_open(true).await;
    queue
        .send(&ec2(
            "evt-old",
            "AuthorizeSecurityGroupIngress",
            chrono::Utc::now() - chrono::Duration::hours(1),
        ))
        .await;
    daemon.wait_for(60, "the regression from the late event", || {
        (regressions() > regressed).then_some(())
    });
    controls.ssh_open(false).await;
    queue
        .send(&event(
            "evt-ssh-close-again",
            &prod.id,
            "aws.ec2",
            "ec2.amazonaws.com",
            "RevokeSecurityGroupIngress",
        ))
        .await;
    daemon.wait_for(60, "the SSH alert resolved again", || {
        (check_status(port, &prod.id, SSH) == "pass" && am_alert(&am.alerts(), SSH).is_none())
            .then_some(())
    });

    // IAM (a global service: its events arrive in us-east-1) and CloudTrail (re-checked at once).
    controls.break_all().await;
    controls.ssh_open(false).await;
    queue
        .send(&event(
            "evt-mfa",
            &prod.id,
            "aws.iam",
            "iam.amazonaws.com",
            "DeactivateMFADevice",
        ))
        .await;
    queue
        .send(&event(
            "evt-trail",
            &prod.id,
            "aws.cloudtrail",
            "cloudtrail.amazonaws.com",
            "StopLogging",
        ))
        .await;
    daemon.wait_for(60, "the MFA and trail regressions", || {
        let a = am.alerts();
        (am_alert(&a, MFA).is_some() && am_alert(&a, TRAIL).is_some()).then_some(())
    });
    let lag = count(port, "maturity_event_lag_seconds_count");
    assert!(lag >= 4.0, "the lag of each re-check is observed: {lag}");
    assert_eq!(full_runs(), 1.0);
}

/// The status of `check` in the account's current report.
fn check_status(port: u16, account: &str, check: &str) -> String {
    let report: Value =
        serde_json::from_str(&get(port, &format!("/api/v1/accounts/{account}")).unwrap().1)
            .unwrap();
    report["account"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == check)
        .map(|c| c["status"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// Runs a future to completion from a synchronous closure (the test runtime is multi-threaded).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

/// SQS denied, then unreachable, while every other service answers: each failed receive is
/// logged and counted with backoff (not a tight loop), the scheduled audits go on, and an event
/// sent while the queue could not be read is re-checked once it can: nothing is lost.
#[tokio::test(flavor = "multi_thread")]
async fn queue_denied_or_unreachable_is_counted_with_backoff_and_loses_nothing() {
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
    let prod = org.account(Profile::Production).clone();
    let queue = Queue::create(&moto.endpoint).await;
    let proxy = FlakyProxy::start(moto.port, std::time::Duration::from_secs(5)).await;
    proxy.set_sqs(SqsFault::Denied);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = integration_tests::agent::one_account_config(
        dir.path(),
        &proxy.endpoint,
        &prod,
        port,
        "*/4 * * * * *",
        &format!(
            "[events]\nqueue_url = \"{}\"\ndebounce_seconds = 1\nwait_time_seconds = 1\nvisibility_timeout_seconds = 60\nretry_initial_seconds = 0.5\nretry_max_seconds = 2\n",
            queue.url
        ),
    );
    let log = dir.path().join("agent.log");
    let daemon = Daemon::spawn(&cfg, &log, &[]);
    let errors = || {
        count(
            port,
            "maturity_events_queue_errors_total{operation=\"ReceiveMessage\"}",
        )
    };
    let audits = || count(port, "maturity_audit_runs_total{result=\"success\"}");
    daemon.wait_for(120, "two audits while SQS is denied", || {
        (audits() >= 2.0 && errors() >= 3.0).then_some(())
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("the events queue cannot be read") && text.contains("AccessDenied"),
        "the log names the queue's failure: {text}"
    );
    // Backoff: doubling from 0.5 s to at most 2 s gives at most ~6 failures in 10 s; a loop
    // without it would fail hundreds of times.
    let before = errors();
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    let in_ten_seconds = errors() - before;
    assert!(
        (2.0..=8.0).contains(&in_ten_seconds),
        "{in_ten_seconds} failed receives in 10 s"
    );

    // Unreachable now; an SSH opening and its event arrive meanwhile.
    proxy.set_sqs(SqsFault::Unreachable);
    let controls = Controls::new(&moto.endpoint, &prod.id).await;
    controls.ssh_open(true).await;
    queue
        .send(&event(
            "evt-while-down",
            &prod.id,
            "aws.ec2",
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
        ))
        .await;
    let (errors_then, audits_then) = (errors(), audits());
    daemon.wait_for(
        60,
        "failed receives and audits while SQS is unreachable",
        || (errors() >= errors_then + 2.0 && audits() >= audits_then + 1.0).then_some(()),
    );
    assert_eq!(
        count(port, "maturity_rechecks_total{result=\"success\"}"),
        0.0
    );
    assert_eq!(queue.depth().await, 1, "the event waits in the queue");

    // SQS answers again: the waiting event is re-checked and deleted.
    proxy.set_sqs(SqsFault::None);
    daemon.wait_for(
        60,
        "the re-check of the event sent while SQS was down",
        || (count(port, "maturity_rechecks_total{result=\"success\"}") >= 1.0).then_some(()),
    );
    daemon.wait_for(30, "the queue emptied", || {
        let depth = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(queue.depth())
        });
        (depth == 0).then_some(())
    });
    assert_eq!(received(port, "rechecked"), 1.0);
}

/// The shipped EventBridge wiring, built in moto in the audited account (`maturity-agent
/// event-pattern`'s member rules on the default bus → the central bus → its rule → the queue):
/// an SSH opening whose CloudTrail record is put on the default bus reaches the agent in the
/// envelope EventBridge builds, and is re-checked into a failing verdict; a read-only call that no
/// rule subscribes to never reaches the queue. The agent runs with the account's own credentials
/// (moto routes a request to the account of its credentials, so the queue, the buses and the
/// agent share one account; the organization's cross-account hop, in which moto rewrites the
/// event's `account`, is left out).
#[tokio::test(flavor = "multi_thread")]
async fn events_through_the_shipped_eventbridge_rules_are_rechecked() {
    use aws_credential_types::provider::ProvideCredentials;
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
    let prod = org.account(Profile::Production).clone();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let account = seed::member_config(&mgmt, &prod.id).await.unwrap();
    let account = seed::in_region(&account, "us-east-1");
    let queue = Queue::create_in(&account).await;
    integration_tests::events::wire(
        &account,
        &maturity_agent::events::pattern_document(None),
        &queue,
    )
    .await;
    let creds = account
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = config(
        dir.path(),
        &moto.endpoint,
        &prod,
        port,
        &format!(
            "[events]\nqueue_url = \"{}\"\ndebounce_seconds = 1\nwait_time_seconds = 1\nvisibility_timeout_seconds = 60\n",
            queue.url
        ),
    );
    let log = dir.path().join("agent.log");
    let token = creds.session_token().unwrap_or_default().to_owned();
    let daemon = Daemon::spawn(
        &cfg,
        &log,
        &[
            ("AWS_ACCESS_KEY_ID", creds.access_key_id()),
            ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key()),
            ("AWS_SESSION_TOKEN", &token),
        ],
    );
    daemon.wait_for(120, "the first audit", || {
        (count(port, "maturity_audit_runs_total{result=\"success\"}") >= 1.0).then_some(())
    });
    let status = |check: &str| check_status(port, &prod.id, check);
    assert_eq!(status(SSH), "pass");

    // A read-only call: no rule matches it, nothing reaches the queue.
    put_cloudtrail_event(
        &account,
        &event(
            "evt-describe",
            &prod.id,
            "aws.ec2",
            "ec2.amazonaws.com",
            "DescribeSecurityGroups",
        ),
    )
    .await;
    // SSH opened, and the record CloudTrail would emit.
    let controls = Controls::new(&moto.endpoint, &prod.id).await;
    controls.ssh_open(true).await;
    put_cloudtrail_event(
        &account,
        &event(
            "evt-eb-ssh",
            &prod.id,
            "aws.ec2",
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
        ),
    )
    .await;
    daemon.wait_for(60, "the re-check of the event from EventBridge", || {
        (status(SSH) == "fail").then_some(())
    });
    assert_eq!(received(port, "rechecked"), 1.0, "{}", metrics(port));
    assert_eq!(received(port, "invalid") + received(port, "ignored"), 0.0);
    daemon.wait_for(30, "the queue emptied", || {
        (block_on(queue.depth()) == 0).then_some(())
    });
}
