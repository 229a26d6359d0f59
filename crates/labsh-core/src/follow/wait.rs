//! Waiting on a follower from the engine thread: until a condition holds on an item (a
//! script closure, evaluated here on the waiting thread, never on the follower's task), a
//! count of items, the end of the source, or a timeout. Ctrl-C ends the wait (through
//! [`Ctx::block_on`]); the follower itself keeps running until stopped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Follower;
use crate::context::Ctx;
use crate::interrupt::Interrupted;

/// The condition a [`Follower::wait`] checks on each item (runs on the waiting thread; a
/// script's closure, so its error type is the caller's).
pub type Until<'a, T, E> = &'a mut dyn FnMut(&Arc<T>) -> Result<bool, E>;

/// Why a [`Follower::wait`] failed: Ctrl-C, or the error of the caller's `until`.
#[derive(Debug)]
pub enum WaitError<E> {
    /// The evaluation was interrupted.
    Interrupted,
    /// `until` failed.
    Until(E),
}

impl<E> From<Interrupted> for WaitError<E> {
    fn from(_: Interrupted) -> Self {
        WaitError::Interrupted
    }
}

/// How a [`Follower::wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// An item satisfied `until`.
    Matched,
    /// `count` items were received.
    Count,
    /// The follower ended before the condition held.
    Ended,
    /// The timeout passed first.
    TimedOut,
}

/// What a wait waits for: any condition that holds ends it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitSpec {
    /// At least this many items received since the start (dropped ones included).
    pub count: Option<u64>,
    /// Give up after this long.
    pub timeout: Option<Duration>,
}

/// Up to this many items are cloned out of the store per lock.
const WAIT_BATCH: usize = 4096;

impl<T: Send + Sync + 'static> Follower<T> {
    /// Waits until `until` accepts an item, `spec.count` items were received, the follower
    /// ends, or `spec.timeout` passes — whichever comes first. `until` runs on the calling
    /// thread on every item held, from the oldest, then on each new one. With neither
    /// `count` nor `until`, waits for the follower to end.
    pub fn wait<E>(
        &self,
        ctx: &Ctx,
        spec: WaitSpec,
        mut until: Option<Until<'_, T, E>>,
    ) -> Result<WaitOutcome, WaitError<E>> {
        let deadline = spec.timeout.map(|d| Instant::now() + d);
        let mut next_seq = 0u64;
        loop {
            let notified = self.shared().notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let (batch, received, ended) = {
                let s = self.shared().lock();
                let batch: Vec<(u64, Arc<T>)> = if until.is_some() {
                    s.store
                        .since(next_seq)
                        .take(WAIT_BATCH)
                        .map(|(seq, e)| (seq, e.clone()))
                        .collect()
                } else {
                    Vec::new()
                };
                (batch, s.store.received(), s.end.is_some())
            };
            let full_batch = batch.len() == WAIT_BATCH;
            if let Some(until) = until.as_mut() {
                for (seq, item) in &batch {
                    next_seq = seq + 1;
                    if until(item).map_err(WaitError::Until)? {
                        return Ok(WaitOutcome::Matched);
                    }
                }
            }
            if spec.count.is_some_and(|c| received >= c) {
                return Ok(WaitOutcome::Count);
            }
            // Checked before taking the next batch, so a flood of items cannot outlast it.
            let left = match deadline {
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(WaitOutcome::TimedOut);
                    }
                    Some(d - now)
                }
                None => None,
            };
            if full_batch {
                continue;
            }
            if ended {
                // The end is recorded after the last push, so this batch held every item.
                return Ok(WaitOutcome::Ended);
            }
            ctx.block_on(async move {
                match left {
                    Some(left) => {
                        let _ = tokio::time::timeout(left, notified).await;
                    }
                    None => notified.await,
                }
            })?;
        }
    }
}

/// How a [`Follower::wait_idle`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// No item arrived for the idle interval: what was coming is in.
    Quiet,
    /// The follower ended (everything it will ever hold is in).
    Ended,
    /// Items kept coming until the timeout.
    Busy,
}

impl<T: Send + Sync + 'static> Follower<T> {
    /// Waits until no item arrived for `idle` (a capture has drained: the last packets of an
    /// exchange are in), the follower ended, or `timeout` passed while items kept coming.
    /// The quiet interval counts from the call or from the last item, whichever is later.
    pub fn wait_idle(
        &self,
        ctx: &Ctx,
        idle: Duration,
        timeout: Duration,
    ) -> Result<Idle, Interrupted> {
        let deadline = Instant::now() + timeout;
        let mut last = self.received();
        let mut quiet_since = Instant::now();
        loop {
            let notified = self.shared().notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let (received, ended) = {
                let s = self.shared().lock();
                (s.store.received(), s.end.is_some())
            };
            if ended {
                return Ok(Idle::Ended);
            }
            let now = Instant::now();
            if received != last {
                last = received;
                quiet_since = now;
            }
            if now.duration_since(quiet_since) >= idle {
                return Ok(Idle::Quiet);
            }
            if now >= deadline {
                return Ok(Idle::Busy);
            }
            let wake = (quiet_since + idle).min(deadline);
            ctx.block_on(async move {
                let _ = tokio::time::timeout(wake - now, notified).await;
            })?;
        }
    }
}
