//! A bounded buffer of monitor events. A monitor left running on a busy node sees thousands
//! of lines a second; the buffer keeps the newest `capacity` events and, when full, drops
//! the OLDEST ones, counting them so the loss is always reported (`mon.dropped()`, a warning
//! on stderr), never silent.
//!
//! Events are held behind `Arc`s so readers (a waiting script, `events()`) copy pointers,
//! not lines. Every event gets a sequence number (its position in the stream of kept events, from 0),
//! so a waiter can resume where it stopped even after older events were dropped.

use std::collections::VecDeque;
use std::sync::Arc;

use super::event::Event;

/// Events kept when no capacity is given: about 8 MB of typical trace lines.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// The newest `capacity` events, with the count of the ones dropped to make room.
#[derive(Debug)]
pub struct EventBuffer {
    events: VecDeque<Arc<Event>>,
    capacity: usize,
    received: u64,
    dropped: u64,
}

impl EventBuffer {
    /// An empty buffer holding at most `capacity` events (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        EventBuffer {
            events: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
            received: 0,
            dropped: 0,
        }
    }

    /// Adds `event`; when the buffer is full the oldest event is dropped first and counted.
    /// Returns whether an event was dropped.
    pub fn push(&mut self, event: Event) -> bool {
        let dropped = if self.events.len() >= self.capacity {
            self.events.pop_front();
            self.dropped += 1;
            true
        } else {
            false
        };
        self.events.push_back(Arc::new(event));
        self.received += 1;
        dropped
    }

    /// Events held now.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is held.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The most events held at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Events ever pushed (held + dropped).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Events dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The sequence number of the oldest event held.
    pub fn first_seq(&self) -> u64 {
        self.received - self.events.len() as u64
    }

    /// The events held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Event>> {
        self.events.iter()
    }

    /// The held events whose sequence number is `seq` or later, with their numbers.
    pub fn since(&self, seq: u64) -> impl Iterator<Item = (u64, &Arc<Event>)> {
        let first = self.first_seq();
        let skip = seq.saturating_sub(first).min(self.events.len() as u64) as usize;
        self.events
            .iter()
            .enumerate()
            .skip(skip)
            .map(move |(i, e)| (first + i as u64, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::parse;

    fn line(i: usize) -> Event {
        parse(&format!("CPU 00: Lost {i} events"))
    }

    fn counts(b: &EventBuffer) -> Vec<i64> {
        b.iter().map(|e| e.int("count").unwrap()).collect()
    }

    #[test]
    fn full_buffer_drops_the_oldest_and_counts_them() {
        let mut b = EventBuffer::new(3);
        let dropped: Vec<bool> = (0..5).map(|i| b.push(line(i))).collect();
        assert_eq!(dropped, [false, false, false, true, true]);
        assert_eq!(counts(&b), [2, 3, 4]);
        assert_eq!(b.dropped(), 2);
        assert_eq!(b.received(), 5);
        assert_eq!(b.len(), 3);
    }

    #[test]
    fn since_resumes_after_older_events_were_dropped() {
        let mut b = EventBuffer::new(3);
        for i in 0..5 {
            b.push(line(i));
        }
        assert_eq!(b.first_seq(), 2);
        let from_start: Vec<u64> = b.since(0).map(|(s, _)| s).collect();
        assert_eq!(from_start, [2, 3, 4]);
        let from_4: Vec<(u64, i64)> = b
            .since(4)
            .map(|(s, e)| (s, e.int("count").unwrap()))
            .collect();
        assert_eq!(from_4, [(4, 4)]);
        assert_eq!(b.since(5).count(), 0);
        assert_eq!(b.since(99).count(), 0);
    }

    #[test]
    fn zero_capacity_still_keeps_the_newest_event() {
        let mut b = EventBuffer::new(0);
        b.push(line(1));
        b.push(line(2));
        assert_eq!(counts(&b), [2]);
        assert_eq!(b.dropped(), 1);
    }
}
