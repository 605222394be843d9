//! Benchmark of one account's audit: seeds one emulated account with N buckets, N IAM users and N
//! security groups, runs `maturity-agent audit --format json`, and prints wall time, API calls per
//! operation, and the agent's peak RSS.
//!
//! `cargo run --release -p integration-tests --bin bench -- --n 1000`

use clap::Parser;
use futures::stream::{self, StreamExt};
use integration_tests::moto::Moto;
use integration_tests::seed;
use maturity_checks::report::Report;
use std::time::Instant;

#[derive(Parser)]
#[command(
    about = "Seed one account with N buckets, users and security groups, audit it, print figures"
)]
struct Args {
    /// How many buckets, users and security groups to create (each).
    #[arg(long, default_value_t = 1000)]
    n: usize,
}

type R<T> = seed::SeedResult<T>;

async fn populate(endpoint: &str, n: usize) -> R<()> {
    let cfg = seed::management_config(endpoint).await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2
        .describe_vpcs()
        .send()
        .await?
        .vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .ok_or("no vpc")?
        .to_owned();
    let (iam, ec2, cfg, vpc) = (&iam, &ec2, &cfg, &vpc);
    let results: Vec<R<()>> = stream::iter(0..n)
        .map(|i| async move {
            seed::bucket(
                cfg,
                "us-east-1",
                &format!("bench-{i:05}"),
                i % 2 == 0,
                (i % 3 == 0).then_some([true; 4]),
            )
            .await?;
            if i % 2 == 0 {
                seed::console_user(iam, &format!("user-{i:05}"), i % 4 == 0).await?;
            } else {
                iam.create_user()
                    .user_name(format!("user-{i:05}"))
                    .send()
                    .await?;
            }
            let rules: &[(i32, &str)] = if i % 10 == 0 {
                &[(22, "0.0.0.0/0")]
            } else {
                &[(443, "0.0.0.0/0")]
            };
            seed::security_group(ec2, vpc, &format!("sg-{i:05}"), rules).await?;
            Ok(())
        })
        .buffer_unordered(8)
        .collect()
        .await;
    results.into_iter().collect()
}

#[tokio::main]
async fn main() -> R<()> {
    let args = Args::parse();
    let moto = Moto::start();
    let t = Instant::now();
    populate(&moto.endpoint, args.n).await?;
    let seeding = t.elapsed();

    // A reference latency: one cheap call, repeated sequentially.
    let cfg = seed::management_config(&moto.endpoint).await;
    let iam = aws_sdk_iam::Client::new(&cfg);
    let t = Instant::now();
    for _ in 0..50 {
        iam.get_account_summary().send().await?;
    }
    let latency = t.elapsed().as_secs_f64() / 50.0;
    // The emulator's throughput under the agent's concurrency: moto serves requests one Python
    // thread at a time, so concurrency buys less against it than against AWS.
    let iam = &iam;
    let t = Instant::now();
    let parallel: Vec<_> = stream::iter(0..400)
        .map(|_| async move { iam.get_account_summary().send().await.map(|_| ()) })
        .buffer_unordered(maturity_checks::collect::PER_RESOURCE_CONCURRENCY)
        .collect()
        .await;
    parallel.into_iter().collect::<Result<Vec<()>, _>>()?;
    let throughput = 400.0 / t.elapsed().as_secs_f64();

    let dir = tempfile::tempdir()?;
    let config = dir.path().join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{}\"\ncall_timeout_seconds = 60\n\n\
             [audit]\naccount_timeout_seconds = 3600\n\n[[accounts]]\nid = \"123456789012\"\nname = \"bench\"\n\n\
             [checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n",
            moto.endpoint
        ),
    )?;
    let t = Instant::now();
    let out = std::process::Command::new(integration_tests::agent::binary())
        .args(["audit", "--format", "json", "--config"])
        .arg(&config)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()?;
    let wall = t.elapsed();
    let rusage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?;
    if !out.status.success() {
        return Err(format!("audit failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let report: Report = serde_json::from_slice(&out.stdout)?;
    let account = &report.accounts[0];
    let total: u64 = account.api_calls.iter().map(|c| c.count).sum();

    println!(
        "maturity-agent audit benchmark: one account, N = {} buckets, users and security groups",
        args.n
    );
    println!("seeding                 {:>10.1} s", seeding.as_secs_f64());
    println!("audit wall time         {:>10.2} s", wall.as_secs_f64());
    println!("API calls               {:>10}", total);
    println!(
        "reference call latency  {:>10.2} ms (GetAccountSummary, sequential)",
        latency * 1000.0
    );
    println!(
        "bound calls×latency/{:<2}  {:>10.2} s",
        maturity_checks::collect::PER_RESOURCE_CONCURRENCY,
        total as f64 * latency / maturity_checks::collect::PER_RESOURCE_CONCURRENCY as f64
    );
    println!(
        "emulator throughput     {:>10.0} calls/s at concurrency {}",
        throughput,
        maturity_checks::collect::PER_RESOURCE_CONCURRENCY
    );
    println!(
        "bound calls/throughput  {:>10.2} s",
        total as f64 / throughput
    );
    let cpu = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    println!(
        "agent CPU (user+sys)    {:>10.2} s",
        cpu(rusage.user_time()) + cpu(rusage.system_time())
    );
    println!(
        "peak RSS of the agent   {:>10.1} MiB",
        rusage.max_rss() as f64 / 1024.0
    );
    println!("errors                  {:>10}", account.errors.len());
    println!("calls per operation:");
    for c in &account.api_calls {
        println!(
            "  {:<14} {:<32} {:<10} {:>6}",
            c.service, c.operation, c.outcome, c.count
        );
    }
    Ok(())
}
