//! What a replica serves (metrics, report, page): every scheduled account's newest saved result,
//! read from the state, whichever replica audited it. So 1 or 3 replicas answer alike, and a
//! replica serves the accounts another audits. A refresh reads the schedule (one row per account)
//! and only the results that changed since the previous refresh.

use super::Shared;
use chrono::{DateTime, Utc};
use maturity_checks::report::AccountStatus;
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
    // Whichever replica audits them: the same answer on every replica.
    m.in_progress.set(i64::from(cycle.pending > 0));
    let mut seen = shared.seen.lock().unwrap_or_else(|p| p.into_inner());
    if served.iter().all(|s| s.last_row == 0) {
        // A state saved before the shared schedule: its newest full audit, until a cycle saves.
        if seen.rows.is_empty() && seen.cycle.is_none() {
            let (report, previous) = super::restore(store)?;
            if let Some(report) = report {
                m.update(&report, &|id| previous.get(id).cloned());
                publish(
                    shared,
                    report.accounts.into_iter().map(|a| a.account_id).collect(),
                );
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
    // The accounts that changed: their series from the whole result, which is then dropped.
    // Read a few at a time, so that a thousand whole results are never in memory together.
    let mut fresh: HashMap<String, DateTime<Utc>> = HashMap::new();
    for chunk in changed.chunks(32) {
        for (a, at, _) in store.results(chunk)? {
            // The levels of a failed account are its last audited report's.
            let previous = if a.status == AccountStatus::Failed {
                store.last_audited(&a.account_id)?
            } else {
                None
            };
            m.set_account(&a, previous.as_ref(), at.timestamp() as f64);
            fresh.insert(a.account_id, at);
        }
    }
    let keep: std::collections::HashSet<&str> =
        saved.iter().map(|s| s.account_id.as_str()).collect();
    let left = seen.rows.keys().any(|id| !keep.contains(id.as_str()));
    // On the first refresh (a restore may have served other accounts) and when an account left:
    // ending series walks every series of the registry's families.
    if seen.rows.is_empty() || left {
        m.retain(&keep);
    }
    let mut rows = HashMap::with_capacity(saved.len());
    for s in &saved {
        if let Some(at) = fresh.remove(&s.account_id) {
            rows.insert(s.account_id.clone(), (s.last_row, at));
        } else if let Some(r) = seen.rows.get(&s.account_id) {
            rows.insert(s.account_id.clone(), *r);
        }
    }
    let joined = rows.len() != seen.rows.len() || left;
    m.set_active_alerts(&store.active_alerts()?);
    m.last_start.set(cycle.started_at.timestamp() as f64);
    seen.rows = rows;
    seen.cycle = Some(cycle_key);
    if joined {
        publish(shared, seen.rows.keys().cloned().collect());
    }
    Ok(())
}

/// The accounts served now (what the event consumer accepts events for).
pub(super) fn publish(shared: &Shared, mut accounts: Vec<String>) {
    accounts.sort();
    *shared.served.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(accounts);
}
