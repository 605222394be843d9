//! Benchmark of event-driven re-checks: the lag from putting a CloudTrail event on the queue to the
//! regression (or its resolution) in a real Alertmanager, over `--changes` changes (default 50),
//! and the AWS API calls of one re-check against those of a full audit of the same account.
//!
//! Each change opens or closes SSH to the world on a security group of the demo's production
//! account (in moto) and sends the event AWS would emit; the daemon runs with an hourly schedule, so
//! only re-checks can see the changes. The lag includes the debounce window (`--debounce`, default
//! 2 s), the re-check, the save and the delivery to Alertmanager (polled every 100 ms).
//!
//! `cargo run -p integration-tests --bin bench-events -- --changes 50 --debounce 2`

use clap::Parser;
use integration_tests::agent::Daemon;
use integration_tests::alertmanager::Alertmanager;
use integration_tests::controls::Controls;
use integration_tests::events::{event, Queue};
use integration_tests::free_port;
use integration_tests::http::get;
use integration_tests::moto::Moto;
use integration_tests::seed::{self, Profile};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Changes to time (each opens or closes SSH and sends its event).
    #[arg(long, default_value_t = 50)]
    changes: usize,
    /// The agent's `events.debounce_seconds`.
    #[arg(long, default_value_t = 2.0)]
    debounce: f64,
}

const SSH: &str = "ec2_security_group_no_world_admin_ports";

fn metric_sum(port: u16, prefix: &str) -> f64 {
    get(port, "/metrics")
        .map(|(_, b)| b)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn ssh_alert_active(am: &Alertmanager) -> bool {
    am.alerts().iter().any(|a| {
        a["labels"]["alertname"] == "MaturityCheckRegressed" && a["labels"]["check"] == SSH
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let moto = Moto::start();
    let org = seed::seed_demo(&moto.endpoint).await.expect("seed");
    let prod = org.account(Profile::Production).clone();
    let queue = Queue::create(&moto.endpoint).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let am = Alertmanager::start(
        dir.path(),
        "route:\n  receiver: none\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: none\n",
    );
    let port = free_port();
    let cfg = dir.path().join("agent.toml");
    std::fs::write(
        &cfg,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{endpoint}\"\n\n\
             [[accounts]]\nid = \"{id}\"\nname = \"production\"\nrole_arn = \"{role}\"\nexternal_id = \"{ext}\"\n\n\
             [schedule]\ncron = \"0 0 * * * *\"\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n\n\
             [state]\npath = \"{state}\"\n\n[checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n\n\
             [alerts]\nresend_interval_seconds = 60\nretry_initial_seconds = 0.2\n\n\
             [[alerts.sinks]]\ntype = \"alertmanager\"\nurls = [\"{am}\"]\n\n\
             [events]\nqueue_url = \"{queue}\"\ndebounce_seconds = {debounce}\nwait_time_seconds = 20\nvisibility_timeout_seconds = 120\n",
            endpoint = moto.endpoint,
            id = prod.id,
            role = prod.role_arn,
            ext = seed::EXTERNAL_ID,
            state = dir.path().join("state.db").display(),
            am = am.url,
            queue = queue.url,
            debounce = args.debounce,
        ),
    )
    .expect("config");
    let daemon = Daemon::spawn(&cfg, &dir.path().join("agent.log"), &[]);
    daemon.wait_for(180, "the first audit", || {
        (metric_sum(port, "maturity_audit_runs_total{result=\"success\"}") >= 1.0).then_some(())
    });
    let full_audit_calls = metric_sum(port, "maturity_aws_api_calls_total");
    let controls = Controls::new(&moto.endpoint, &prod.id).await;
    queue
        .send(&event(
            "bench-create",
            &prod.id,
            "aws.ec2",
            "ec2.amazonaws.com",
            "CreateSecurityGroup",
        ))
        .await;
    daemon.wait_for(60, "the first re-check", || {
        (metric_sum(port, "maturity_rechecks_total{result=\"success\"}") >= 1.0).then_some(())
    });
    let calls_before = metric_sum(port, "maturity_aws_api_calls_total");
    let rechecks_before = metric_sum(port, "maturity_rechecks_total{result=\"success\"}");
    let mut lags = Vec::new();
    for i in 0..args.changes {
        let open = i % 2 == 0;
        controls.ssh_open(open).await;
        let name = if open {
            "AuthorizeSecurityGroupIngress"
        } else {
            "RevokeSecurityGroupIngress"
        };
        let start = Instant::now();
        queue
            .send(&event(
                &format!("bench-{i}"),
                &prod.id,
                "aws.ec2",
                "ec2.amazonaws.com",
                name,
            ))
            .await;
        daemon.wait_for(60, "the alert to follow the change", || {
            (ssh_alert_active(&am) == open).then_some(())
        });
        lags.push(start.elapsed().as_secs_f64());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rechecks =
        metric_sum(port, "maturity_rechecks_total{result=\"success\"}") - rechecks_before;
    let calls = metric_sum(port, "maturity_aws_api_calls_total") - calls_before;
    let mut sorted = lags.clone();
    sorted.sort_by(f64::total_cmp);
    let beyond = |v: f64| v - args.debounce;
    println!("changes                         {:>8}", lags.len());
    println!("debounce window                 {:>8.1} s", args.debounce);
    println!(
        "lag event → Alertmanager p50    {:>8.2} s  ({:.2} s beyond the window)",
        percentile(&sorted, 50.0),
        beyond(percentile(&sorted, 50.0))
    );
    println!(
        "lag event → Alertmanager p99    {:>8.2} s  ({:.2} s beyond the window)",
        percentile(&sorted, 99.0),
        beyond(percentile(&sorted, 99.0))
    );
    println!(
        "lag max                         {:>8.2} s",
        sorted[sorted.len() - 1]
    );
    println!("re-checks                       {:>8}", rechecks);
    println!(
        "API calls per re-check          {:>8.1}",
        calls / rechecks.max(1.0)
    );
    println!("API calls of the full audit     {:>8}", full_audit_calls);
}
