//! The run loop of the daemon, apart from the clock that drives it: ticks come in on a channel
//! (from the cron scheduler, and one at start); a tick that arrives while a run is in progress is
//! skipped and counted, so runs never overlap; on shutdown the current run gets a grace period to
//! finish and is cancelled after it. Tests drive it with paused tokio time.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No run was in progress, or it finished within the grace period.
    Clean,
    /// The run in progress was cancelled when the grace period ran out.
    Cancelled,
}

/// Runs `audit` once per tick, never two at once. `on_skip` is called for each tick that came
/// while a run was in progress.
///
/// The run is polled here, not spawned: cancelling it is dropping it, and its future need not be
/// `Send` (the SDK's borrowed per-resource streams are not).
pub async fn drive<T, A, Fut>(
    mut ticks: mpsc::Receiver<T>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
    mut audit: A,
    on_skip: impl Fn(T),
) -> Ended
where
    A: FnMut(T) -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let mut running: Option<Pin<Box<Fut>>> = None;
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = async { running.as_mut().expect("guarded by the condition").await }, if running.is_some() => {
                running = None;
            }
            tick = ticks.recv() => {
                let Some(tick) = tick else {
                    break;
                };
                if running.is_some() {
                    on_skip(tick);
                } else {
                    running = Some(Box::pin(audit(tick)));
                }
            }
        }
    }
    match running {
        Some(run) => {
            tracing::info!(
                grace_seconds = grace.as_secs(),
                "waiting for the running audit to finish"
            );
            match tokio::time::timeout(grace, run).await {
                Ok(()) => Ended::Clean,
                Err(_) => {
                    tracing::warn!(
                        "the running audit was cancelled at the end of the grace period"
                    );
                    Ended::Cancelled
                }
            }
        }
        None => Ended::Clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Counters {
        started: AtomicUsize,
        finished: AtomicUsize,
        skipped: AtomicUsize,
    }

    fn counters() -> Arc<Counters> {
        Arc::new(Counters {
            started: 0.into(),
            finished: 0.into(),
            skipped: 0.into(),
        })
    }

    /// Launches the loop with audits that take `run` each; returns the tick sender, the shutdown
    /// trigger and the loop's handle.
    fn launch(
        c: &Arc<Counters>,
        run: Duration,
        grace: Duration,
    ) -> (
        mpsc::Sender<()>,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Ended>,
    ) {
        let (tx, rx) = mpsc::channel(16);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (c1, c2) = (c.clone(), c.clone());
        let handle = tokio::spawn(drive(
            rx,
            async move {
                let _ = stop_rx.await;
            },
            grace,
            move |()| {
                let c = c1.clone();
                async move {
                    c.started.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(run).await;
                    c.finished.fetch_add(1, Ordering::SeqCst);
                }
            },
            move |()| {
                c2.skipped.fetch_add(1, Ordering::SeqCst);
            },
        ));
        (tx, stop_tx, handle)
    }

    /// Ticks every 3 s with 10 s audits: the ticks that land in a run are skipped and counted.
    #[tokio::test(start_paused = true)]
    async fn ticks_during_a_run_are_skipped() {
        let c = counters();
        let (tx, stop, handle) = launch(&c, Duration::from_secs(10), Duration::from_secs(30));
        for _ in 0..5 {
            tx.send(()).await.unwrap(); // t = 0, 3, 6, 9, 12
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        // Runs started at t=0 (finished at 10) and t=12; ticks at 3, 6, 9 were skipped.
        assert_eq!(c.started.load(Ordering::SeqCst), 2);
        assert_eq!(c.skipped.load(Ordering::SeqCst), 3);
        tokio::time::sleep(Duration::from_secs(20)).await;
        stop.send(()).unwrap();
        assert_eq!(handle.await.unwrap(), Ended::Clean);
        assert_eq!(c.finished.load(Ordering::SeqCst), 2);
    }

    /// Shutdown during a run waits for it within the grace period.
    #[tokio::test(start_paused = true)]
    async fn shutdown_lets_the_run_finish_within_grace() {
        let c = counters();
        let (tx, stop, handle) = launch(&c, Duration::from_secs(10), Duration::from_secs(30));
        tx.send(()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        stop.send(()).unwrap();
        assert_eq!(handle.await.unwrap(), Ended::Clean);
        assert_eq!(c.finished.load(Ordering::SeqCst), 1);
    }

    /// Shutdown during a run longer than the grace period cancels it.
    #[tokio::test(start_paused = true)]
    async fn shutdown_cancels_the_run_after_grace() {
        let c = counters();
        let (tx, stop, handle) = launch(&c, Duration::from_secs(100), Duration::from_secs(5));
        tx.send(()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let asked = tokio::time::Instant::now();
        stop.send(()).unwrap();
        assert_eq!(handle.await.unwrap(), Ended::Cancelled);
        assert_eq!(asked.elapsed(), Duration::from_secs(5));
        assert_eq!(c.finished.load(Ordering::SeqCst), 0);
    }
}
