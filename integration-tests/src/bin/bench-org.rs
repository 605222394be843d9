//! Benchmark of the daemon over an organization: seeds N member accounts (default 100) with a
//! realistic mix of resources, runs `maturity-agent run` with Organizations discovery — one agent on
//! SQLite, or `--replicas R` agents sharing a PostgreSQL state (`--postgres` for one) — and prints
//! the first cycle's wall time, API calls (in all, and the most frequent operations: `--operations`, 15 by default), each
//! replica's peak RSS and CPU time, PostgreSQL's own CPU time per account audit, and `/metrics`
//! scrape latency measured while the cycle runs.
//!
//! `cargo run -p integration-tests --bin bench-org -- --accounts 100 [--replicas 3]`

use clap::Parser;
use integration_tests::http::{get, sample};
use integration_tests::moto::Moto;
use integration_tests::postgres::Postgres;
use integration_tests::seed::{self, SeedResult};
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Args {
    /// Member accounts to create and audit.
    #[arg(long, default_value_t = 100)]
    accounts: usize,
    /// Agents sharing one PostgreSQL state (more than one implies --postgres).
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// Keep the state in PostgreSQL (Debian's, a cluster of this benchmark) rather than SQLite.
    #[arg(long)]
    postgres: bool,
    /// How many operations to list with their calls, the most frequent first.
    #[arg(long, default_value_t = 15)]
    operations: usize,
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

/// User and system CPU seconds of a process (and, with `children`, of its live child processes).
fn cpu_seconds(pid: i32, children: bool) -> f64 {
    let ticks = |pid: i32| -> Option<(f64, i32)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let cpu = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        Some((cpu / 100.0, f.get(1)?.parse().ok()?))
    };
    let own = ticks(pid).map_or(0.0, |t| t.0);
    if !children {
        return own;
    }
    let kids: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(ticks)
        .filter(|(_, ppid)| *ppid == pid)
        .map(|(c, _)| c)
        .sum();
    own + kids
}

/// A `kB` figure of `/proc/PID/status`: `VmHWM` (peak RSS), `RssAnon` (the process's own memory,
/// without the mapped pages of its binary, which a debug build makes large).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
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
    let replicas = args.replicas.max(1);
    let pg = (args.postgres || replicas > 1).then(|| Postgres::start(None));
    let state = match &pg {
        Some(pg) => {
            let db = pg.create_database();
            format!(
                "url = \"{}\"\npassword_env = \"BENCH_PG_PASSWORD\"",
                pg.url(&db, "sslmode=disable")
            )
        }
        None => format!("path = \"{}\"", dir.path().join("state.db").display()),
    };
    let ports: Vec<u16> = (0..replicas)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
        })
        .collect::<Result<_, _>>()?;
    let mut daemons = Vec::new();
    for (i, port) in ports.iter().enumerate() {
        let config = dir.path().join(format!("bench-{i}.toml"));
        std::fs::write(
            &config,
            format!(
                "[aws]\nregions = [\"us-east-1\"]\nendpoint_url = \"{}\"\ncall_timeout_seconds = 60\n\n\
                 [audit]\nmax_concurrent_accounts = 8\naccount_timeout_seconds = 900\n\n\
                 [organization]\ndiscover = true\nrole_name = \"OrganizationAccountAccessRole\"\nexclude_account_ids = [\"123456789012\"]\n\n\
                 [schedule]\ncron = \"0 0 0 1 1 *\"\n\n[server]\nlisten = \"127.0.0.1:{port}\"\n\n\
                 [state]\n{state}\n\n[checks]\ndisabled = [\"iam_root_mfa_enabled\"]\n",
                moto.endpoint,
            ),
        )?;
        let daemon = std::process::Command::new(integration_tests::agent::binary())
            .args(["run", "--config"])
            .arg(&config)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(
                "BENCH_PG_PASSWORD",
                pg.as_ref().map(|p| p.password.as_str()).unwrap_or_default(),
            )
            .stderr(std::process::Stdio::null())
            .spawn()?;
        daemons.push(daemon);
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    let metrics = |port: u16| get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
    let up = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with("maturity_account_up{") && l.ends_with(" 1"))
            .count()
    };
    let total = |texts: &[String], name: &str| -> f64 {
        texts
            .iter()
            .flat_map(|t| t.lines())
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
            .sum()
    };
    let mut peak_anon = vec![0u64; daemons.len()];
    let texts = loop {
        for (peak, d) in peak_anon.iter_mut().zip(&daemons) {
            *peak = (*peak).max(status_kib(d.id(), "RssAnon").unwrap_or(0));
        }
        let t = Instant::now();
        let text = metrics(ports[0]);
        if sample(&text, "maturity_audit_in_progress") == Some(1.0) {
            latencies.push(t.elapsed());
        }
        let texts: Vec<String> = std::iter::once(text)
            .chain(ports[1..].iter().map(|p| metrics(*p)))
            .collect();
        // The cycle is done when every account was audited once and replica 0 serves them all.
        if total(&texts, "maturity_audit_accounts_total ") >= args.accounts as f64
            && up(&texts[0])
                + texts[0]
                    .lines()
                    .filter(|l| l.starts_with("maturity_account_up{") && l.ends_with(" 0"))
                    .count()
                >= args.accounts
        {
            break texts;
        }
        if started.elapsed() > Duration::from_secs(3600) {
            return Err("the first cycle did not finish within an hour".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let wall = started.elapsed();
    let per_replica: Vec<(f64, f64, f64, f64)> = daemons
        .iter()
        .zip(&texts)
        .zip(&peak_anon)
        .map(|((d, t), anon)| {
            (
                status_kib(d.id(), "VmHWM")
                    .map(|k| k as f64 / 1024.0)
                    .unwrap_or(f64::NAN),
                (*anon).max(status_kib(d.id(), "RssAnon").unwrap_or(0)) as f64 / 1024.0,
                cpu_seconds(d.id() as i32, false),
                sample(t, "maturity_audit_accounts_total").unwrap_or(0.0),
            )
        })
        .collect();
    let pg_cpu = pg
        .as_ref()
        .and_then(|p| p.postmaster())
        .map(|pid| cpu_seconds(pid, true));
    for d in &daemons {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(d.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    for d in &mut daemons {
        let _ = d.wait();
    }
    let calls = total(&texts, "maturity_aws_api_calls_total{");
    let up = up(&texts[0]);
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p) as usize)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    println!(
        "maturity-agent daemon benchmark: {} member accounts discovered through Organizations, {} replica(s), state in {}",
        args.accounts,
        replicas,
        if pg.is_some() { "PostgreSQL" } else { "SQLite" }
    );
    println!(
        "seeding                    {:>10.1} s",
        seeding.as_secs_f64()
    );
    println!("first cycle (start to saved) {:>8.1} s", wall.as_secs_f64());
    println!("accounts up                {:>10}", up);
    println!("API calls                  {:>10.0}", calls);
    // Per operation, the most frequent first, so that a change in the total can be traced.
    let mut by_operation: std::collections::BTreeMap<String, f64> = Default::default();
    for l in texts.iter().flat_map(|t| t.lines()) {
        let Some(labels) = l
            .strip_prefix("maturity_aws_api_calls_total{")
            .and_then(|r| r.split_once("} "))
        else {
            continue;
        };
        let label = |k: &str| {
            labels
                .0
                .split(',')
                .find_map(|p| p.strip_prefix(&format!("{k}=\"")))
                .map(|v| v.trim_end_matches('"').to_owned())
                .unwrap_or_default()
        };
        *by_operation
            .entry(format!("{}:{}", label("service"), label("operation")))
            .or_default() += labels.1.parse::<f64>().unwrap_or(0.0);
    }
    let mut by_operation: Vec<(String, f64)> = by_operation.into_iter().collect();
    by_operation.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (op, n) in by_operation.iter().take(args.operations) {
        println!("  {op:<44} {n:>10.0}");
    }
    for (i, (rss, anon, cpu, audited)) in per_replica.iter().enumerate() {
        println!(
            "replica {i}: peak RSS {rss:.1} MiB (anonymous {anon:.1} MiB, sampled), CPU {cpu:.1} s, accounts audited {audited:.0}"
        );
    }
    if let Some(cpu) = pg_cpu {
        println!(
            "PostgreSQL CPU             {:>10.1} s ({:.1} ms per account audit)",
            cpu,
            cpu * 1000.0 / args.accounts.max(1) as f64
        );
    }
    println!("scrapes during the cycle   {:>10}", latencies.len());
    println!(
        "scrape latency p50/p99/max {:>6.1} / {:.1} / {:.1} ms",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
