//! What a replica serves (metrics, report, page): every scheduled account's newest saved result,
//! read from the state, whichever replica audited it. So 1 or 3 replicas answer alike, and a
//! replica serves the accounts another audits. A refresh reads the schedule (one row per account)
//! and only the results that changed since the previous refresh.

use super::Shared;
use chrono::{DateTime, Utc};
use maturity_checks::report::{AccountReport, AccountStatus, Report};
use std::collections::HashMap;
use std::sync::Arc;

/// What the previous refresh read: each account's result row and its run's start, and the cycle.
#[derive(Default)]
pub struct Seen {
    rows: HashMap<String, (i64, DateTime<Utc>)>,
    cycle: Option<(i64, f64)>,
}

/// Reads what changed in the state and serves it. Errors are logged; the served state stays.
pub async fn refresh(shared: &Arc<Shared>) {
    let s = shared.clone();
    let read = tokio::task::spawn_blocking(move || read(&s)).await;
    match read {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::error!(error = %e, "the saved state could not be read: the served state is kept")
        }
        Err(e) => tracing::error!(error = %e, "the state reader failed: the served state is kept"),
    }
}

fn read(shared: &Shared) -> Result<(), crate::state::StateError> {
    let store = &shared.store;
    let served = store.served()?;
    let Some(cycle) = store.latest_cycle()? else {
        return Ok(());
    };
    let m = &shared.metrics;
    let mut seen = shared.seen.lock().unwrap_or_else(|p| p.into_inner());
    if served.iter().all(|s| s.last_row == 0) {
        // A state saved before the shared schedule: its newest full audit, until a cycle saves.
        if seen.rows.is_empty() && seen.cycle.is_none() {
            let (report, previous) = super::restore(store)?;
            if let Some(report) = report {
                m.update(&report, &|id| previous.get(id).cloned());
                publish(shared, slim(report));
            }
            seen.cycle = Some((0, 0.0));
        }
        return Ok(());
    }
    let saved: Vec<&crate::state::schedule::Served> =
        served.iter().filter(|s| s.last_row > 0).collect();
    let changed: Vec<i64> = saved
        .iter()
        .filter(|s| seen.rows.get(&s.account_id).map(|r| r.0) != Some(s.last_row))
        .map(|s| s.last_row)
        .collect();
    let cycle_key = (cycle.run_id, cycle.duration_seconds);
    if changed.is_empty() && saved.len() == seen.rows.len() && seen.cycle == Some(cycle_key) {
        return Ok(());
    }
    // The accounts that changed: their series from the whole result, then only a summary is kept.
    // Read a few at a time, so that a thousand whole results are never in memory together.
    let mut fresh: HashMap<String, (AccountReport, DateTime<Utc>)> = HashMap::new();
    for chunk in changed.chunks(32) {
        for (a, at, _) in store.results(chunk)? {
            let id = a.account_id.clone();
            // The levels of a failed account are its last audited report's.
            let previous = if a.status == AccountStatus::Failed {
                store.last_audited(&id)?
            } else {
                None
            };
            m.set_account(&a, previous.as_ref(), at.timestamp() as f64);
            fresh.insert(id, (slim_account(a), at));
        }
    }
    let keep: std::collections::HashSet<&str> =
        saved.iter().map(|s| s.account_id.as_str()).collect();
    // On the first refresh (a restore may have served other accounts) and when an account left:
    // ending series walks every series of the registry's families.
    if seen.rows.is_empty() || seen.rows.keys().any(|id| !keep.contains(id.as_str())) {
        m.retain(&keep);
    }
    let old = shared
        .latest
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let old: HashMap<&str, &AccountReport> = old
        .iter()
        .flat_map(|r| r.accounts.iter())
        .map(|a| (a.account_id.as_str(), a))
        .collect();
    let mut accounts = Vec::with_capacity(saved.len());
    let mut rows = HashMap::with_capacity(saved.len());
    for s in &saved {
        if let Some((a, at)) = fresh.remove(&s.account_id) {
            rows.insert(s.account_id.clone(), (s.last_row, at));
            accounts.push(a);
        } else if let (Some(a), Some(r)) =
            (old.get(s.account_id.as_str()), seen.rows.get(&s.account_id))
        {
            rows.insert(s.account_id.clone(), *r);
            accounts.push((*a).clone());
        }
    }
    m.set_active_alerts(&store.active_alerts()?);
    m.last_start.set(cycle.started_at.timestamp() as f64);
    seen.rows = rows;
    seen.cycle = Some(cycle_key);
    drop(old);
    publish(
        shared,
        Report {
            schema_version: maturity_checks::report::SCHEMA_VERSION,
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            started_at: cycle.started_at,
            duration_seconds: cycle.duration_seconds,
            accounts,
            organization: None,
        },
    );
    Ok(())
}

/// What is kept in memory of an account's result: its status, levels and scores, not its checks,
/// verdicts, read errors and API calls (the API and the page read those from the store on request).
fn slim_account(mut a: AccountReport) -> AccountReport {
    a.checks = Vec::new();
    a.api_calls = Vec::new();
    a.errors = Vec::new();
    a
}

fn slim(mut r: Report) -> Report {
    r.accounts = r.accounts.into_iter().map(slim_account).collect();
    r.organization = None;
    r
}

fn publish(shared: &Shared, report: Report) {
    *shared.latest.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(report));
}
