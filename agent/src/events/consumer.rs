//! The SQS consumer: a receiver task long-polls the queue and hands messages over; the processor
//! verifies, deduplicates and debounces them, runs the due re-checks one at a time (each with the
//! account claimed in the shared schedule, so never during an audit of that account by any
//! replica), saves each as a partial run, and deletes a message
//! only once the re-check it belongs to is saved. A message that is not ours is deleted at once
//! and counted; SQS failing is logged and counted with backoff while the scheduled audits go on.

use super::debounce::{Added, Batch, Debouncer};
use super::dedup::Dedup;
use super::envelope::{self, Audited};
use super::metrics::EventMetrics;
use crate::config::Config;
use crate::daemon::{self, Shared};
use crate::state::schedule::{Claim, SaveTo};
use chrono::Utc;
use maturity_checks::catalog;
use maturity_checks::facts::{CallRecorder, FactError};
use maturity_checks::recheck::{self, Request};
use maturity_checks::report::AccountReport;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A received message: its body and receipt handle.
#[derive(Debug, Clone)]
pub struct Message {
    pub body: String,
    pub receipt: String,
}

/// What the consumer needs from the daemon.
pub struct Context {
    pub shared: Arc<Shared>,
    pub config: Arc<Config>,
    pub base: aws_config::SdkConfig,
    pub metrics: Arc<EventMetrics>,
}

/// The queue operations the consumer needs (SQS in the daemon, a fake in unit tests).
pub trait Queue: Send + Sync + 'static {
    fn receive(&self) -> impl std::future::Future<Output = Result<Vec<Message>, String>> + Send;
    fn delete(
        &self,
        receipts: Vec<String>,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// The SQS queue of `[events]`.
pub struct Sqs {
    pub client: aws_sdk_sqs::Client,
    pub url: String,
    pub wait_time_seconds: i32,
    pub max_messages: i32,
    pub visibility_timeout_seconds: i32,
}

impl Sqs {
    pub fn new(base: &aws_config::SdkConfig, config: &Config) -> Option<Sqs> {
        let e = &config.events;
        let url = e.queue_url.as_ref()?.get_ref().clone();
        let region = e.queue_region(&config.home_region());
        let sqs = aws_sdk_sqs::config::Builder::from(base)
            .region(aws_sdk_sqs::config::Region::new(region))
            .build();
        Some(Sqs {
            client: aws_sdk_sqs::Client::from_conf(sqs),
            url,
            wait_time_seconds: e.wait_time_seconds,
            max_messages: e.max_messages,
            visibility_timeout_seconds: e.visibility_timeout_seconds,
        })
    }
}

fn sdk_error<E: std::error::Error + 'static>(e: aws_sdk_sqs::error::SdkError<E>) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(e).to_string()
}

impl Queue for Sqs {
    async fn receive(&self) -> Result<Vec<Message>, String> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .wait_time_seconds(self.wait_time_seconds)
            .max_number_of_messages(self.max_messages)
            .visibility_timeout(self.visibility_timeout_seconds)
            .send()
            .await
            .map_err(sdk_error)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                Some(Message {
                    receipt: m.receipt_handle?,
                    body: m.body.unwrap_or_default(),
                })
            })
            .collect())
    }

    async fn delete(&self, receipts: Vec<String>) -> Result<(), String> {
        let mut failed = Vec::new();
        for r in receipts {
            if let Err(e) = self
                .client
                .delete_message()
                .queue_url(&self.url)
                .receipt_handle(r)
                .send()
                .await
            {
                failed.push(sdk_error(e));
            }
        }
        match failed.first() {
            None => Ok(()),
            Some(e) => Err(format!("{} deletion(s) failed, first: {e}", failed.len())),
        }
    }
}

/// Long-polls the queue forever, handing messages to `tx`; on an error, waits with exponential
/// backoff (`retry_initial_seconds` doubling to `retry_max_seconds`) and counts it. Receives only
/// while `active()` (a replica of a shared state that does not hold the lease leaves the messages to the one that does,
/// whose saves are the only ones that commit).
pub async fn receive_loop<Q: Queue>(
    queue: Arc<Q>,
    tx: mpsc::Sender<Vec<Message>>,
    metrics: Arc<EventMetrics>,
    initial: Duration,
    max: Duration,
    active: impl Fn() -> bool,
) {
    let mut delay = initial;
    loop {
        if !active() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        match queue.receive().await {
            Ok(messages) => {
                delay = initial;
                if !messages.is_empty() && tx.send(messages).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                metrics
                    .sqs_errors
                    .with_label_values(&["ReceiveMessage"])
                    .inc();
                tracing::warn!(error = %e, retry_in_seconds = delay.as_secs_f64(), "the events queue cannot be read; scheduled audits go on");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(max);
            }
        }
    }
}

/// The verification and batching state of the processor (pure but for the clock).
pub struct Intake {
    pub dedup: Dedup,
    pub debouncer: Debouncer,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delete at once (not ours, or already handled), with the metric's result.
    Delete(&'static str),
    /// Held in a pending re-check, with the metric's result.
    Held(&'static str),
}

impl Intake {
    pub fn new(config: &super::config::EventsConfig) -> Intake {
        Intake {
            dedup: Dedup::new(config.dedup_capacity),
            debouncer: Debouncer::new(Duration::from_secs_f64(config.debounce_seconds)),
        }
    }

    /// Verifies one message against what is audited and files it.
    pub fn take(&mut self, m: Message, audited: &Audited, now: Instant) -> Outcome {
        let event = match envelope::verify(&m.body, audited) {
            Ok(e) => e,
            Err(d) => {
                tracing::info!(reason = %d, "event dropped");
                return Outcome::Delete(d.result_label());
            }
        };
        if self.dedup.contains(&event.event_id) {
            return Outcome::Delete("duplicate");
        }
        match self.debouncer.add(&event, m.receipt, now) {
            Added::New => Outcome::Held("rechecked"),
            Added::Debounced => Outcome::Held("debounced"),
            Added::Duplicate => Outcome::Held("duplicate"),
        }
    }

    /// Marks a saved batch's events as handled.
    pub fn done(&mut self, batch: &Batch) {
        for id in &batch.event_ids {
            self.dedup.first_time(id);
        }
    }
}

/// The accounts, regions and facts the daemon audits now: the configured accounts and the ones
/// served (discovered accounts), the configured regions, the enabled checks' needs.
pub fn audited(config: &Config, served: &[String]) -> Audited {
    let mut accounts: BTreeSet<String> = config
        .accounts
        .iter()
        .map(|a| a.get_ref().id.get_ref().0.clone())
        .collect();
    accounts.extend(served.iter().cloned());
    Audited {
        accounts,
        regions: config.regions().into_iter().collect(),
        needs: catalog::needs_of(&catalog::enabled(&config.disabled())),
    }
}

/// The processor: runs until `rx` closes.
pub async fn process<Q: Queue>(
    ctx: Arc<Context>,
    queue: Arc<Q>,
    mut rx: mpsc::Receiver<Vec<Message>>,
) {
    let mut intake = Intake::new(&ctx.config.events);
    loop {
        let next = intake.debouncer.next_due();
        tokio::select! {
            received = rx.recv() => {
                let Some(messages) = received else { return };
                let served = ctx.shared.served.read().unwrap_or_else(|p| p.into_inner()).clone();
                let audited = audited(&ctx.config, &served);
                let mut delete = Vec::new();
                for m in messages {
                    let receipt = m.receipt.clone();
                    match intake.take(m, &audited, Instant::now()) {
                        Outcome::Delete(result) => {
                            ctx.metrics.received.with_label_values(&[result]).inc();
                            delete.push(receipt);
                        }
                        Outcome::Held(result) => {
                            ctx.metrics.received.with_label_values(&[result]).inc();
                        }
                    }
                }
                if !delete.is_empty() {
                    delete_counted(&*queue, &ctx.metrics, delete).await;
                }
            }
            _ = sleep_until(next) => {
                for batch in intake.debouncer.take_due(Instant::now()) {
                    if run_batch(&ctx, &batch).await {
                        intake.done(&batch);
                        delete_counted(&*queue, &ctx.metrics, batch.receipts.clone()).await;
                    }
                    // A batch that was not saved keeps its messages: SQS delivers them again after
                    // the visibility timeout, and they are re-checked then.
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn delete_counted<Q: Queue>(queue: &Q, metrics: &EventMetrics, receipts: Vec<String>) {
    if let Err(e) = queue.delete(receipts).await {
        metrics
            .sqs_errors
            .with_label_values(&["DeleteMessage"])
            .inc();
        tracing::warn!(error = %e, "messages could not be deleted; they come back and are dropped as duplicates");
    }
}

/// Re-checks one batch and saves it; whether it was saved (its messages may be deleted).
pub async fn run_batch(ctx: &Context, batch: &Batch) -> bool {
    let started = std::time::Instant::now();
    let account = &batch.key.account_id;
    let result = recheck_and_save(ctx, batch).await;
    let label = match &result {
        Ok(()) => "success",
        Err(Failure::Recheck(_)) => "error",
        Err(Failure::NotSaved(_)) => "not_saved",
    };
    ctx.metrics.rechecks.with_label_values(&[label]).inc();
    match result {
        Ok(()) => {
            let seconds = started.elapsed().as_secs_f64();
            ctx.metrics.recheck_duration.observe(seconds);
            let lag = (Utc::now() - batch.first_event_time).num_milliseconds() as f64 / 1000.0;
            ctx.metrics.lag.observe(lag.max(0.0));
            tracing::info!(account_id = %account, region = ?batch.key.region, events = batch.event_ids.len(), seconds, lag_seconds = lag, "re-check saved");
            true
        }
        Err(e) => {
            tracing::warn!(account_id = %account, error = %e, "re-check failed; its events are retried when SQS delivers them again");
            false
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Recheck(String),
    #[error("not saved: {0}")]
    NotSaved(String),
}

/// Claims the account for a re-check, waiting while another claim on it runs (an audit of it by
/// any replica: an event that arrives during it is re-checked after it), for at most half the
/// messages' visibility timeout.
async fn claim(ctx: &Context, account: &str) -> Result<Claim, Failure> {
    let shared = &ctx.shared;
    let limit = Duration::from_secs(
        u64::try_from(ctx.config.events.visibility_timeout_seconds.max(2) / 2).unwrap_or(1),
    );
    let until = Instant::now() + limit;
    loop {
        let (s, id) = (shared.clone(), account.to_owned());
        let claimed = tokio::task::spawn_blocking(move || {
            s.store.claim_account(
                &id,
                &s.owner,
                Utc::now().timestamp_millis(),
                s.claim_ttl_ms(),
            )
        })
        .await
        .map_err(|e| Failure::Recheck(e.to_string()))?
        .map_err(|e| Failure::Recheck(e.to_string()))?;
        if let Some(c) = claimed {
            return Ok(c);
        }
        if Instant::now() >= until {
            return Err(Failure::Recheck(format!(
                "account {account} is being audited (claimed) or is not in the schedule; retried when SQS delivers the events again"
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn recheck_and_save(ctx: &Context, batch: &Batch) -> Result<(), Failure> {
    let shared = &ctx.shared;
    let account = batch.key.account_id.clone();
    let claim = claim(ctx, &account).await?;
    let result = recheck_claimed(ctx, batch, &claim).await;
    if result.is_err() {
        let (s, id) = (shared.clone(), account.clone());
        let _ = tokio::task::spawn_blocking(move || s.store.release_claims(&s.owner, Some(&[id])))
            .await;
    }
    result
}

async fn recheck_claimed(ctx: &Context, batch: &Batch, claim: &Claim) -> Result<(), Failure> {
    let shared = &ctx.shared;
    let config = &ctx.config;
    let account = batch.key.account_id.clone();
    // The account's newest audited result, from the state (another replica may have saved it).
    let (s, id) = (shared.clone(), account.clone());
    let previous = tokio::task::spawn_blocking(move || s.store.last_audited(&id))
        .await
        .map_err(|e| Failure::Recheck(e.to_string()))?
        .map_err(|e| Failure::Recheck(e.to_string()))?
        .ok_or_else(|| Failure::Recheck(format!("account {account} has no audited report yet")))?;
    let target = &claim.target;
    let mut opts = daemon::audit_options(config);
    opts.access_cache = crate::state::access::cache(shared.clone(), |s| &s.store);
    let organization = if recheck::needs_organization(&opts.checks, &batch.key.needs) {
        let rec = CallRecorder::with_rate_limit(opts.max_requests_per_second);
        let audited: Vec<String> = shared
            .served
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .to_vec();
        let needs = catalog::needs_of(&opts.checks);
        let fact = maturity_checks::audit::read_organization(
            &ctx.base,
            &opts,
            &rec,
            &needs,
            &audited,
            std::slice::from_ref(target),
        )
        .await
        .map(Arc::new);
        shared.metrics.count_calls(&rec.counts());
        fact
    } else {
        Err(FactError::not_collected(
            "organizations",
            "DescribeOrganization",
        ))
    };
    let events: Vec<String> = batch.event_names.iter().cloned().collect();
    let request = Request {
        region: batch.key.region.clone(),
        needs: batch.key.needs.clone(),
        events,
    };
    let merged =
        recheck::recheck_account(&ctx.base, target, &opts, &organization, &previous, &request)
            .await
            .map_err(|e| Failure::Recheck(e.to_string()))?;
    shared.metrics.count_calls(&merged.api_calls);
    save_partial(ctx, merged, claim.epoch).await
}

/// Saves a re-checked account as a partial run (one account) with its regressions and alert
/// changes in one transaction, while its claim holds, then serves the state again.
async fn save_partial(ctx: &Context, merged: AccountReport, epoch: i64) -> Result<(), Failure> {
    let saved = daemon::cycle::save_account(
        &ctx.shared,
        &ctx.config,
        SaveTo::Recheck,
        epoch,
        merged,
        Utc::now(),
    )
    .await
    .map_err(Failure::NotSaved)?;
    if saved.is_none() {
        return Err(Failure::NotSaved(
            "the account's claim was taken over before the re-check was saved".into(),
        ));
    }
    daemon::view::refresh(&ctx.shared).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::envelope::tests as env;

    fn intake() -> Intake {
        Intake::new(&super::super::config::EventsConfig::default())
    }

    fn msg(body: String, receipt: &str) -> Message {
        Message {
            body,
            receipt: receipt.to_owned(),
        }
    }

    /// A message that is not ours is deleted at once with its label; a change is held; a
    /// repeated delivery of a handled event is deleted as a duplicate.
    #[tokio::test(start_paused = true)]
    async fn intake_files_messages() {
        let mut i = intake();
        let a = env::audited();
        let now = Instant::now();
        assert_eq!(
            i.take(msg("garbage".into(), "r0"), &a, now),
            Outcome::Delete("invalid")
        );
        let foreign = env::event(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            "999999999999",
            "eu-west-1",
            "x",
        );
        assert_eq!(
            i.take(msg(foreign, "r1"), &a, now),
            Outcome::Delete("ignored")
        );
        let sg = env::event(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            "111111111111",
            "eu-west-1",
            "e1",
        );
        assert_eq!(
            i.take(msg(sg.clone(), "r2"), &a, now),
            Outcome::Held("rechecked")
        );
        assert_eq!(
            i.take(msg(sg.clone(), "r3"), &a, now),
            Outcome::Held("duplicate")
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        let batches = i.debouncer.take_due(Instant::now());
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].receipts, ["r2", "r3"]);
        i.done(&batches[0]);
        assert_eq!(
            i.take(msg(sg, "r4"), &a, Instant::now()),
            Outcome::Delete("duplicate")
        );
    }

    /// A queue that fails twice and then answers.
    struct Flaky {
        calls: std::sync::atomic::AtomicUsize,
    }

    impl Queue for Flaky {
        async fn receive(&self) -> Result<Vec<Message>, String> {
            let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n < 2 {
                return Err("connection refused".into());
            }
            Ok(vec![msg(format!("m{n}"), "r")])
        }
        async fn delete(&self, _: Vec<String>) -> Result<(), String> {
            Ok(())
        }
    }

    /// SQS down: each failure is counted and retried after 1 s, then 2 s; messages flow again
    /// once it answers.
    #[tokio::test(start_paused = true)]
    async fn receive_backs_off_and_recovers() {
        let registry = prometheus::Registry::new();
        let metrics = Arc::new(EventMetrics::new(&registry));
        let queue = Arc::new(Flaky {
            calls: Default::default(),
        });
        let (tx, mut rx) = mpsc::channel(4);
        let start = Instant::now();
        let task = tokio::spawn(receive_loop(
            queue,
            tx,
            metrics.clone(),
            Duration::from_secs(1),
            Duration::from_secs(60),
            || true,
        ));
        let first = rx.recv().await.unwrap();
        assert_eq!(first[0].body, "m2");
        assert_eq!(
            Instant::now() - start,
            Duration::from_secs(3),
            "1 s then 2 s"
        );
        assert_eq!(
            metrics
                .sqs_errors
                .with_label_values(&["ReceiveMessage"])
                .get(),
            2
        );
        task.abort();
    }
}
