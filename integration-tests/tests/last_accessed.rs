//! `iam_principal_unused_services` end to end: roles created in moto through the AWS SDK, their
//! service use and age seeded in the harness's shim (moto 5.2.5 answers the last-accessed
//! operations with HTTP 500, and no API back-dates a role), and the `maturity-agent` binary
//! auditing them — once with `audit` (no cache: the budget alone bounds the jobs), and as the
//! daemon, whose state keeps the reports between runs.

use chrono::{Duration, Utc};
use integration_tests::agent::{self, Daemon};
use integration_tests::http::get;
use integration_tests::moto::Moto;
use integration_tests::shim::DEFAULT_ACCOUNT;
use integration_tests::shim::{seed_failed_last_accessed, seed_last_accessed};
use maturity_checks::model::Status;
use maturity_checks::report::{AccountReport, Report};
use std::path::{Path, PathBuf};

const CHECK: &str = "iam_principal_unused_services";
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","ec2:DescribeInstances"],"Resource":"*"}]}"#;

/// Creates roles `names` in moto's default account, each holding s3 and ec2; returns their ARNs.
async fn roles(moto: &Moto, names: &[&str]) -> Vec<String> {
    let cfg = integration_tests::seed::management_config(&moto.endpoint).await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    let mut arns = Vec::new();
    for name in names {
        let out = iam
            .create_role()
            .role_name(*name)
            .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
            .send()
            .await
            .expect("create role");
        iam.put_role_policy()
            .role_name(*name)
            .policy_name("work")
            .policy_document(POLICY)
            .send()
            .await
            .expect("put role policy");
        arns.push(out.role().expect("role").arn().to_owned());
    }
    arns
}

/// A config auditing moto's default account with the agent's own credentials, every check but
/// this one and `iam_role_unused` disabled (an account whose every check is unknown is not
/// audited at all); `extra` is appended (settings, daemon sections).
fn config(dir: &Path, endpoint: &str, settings: &str, extra: &str) -> PathBuf {
    let others: Vec<String> = maturity_checks::catalog::CATALOG
        .iter()
        .map(|c| c.meta.id)
        .filter(|id| *id != CHECK && *id != "iam_role_unused")
        .map(|id| format!("\"{id}\""))
        .collect();
    let path = dir.join("agent.toml");
    std::fs::write(
        &path,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{endpoint}\"\ncall_timeout_seconds = 5\nmax_attempts = 2\n\n\
             [[accounts]]\nid = \"{DEFAULT_ACCOUNT}\"\nname = \"solo\"\n\n\
             [checks]\ndisabled = [{}]\n\n[checks.settings]\n{settings}\n\n{extra}",
            others.join(", ")
        ),
    )
    .expect("write agent.toml");
    path
}

fn audit(config: &Path) -> AccountReport {
    let out = agent::run(&[
        "audit",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let report: Report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    report.accounts.into_iter().next().expect("one account")
}

fn days_ago(days: i64) -> Option<chrono::DateTime<Utc>> {
    Some(Utc::now() - Duration::days(days))
}

/// Seeds role `arn` as created 200 days ago, having used s3 two days ago and ec2 150 days ago.
fn unused_ec2(moto: &Moto, arn: &str) {
    let ago = days_ago;
    seed_last_accessed(
        &moto.endpoint,
        arn,
        ago(200),
        &[("s3", ago(2)), ("ec2", ago(150))],
        0,
    );
}

/// The verdict of `arn` in the account's result of the check.
fn verdict<'a>(a: &'a AccountReport, arn: &str) -> &'a maturity_checks::model::Verdict {
    a.check(CHECK)
        .expect("the check ran")
        .verdicts
        .iter()
        .find(|v| v.resource == arn)
        .unwrap_or_else(|| panic!("no verdict for {arn}: {:?}", a.check(CHECK)))
}

/// A role that used s3 two days ago and ec2 150 days ago fails naming ec2 only; a role that used
/// both within 90 days passes, its job answered after two `IN_PROGRESS` polls; a role whose job
/// fails is unknown with IAM's reason. One job per role, one `Get` per poll: the calls are counted.
#[tokio::test(flavor = "multi_thread")]
async fn a_held_service_unused_for_the_days_fails_naming_it() {
    let moto = Moto::start();
    let arns = roles(&moto, &["app", "busy", "broken"]).await;
    let ago = days_ago;
    unused_ec2(&moto, &arns[0]);
    seed_last_accessed(
        &moto.endpoint,
        &arns[1],
        ago(200),
        &[("s3", ago(2)), ("ec2", ago(10))],
        2,
    );
    seed_failed_last_accessed(&moto.endpoint, &arns[2], "the report could not be built");
    let dir = tempfile::tempdir().unwrap();
    let a = audit(&config(dir.path(), &moto.endpoint, "", ""));
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    let app = verdict(&a, &arns[0]);
    assert_eq!(app.status, Status::Fail, "{app:?}");
    assert!(
        app.reason
            .contains("1 service it has not used for more than 90 days")
            && app.reason.contains("ec2 (last used ")
            && !app.reason.contains("s3"),
        "{}",
        app.reason
    );
    let busy = verdict(&a, &arns[1]);
    assert_eq!(busy.status, Status::Pass, "{busy:?}");
    assert!(
        busy.reason.contains("used each of the 2 services"),
        "{}",
        busy.reason
    );
    let broken = verdict(&a, &arns[2]);
    assert_eq!(broken.status, Status::Unknown, "{broken:?}");
    assert!(
        broken
            .reason
            .contains("failed (ServiceFailure: the report could not be built)"),
        "{}",
        broken.reason
    );
    assert_eq!(a.calls_of("GenerateServiceLastAccessedDetails"), 3);
    assert_eq!(a.calls_of("GetServiceLastAccessedDetails"), 1 + 3 + 1);

    // A role that is young is not failed for what it has not used yet; with 365 days the old
    // role's ec2 is within the window.
    let lax = config(dir.path(), &moto.endpoint, "unused_service_days = 365", "");
    assert_eq!(verdict(&audit(&lax), &arns[0]).status, Status::Pass);
}

/// `audit` keeps nothing: with one job per run, the first role by ARN is judged and the other is
/// unknown, naming the budget, never a pass.
#[tokio::test(flavor = "multi_thread")]
async fn without_a_cache_the_budget_leaves_the_rest_unknown() {
    let moto = Moto::start();
    let arns = roles(&moto, &["app", "busy"]).await;
    let dir = tempfile::tempdir().unwrap();
    let a = audit(&config(
        dir.path(),
        &moto.endpoint,
        "last_accessed_jobs_per_run = 1",
        "",
    ));
    assert_eq!(a.calls_of("GenerateServiceLastAccessedDetails"), 1);
    assert_eq!(verdict(&a, &arns[0]).status, Status::Pass);
    let waiting = verdict(&a, &arns[1]);
    assert_eq!(waiting.status, Status::Unknown);
    assert!(
        waiting
            .reason
            .contains("budget of 1 jobs per account and run"),
        "{}",
        waiting.reason
    );
}

/// The daemon with one job per run: the first run reads one role, the second reads the other and
/// takes the first from its state, the third starts no job at all and judges both from the kept
/// reports.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_spreads_principals_over_runs_and_keeps_their_reports() {
    let moto = Moto::start();
    let arns = roles(&moto, &["app", "busy"]).await;
    unused_ec2(&moto, &arns[0]);
    let dir = tempfile::tempdir().unwrap();
    let port = integration_tests::free_port();
    let path = config(
        dir.path(),
        &moto.endpoint,
        "last_accessed_jobs_per_run = 1",
        &format!(
            "[schedule]\ncron = \"*/4 * * * * *\"\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n\n[state]\npath = \"{}\"\n",
            dir.path().join("state.db").display()
        ),
    );
    let log = dir.path().join("daemon.log");
    let daemon = Daemon::spawn(&path, &log, &[]);
    let mut runs: Vec<Report> = Vec::new();
    while runs.len() < 3 {
        let report = daemon.wait_for(60, "a new run's report", || {
            let (status, body) = get(port, "/api/v1/report").ok()?;
            let r: Report = serde_json::from_str(&body).ok().filter(|_| status == 200)?;
            (runs.last().map(|l| l.started_at) != Some(r.started_at)).then_some(r)
        });
        runs.push(report);
    }
    let generated: Vec<u64> = runs
        .iter()
        .map(|r| r.accounts[0].calls_of("GenerateServiceLastAccessedDetails"))
        .collect();
    let status = |r: &Report, arn: &str| verdict(&r.accounts[0], arn).status;
    assert_eq!(generated[0], 1, "{generated:?}");
    assert_eq!(status(&runs[0], &arns[0]), Status::Fail);
    assert_eq!(status(&runs[0], &arns[1]), Status::Unknown);
    assert_eq!(generated[1], 1, "{generated:?}");
    assert_eq!(
        status(&runs[1], &arns[0]),
        Status::Fail,
        "kept from the first run"
    );
    assert_eq!(status(&runs[1], &arns[1]), Status::Pass);
    assert_eq!(generated[2], 0, "both reports kept: no job {generated:?}");
    assert_eq!(status(&runs[2], &arns[0]), Status::Fail);
    assert_eq!(status(&runs[2], &arns[1]), Status::Pass);
}
