//! What a replica serves (metrics, report, page): every scheduled account's newest saved result,
//! read from the state, whichever replica audited it. So 1 or 3 replicas answer alike, and a
//! replica serves the accounts another audits. A refresh reads the schedule (one row per account)
//! and only the results that changed since the previous refresh.

use super::Shared;
use chrono::{DateTime, Utc};
use maturity_checks::report::{AccountReport, AccountStatus, Report};
use std::collections::HashMap;
use std::sync::Arc;

/// What the previous refresh read: each account's result row and its run's start, the cycle, and
/// the last audited report of each account that failed (its levels are kept in the metrics).
#[derive(Default)]
pub struct Seen {
    rows: HashMap<String, (i64, DateTime<Utc>)>,
    cycle: Option<(i64, f64)>,
    previous: HashMap<String, AccountReport>,
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
    let mut seen = shared.seen.lock().unwrap_or_else(|p| p.into_inner());
    let current = shared
        .latest
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if served.iter().all(|s| s.last_row == 0) {
        // A state saved before the shared schedule: its newest full audit, until a cycle saves.
        if current.is_none() {
            let (report, previous) = super::restore(store)?;
            if let Some(report) = report {
                shared
                    .metrics
                    .update(&report, &|id| previous.get(id).cloned());
                *shared.latest.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(report));
            }
        }
        return Ok(());
    }
    let changed: Vec<i64> = served
        .iter()
        .filter(|s| s.last_row > 0 && seen.rows.get(&s.account_id).map(|r| r.0) != Some(s.last_row))
        .map(|s| s.last_row)
        .collect();
    let same_accounts = current
        .as_ref()
        .is_some_and(|r| r.accounts.len() == served.iter().filter(|s| s.last_row > 0).count());
    let cycle_key = (cycle.run_id, cycle.duration_seconds);
    if changed.is_empty() && same_accounts && seen.cycle == Some(cycle_key) {
        return Ok(());
    }
    let mut fresh: HashMap<String, (AccountReport, DateTime<Utc>)> = store
        .results(&changed)?
        .into_iter()
        .map(|(a, at)| (a.account_id.clone(), (a, at)))
        .collect();
    for (id, (a, _)) in &fresh {
        if a.status == AccountStatus::Failed {
            match store.last_audited(id)? {
                Some(p) => seen.previous.insert(id.clone(), p),
                None => seen.previous.remove(id),
            };
        } else {
            seen.previous.remove(id);
        }
    }
    let old: HashMap<&str, &AccountReport> = current
        .iter()
        .flat_map(|r| r.accounts.iter())
        .map(|a| (a.account_id.as_str(), a))
        .collect();
    let mut accounts = Vec::with_capacity(served.len());
    let mut rows = HashMap::with_capacity(served.len());
    for s in served.iter().filter(|s| s.last_row > 0) {
        if let Some((a, at)) = fresh.remove(&s.account_id) {
            rows.insert(s.account_id.clone(), (s.last_row, at));
            accounts.push(a);
        } else if let (Some(a), Some(r)) =
            (old.get(s.account_id.as_str()), seen.rows.get(&s.account_id))
        {
            rows.insert(s.account_id.clone(), *r);
            accounts.push((*a).clone());
        } else {
            // Served before under another report (a restart's restore): read it now.
            if let Some((a, at)) = store.results(&[s.last_row])?.into_iter().next() {
                rows.insert(s.account_id.clone(), (s.last_row, at));
                accounts.push(a);
            }
        }
    }
    let report = Report {
        schema_version: maturity_checks::report::SCHEMA_VERSION,
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: cycle.started_at,
        duration_seconds: cycle.duration_seconds,
        accounts,
        organization: None,
    };
    seen.previous.retain(|id, _| rows.contains_key(id));
    let m = &shared.metrics;
    m.update(&report, &|id| seen.previous.get(id).cloned());
    for a in report
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Audited)
    {
        if let Some((_, at)) = rows.get(&a.account_id) {
            m.set_last_success(&a.account_id, *at);
        }
    }
    m.last_start.set(cycle.started_at.timestamp() as f64);
    let active = store.active_alerts()?;
    m.set_active_alerts(&report, &active);
    seen.rows = rows;
    seen.cycle = Some(cycle_key);
    *shared.latest.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(report));
    Ok(())
}
