//! The series of event-driven re-checks, registered beside the audit's series when `[events]` is
//! on. Labels are bounded: a result, never an event id or a resource.

use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts, Registry};

/// Results of `maturity_events_received_total`.
pub const EVENT_RESULTS: [&str; 5] = ["rechecked", "duplicate", "debounced", "ignored", "invalid"];
/// Results of `maturity_rechecks_total`.
pub const RECHECK_RESULTS: [&str; 3] = ["success", "error", "not_saved"];
/// Results of `maturity_events_receive_errors_total`'s operations.
pub const SQS_OPERATIONS: [&str; 2] = ["ReceiveMessage", "DeleteMessage"];

pub struct EventMetrics {
    pub received: IntCounterVec,
    pub rechecks: IntCounterVec,
    pub recheck_duration: Histogram,
    pub lag: Histogram,
    pub sqs_errors: IntCounterVec,
}

impl EventMetrics {
    pub fn new(r: &Registry) -> EventMetrics {
        let counter = |name: &str, help: &str, label: &str, values: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid metric");
            r.register(Box::new(c.clone())).expect("unique metric");
            for v in values {
                c.with_label_values(&[v]);
            }
            c
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets))
                .expect("valid metric");
            r.register(Box::new(h.clone())).expect("unique metric");
            h
        };
        EventMetrics {
            received: counter(
                "maturity_events_received_total",
                "CloudTrail events received from the queue, by what became of them (rechecked: started a re-check; debounced: joined a pending one; duplicate: an eventID already seen; ignored: not an audited account, region or fact, or an envelope that disagrees with its record; invalid: not a CloudTrail event).",
                "result",
                &EVENT_RESULTS,
            ),
            rechecks: counter(
                "maturity_rechecks_total",
                "Targeted re-checks by result (success: saved; error: AWS could not be read; not_saved: the state store refused it).",
                "result",
                &RECHECK_RESULTS,
            ),
            recheck_duration: histogram(
                "maturity_recheck_duration_seconds",
                "Duration of a targeted re-check, from its start to its saved verdict.",
                vec![0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
            ),
            lag: histogram(
                "maturity_event_lag_seconds",
                "From the earliest eventTime of a re-check's events to its saved verdict.",
                vec![1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 900.0],
            ),
            sqs_errors: counter(
                "maturity_events_queue_errors_total",
                "SQS calls of the event consumer that failed (unreachable, denied, throttled).",
                "operation",
                &SQS_OPERATIONS,
            ),
        }
    }
}
