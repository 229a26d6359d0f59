//! The bounded store of a follower. A follower left running on a busy node sees thousands of
//! lines a second; the store keeps a bounded part of them and counts the rest, so the loss
//! is always reported, never silent. Two policies:
//!
//! - [`Keep::Newest`]: the newest `n` items; the OLDEST are dropped to make room (a monitor,
//!   a log follower: what matters is what just happened);
//! - [`Keep::First`]: the first items within a count and a byte budget; later ones are only
//!   counted (a capture handed to the script as one array within the sandbox limits).
//!
//! Items are held behind `Arc`s so readers (a waiting script, a listing) copy pointers, not
//! lines. Every stored item gets a sequence number (its position in the stream of received
//! items, from 0), so a waiter can resume where it stopped even after older items were
//! dropped.

use std::collections::VecDeque;
use std::sync::Arc;

/// What a store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The newest `n` items (at least 1); older ones are dropped and counted.
    Newest(usize),
    /// The first `items` items whose weights add up to at most `bytes`; later ones are
    /// counted, not stored.
    First {
        /// The most items stored.
        items: usize,
        /// The most weight (bytes of text) stored.
        bytes: usize,
    },
}

/// Items kept under a [`Keep`] policy, with the count of the ones left out.
#[derive(Debug)]
pub struct Store<T> {
    items: VecDeque<Arc<T>>,
    keep: Keep,
    weigh: fn(&T) -> usize,
    bytes: usize,
    received: u64,
    dropped: u64,
}

fn no_weight<T>(_: &T) -> usize {
    0
}

impl<T> Store<T> {
    /// An empty store; items weigh nothing (only [`Keep::First`]'s count applies).
    pub fn new(keep: Keep) -> Self {
        Self::weighed(keep, no_weight::<T>)
    }

    /// An empty store whose items weigh `weigh(item)` bytes against [`Keep::First`]'s budget.
    pub fn weighed(keep: Keep, weigh: fn(&T) -> usize) -> Self {
        let keep = match keep {
            Keep::Newest(n) => Keep::Newest(n.max(1)),
            first => first,
        };
        let hint = match keep {
            Keep::Newest(n) => n,
            Keep::First { items, .. } => items,
        };
        Store {
            items: VecDeque::with_capacity(hint.min(4096)),
            keep,
            weigh,
            bytes: 0,
            received: 0,
            dropped: 0,
        }
    }

    /// Adds `item` (or counts it, see [`Keep`]). Returns whether an item was left out.
    pub fn push(&mut self, item: T) -> bool {
        self.received += 1;
        match self.keep {
            Keep::Newest(n) => {
                let dropped = self.items.len() >= n;
                if dropped {
                    self.items.pop_front();
                    self.dropped += 1;
                }
                self.items.push_back(Arc::new(item));
                dropped
            }
            Keep::First { items, bytes } => {
                let weight = (self.weigh)(&item);
                let fits = self.items.len() < items && self.bytes + weight <= bytes;
                if fits {
                    self.bytes += weight;
                    self.items.push_back(Arc::new(item));
                } else {
                    self.dropped += 1;
                }
                !fits
            }
        }
    }

    /// Items held now.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The policy.
    pub fn keep(&self) -> Keep {
        self.keep
    }

    /// The most items held at once.
    pub fn capacity(&self) -> usize {
        match self.keep {
            Keep::Newest(n) => n,
            Keep::First { items, .. } => items,
        }
    }

    /// Items ever pushed (held + left out).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Items left out: dropped to make room ([`Keep::Newest`]) or not stored
    /// ([`Keep::First`]).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The total weight of the items held (for [`Keep::First`]).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The sequence number of the oldest item held.
    pub fn first_seq(&self) -> u64 {
        match self.keep {
            Keep::Newest(_) => self.received - self.items.len() as u64,
            Keep::First { .. } => 0,
        }
    }

    /// The items held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<T>> {
        self.items.iter()
    }

    /// The held items whose sequence number is `seq` or later, with their numbers.
    pub fn since(&self, seq: u64) -> impl Iterator<Item = (u64, &Arc<T>)> {
        let first = self.first_seq();
        let skip = seq.saturating_sub(first).min(self.items.len() as u64) as usize;
        self.items
            .iter()
            .enumerate()
            .skip(skip)
            .map(move |(i, e)| (first + i as u64, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(s: &Store<u32>) -> Vec<u32> {
        s.iter().map(|v| **v).collect()
    }

    #[test]
    fn a_full_newest_store_drops_the_oldest_and_counts_them() {
        let mut s = Store::new(Keep::Newest(3));
        let dropped: Vec<bool> = (0..5).map(|i| s.push(i)).collect();
        assert_eq!(dropped, [false, false, false, true, true]);
        assert_eq!(held(&s), [2, 3, 4]);
        assert_eq!(s.dropped(), 2);
        assert_eq!(s.received(), 5);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn since_resumes_after_older_items_were_dropped() {
        let mut s = Store::new(Keep::Newest(3));
        for i in 0..5 {
            s.push(i);
        }
        assert_eq!(s.first_seq(), 2);
        let from_start: Vec<u64> = s.since(0).map(|(q, _)| q).collect();
        assert_eq!(from_start, [2, 3, 4]);
        let from_4: Vec<(u64, u32)> = s.since(4).map(|(q, v)| (q, **v)).collect();
        assert_eq!(from_4, [(4, 4)]);
        assert_eq!(s.since(5).count(), 0);
        assert_eq!(s.since(99).count(), 0);
    }

    #[test]
    fn zero_capacity_still_keeps_the_newest_item() {
        let mut s = Store::new(Keep::Newest(0));
        s.push(1);
        s.push(2);
        assert_eq!(held(&s), [2]);
        assert_eq!(s.dropped(), 1);
    }

    #[test]
    fn a_first_store_keeps_the_first_within_count_and_bytes_and_counts_the_rest() {
        let mut s = Store::weighed(
            Keep::First {
                items: 10,
                bytes: 7,
            },
            |v: &u32| *v as usize,
        );
        let left_out: Vec<bool> = [3, 4, 1, 1].into_iter().map(|v| s.push(v)).collect();
        assert_eq!(left_out, [false, false, true, true]);
        assert_eq!(held(&s), [3, 4]);
        assert_eq!(s.bytes(), 7);
        assert_eq!((s.received(), s.dropped()), (4, 2));
        let mut c = Store::new(Keep::First {
            items: 2,
            bytes: usize::MAX,
        });
        for v in 0..5u32 {
            c.push(v);
        }
        assert_eq!(held(&c), [0, 1]);
        assert_eq!(c.dropped(), 3);
        assert_eq!(c.since(1).map(|(q, _)| q).collect::<Vec<_>>(), [1]);
    }
}
