//! Benchmark of the daemon over an organization: seeds N member accounts (default 100) with a
//! realistic mix of resources, runs `maturity-agent run` with Organizations discovery, and prints the
//! first run's wall time, API calls, the daemon's peak RSS, and `/metrics` scrape latency measured
//! while that run is in progress.
//!
//! `cargo run -p integration-tests --bin bench-org -- --accounts 100`

use clap::Parser;
use integration_tests::http::{get, sample};
use integration_tests::moto::Moto;
use integration_tests::seed::{self, SeedResult};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Member accounts to create and audit.
    #[arg(long, default_value_t = 100)]
    accounts: usize,
}

/// A small realistic account: two console users (one without MFA), a scoped and (every fifth
/// account) an admin policy, three buckets with mixed settings, two security groups.
async fn populate(cfg: &aws_config::SdkConfig, i: usize) -> SeedResult<()> {
    let iam = aws_sdk_iam::Client::new(cfg);
    seed::console_user(&iam, "alice", true).await?;
    seed::console_user(&iam, "bob", i % 3 == 0).await?;
    if i % 5 == 0 {
        iam.create_policy()
            .policy_name("admin")
            .policy_document(seed::ADMIN_POLICY)
            .send()
            .await?;
    }
    for b in 0..3 {
        let name = format!(
            "bench-{i:03}-{b}-{}",
            cfg.region().map(|r| r.to_string()).unwrap_or_default()
        );
        seed::bucket(
            cfg,
            "us-east-1",
            &name,
            b != 2,
            (b == 0).then_some([true; 4]),
        )
        .await?;
    }
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let vpc = ec2
        .describe_vpcs()
        .send()
        .await?
        .vpcs()
        .first()
        .and_then(|v| v.vpc_id())
        .ok_or("no vpc")?
        .to_owned();
    seed::security_group(&ec2, &vpc, "web", &[(443, "0.0.0.0/0")]).await?;
    seed::security_group(
        &ec2,
        &vpc,
        "admin",
        &[(
            22,
            if i % 4 == 0 {
                "0.0.0.0/0"
            } else {
                "10.0.0.0/8"
            },
        )],
    )
    .await?;
    Ok(())
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[tokio::main]
async fn main() -> SeedResult<()> {
    let args = Args::parse();
    let moto = Moto::start();
    let mgmt = seed::management_config(&moto.endpoint).await;
    let org = aws_sdk_organizations::Client::new(&mgmt);
    org.create_organization().send().await?;
    let t = Instant::now();
    for i in 0..args.accounts {
        let out = org
            .create_account()
            .email(format!("a{i}@example.com"))
            .account_name(format!("member-{i:03}"))
            .send()
            .await?;
        let id = out
            .create_account_status()
            .and_then(|s| s.account_id())
            .ok_or("no id")?
            .to_owned();
        populate(&seed::member_config(&mgmt, &id).await?, i).await?;
    }
    let seeding = t.elapsed();

    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = dir.path().join("bench.toml");
    std::fs::write(
        &config,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{}\"\ncall_timeout_seconds = 60\n\n\
             [audit]\nmax_concurrent_accounts = 8\naccount_timeout_seconds = 900\n\n\
             [organization]\ndiscover = true\nrole_name = \"OrganizationAccountAccessRole\"\nexclude_account_ids = [\"123456789012\"]\n\n\
             [schedule]\ncron = \"0 0 0 1 1 *\"\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n\n\
             [state]\npath = \"{}\"\n\n[checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n",
            moto.endpoint,
            dir.path().join("state.db").display()
        ),
    )?;
    let mut daemon = std::process::Command::new(integration_tests::agent::binary())
        .args(["run", "--config"])
        .arg(&config)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut text;
    loop {
        let t = Instant::now();
        text = get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
        if !text.is_empty() && sample(&text, "maturity_audit_in_progress") == Some(1.0) {
            latencies.push(t.elapsed());
        }
        if sample(&text, "maturity_audit_runs_total{result=\"success\"}") == Some(1.0)
            || sample(&text, "maturity_audit_runs_total{result=\"partial\"}") == Some(1.0)
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(1800) {
            return Err("the first run did not finish within 30 minutes".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let wall = started.elapsed();
    let rss = vm_hwm_kib(daemon.id());
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = daemon.wait();

    let calls: f64 = text
        .lines()
        .filter(|l| l.starts_with("maturity_aws_api_calls_total{"))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum();
    let up = text
        .lines()
        .filter(|l| l.starts_with("maturity_account_up{") && l.ends_with(" 1"))
        .count();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    println!(
        "maturity-agent daemon benchmark: {} member accounts discovered through Organizations",
        args.accounts
    );
    println!(
        "seeding                    {:>10.1} s",
        seeding.as_secs_f64()
    );
    println!("first run (start to saved) {:>10.1} s", wall.as_secs_f64());
    println!("accounts up                {:>10}", up);
    println!("API calls                  {:>10.0}", calls);
    println!(
        "daemon peak RSS            {:>10.1} MiB",
        rss.map(|k| k as f64 / 1024.0).unwrap_or(f64::NAN)
    );
    println!("scrapes during the run     {:>10}", latencies.len());
    println!(
        "scrape latency p50/p99/max {:>6.1} / {:.1} / {:.1} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
