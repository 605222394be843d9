//! A bounded memory of the CloudTrail `eventID`s already handled: SQS delivers at least once and
//! EventBridge may repeat an event, so the same change can arrive several times. An id is
//! remembered only once its re-check is saved, so that a message whose re-check failed is handled
//! again when SQS delivers it again.

use std::collections::{HashSet, VecDeque};

/// The last `capacity` event ids, forgetting the oldest first.
#[derive(Debug)]
pub struct Dedup {
    capacity: usize,
    order: VecDeque<String>,
    seen: HashSet<String>,
}

impl Dedup {
    pub fn new(capacity: usize) -> Self {
        Dedup {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }

    /// Whether `id` was handled already.
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// Remembers a handled id; whether it was new.
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.order.push_back(id.to_owned());
        self.seen.insert(id.to_owned());
        true
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repeated id is a duplicate until it falls out of the window.
    #[test]
    fn remembers_the_last_ids() {
        let mut d = Dedup::new(2);
        assert!(d.first_time("a"));
        assert!(!d.first_time("a"));
        assert!(d.first_time("b"));
        assert!(d.first_time("c"));
        assert_eq!(d.len(), 2);
        assert!(d.first_time("a"), "a was forgotten");
        assert!(!d.first_time("c"));
    }
}
