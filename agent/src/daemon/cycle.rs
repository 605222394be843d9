//! The scheduled audits, shared by every replica of a state (`crate::state::schedule`).
//!
//! Each pass of the run loop ([`work`]):
//! 1. At a scheduled tick, the lease holder (one agent alone always holds it) starts a cycle:
//!    discovery, the targets written to the schedule, every account due; unless accounts of the
//!    previous cycle are still being audited (claimed), when the tick is skipped and counted, so
//!    that cycles never overlap. A tick on a replica that does not hold the lease is remembered: if
//!    that replica takes the lease over before the cycle was started (the holder died at the
//!    tick), it starts it. A tick that came while this replica audited a batch is looked at after
//!    the batch.
//! 2. Every replica claims due accounts in batches (up to `audit.max_concurrent_accounts` each when
//!    replicas share the state, all of them when alone), audits a batch with its claims renewed,
//!    compares each account with its own history, and saves each account with its regressions and
//!    alerts while its claim holds.
//! 3. It serves what the state holds (`super::view`).

use super::{carry_over, save_failed, view, Shared};
use crate::alerts::{self, detect};
use crate::config::Config;
use crate::state::schedule::{Claim, SaveTo, Saved};
use crate::targets;
use chrono::Utc;
use maturity_checks::audit;
use maturity_checks::facts::CallRecorder;
use maturity_checks::report::AccountStatus;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// What woke the run loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// The schedule (or the start): a cycle is due.
    Cron,
    /// A look for due accounts (other replicas' cycles, expired claims) and others' saves.
    Poll,
}

async fn blocking<T: Send + 'static>(
    shared: &Arc<Shared>,
    what: &str,
    f: impl FnOnce(&Shared) -> Result<T, crate::state::StateError> + Send + 'static,
) -> Result<T, String> {
    let s = shared.clone();
    match tokio::task::spawn_blocking(move || f(&s)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!(
            "{what}: the state task failed: {e} ({})",
            shared.store.name()
        )),
    }
}

/// One pass of the run loop.
pub async fn work(
    shared: Arc<Shared>,
    config: Arc<Config>,
    base: aws_config::SdkConfig,
    tick: Tick,
) {
    let latest = match blocking(&shared, "cycle", |s| s.store.latest_cycle()).await {
        Ok(c) => c.map(|c| c.run_id).unwrap_or(0),
        Err(e) => {
            tracing::error!(error = %e, "the schedule could not be read: nothing audited until it can");
            return;
        }
    };
    let cron = tick == Tick::Cron || shared.tick_missed.swap(false, Ordering::SeqCst);
    // Whether a tick waits for its cycle and this replica is the one to start it (taken if so).
    let start_now = {
        let mut pending = shared.pending.lock().unwrap_or_else(|p| p.into_inner());
        if cron {
            // A new tick: claims held back after a failed save are tried again.
            shared.hold.store(false, Ordering::SeqCst);
            pending.get_or_insert(latest);
        }
        if pending.is_some_and(|p| latest > p) {
            // Another replica (or this one) started the cycle of that tick.
            *pending = None;
        }
        shared.is_active() && pending.take().is_some()
    };
    if start_now {
        let now = Utc::now().timestamp_millis();
        match blocking(&shared, "cycle", move |s| s.store.in_progress(now)).await {
            Ok(0) => start(&shared, &config, &base).await,
            Ok(n) => {
                // The previous cycle is still being audited: runs never overlap.
                tracing::warn!(
                    accounts_in_progress = n,
                    "a scheduled audit was skipped: the previous one is still running"
                );
                shared.metrics.skipped_runs.inc();
            }
            Err(e) => {
                tracing::error!(error = %e, "the schedule could not be read: the cycle starts at the next tick")
            }
        }
    }
    let shared_state = shared.replica.is_some();
    let limit = if shared_state {
        config.audit.max_concurrent_accounts.max(1)
    } else {
        usize::MAX
    };
    while !shared.hold.load(Ordering::SeqCst) {
        let (owner, ttl) = (shared.owner.clone(), shared.claim_ttl_ms());
        let claims = match blocking(&shared, "claim", move |s| {
            s.store
                .claim_due(&owner, Utc::now().timestamp_millis(), ttl, limit)
        })
        .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "due accounts could not be claimed");
                break;
            }
        };
        if claims.is_empty() {
            break;
        }
        audit_batch(&shared, &config, &base, claims).await;
    }
    view::refresh(&shared).await;
    shared.ready.store(true, Ordering::SeqCst);
}

/// Starts a cycle: discovery, then the targets into the schedule with the alerts of accounts no
/// longer targeted resolved, in one transaction; old runs pruned.
async fn start(shared: &Arc<Shared>, config: &Config, base: &aws_config::SdkConfig) {
    let m = &shared.metrics;
    let rec = CallRecorder::new();
    let resolved = targets::resolve(config, base, &rec).await;
    m.count_calls(&rec.counts());
    let targets = match resolved {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "audit cycle failed before any account: previous state kept");
            m.runs.with_label_values(&["error"]).inc();
            return;
        }
    };
    let now = Utc::now();
    let n = targets.len();
    let retention = config.state.retention_days;
    let started = blocking(shared, "cycle", move |s| {
        let active = s.store.active_alerts()?;
        let a = s.alerting.clone();
        let mut plans = Vec::new();
        let started = s.store.start_cycle(&targets, now, |tx, run_id, gone| {
            let gone: Vec<detect::Alert> = active
                .iter()
                .filter(|x| gone.contains(&x.account_id))
                .cloned()
                .collect();
            plans.push(detect::resolve_gone(&gone, now));
            alerts::store::write_plans(tx, run_id, now, &plans, &|n| a.routes(n))
        })?;
        s.store.prune(retention, Utc::now())?;
        Ok((started, plans))
    })
    .await;
    match started {
        Ok((started, plans)) => {
            tracing::info!(
                run_id = started.run_id,
                accounts = n,
                removed = started.gone.len(),
                "audit cycle started"
            );
            if plans.iter().any(|p| !p.notices.is_empty()) {
                shared.alerting.wake.notify_one();
            }
        }
        Err(e) => {
            // The cycle's first write: a database that refuses it refuses the run.
            save_failed(shared, format!("the audit cycle could not be started: {e}"));
            m.runs.with_label_values(&["error"]).inc();
        }
    }
}

/// Audits claimed accounts and, as each finishes, compares it with its history and saves it while
/// its claim holds: only the accounts in flight are in memory.
async fn audit_batch(
    shared: &Arc<Shared>,
    config: &Config,
    base: &aws_config::SdkConfig,
    claims: Vec<Claim>,
) {
    use futures::StreamExt;
    let m = &shared.metrics;
    m.in_progress.set(1);
    let started = std::time::Instant::now();
    let started_at = Utc::now();
    let targets: Vec<audit::Target> = claims.iter().map(|c| c.target.clone()).collect();
    let mut opts = super::audit_options(config);
    opts.access_cache = crate::state::access::cache(shared.clone(), |s| &s.store);
    tracing::info!(
        accounts = targets.len(),
        checks = opts.checks.len(),
        "audit started"
    );
    let renewal = {
        let (s, every) = (shared.clone(), shared.claim_ttl / 3);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(std::time::Duration::from_millis(100)));
            tick.tick().await;
            loop {
                tick.tick().await;
                let (owner, ttl) = (s.owner.clone(), s.claim_ttl_ms());
                if let Err(e) = blocking(&s, "renew", move |s| {
                    s.store
                        .renew_claims(&owner, Utc::now().timestamp_millis(), ttl)
                })
                .await
                {
                    tracing::warn!(error = %e, "claims could not be renewed: another replica may take the accounts over");
                }
            }
        })
    };
    // A cycle is audited in batches: the organization read by the first batch of the cycle serves
    // the later ones (with the tags of their accounts added).
    let run = claims.iter().map(|c| c.run_id).max().unwrap_or_default();
    let kept = shared
        .organization
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .filter(|(r, _)| *r == run)
        .map(|(_, o)| o.clone());
    let (organization, read) = audit::organization_for(base, &targets, &opts, kept.as_ref()).await;
    if let Ok(o) = &organization {
        *shared
            .organization
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((run, o.clone()));
    }
    if let Some(r) = &read {
        m.count_calls(&r.api_calls);
    }
    let claim_of: HashMap<&str, &Claim> = claims
        .iter()
        .map(|c| (c.target.account_id.as_str(), c))
        .collect();
    let (mut done, mut audited) = (0usize, 0usize);
    let mut completed = None;
    let mut accounts = std::pin::pin!(audit::audit_stream(
        base,
        &targets,
        &opts,
        &organization,
        config.audit.max_concurrent_accounts,
    ));
    while let Some(account) = accounts.next().await {
        m.count_calls(&account.api_calls);
        done += 1;
        audited += usize::from(account.status == AccountStatus::Audited);
        let Some(claim) = claim_of.get(account.account_id.as_str()) else {
            continue;
        };
        let to = SaveTo::Cycle(claim.run_id);
        let saved = save_account(shared, config, to, claim.epoch, account, started_at).await;
        if let Ok(Some(s)) = &saved {
            completed = completed.or(s.completed);
        }
        if let Err(e) = saved {
            save_failed(shared, e);
            // Until the next tick this replica claims nothing more, so that a database refusing
            // writes is not answered with audits in a loop; its claims are given up (when the
            // database takes that much) so that the next tick is not held back by them.
            shared.hold.store(true, Ordering::SeqCst);
            let owner = shared.owner.clone();
            let _ = blocking(shared, "release", move |s| {
                s.store.release_claims(&owner, None)
            })
            .await;
            break;
        }
    }
    renewal.abort();
    // Served before the batch is counted: a reader of the run counters sees the batch's results.
    view::refresh(shared).await;
    finish(shared, done, audited, started.elapsed().as_secs_f64());
    if let Some(end) = completed {
        // The save of the cycle's last account: whichever replica made it counts the cycle.
        m.runs.with_label_values(&[end.result()]).inc();
        tracing::info!(
            run_id = end.run_id,
            result = end.result(),
            accounts = end.accounts,
            failed = end.failed,
            "audit cycle complete"
        );
    }
}

/// Compares one audited (or re-checked) account with its history and saves it with its
/// regressions and alerts, while its claim (at `epoch`) holds. Returns what was saved (the run,
/// and the cycle when this was its last account); `None` when the claim was lost (another replica
/// audits the account), which is not an error.
pub(crate) async fn save_account(
    shared: &Arc<Shared>,
    config: &Config,
    to: SaveTo,
    epoch: i64,
    account: maturity_checks::report::AccountReport,
    started_at: chrono::DateTime<Utc>,
) -> Result<Option<Saved>, String> {
    let m = &shared.metrics;
    let id = account.account_id.clone();
    let key = id.clone();
    let (known, history, mine) = blocking(shared, "state reader", move |s| {
        let mine: Vec<detect::Alert> = s
            .store
            .active_alerts()?
            .into_iter()
            .filter(|x| x.account_id == key)
            .collect();
        Ok((
            s.store.last_known(&key)?,
            s.store.history_for_alerts(&key)?,
            mine,
        ))
    })
    .await
    .map_err(|e| format!("the previous state could not be read: {e}"))?;
    let window = chrono::Duration::hours(i64::from(config.state.unknown_staleness_hours));
    let mut one = maturity_checks::report::Report {
        schema_version: maturity_checks::report::SCHEMA_VERSION,
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at,
        duration_seconds: account.duration_seconds,
        accounts: vec![account],
        organization: None,
    };
    carry_over(&mut one, &|_| Some(&known), window);
    let now = Utc::now();
    let plan = detect::plan(
        &one.accounts[0],
        &history,
        &mine,
        &shared.alerting.rules,
        now,
    );
    let owner = shared.owner.clone();
    let account_id = id.clone();
    let (saved, plan) = blocking(shared, "state writer", move |s| {
        let a = s.alerting.clone();
        let plans = [plan];
        let saved =
            s.store
                .save_claimed(to, &owner, &[(account_id, epoch)], &one, |tx, run, _| {
                    alerts::store::write_plans(tx, run, now, &plans, &|n| a.routes(n))
                })?;
        let [plan] = plans;
        Ok((saved, plan))
    })
    .await?;
    let run = saved.run_id;
    if saved.held.is_empty() {
        tracing::warn!(account_id = id, "claim lost (taken over, or the account left the schedule): this replica's result is not saved");
        return Ok(None);
    }
    tracing::debug!(account_id = id, run_id = run, "account saved");
    let at = Utc::now();
    m.last_save.set(at.timestamp_millis() as f64 / 1000.0);
    shared.saves.set(Ok(at));
    for r in &plan.regressions {
        m.count_regression(&r.account_id, r.practice_label());
        tracing::warn!(
            account_id = r.account_id,
            kind = r.kind.as_str(),
            severity = r.severity.as_str(),
            run_id = run,
            recheck = (to == SaveTo::Recheck),
            "regression: {}",
            r.summary
        );
    }
    if !plan.notices.is_empty() {
        shared.alerting.wake.notify_one();
    }
    Ok(Some(saved))
}

/// Counts a batch's accounts (the cycle is counted by the save of its last account).
fn finish(shared: &Shared, accounts: usize, audited: usize, duration_seconds: f64) {
    shared.metrics.accounts_audited.inc_by(accounts as u64);
    tracing::info!(
        accounts,
        failed = accounts - audited,
        duration_seconds,
        "audit batch finished"
    );
}
