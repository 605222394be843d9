//! `maturity-agent run`: audits on a cron schedule, keeps state (SQLite or PostgreSQL), serves metrics and the API.
//!
//! # Layout
//! - this module: [`Shared`] (what the run loop, the server and the alerting share), the lease of
//!   replicas, start and stop ([`run`]).
//! - [`cycle`]: the scheduled audits, claimed account by account from the shared schedule.
//! - [`view`]: what a replica serves, read from the state.

pub mod cycle;
pub mod view;

use crate::alerts::{self, Alerting};
use crate::config::Config;
use crate::http;
use crate::metrics::Metrics;
use crate::runner::{self, Ended};
use crate::state::Store;
use chrono::Utc;
use maturity_checks::audit::{self, Options};
use maturity_checks::catalog;
use maturity_checks::collect::session::{self, AwsOptions};
use maturity_checks::model::Status;
use maturity_checks::report::{AccountReport, AccountStatus, CarriedOver, Report};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// What the run loop, the HTTP server and the scheduler share.
pub struct Shared {
    pub metrics: Metrics,
    pub store: Store,
    /// The accounts served, sorted: those of the newest saved results (the restored run's until
    /// a cycle saves). Only ids are kept: the reports are read from the state on request.
    pub served: RwLock<Arc<Vec<String>>>,
    /// Set when this process's first audit has finished (for /readyz).
    pub ready: AtomicBool,
    /// The result of the latest save of a run (for /readyz).
    pub saves: SaveStatus,
    /// Basic-auth user and password, when configured.
    pub auth: Option<(String, String)>,
    /// Alert rules and sinks.
    pub alerting: Arc<Alerting>,
    /// This replica's lease, when replicas share a PostgreSQL state (`None`: alone, always active).
    pub replica: Option<Replica>,
    /// Who claims accounts: host, process and a random part (never in a metric or alert label).
    pub owner: String,
    /// How long a claim runs without renewal (`state.lease_seconds`).
    pub claim_ttl: Duration,
    /// A scheduled tick not yet served by a cycle: the newest cycle's run id when it came.
    pub pending: Mutex<Option<i64>>,
    /// Set when a save failed: no more claims until the next tick.
    pub hold: AtomicBool,
    /// A scheduled tick came while a pass was running (replicas: looked at in the next pass).
    pub tick_missed: AtomicBool,
    /// What the served state was read from (`view`).
    pub seen: Mutex<view::Seen>,
    /// The organization-level facts read for a cycle (its run id), reused by its later batches.
    pub organization: Mutex<Option<(i64, Arc<maturity_checks::snapshot::Organization>)>>,
}

/// The lease the active replica holds.
pub const LEASE: &str = "daemon";

/// The lease of one of the replicas of a shared state. Every replica audits the accounts it
/// claims; the holder of this lease also starts the cycles (discovery), delivers the outbox,
/// re-sends to Alertmanager and receives the SQS events; another takes the lease over when the
/// holder stops renewing it. Every write of the holder's own duties is fenced with the lease's
/// epoch (`state::Fence`). It is held by [`Shared::owner`] for [`Shared::claim_ttl`].
#[derive(Default)]
pub struct Replica {
    active: AtomicBool,
}

/// A name for this process, unique among replicas: host, process id and a random part.
pub fn owner_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    format!("{host}/{}/{:08x}", std::process::id(), fastrand::u32(..))
}

impl Shared {
    /// What a daemon shares, before its first run: `replica` when replicas share the state.
    pub fn new(
        store: Store,
        metrics: Metrics,
        alerting: Arc<Alerting>,
        auth: Option<(String, String)>,
        claim_ttl: Duration,
        shared_state: bool,
    ) -> Shared {
        let owner = owner_name();
        Shared {
            metrics,
            store,
            served: RwLock::new(Arc::new(Vec::new())),
            ready: AtomicBool::new(false),
            saves: SaveStatus::default(),
            auth,
            alerting,
            replica: shared_state.then(Replica::default),
            owner,
            claim_ttl,
            pending: Mutex::new(None),
            hold: AtomicBool::new(false),
            tick_missed: AtomicBool::new(false),
            seen: Mutex::new(view::Seen::default()),
            organization: Mutex::new(None),
        }
    }

    pub fn claim_ttl_ms(&self) -> i64 {
        i64::try_from(self.claim_ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether this process audits, saves and delivers: always when alone on its database, while
    /// it holds the lease when replicas share it.
    pub fn is_active(&self) -> bool {
        self.replica
            .as_ref()
            .is_none_or(|r| r.active.load(Ordering::SeqCst))
    }
}

/// Takes or renews the lease; sets the store's fence. Returns whether this replica just became
/// the active one.
async fn renew_lease(shared: &Arc<Shared>) -> bool {
    let Some(r) = &shared.replica else {
        return false;
    };
    let (s, owner) = (shared.clone(), shared.owner.clone());
    let ttl = shared.claim_ttl_ms();
    let got = tokio::task::spawn_blocking(move || {
        s.store
            .acquire_lease(LEASE, &owner, Utc::now().timestamp_millis(), ttl)
    })
    .await;
    match got {
        Ok(Ok(Some(epoch))) => {
            shared.store.set_fence(crate::state::Fence::Held {
                name: LEASE.into(),
                owner: shared.owner.clone(),
                epoch,
            });
            shared.metrics.leader.set(1);
            let became = !r.active.swap(true, Ordering::SeqCst);
            if became {
                tracing::info!(
                    owner = shared.owner,
                    epoch,
                    "this replica holds the lease: it audits, saves and delivers"
                );
            }
            became
        }
        other => {
            // Held by another, or the database did not answer: this replica cannot prove it holds
            // the lease, so it writes nothing until it does again.
            shared.store.set_fence(crate::state::Fence::Standby);
            shared.metrics.leader.set(0);
            let was = r.active.swap(false, Ordering::SeqCst);
            match other {
                Ok(Ok(_)) if was => tracing::warn!(
                    owner = shared.owner,
                    "the lease was taken over: this replica audits the accounts it claims, another starts the cycles and delivers"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "the lease could not be renewed: this replica leaves the cycles and deliveries to another until it is")
                }
                Err(e) => {
                    tracing::error!(error = %e, "the lease task failed: this replica leaves the cycles and deliveries to another")
                }
            }
            false
        }
    }
}

/// The last saved state (the latest full audit, and for its failed accounts their last audited
/// report), to serve after a restart of a state saved before the shared schedule.
pub(crate) fn restore(
    store: &Store,
) -> Result<(Option<Report>, HashMap<String, AccountReport>), crate::state::StateError> {
    let report = store.latest_report()?;
    let previous: HashMap<String, AccountReport> = report
        .iter()
        .flat_map(|r| r.accounts.iter())
        .filter(|a| a.status == AccountStatus::Failed)
        .filter_map(|a| {
            store
                .last_audited(&a.account_id)
                .ok()
                .flatten()
                .map(|p| (a.account_id.clone(), p))
        })
        .collect();
    Ok((report, previous))
}

/// The result of the latest attempt to save a run: its time, or the error.
#[derive(Default)]
pub struct SaveStatus(RwLock<Option<Result<chrono::DateTime<Utc>, String>>>);

impl SaveStatus {
    pub fn last(&self) -> Option<Result<chrono::DateTime<Utc>, String>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set(&self, result: Result<chrono::DateTime<Utc>, String>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(result);
    }
}

/// The AWS options of a config.
pub fn aws_options(config: &Config) -> AwsOptions {
    AwsOptions {
        home_region: config.home_region(),
        endpoint_url: config.aws.endpoint_url.as_ref().map(|u| u.0.clone()),
        call_timeout: Duration::from_secs(config.aws.call_timeout_seconds),
        max_attempts: config.aws.max_attempts,
    }
}

/// The audit options of a config.
pub fn audit_options(config: &Config) -> Options {
    Options {
        regions: config.regions(),
        settings: config.checks.settings.clone(),
        checks: catalog::enabled(&config.disabled()),
        s3_path_style: config.aws.endpoint_url.is_some(),
        account_timeout: Duration::from_secs(config.audit.account_timeout_seconds),
        max_requests_per_second: Some(config.aws.max_requests_per_second),
        organization_role: (config.organization.management_role_arn.as_ref()).map(|r| {
            (
                r.get_ref().0.clone(),
                config.organization.external_id.clone(),
            )
        }),
        exceptions: crate::exceptions::rules(config),
        access_cache: None,
        reach: crate::targets::reach(config),
    }
}

/// A run that could not be saved shows: in the log, the metrics (and so the shipped rule) and
/// /readyz, until a later save succeeds.
pub(crate) fn save_failed(shared: &Shared, error: String) {
    tracing::error!(%error, "the run could not be saved; the previous state is kept and its regressions will be found again by the next run that is saved");
    shared.metrics.save_failures.inc();
    shared
        .metrics
        .last_save_failure
        .set(Utc::now().timestamp_millis() as f64 / 1000.0);
    shared.saves.set(Err(error));
}

/// The last known statuses of one account's checks.
pub type Known = HashMap<String, (Status, chrono::DateTime<Utc>)>;

/// Scores each `unknown` check of the audited accounts with its last known status when that was seen
/// within `window` before this run (marking it `carried_over`), then rescores the accounts.
pub fn carry_over<'a>(
    report: &mut Report,
    known: &dyn Fn(&str) -> Option<&'a Known>,
    window: chrono::Duration,
) {
    let started = report.started_at;
    for a in report
        .accounts
        .iter_mut()
        .filter(|a| a.status == AccountStatus::Audited)
    {
        let Some(known) = known(&a.account_id) else {
            continue;
        };
        for c in a.checks.iter_mut().filter(|c| c.status == Status::Unknown) {
            if let Some((status, at)) = known.get(&c.id) {
                if started.signed_duration_since(*at) <= window {
                    c.carried_over = Some(CarriedOver {
                        status: *status,
                        observed_at: *at,
                    });
                }
            }
        }
        audit::rescore(a);
    }
}

/// The basic-auth user and password; the password is read from its variable or file (first line),
/// trimmed like the sinks' secrets, and never empty.
fn read_password(config: &Config) -> Result<Option<(String, String)>, String> {
    let s = &config.server;
    let Some(user) = &s.basic_auth_user else {
        return Ok(None);
    };
    alerts::config::read_secret(
        "server basic-auth password",
        s.basic_auth_password_env.as_deref(),
        s.basic_auth_password_file.as_deref(),
    )?
    .map(|password| Some((user.clone(), password)))
    .ok_or_else(|| "server.basic_auth_user needs a password source".to_owned())
}

/// What `run` needs from outside the config file, read before it starts; `validate` reads it too,
/// so that a config it accepts does not stop `run`.
pub struct Prepared {
    pub auth: Option<(String, String)>,
    pub alerting: Alerting,
    pub tls: Option<axum_server::tls_rustls::RustlsConfig>,
}

/// Reads the secrets and the TLS files, and checks the state path and the listen address. Every
/// error is one of the configuration or its environment (exit 64).
pub async fn prepare(config: &Config) -> Result<Prepared, String> {
    // Two rustls crypto providers are linked (the AWS SDK's and reqwest's): name the process default
    // so that the server's TLS config does not have to guess.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let auth = read_password(config)?;
    let alerting = Alerting::new(&config.alerts)?;
    let tls = match (&config.server.tls_cert_file, &config.server.tls_key_file) {
        (Some(cert), Some(key)) => Some(
            axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| format!("server TLS ({} / {}): {e}", cert.display(), key.display()))?,
        ),
        _ => None,
    };
    let database = crate::state::Database::of(&config.state)?;
    tokio::task::spawn_blocking(move || crate::state::check_usable(&database))
        .await
        .map_err(|e| e.to_string())??;
    let listen = config.server.listen.get_ref();
    let addr: std::net::SocketAddr = listen
        .parse()
        .map_err(|e| format!("server.listen {listen}: {e}"))?;
    // The address must be one of this host's; that it is free is run's concern (validate may run
    // beside a running daemon).
    if let Err(e) = std::net::TcpListener::bind(addr) {
        if e.kind() != std::io::ErrorKind::AddrInUse {
            return Err(format!("server.listen: cannot listen on {addr}: {e}"));
        }
    }
    Ok(Prepared {
        auth,
        alerting,
        tls,
    })
}

/// Why `run` stopped before serving: a configuration error (exit 64, like `validate`) or another.
#[derive(Debug)]
pub enum StartError {
    Config(String),
    Other(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) | StartError::Other(e) => f.write_str(e),
        }
    }
}

async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; only SIGINT stops the daemon");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received, stopping"),
    }
}

/// Runs the daemon until SIGTERM or SIGINT. Errors are the ones that prevent it from starting.
pub async fn run(config: Config) -> Result<(), StartError> {
    let prepared = prepare(&config).await.map_err(StartError::Config)?;
    let config = Arc::new(config);
    let database = crate::state::Database::of(&config.state).map_err(StartError::Config)?;
    // A store that cannot be written (read-only, immutable, full) or that a newer agent migrated is
    // refused at start: every run would be lost.
    let shared_state = matches!(database, crate::state::Database::Postgres(_));
    let store = tokio::task::spawn_blocking(move || {
        let store = Store::connect(&database)?;
        store.write_probe()?;
        Ok::<_, crate::state::StateError>(store)
    })
    .await
    .map_err(|e| StartError::Other(e.to_string()))?
    .map_err(|e| StartError::Config(e.to_string()))?;
    let checks = catalog::enabled(&config.disabled());
    let alerting = Arc::new(prepared.alerting);
    let shared = Arc::new(Shared::new(
        store,
        Metrics::new(&checks),
        alerting.clone(),
        prepared.auth,
        Duration::from_secs(config.state.lease_seconds),
        shared_state,
    ));
    if shared.replica.is_none() {
        shared.metrics.leader.set(1);
    }
    if shared.replica.is_some() {
        // Before the first pass: the lease holder starts a cycle at once; every replica claims.
        renew_lease(&shared).await;
        tracing::info!(
            owner = shared.owner,
            lease_seconds = shared.claim_ttl.as_secs(),
            leader = shared.is_active(),
            "replica of a shared state: it audits the accounts it claims"
        );
    }
    // Serve the last known state at once after a restart, before the first audit finishes.
    let s = shared.clone();
    let restored = tokio::task::spawn_blocking(move || restore(&s.store))
        .await
        .map_err(|e| StartError::Other(e.to_string()))?
        .map_err(|e| StartError::Other(e.to_string()))?;
    if let (Some(report), previous) = restored {
        tracing::info!(started_at = %report.started_at, "serving the last saved run until the first audit finishes");
        shared
            .metrics
            .update(&report, &|id| previous.get(id).cloned());
        view::publish(
            &shared,
            report.accounts.into_iter().map(|a| a.account_id).collect(),
        );
    }

    let addr: std::net::SocketAddr = config
        .server
        .listen
        .get_ref()
        .parse()
        .map_err(|e| StartError::Config(format!("server.listen: {e}")))?;
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| StartError::Config(format!("server.listen: cannot listen on {addr}: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| StartError::Other(e.to_string()))?;
    let handle = axum_server::Handle::new();
    let limits = http::Limits {
        max_connections: config.server.max_connections,
        header_read_timeout: Duration::from_secs(config.server.header_read_timeout_seconds),
    };
    let server = http::serve(
        listener,
        prepared.tls,
        limits,
        handle.clone(),
        shared.clone(),
    )
    .map_err(|e| StartError::Other(e.to_string()))?;
    tracing::info!(
        %addr,
        tls = config.server.tls_cert_file.is_some(),
        basic_auth = shared.auth.is_some(),
        max_connections = limits.max_connections,
        "serving /metrics, /healthz, /readyz, /api/v1 and /"
    );
    if shared.auth.is_none() {
        tracing::warn!("basic auth is off: anyone who reaches {addr} reads the metrics and the report (set server.basic_auth_user)");
    }

    shared.metrics.init_sinks(
        &alerting
            .sinks
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>(),
    );
    let delivery = tokio::spawn(alerts::deliver(shared.clone(), alerting.clone()));
    let resend = tokio::spawn(alerts::resend_to_alertmanager(
        shared.clone(),
        alerting.clone(),
    ));
    tracing::info!(sinks = alerting.sinks.len(), "alert delivery started");

    let base = session::base_config(&aws_options(&config)).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<cycle::Tick>(16);
    let mut scheduler = tokio_cron_scheduler::JobScheduler::new()
        .await
        .map_err(|e| StartError::Other(format!("scheduler: {e}")))?;
    let tz: chrono_tz::Tz = config
        .schedule
        .timezone
        .get_ref()
        .parse()
        .map_err(|_| StartError::Config("schedule.timezone".to_owned()))?;
    let ticker = tx.clone();
    let job = tokio_cron_scheduler::Job::new_async_tz(
        config.schedule.cron.get_ref().as_str(),
        tz,
        move |_, _| {
            let ticker = ticker.clone();
            Box::pin(async move {
                let _ = ticker.try_send(cycle::Tick::Cron);
            })
        },
    )
    .map_err(|e| StartError::Config(format!("schedule.cron: {e}")))?;
    scheduler
        .add(job)
        .await
        .map_err(|e| StartError::Other(format!("scheduler: {e}")))?;
    scheduler
        .start()
        .await
        .map_err(|e| StartError::Other(format!("scheduler: {e}")))?;
    tracing::info!(cron = %config.schedule.cron.get_ref(), timezone = %tz, "scheduler started; first audit now");
    let _ = tx.send(cycle::Tick::Cron).await;
    // Replicas look for due accounts and for the others' saves every second.
    let poll = shared.replica.is_some().then(|| {
        let wake = tx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let _ = wake.try_send(cycle::Tick::Poll);
            }
        })
    });
    let lease = shared.replica.as_ref().map(|_| {
        let (s, wake, every) = (shared.clone(), tx.clone(), shared.claim_ttl / 3);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            tick.tick().await;
            loop {
                tick.tick().await;
                // A replica that takes over starts the cycle of a tick its holder missed now.
                if renew_lease(&s).await {
                    let _ = wake.try_send(cycle::Tick::Poll);
                }
            }
        })
    });

    let events = crate::events::start(shared.clone(), config.clone(), base.clone());
    let grace = Duration::from_secs(config.schedule.shutdown_grace_seconds);
    let (s, c, b) = (shared.clone(), config.clone(), base.clone());
    let skipped = shared.clone();
    let ended = runner::drive(
        rx,
        shutdown_signal(),
        grace,
        move |tick| cycle::work(s.clone(), c.clone(), b.clone(), tick),
        move |tick| {
            if tick == cycle::Tick::Cron {
                if skipped.replica.is_some() {
                    // The pass may be this replica's batch while the cycle is done: the next
                    // pass decides whether the tick starts a cycle or is skipped.
                    skipped.tick_missed.store(true, Ordering::SeqCst);
                } else {
                    tracing::warn!(
                        "a scheduled audit was skipped: the previous one is still running"
                    );
                    skipped.metrics.skipped_runs.inc();
                }
            }
        },
    )
    .await;
    let _ = scheduler.shutdown().await;
    // Undelivered notifications stay in the outbox for the next start; unsaved events stay in
    // the queue.
    for task in events {
        task.abort();
    }
    delivery.abort();
    resend.abort();
    if let Some(task) = poll {
        task.abort();
    }
    // Claims of this process are given up: the other replicas audit those accounts at once.
    let s = shared.clone();
    let _ = tokio::task::spawn_blocking(move || s.store.release_claims(&s.owner, None)).await;
    if let Some(task) = lease {
        task.abort();
        if shared.is_active() {
            // Handed over at once rather than after the lease runs out.
            let (s, owner) = (shared.clone(), shared.owner.clone());
            let _ = tokio::task::spawn_blocking(move || s.store.release_lease(LEASE, &owner)).await;
            tracing::info!("lease released");
        }
    }
    handle.graceful_shutdown(Some(Duration::from_secs(5)));
    let _ = server.await;
    match ended {
        Ended::Clean => tracing::info!("stopped"),
        Ended::Cancelled => {
            tracing::warn!("stopped; the audit in progress was cancelled and not saved")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unknown check is scored with a pass seen an hour ago, not with one seen four days ago.
    #[test]
    fn unknown_is_scored_with_a_recent_known_status_only() {
        let now = Utc::now();
        let mut report = crate::state::tests::account("111111111111", Status::Unknown, now);
        assert_eq!(report.accounts[0].practices[0].confirmed_level, 0);
        let recent: Known = [(
            "iam_root_mfa_enabled".to_string(),
            (Status::Pass, now - chrono::Duration::hours(1)),
        )]
        .into();
        carry_over(&mut report, &|_| Some(&recent), chrono::Duration::hours(72));
        let a = &report.accounts[0];
        assert_eq!(
            a.checks[0].carried_over.as_ref().map(|c| c.status),
            Some(Status::Pass)
        );
        assert_eq!(
            (
                a.practices[0].level,
                a.practices[0].confirmed_level,
                a.practices[0].unconfirmed
            ),
            (1, 1, false)
        );

        let mut report = crate::state::tests::account("111111111111", Status::Unknown, now);
        let stale: Known = [(
            "iam_root_mfa_enabled".to_string(),
            (Status::Pass, now - chrono::Duration::days(4)),
        )]
        .into();
        carry_over(&mut report, &|_| Some(&stale), chrono::Duration::hours(72));
        let a = &report.accounts[0];
        assert!(a.checks[0].carried_over.is_none());
        assert_eq!(
            (a.practices[0].level, a.practices[0].unconfirmed),
            (1, true),
            "past the window: unconfirmed, not lowered"
        );
    }
}
