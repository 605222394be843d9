//! `maturity-agent`: audits AWS accounts for infrastructure security practices and scores their
//! DevSecOps maturity on the OWASP DSOMM levels. This binary is thin: it parses the command line and
//! the config (exit 64 on a bad config) and hands over to the `maturity-checks` engine.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand, ValueEnum};
use maturity_agent::config::Config;
use maturity_agent::{daemon, export, output, targets};
use maturity_checks::audit;
use maturity_checks::catalog;
use maturity_checks::collect::session;
use maturity_checks::facts::CallRecorder;
use maturity_checks::report::AccountStatus;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of a configuration error (EX_USAGE of sysexits.h).
const EXIT_CONFIG: u8 = 64;
/// Exit code of an audit in which at least one account could not be audited.
const EXIT_ACCOUNT_FAILED: u8 = 2;

#[derive(Parser)]
#[command(
    name = "maturity-agent",
    version,
    about = "Audits AWS accounts and scores their DevSecOps maturity (OWASP DSOMM)"
)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Audit every configured account once and print the report.
    Audit {
        #[arg(long)]
        config: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List the check catalog with practice, level and DSOMM activity.
    Checks {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run as a daemon: audit at start and on the configured schedule, keep state, serve metrics,
    /// the API and the page; stop cleanly on SIGTERM or SIGINT.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Alerting tools.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Validate a config file and exit (0 when valid, 64 when not).
    Validate {
        #[arg(long)]
        config: PathBuf,
    },
    /// Print the read-only IAM policy (JSON) the enabled checks need; every check without --config.
    IamPolicy {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Only the audit role's statement: the policy of the role in every audited account.
        #[arg(long)]
        audit_role: bool,
    },
    /// Print the EventBridge rules (JSON) that forward the CloudTrail events the enabled checks
    /// react to; every check without --config. `deploy/regenerate` builds the events templates
    /// from it.
    EventPattern {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Export results for another tool.
    #[command(subcommand)]
    Export(ExportCommand),
    /// State database tools.
    #[command(subcommand)]
    State(StateCommand),
}

#[derive(Subcommand)]
enum StateCommand {
    /// Copy a whole state (history, baselines, alerts, outbox) into an empty database, e.g. from
    /// SQLite to PostgreSQL before running replicas: `--from sqlite:PATH --to postgres://USER@HOST/DB`.
    Copy {
        /// The source: `sqlite:PATH` or `postgres://…`.
        #[arg(long)]
        from: String,
        /// The destination: `sqlite:PATH` or `postgres://…` (without the password).
        #[arg(long)]
        to: String,
        /// The environment variable holding the PostgreSQL password (of --to, and of --from when
        /// it is PostgreSQL).
        #[arg(long)]
        password_env: Option<String>,
        /// The file whose first line is the PostgreSQL password.
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// PEM certificates that verify the PostgreSQL server's.
        #[arg(long)]
        ca_file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Write the DSOMM app's team-progress.yaml and team-evidence.yaml into a directory.
    Dsomm {
        #[arg(long)]
        config: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Where the results come from (auto: the last saved run when the state database exists).
        #[arg(long, value_enum, default_value_t = export::Source::Auto)]
        from: export::Source,
    },
}

#[derive(Subcommand)]
enum AlertsCommand {
    /// Send a test alert through every configured sink and print each result (exit 1 when one
    /// failed).
    Test {
        #[arg(long)]
        config: PathBuf,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,maturity_checks=info,maturity_agent=info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => {
            builder.json().init();
            JSON_LOGS.store(true, std::sync::atomic::Ordering::Relaxed);
            // A panic is a JSON event too, so that a log pipeline parsing JSON does not drop it.
            std::panic::set_hook(Box::new(|info| {
                let location = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                tracing::error!(panic = %message, %location, "panic");
            }));
        }
    }
}

/// The log format of this process, for the errors printed outside tracing's events.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Reports an error that ends the command: a line `maturity-agent: …` on stderr, or with
/// `--log-format json` an error event like every other log line.
fn fail(error: &dyn std::fmt::Display) {
    if JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed) {
        tracing::error!(error = %error, "maturity-agent stopped");
    } else {
        eprintln!("maturity-agent: {error}");
    }
}

fn load(path: &std::path::Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|e| {
        fail(&e);
        ExitCode::from(EXIT_CONFIG)
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Checks { format } => {
            match format {
                Format::Table => print!("{}", output::catalog_table(catalog::CATALOG)),
                Format::Json => {
                    let metas: Vec<_> = catalog::CATALOG.iter().map(|c| c.meta).collect();
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&metas).expect("catalog serialises")
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Command::Run { config } => {
            let config = match load(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            match daemon::run(config).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    fail(&e);
                    match e {
                        daemon::StartError::Config(_) => ExitCode::from(EXIT_CONFIG),
                        daemon::StartError::Other(_) => ExitCode::FAILURE,
                    }
                }
            }
        }
        Command::Alerts {
            command: AlertsCommand::Test { config },
        } => {
            let config = match load(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let alerting = match maturity_agent::alerts::Alerting::new(&config.alerts) {
                Ok(a) => a,
                Err(e) => {
                    fail(&e);
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            let (lines, ok) = maturity_agent::alerts::send_test(&alerting).await;
            for l in lines {
                println!("{l}");
            }
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Validate { config: path } => match load(&path) {
            // What `run` reads before it starts is read here too: a config `validate` accepts
            // does not stop `run`.
            Ok(c) => {
                if let Err(e) = daemon::prepare(&c).await {
                    fail(&format!("invalid config {}: {e}", path.display()));
                    return ExitCode::from(EXIT_CONFIG);
                }
                println!(
                    "{}: valid ({} accounts, {} regions)",
                    path.display(),
                    c.accounts.len(),
                    c.regions().len()
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::IamPolicy { config, audit_role } => {
            let config = match config.as_deref().map(load).transpose() {
                Ok(c) => c,
                Err(code) => return code,
            };
            let policy = if audit_role {
                maturity_agent::iam_policy::audit_role_policy(config.as_ref())
            } else {
                maturity_agent::iam_policy::policy(config.as_ref())
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&policy).expect("policy serialises")
            );
            ExitCode::SUCCESS
        }
        Command::EventPattern { config } => {
            let config = match config.as_deref().map(load).transpose() {
                Ok(c) => c,
                Err(code) => return code,
            };
            let document = maturity_agent::events::pattern_document(config.as_ref());
            println!(
                "{}",
                serde_json::to_string_pretty(&document).expect("patterns serialise")
            );
            ExitCode::SUCCESS
        }
        Command::Audit { config, format } => {
            let config = match load(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let report = run_audit(&config).await;
            match format {
                Format::Table => print!("{}", output::report_table(&report)),
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("report serialises")
                ),
            }
            exit_code(&report)
        }
        Command::State(StateCommand::Copy {
            from,
            to,
            password_env,
            password_file,
            ca_file,
        }) => {
            // The copy blocks (both clients are synchronous): off the runtime's workers.
            tokio::task::spawn_blocking(move || {
                state_copy(
                    &from,
                    &to,
                    password_env.as_deref(),
                    password_file.as_deref(),
                    ca_file.as_deref(),
                )
            })
            .await
            .unwrap_or(ExitCode::FAILURE)
        }
        Command::Export(ExportCommand::Dsomm { config, out, from }) => {
            let config = match load(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            // The state clients block: off the runtime's workers.
            let c = config.clone();
            let saved = tokio::task::spawn_blocking(move || export::saved_report(&c, from))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            let report = match saved {
                Ok(Some(saved)) => saved,
                Ok(None) => run_audit(&config).await,
                Err(e) => {
                    fail(&e);
                    return ExitCode::FAILURE;
                }
            };
            match export::write_dsomm(&config, &report, &out) {
                Ok(written) => {
                    println!("{written}");
                    exit_code(&report)
                }
                Err(e) => {
                    fail(&e);
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `state copy`: 0 when copied, 64 on a bad argument or password source, 1 when the copy failed.
fn state_copy(
    from: &str,
    to: &str,
    password_env: Option<&str>,
    password_file: Option<&std::path::Path>,
    ca_file: Option<&std::path::Path>,
) -> ExitCode {
    use maturity_agent::state::Database;
    let password = match maturity_agent::alerts::config::read_secret(
        "state database password",
        password_env,
        password_file,
    ) {
        Ok(p) => p,
        Err(e) => {
            fail(&e);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let pg_password = |text: &str| {
        (!text.starts_with("sqlite:"))
            .then(|| password.clone())
            .flatten()
    };
    let databases = Database::parse(from, pg_password(from), ca_file)
        .map_err(|e| format!("--from: {e}"))
        .and_then(|f| {
            Database::parse(to, pg_password(to), ca_file)
                .map(|t| (f, t))
                .map_err(|e| format!("--to: {e}"))
        });
    let (from, to) = match databases {
        Ok(d) => d,
        Err(e) => {
            fail(&e);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match maturity_agent::state::copy::copy(&from, &to) {
        Ok(copied) => {
            println!("copied {} to {}: {copied}", from.name(), to.name());
            ExitCode::SUCCESS
        }
        Err(e) => {
            fail(&e);
            ExitCode::FAILURE
        }
    }
}

/// 0, or 2 when an account of the report could not be audited.
fn exit_code(report: &maturity_checks::report::Report) -> ExitCode {
    if report
        .accounts
        .iter()
        .any(|a| a.status == AccountStatus::Failed)
    {
        ExitCode::from(EXIT_ACCOUNT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

async fn run_audit(config: &Config) -> maturity_checks::report::Report {
    let base = session::base_config(&daemon::aws_options(config)).await;
    let rec = CallRecorder::new();
    let targets = match targets::resolve(config, &base, &rec).await {
        Ok(t) => t,
        Err(e) => {
            fail(&e);
            Vec::new()
        }
    };
    let opts = daemon::audit_options(config);
    tracing::info!(
        accounts = targets.len(),
        checks = opts.checks.len(),
        "audit started"
    );
    let report =
        audit::audit_all(&base, &targets, &opts, config.audit.max_concurrent_accounts).await;
    tracing::info!(duration_seconds = report.duration_seconds, "audit finished");
    report
}
