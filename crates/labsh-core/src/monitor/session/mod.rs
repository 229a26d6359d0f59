//! A running monitor: a background task (started with [`Ctx::spawn_background`]) reads
//! lines from a source (the `cilium monitor` exec's stdout, or any stream of lines), parses
//! each into the bounded [`EventBuffer`], optionally prints it live, and wakes waiters. The
//! engine thread reads the buffer (`events`, `dropped`), waits on it (`wait`, with a
//! script closure evaluated on the engine thread), or stops it (`stop`).
//!
//! The source is closed — the stream dropped and the [`CloseHook`] run, exactly once — when
//! the monitor is stopped, when its last handle is dropped, when the source ends, or when
//! the session shuts down.
//!
//! This file holds the handle, its options and accessors and `stop`; the background task
//! is in [`follow`], waiting on the monitor (`wait`, `capture`) in [`wait`].

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::Stream;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::buffer::{DEFAULT_CAPACITY, EventBuffer};
use super::close::CloseHook;
use super::event::Event;
use crate::context::Ctx;
use crate::interrupt::Interrupted;

mod follow;
#[cfg(test)]
mod tests;
mod wait;

use follow::follow;
pub use wait::{Until, WaitError, WaitOutcome, WaitSpec};

/// Keeps or discards an event before it reaches the buffer (runs on the monitor's task).
pub type EventFilter = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

/// How a monitor follows its source.
#[derive(Clone)]
pub struct MonitorOptions {
    /// The most events kept; older ones are dropped (and counted) beyond it.
    pub capacity: usize,
    /// Print each kept line (as received) through the output layer while following.
    pub print: bool,
    /// Only events it accepts are kept (and printed).
    pub filter: Option<EventFilter>,
    /// Names the monitor in messages (`cilium-dbg monitor on kind-worker`).
    pub name: String,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        MonitorOptions {
            capacity: DEFAULT_CAPACITY,
            print: false,
            filter: None,
            name: "monitor".to_string(),
        }
    }
}

impl std::fmt::Debug for MonitorOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorOptions")
            .field("capacity", &self.capacity)
            .field("print", &self.print)
            .field("filter", &self.filter.as_ref().map(|_| "…"))
            .field("name", &self.name)
            .finish()
    }
}

/// Why a monitor stopped following its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// `stop()` was called or the last handle was dropped.
    Stopped,
    /// The source ended (the exec exited, the stream finished).
    SourceEnded,
    /// The session shut down.
    SessionShutdown,
}

struct State {
    buffer: EventBuffer,
    ended: Option<EndReason>,
    warned: bool,
}

struct Shared {
    state: Mutex<State>,
    notify: Notify,
    close: Mutex<Option<CloseHook>>,
    name: String,
    prints: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the buffer itself is consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close_source(&self) {
        let hook = self.close.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(hook) = hook {
            hook.run();
        }
    }
}

/// Cancels the task when the last script handle goes away.
struct Handle {
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A monitor following a source of `cilium monitor` lines in the background. Clones share
/// the same monitor (it is the Rhai type `Monitor`).
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Handle>,
}

/// The lines an mpsc receiver yields, as a stream.
pub fn receiver_stream(mut rx: mpsc::Receiver<String>) -> impl Stream<Item = String> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

impl Monitor {
    /// Starts following `lines` (e.g. the stdout lines of `cilium-dbg monitor` read by a
    /// producer task). Dropping the receiver is part of closing: the producer sees its
    /// channel closed; `close` is run too (kill the exec, cancel a token).
    pub fn spawn(
        ctx: &Ctx,
        lines: mpsc::Receiver<String>,
        close: impl Into<CloseHook>,
        options: MonitorOptions,
    ) -> Monitor {
        Self::spawn_stream(ctx, receiver_stream(lines), close, options)
    }

    /// Starts following any stream of lines.
    pub fn spawn_stream<S>(
        ctx: &Ctx,
        lines: S,
        close: impl Into<CloseHook>,
        options: MonitorOptions,
    ) -> Monitor
    where
        S: Stream<Item = String> + Send + 'static,
    {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                buffer: EventBuffer::new(options.capacity),
                ended: None,
                warned: false,
            }),
            notify: Notify::new(),
            close: Mutex::new(Some(close.into())),
            name: options.name.clone(),
            prints: options.print,
        });
        let stop = CancellationToken::new();
        let task = follow(
            shared.clone(),
            lines,
            stop.clone(),
            ctx.session_token(),
            options.print.then(|| ctx.output().clone()),
            ctx.output().clone(),
            options.filter,
        );
        ctx.spawn_background(task);
        Monitor {
            inner: Arc::new(Handle { shared, stop }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The monitor's name (for messages).
    pub fn name(&self) -> &str {
        &self.shared().name
    }

    /// Whether it prints each kept line as it arrives (`print: true`).
    pub fn prints(&self) -> bool {
        self.shared().prints
    }

    /// The events held, oldest first (shared with the buffer, not copied).
    pub fn events(&self) -> Vec<Arc<Event>> {
        self.shared().lock().buffer.iter().cloned().collect()
    }

    /// Calls `f` on each event held, oldest first, under the buffer's lock (no copy; keep
    /// `f` short: the monitor's task waits meanwhile).
    pub fn for_each_event(&self, mut f: impl FnMut(&Event)) {
        let state = self.shared().lock();
        state.buffer.iter().for_each(|e| f(e));
    }

    /// Events dropped because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.shared().lock().buffer.dropped()
    }

    /// Events received (kept by the filter) since the start, dropped ones included.
    pub fn received(&self) -> u64 {
        self.shared().lock().buffer.received()
    }

    /// The buffer's capacity.
    pub fn capacity(&self) -> usize {
        self.shared().lock().buffer.capacity()
    }

    /// Why the monitor ended, or `None` while it still follows its source.
    pub fn ended(&self) -> Option<EndReason> {
        self.shared().lock().ended
    }

    /// Stops following: the task ends, the source is dropped and the close hook runs. Waits
    /// (up to `grace`) for that to finish, then returns why the monitor ended. Reports on
    /// stderr how many events were dropped, if any.
    pub fn stop(&self, ctx: &Ctx, grace: Duration) -> Result<Option<EndReason>, Interrupted> {
        self.inner.stop.cancel();
        let deadline = Instant::now() + grace;
        loop {
            let notified = self.shared().notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if let Some(reason) = self.ended() {
                self.report_dropped(ctx);
                return Ok(Some(reason));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let left = deadline - now;
            ctx.block_on(async move {
                let _ = tokio::time::timeout(left, notified).await;
            })?;
        }
    }

    fn report_dropped(&self, ctx: &Ctx) {
        let (dropped, cap) = {
            let s = self.shared().lock();
            (s.buffer.dropped(), s.buffer.capacity())
        };
        if dropped > 0 {
            ctx.output().eprintln(&format!(
                "{}: {dropped} oldest events were dropped (buffer capacity {cap})",
                self.name()
            ));
        }
    }
}
