//! IAM's service last-accessed reports of the account's users and roles: one job per principal
//! (`GenerateServiceLastAccessedDetails`, `SERVICE_LEVEL`), polled with a bound
//! (`GetServiceLastAccessedDetails`), within the run's budget and with the kept reports of earlier
//! runs ([`crate::last_accessed`]).

use super::{call, Collector};
use crate::last_accessed::plan;
use crate::policy::escalation::is_service_linked;
use crate::snapshot::{AuthorizationDetails, PrincipalAccess, ServiceAccess, ServiceLastAccessed};
use aws_sdk_iam::types::{AccessAdvisorUsageGranularityType, JobStatusType};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::time::Duration;

/// Jobs polled at once in one account: IAM's request quotas are account-wide and low.
const CONCURRENCY: usize = 4;
/// How often and how long to wait for one job: the first poll at once (IAM often has the report
/// ready within a second), later ones backing off to 4 s; about 25 s in all.
const POLLS: u32 = 10;
const FIRST_WAIT: Duration = Duration::from_millis(250);
const MAX_WAIT: Duration = Duration::from_secs(4);
/// Services per page (IAM's maximum); an administrator's report lists every service (~400).
const PAGE: i32 = 1000;

/// The reports of every user and role that is not service-linked, keyed by ARN.
pub(super) async fn collect(
    c: &Collector<'_>,
    client: &aws_sdk_iam::Client,
    details: &AuthorizationDetails,
) -> BTreeMap<String, PrincipalAccess> {
    let created: BTreeMap<&str, Option<DateTime<Utc>>> = details
        .users
        .iter()
        .map(|u| (u.arn.as_str(), u.created))
        .chain(
            details
                .roles
                .iter()
                .filter(|r| !is_service_linked(&r.arn))
                .map(|r| (r.arn.as_str(), r.created)),
        )
        .collect();
    let principals: Vec<String> = created.keys().map(|a| (*a).to_owned()).collect();
    let budget = c.last_accessed;
    let account = c.account_id.to_owned();
    let kept = match &budget.cache {
        None => Vec::new(),
        Some(cache) => {
            let (cache, account) = (cache.clone(), account.clone());
            match tokio::task::spawn_blocking(move || cache.load(&account)).await {
                Ok(Ok(kept)) => kept,
                Ok(Err(e)) => {
                    tracing::warn!(account_id = %c.account_id, error = %e, "kept last-accessed reports could not be read: new jobs instead");
                    Vec::new()
                }
                Err(e) => {
                    tracing::warn!(account_id = %c.account_id, error = %e, "the last-accessed cache reader failed");
                    Vec::new()
                }
            }
        }
    };
    // A report older than its principal is of a deleted namesake (same ARN, created again).
    let kept: Vec<ServiceLastAccessed> = kept
        .into_iter()
        .filter(|r| {
            created
                .get(r.arn.as_str())
                .is_some_and(|c| c.is_none_or(|c| c <= r.generated_at))
        })
        .collect();
    let now = Utc::now();
    let mut plan = plan(&principals, kept, budget, now);
    // The futures are made first (a closure that makes them inside the stream trips the
    // compiler's `Send` inference once nested under the event consumer's spawned task).
    let jobs: Vec<_> = plan
        .jobs
        .iter()
        .map(|arn| Box::pin(async move { (arn.clone(), report(c, client, arn).await) }))
        .collect();
    let read: Vec<(String, PrincipalAccess)> = futures::stream::iter(jobs)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let new: Vec<ServiceLastAccessed> = read
        .iter()
        .filter_map(|(_, a)| match a {
            PrincipalAccess::Known(r) => Some(r.clone()),
            PrincipalAccess::Unknown(_) => None,
        })
        .collect();
    plan.answers.extend(read);
    if let Some(cache) = &budget.cache {
        let cache = cache.clone();
        let expired_before = budget.expired_before(now);
        let saved =
            tokio::task::spawn_blocking(move || cache.save(&account, &new, expired_before)).await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(account_id = %c.account_id, error = %e, "new last-accessed reports could not be kept: the next run starts jobs again")
            }
            Err(e) => {
                tracing::warn!(account_id = %c.account_id, error = %e, "the last-accessed cache writer failed")
            }
        }
    }
    plan.answers
}

/// One principal's job: started, polled until IAM completes it (or the polls run out), every page
/// read. Any failure makes the principal unknown with the reason, never a report.
async fn report(c: &Collector<'_>, client: &aws_sdk_iam::Client, arn: &str) -> PrincipalAccess {
    match job(c, client, arn).await {
        Ok(r) => PrincipalAccess::Known(r),
        Err(why) => PrincipalAccess::Unknown(why),
    }
}

async fn job(
    c: &Collector<'_>,
    client: &aws_sdk_iam::Client,
    arn: &str,
) -> Result<ServiceLastAccessed, String> {
    let started = call(
        c.recorder,
        "iam",
        "GenerateServiceLastAccessedDetails",
        None,
        client
            .generate_service_last_accessed_details()
            .arn(arn)
            .granularity(AccessAdvisorUsageGranularityType::ServiceLevel)
            .send(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let id = started
        .job_id()
        .filter(|j| !j.is_empty())
        .ok_or("iam:GenerateServiceLastAccessedDetails answered no JobId")?
        .to_owned();
    let mut wait = FIRST_WAIT;
    let mut polls = 0;
    let mut services = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let out = call(
            c.recorder,
            "iam",
            "GetServiceLastAccessedDetails",
            None,
            client
                .get_service_last_accessed_details()
                .job_id(&id)
                .max_items(PAGE)
                .set_marker(marker.clone())
                .send(),
        )
        .await
        .map_err(|e| e.to_string())?;
        match out.job_status() {
            JobStatusType::Completed => {
                services.extend(out.services_last_accessed().iter().map(|s| ServiceAccess {
                    namespace: s.service_namespace().to_owned(),
                    last_authenticated: s.last_authenticated().and_then(utc),
                }));
                if out.is_truncated() {
                    match out.marker() {
                        Some(m) if !m.is_empty() && marker.as_deref() != Some(m) => {
                            marker = Some(m.to_owned());
                            continue;
                        }
                        _ => {
                            return Err("iam:GetServiceLastAccessedDetails answered a truncated page without a new Marker".into())
                        }
                    }
                }
                // A missing completion date reads as the epoch: the report is then dated now.
                let generated_at = utc(out.job_completion_date())
                    .filter(|d| d.timestamp() > 0)
                    .unwrap_or_else(Utc::now);
                return Ok(ServiceLastAccessed {
                    arn: arn.to_owned(),
                    generated_at,
                    services,
                });
            }
            JobStatusType::Failed => {
                let why = out
                    .error()
                    .map(|e| format!("{}: {}", e.code(), e.message()))
                    .unwrap_or_else(|| "no reason given".to_owned());
                return Err(format!(
                    "IAM's service last-accessed job {id} failed ({why})"
                ));
            }
            _ => {
                polls += 1;
                if polls >= POLLS {
                    return Err(format!(
                        "IAM's service last-accessed job {id} was still in progress after {polls} polls; it is started again in a later run"
                    ));
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_WAIT);
            }
        }
    }
}

fn utc(t: &aws_sdk_iam::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}
