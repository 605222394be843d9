//! Seeds the demo organization into an emulator and writes the agent config that audits it.
//!
//! `seed-demo --endpoint http://127.0.0.1:PORT --config-out FILE`

use clap::Parser;
use std::path::PathBuf;

#[derive(Parser)]
#[command(about = "Seed the demo organization into a moto server and write the agent's config")]
struct Args {
    /// The emulator's endpoint URL (loopback only).
    #[arg(long)]
    endpoint: String,
    /// Where to write the agent config for the seeded organization.
    #[arg(long)]
    config_out: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match integration_tests::seed::seed_demo(&args.endpoint).await {
        Ok(org) => {
            if let Err(e) = std::fs::write(&args.config_out, org.config_toml()) {
                eprintln!("seed-demo: cannot write {}: {e}", args.config_out.display());
                return std::process::ExitCode::FAILURE;
            }
            eprintln!(
                "seeded organization of management account {}:",
                org.management_account_id
            );
            for a in &org.accounts {
                eprintln!("  {} {}", a.id, a.name);
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seed-demo: seeding failed: {e:?}");
            std::process::ExitCode::FAILURE
        }
    }
}
