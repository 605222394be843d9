//! The calls of IAM's service last-accessed jobs per run, with and without the cache: `--roles`
//! roles (default 500) created in moto through the AWS SDK, their jobs served by the harness's
//! shim (each answered after `--polls` `IN_PROGRESS` polls, default 1), read by the real collector
//! with `last_accessed_jobs_per_run` = `--jobs` (default 50) for `--runs` runs (default 12): once
//! keeping the reports in the agent's SQLite state store (as `run` does), once keeping nothing (as
//! `audit` does). Prints, per run, the calls of each operation and how many roles were judged.
//!
//! `cargo run -p integration-tests --bin bench-last-accessed -- --roles 500 --jobs 50 --runs 12`

use clap::Parser;
use futures::StreamExt;
use integration_tests::moto::Moto;
use integration_tests::shim::{seed_last_accessed, DEFAULT_ACCOUNT};
use maturity_checks::collect::Collector;
use maturity_checks::facts::CallRecorder;
use maturity_checks::last_accessed::{AccessCache, Budget};
use maturity_checks::snapshot::{Need, PrincipalAccess};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 500)]
    roles: usize,
    #[arg(long, default_value_t = 50)]
    jobs: u32,
    #[arg(long, default_value_t = 12)]
    runs: usize,
    /// `IN_PROGRESS` answers before each job completes.
    #[arg(long, default_value_t = 1)]
    polls: u32,
}

struct Run {
    generate: u64,
    get: u64,
    other: u64,
    judged: usize,
    seconds: f64,
}

async fn run(config: &aws_config::SdkConfig, budget: &Budget) -> Run {
    let recorder = CallRecorder::new();
    let regions = vec!["us-east-1".to_owned()];
    let collector = Collector {
        config,
        account_id: DEFAULT_ACCOUNT,
        regions: &regions,
        s3_path_style: true,
        recorder: &recorder,
        last_accessed: budget,
    };
    let needs: BTreeSet<Need> = [Need::IamAuthorizationDetails, Need::IamServiceLastAccessed]
        .into_iter()
        .collect();
    let started = Instant::now();
    let snap = collector.collect(&needs).await;
    let seconds = started.elapsed().as_secs_f64();
    let count = |op: &str| -> u64 {
        recorder
            .counts()
            .iter()
            .filter(|c| c.operation == op)
            .map(|c| c.count)
            .sum()
    };
    let total: u64 = recorder.counts().iter().map(|c| c.count).sum();
    let (generate, get) = (
        count("GenerateServiceLastAccessedDetails"),
        count("GetServiceLastAccessedDetails"),
    );
    let judged = snap
        .iam
        .service_last_accessed
        .as_ref()
        .map(|m| {
            m.values()
                .filter(|a| matches!(a, PrincipalAccess::Known(_)))
                .count()
        })
        .unwrap_or(0);
    Run {
        generate,
        get,
        other: total - generate - get,
        judged,
        seconds,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let moto = Moto::start();
    let config = integration_tests::seed::management_config(&moto.endpoint).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","sqs:SendMessage"],"Resource":"*"}]}"#;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let arns: Vec<String> = futures::stream::iter(0..args.roles)
        .map(|i| {
            let iam = iam.clone();
            async move {
                let name = format!("app-{i:04}");
                let out = iam
                    .create_role()
                    .role_name(&name)
                    .assume_role_policy_document(trust)
                    .send()
                    .await
                    .expect("create role");
                iam.put_role_policy()
                    .role_name(&name)
                    .policy_name("work")
                    .policy_document(policy)
                    .send()
                    .await
                    .expect("put role policy");
                out.role().expect("role").arn().to_owned()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let used = Some(chrono::Utc::now() - chrono::Duration::days(3));
    for arn in &arns {
        seed_last_accessed(
            &moto.endpoint,
            arn,
            None,
            &[("s3", used), ("sqs", None)],
            args.polls,
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = maturity_agent::state::Store::open(&dir.path().join("state.db")).expect("store");
    let cache: Option<Arc<dyn AccessCache>> =
        maturity_agent::state::access::cache(Arc::new(store), |s| s);
    let settings = maturity_checks::settings::Settings {
        last_accessed_jobs_per_run: args.jobs,
        ..Default::default()
    };
    println!(
        "account: {} roles; last_accessed_jobs_per_run = {}; each job answered after {} IN_PROGRESS poll(s)",
        args.roles, args.jobs, args.polls
    );
    for (label, budget) in [
        ("with the cache (run)", Budget::of(&settings, cache)),
        ("without a cache (audit)", Budget::of(&settings, None)),
    ] {
        println!("\n{label}\n| run | Generate… | Get… | other calls | roles judged | seconds |\n|---|---|---|---|---|---|");
        let mut total = (0, 0);
        for i in 1..=args.runs {
            let r = run(&config, &budget).await;
            total = (total.0 + r.generate, total.1 + r.get);
            println!(
                "| {i} | {} | {} | {} | {} of {} | {:.2} |",
                r.generate, r.get, r.other, r.judged, args.roles, r.seconds
            );
        }
        println!(
            "| all {} runs | {} | {} | | | |",
            args.runs, total.0, total.1
        );
    }
}
