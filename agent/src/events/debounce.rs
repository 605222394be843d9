//! Gathers events into re-checks: the events for the same account, region and facts that arrive
//! within `debounce_seconds` of the first one make one re-check (a burst of 200 rule changes is
//! one re-read of the security groups). Events that can blind the audit log are due at once.
//!
//! The struct is a pure state machine over [`tokio::time::Instant`]: the consumer asks for the
//! next due time and takes the due batches; tests drive it with paused time.

use chrono::{DateTime, Utc};
use maturity_checks::snapshot::Need;
use maturity_checks::triggers::{self, Scope};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;
use tokio::time::Instant;

use super::envelope::Event;

/// What one re-check re-reads: the account, the region of its regional facts (`None` when every
/// affected fact is account-wide), and the affected facts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub account_id: String,
    pub region: Option<String>,
    pub needs: BTreeSet<Need>,
}

impl Key {
    pub fn of(event: &Event) -> Key {
        let regional = event.needs.iter().any(|n| n.scope() == Scope::Region);
        Key {
            account_id: event.account_id.clone(),
            region: regional.then(|| event.region.clone()),
            needs: event.needs.clone(),
        }
    }
}

/// The events of one coming re-check.
#[derive(Debug, Clone)]
pub struct Batch {
    pub key: Key,
    /// When the re-check is due.
    pub due: Instant,
    /// The CloudTrail event ids in the batch.
    pub event_ids: HashSet<String>,
    /// The SQS receipt handles to delete once the re-check is saved (every delivery, duplicates
    /// included).
    pub receipts: Vec<String>,
    /// The earliest `eventTime` of the batch (the lag metric runs from it).
    pub first_event_time: DateTime<Utc>,
    /// The distinct events of the batch, as `eventSource eventName`.
    pub event_names: BTreeSet<String>,
}

/// What [`Debouncer::add`] did with an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The event starts a new re-check.
    New,
    /// The event joined a pending re-check.
    Debounced,
    /// The same event id is already pending (a repeated delivery); its receipt joined the batch.
    Duplicate,
}

#[derive(Debug)]
pub struct Debouncer {
    window: Duration,
    pending: BTreeMap<Key, Batch>,
}

impl Debouncer {
    pub fn new(window: Duration) -> Self {
        Debouncer {
            window,
            pending: BTreeMap::new(),
        }
    }

    /// Adds a verified event with the receipt of its message.
    pub fn add(&mut self, event: &Event, receipt: String, now: Instant) -> Added {
        let immediate = triggers::is_immediate(&event.event_source, &event.event_name);
        let key = Key::of(event);
        let name = format!("{} {}", event.event_source, event.event_name);
        if let Some(b) = self.pending.get_mut(&key) {
            b.receipts.push(receipt);
            b.event_names.insert(name);
            if immediate {
                b.due = now;
            }
            b.first_event_time = b.first_event_time.min(event.event_time);
            return if b.event_ids.insert(event.event_id.clone()) {
                Added::Debounced
            } else {
                Added::Duplicate
            };
        }
        let duplicate = self
            .pending
            .values_mut()
            .find(|b| b.event_ids.contains(&event.event_id));
        if let Some(b) = duplicate {
            b.receipts.push(receipt);
            return Added::Duplicate;
        }
        let due = if immediate { now } else { now + self.window };
        self.pending.insert(
            key.clone(),
            Batch {
                key,
                due,
                event_ids: [event.event_id.clone()].into(),
                receipts: vec![receipt],
                first_event_time: event.event_time,
                event_names: [name].into(),
            },
        );
        Added::New
    }

    /// Whether the event id is in a pending batch.
    pub fn is_pending(&self, event_id: &str) -> bool {
        self.pending
            .values()
            .any(|b| b.event_ids.contains(event_id))
    }

    /// When the next batch is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.values().map(|b| b.due).min()
    }

    /// Removes and returns the batches due at `now`, earliest first.
    pub fn take_due(&mut self, now: Instant) -> Vec<Batch> {
        let due: Vec<Key> = self
            .pending
            .iter()
            .filter(|(_, b)| b.due <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let mut batches: Vec<Batch> = due
            .into_iter()
            .filter_map(|k| self.pending.remove(&k))
            .collect();
        batches.sort_by_key(|b| b.due);
        batches
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::envelope::{tests as env, verify};

    fn ev(source: &str, name: &str, region: &str, id: &str) -> Event {
        verify(
            &env::event(source, name, "111111111111", region, id),
            &env::audited(),
        )
        .unwrap()
    }

    /// A burst of 1000 rule changes of one region within the window is one re-check, due one
    /// window after the first event; a repeated delivery joins it as a duplicate.
    #[tokio::test(start_paused = true)]
    async fn a_burst_is_one_recheck() {
        let mut d = Debouncer::new(Duration::from_secs(5));
        let start = Instant::now();
        assert_eq!(
            d.add(
                &ev(
                    "ec2.amazonaws.com",
                    "AuthorizeSecurityGroupIngress",
                    "eu-west-1",
                    "e0"
                ),
                "r0".into(),
                start
            ),
            Added::New
        );
        for i in 1..1000 {
            tokio::time::advance(Duration::from_millis(4)).await;
            let name = if i % 2 == 0 {
                "AuthorizeSecurityGroupIngress"
            } else {
                "RevokeSecurityGroupIngress"
            };
            let added = d.add(
                &ev("ec2.amazonaws.com", name, "eu-west-1", &format!("e{i}")),
                format!("r{i}"),
                Instant::now(),
            );
            assert_eq!(added, Added::Debounced);
        }
        let again = ev(
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            "eu-west-1",
            "e0",
        );
        assert_eq!(
            d.add(&again, "r0-again".into(), Instant::now()),
            Added::Duplicate
        );
        assert!(
            d.take_due(Instant::now()).is_empty(),
            "not due before the window ends"
        );
        assert_eq!(d.next_due(), Some(start + Duration::from_secs(5)));
        tokio::time::advance(Duration::from_secs(5)).await;
        let batches = d.take_due(Instant::now());
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!(b.event_ids.len(), 1000);
        assert_eq!(b.receipts.len(), 1001);
        assert_eq!(b.key.region.as_deref(), Some("eu-west-1"));
        assert_eq!(b.key.needs, [Need::Ec2SecurityGroups].into());
        assert!(d.is_empty());
    }

    /// Different facts make different re-checks; IAM's facts are account-wide (no region).
    #[tokio::test(start_paused = true)]
    async fn different_facts_are_different_rechecks() {
        let mut d = Debouncer::new(Duration::from_secs(5));
        let now = Instant::now();
        d.add(
            &ev(
                "ec2.amazonaws.com",
                "AuthorizeSecurityGroupIngress",
                "eu-west-1",
                "a",
            ),
            "1".into(),
            now,
        );
        d.add(
            &ev(
                "ec2.amazonaws.com",
                "ModifyInstanceMetadataOptions",
                "eu-west-1",
                "b",
            ),
            "2".into(),
            now,
        );
        d.add(
            &ev("iam.amazonaws.com", "DeactivateMFADevice", "us-east-1", "c"),
            "3".into(),
            now,
        );
        assert_eq!(d.len(), 3);
        tokio::time::advance(Duration::from_secs(5)).await;
        let batches = d.take_due(Instant::now());
        assert_eq!(batches.len(), 3);
        let iam = batches.iter().find(|b| b.event_ids.contains("c")).unwrap();
        assert_eq!(iam.key.region, None);
    }

    /// `StopLogging` does not wait for the window, and makes a pending trail re-check due at once.
    #[tokio::test(start_paused = true)]
    async fn stop_logging_is_immediate() {
        let mut d = Debouncer::new(Duration::from_secs(5));
        let now = Instant::now();
        d.add(
            &ev(
                "cloudtrail.amazonaws.com",
                "PutEventSelectors",
                "eu-west-1",
                "a",
            ),
            "1".into(),
            now,
        );
        assert!(d.take_due(now).is_empty());
        d.add(
            &ev("cloudtrail.amazonaws.com", "StopLogging", "eu-west-1", "b"),
            "2".into(),
            now,
        );
        let batches = d.take_due(now);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].event_ids.len(), 2);
        assert!(!d.is_pending("a"));
    }
}
