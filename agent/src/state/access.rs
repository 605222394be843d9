//! IAM's service last-accessed reports kept between runs (`service_last_accessed` table): the
//! [`AccessCache`] the checks crate's collector asks before it starts a job, so that a principal
//! costs one job per `last_accessed_cache_hours` instead of one per run.
//!
//! One row per (account, principal): the report as JSON, and when IAM completed it (RFC 3339 in
//! UTC, whole seconds, so that text order is time order on both engines). Writes go through
//! [`Store::write`], so a replica that lost its lease keeps nothing; the rows of an account older
//! than the cache's hours are deleted with each save. `state copy` does not copy them: a cache,
//! refilled by the next runs.

use super::{args, DbError, Store};
use chrono::{DateTime, SecondsFormat, Utc};
use maturity_checks::last_accessed::AccessCache;
use maturity_checks::snapshot::ServiceLastAccessed;
use std::sync::Arc;

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Store {
    /// The reports kept for `account_id`. A row that no longer parses (written by another
    /// version) is skipped: its principal gets a new job.
    pub fn last_accessed(
        &self,
        account_id: &str,
    ) -> Result<Vec<ServiceLastAccessed>, super::StateError> {
        let rows = self.read(|db| {
            db.query(
                "SELECT principal_arn, report FROM service_last_accessed WHERE account_id = ?1
                 ORDER BY principal_arn",
                args![account_id],
            )
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for mut r in rows {
            let (arn, text) = (r.text(0), r.text(1));
            let (Ok(arn), Ok(text)) = (arn, text) else {
                continue;
            };
            match serde_json::from_str::<ServiceLastAccessed>(&text) {
                Ok(report) if report.arn == arn => out.push(report),
                Ok(_) | Err(_) => {
                    tracing::warn!(account_id, principal = %arn, database = %self.name(), "a kept last-accessed report is unreadable: a new job reads it")
                }
            }
        }
        Ok(out)
    }

    /// Keeps `reports` of `account_id` (each replacing its principal's older one) and deletes the
    /// account's reports completed before `expired_before`, in one transaction. Not fenced by the
    /// lease: every replica audits the accounts it claims, and a report is a fact from AWS that a
    /// newer one replaces, whichever replica read it.
    pub fn save_last_accessed(
        &self,
        account_id: &str,
        reports: &[ServiceLastAccessed],
        expired_before: DateTime<Utc>,
    ) -> Result<(), super::StateError> {
        let rows: Vec<(String, String, String)> = reports
            .iter()
            .map(|r| {
                let json = serde_json::to_string(r).map_err(|e| DbError::Type(e.to_string()))?;
                Ok((r.arn.clone(), stamp(r.generated_at), json))
            })
            .collect::<Result<_, DbError>>()
            .map_err(|e| super::StateError {
                database: self.name().to_owned(),
                error: e,
            })?;
        self.write_as(&super::Fence::Off, |db| {
            for (arn, at, json) in &rows {
                db.execute(
                    "INSERT INTO service_last_accessed (account_id, principal_arn, generated_at, report)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (account_id, principal_arn) DO UPDATE SET
                        generated_at = excluded.generated_at, report = excluded.report",
                    args![account_id, arn.as_str(), at.as_str(), json.as_str()],
                )?;
            }
            db.execute(
                "DELETE FROM service_last_accessed WHERE account_id = ?1 AND generated_at < ?2",
                args![account_id, stamp(expired_before)],
            )?;
            Ok(())
        })
    }
}

/// The store as the collector's [`AccessCache`], reached through whatever holds it (the daemon's
/// shared state, or a store of its own in tests).
pub struct StoreCache<H> {
    holder: Arc<H>,
    store: fn(&H) -> &Store,
}

impl<H> StoreCache<H> {
    pub fn new(holder: Arc<H>, store: fn(&H) -> &Store) -> StoreCache<H> {
        StoreCache { holder, store }
    }
}

impl<H> std::fmt::Debug for StoreCache<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreCache({})", (self.store)(&self.holder).name())
    }
}

impl<H: Send + Sync> AccessCache for StoreCache<H> {
    fn load(&self, account_id: &str) -> Result<Vec<ServiceLastAccessed>, String> {
        (self.store)(&self.holder)
            .last_accessed(account_id)
            .map_err(|e| e.to_string())
    }

    fn save(
        &self,
        account_id: &str,
        reports: &[ServiceLastAccessed],
        expired_before: DateTime<Utc>,
    ) -> Result<(), String> {
        (self.store)(&self.holder)
            .save_last_accessed(account_id, reports, expired_before)
            .map_err(|e| e.to_string())
    }
}

/// The daemon's cache: its state store.
pub fn cache<H: Send + Sync + 'static>(
    holder: Arc<H>,
    store: fn(&H) -> &Store,
) -> Option<Arc<dyn AccessCache>> {
    Some(Arc::new(StoreCache::new(holder, store)))
}
