//! Waiting on a monitor from the engine thread: [`Monitor::wait`] (until a script condition
//! holds, a count of events, the end of the source or a timeout) and its blocking form
//! [`Monitor::capture`]. Script closures run here, on the waiting thread, never on the
//! monitor's task.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::{Monitor, MonitorOptions};
use crate::context::Ctx;
use crate::interrupt::Interrupted;
use crate::monitor::close::CloseHook;
use crate::monitor::event::Event;

/// The condition a [`Monitor::wait`] checks on each event (runs on the waiting thread; a
/// script's closure, so its error type is the caller's).
pub type Until<'a, E> = &'a mut dyn FnMut(&Arc<Event>) -> Result<bool, E>;

/// Why a [`Monitor::wait`] failed: Ctrl-C, or the error of the caller's `until`.
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

/// How a [`Monitor::wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// An event satisfied `until`.
    Matched,
    /// `count` events were received.
    Count,
    /// The monitor ended before the condition held.
    Ended,
    /// The timeout passed first.
    TimedOut,
}

/// What a wait waits for: any condition that holds ends it.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitSpec {
    /// At least this many events received since the start (dropped ones included).
    pub count: Option<u64>,
    /// Give up after this long.
    pub timeout: Option<Duration>,
}

/// Up to this many events are cloned out of the buffer per lock in `wait`.
const WAIT_BATCH: usize = 4096;

impl Monitor {
    /// The blocking form: follows `lines` until `spec.count` events were kept, `spec.timeout`
    /// passes or the source ends, then stops (closing the source) and returns the events
    /// kept. Reaching the timeout is not an error: the events so far are the result.
    pub fn capture(
        ctx: &Ctx,
        lines: mpsc::Receiver<String>,
        close: impl Into<CloseHook>,
        options: MonitorOptions,
        spec: WaitSpec,
    ) -> Result<Vec<Arc<Event>>, Interrupted> {
        let mon = Self::spawn(ctx, lines, close, options);
        let waited = mon.wait::<Interrupted>(ctx, spec, None);
        // Stop even when the wait was interrupted, so nothing is left running.
        mon.inner.stop.cancel();
        waited.map_err(|_| Interrupted)?;
        mon.stop(ctx, Duration::from_secs(5))?;
        Ok(mon.events())
    }

    /// Waits until `until` accepts an event, `spec.count` events were received, the monitor
    /// ends, or `spec.timeout` passes — whichever comes first. `until` runs on the calling
    /// thread (the engine's) on every event held, from the oldest, then on each new one.
    /// With neither `count` nor `until`, waits for the monitor to end.
    pub fn wait<E>(
        &self,
        ctx: &Ctx,
        spec: WaitSpec,
        mut until: Option<Until<'_, E>>,
    ) -> Result<WaitOutcome, WaitError<E>> {
        let deadline = spec.timeout.map(|d| Instant::now() + d);
        let mut next_seq = 0u64;
        loop {
            let notified = self.shared().notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let (batch, received, ended) = {
                let s = self.shared().lock();
                let batch: Vec<(u64, Arc<Event>)> = if until.is_some() {
                    s.buffer
                        .since(next_seq)
                        .take(WAIT_BATCH)
                        .map(|(seq, e)| (seq, e.clone()))
                        .collect()
                } else {
                    Vec::new()
                };
                (batch, s.buffer.received(), s.ended)
            };
            let full_batch = batch.len() == WAIT_BATCH;
            if let Some(until) = until.as_mut() {
                for (seq, event) in &batch {
                    next_seq = seq + 1;
                    if until(event).map_err(WaitError::Until)? {
                        return Ok(WaitOutcome::Matched);
                    }
                }
            }
            if spec.count.is_some_and(|c| received >= c) {
                return Ok(WaitOutcome::Count);
            }
            // Checked before taking the next batch, so a flood of events cannot outlast it.
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
            if ended.is_some() {
                // `ended` is set after the last push, so this batch held every event.
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
