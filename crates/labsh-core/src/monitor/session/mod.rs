//! A running monitor: a [`Follower`] of `cilium monitor` lines (the exec's stdout, or any
//! stream of lines), each parsed into an [`Event`], filtered, optionally printed live, and
//! kept in a bounded store of the newest events. The engine thread reads the events
//! (`events`, `dropped`), waits on them (`wait`, with a script closure evaluated on the
//! engine thread), or stops the monitor (`stop`).
//!
//! The source is closed — the stream dropped and the [`CloseHook`] run, exactly once — when
//! the monitor is stopped, when its last handle is dropped, when the source ends, or when
//! the session shuts down (the follower's guarantees).

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::mpsc;

use super::event::Event;
use super::line::parse_owned;
use crate::context::Ctx;
use crate::follow::{CloseHook, Follower, Keep, Options, Store, StreamSource};
use crate::interrupt::Interrupted;

#[cfg(test)]
mod tests;

pub use crate::follow::{EndReason, Idle, WaitError, WaitOutcome, WaitSpec};

/// The header `cilium monitor` prints once subscribed to the agent's events — when the
/// agent's node monitor is already running (Hubble on, another monitor): Cilium 1.14 asks the
/// agent's health first and prints nothing when it is idle.
pub const SUBSCRIBED: &str = "Listening for events";

/// The line `cilium monitor` always prints, right before it connects to the agent's monitor
/// socket: the subscription follows within milliseconds.
pub const CONNECTING: &str = "Press Ctrl-C to quit";

/// The headers of `cilium monitor` (on its stderr, as Cilium writes them): the monitor's
/// pump passes them on with the events, so that `wait_ready` sees them.
pub const HEADERS: [&str; 2] = [SUBSCRIBED, CONNECTING];

/// Events kept when no capacity is given: about 8 MB of typical trace lines.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// The condition a [`Monitor::wait`] checks on each event.
pub type Until<'a, E> = crate::follow::Until<'a, Event, E>;

/// Keeps or discards an event before it is stored (runs on the monitor's task).
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

/// A monitor following a source of `cilium monitor` lines in the background. Clones share
/// the same monitor (it is the Rhai type `Monitor`).
#[derive(Clone)]
pub struct Monitor {
    follower: Follower<Event>,
    prints: bool,
    /// Where the exec feeding it says why it failed (see [`Monitor::with_failure`]).
    failure: Option<super::pump::Failure>,
}

/// The lines an mpsc receiver yields, as a stream.
pub fn receiver_stream(
    mut rx: mpsc::Receiver<String>,
) -> impl Stream<Item = String> + Send + Unpin {
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
        let MonitorOptions {
            capacity,
            print,
            filter,
            name,
        } = options;
        let echo = print.then(|| ctx.output().clone());
        let parser = move |line: String| {
            let event = parse_owned(line);
            if !filter.as_ref().is_none_or(|keep| keep(&event)) {
                return None;
            }
            if let Some(out) = &echo {
                out.println(event.raw());
            }
            Some(event)
        };
        let store = Store::new(Keep::Newest(capacity));
        let overflow_note = format!(
            "{name}: event buffer full ({} events): dropping the oldest; mon.dropped() counts them",
            store.capacity()
        );
        let follower = Follower::spawn(
            ctx,
            StreamSource::new(Box::pin(lines), close),
            parser,
            store,
            Options {
                name,
                overflow_note: Some(overflow_note),
            },
        );
        Monitor {
            follower,
            prints: print,
            failure: None,
        }
    }

    /// The same monitor, reporting in [`Monitor::error`] what its source's producer stored
    /// in `failure` (the `cilium monitor` exec's exit code and last stderr lines).
    pub fn with_failure(mut self, failure: super::pump::Failure) -> Monitor {
        self.failure = Some(failure);
        self
    }

    /// The monitor's name (for messages).
    pub fn name(&self) -> &str {
        self.follower.name()
    }

    /// Whether it prints each kept line as it arrives (`print: true`).
    pub fn prints(&self) -> bool {
        self.prints
    }

    /// The events held, oldest first (shared with the store, not copied).
    pub fn events(&self) -> Vec<Arc<Event>> {
        self.follower.items()
    }

    /// Calls `f` on each event held, oldest first, under the store's lock (no copy; keep
    /// `f` short: the monitor's task waits meanwhile).
    pub fn for_each_event(&self, mut f: impl FnMut(&Event)) {
        self.follower.with_store(|s| s.iter().for_each(|e| f(e)));
    }

    /// Events dropped because the store was full.
    pub fn dropped(&self) -> u64 {
        self.follower.dropped()
    }

    /// Events received (kept by the filter) since the start, dropped ones included.
    pub fn received(&self) -> u64 {
        self.follower.received()
    }

    /// The store's capacity.
    pub fn capacity(&self) -> usize {
        self.follower.capacity()
    }

    /// The source's failure, once the monitor ended because of it.
    pub fn error(&self) -> Option<String> {
        self.follower.error().or_else(|| {
            self.failure
                .as_ref()
                .and_then(|f| f.lock().unwrap_or_else(|e| e.into_inner()).clone())
        })
    }

    /// Why the monitor ended, or `None` while it still follows its source.
    pub fn ended(&self) -> Option<EndReason> {
        self.follower.ended()
    }

    /// Stops following: the source is dropped and the close hook runs. Waits (up to
    /// `grace`) for that to finish, then returns why the monitor ended. Reports on stderr
    /// how many events were dropped, if any.
    pub fn stop(&self, ctx: &Ctx, grace: Duration) -> Option<EndReason> {
        let reason = self.follower.stop(ctx, grace);
        if reason.is_some() {
            self.report_dropped(ctx);
        }
        reason
    }

    fn report_dropped(&self, ctx: &Ctx) {
        let (dropped, cap) = self.follower.with_store(|s| (s.dropped(), s.capacity()));
        if dropped > 0 {
            ctx.output().eprintln(&format!(
                "{}: {dropped} oldest events were dropped (buffer capacity {cap})",
                self.name()
            ));
        }
    }

    /// Waits until `until` accepts an event, `spec.count` events were received, the monitor
    /// ends, or `spec.timeout` passes (see [`Follower::wait`]).
    pub fn wait<E>(
        &self,
        ctx: &Ctx,
        spec: WaitSpec,
        until: Option<Until<'_, E>>,
    ) -> Result<WaitOutcome, WaitError<E>> {
        self.follower.wait(ctx, spec, until)
    }

    /// Waits until the monitor has subscribed to the agent's events: its `Listening for
    /// events` header arrived (the agent prints it once it receives; traffic sent before
    /// that is not seen). `Matched` when it did, `Ended` when the monitor ended first,
    /// `TimedOut` otherwise.
    pub fn wait_ready(&self, ctx: &Ctx, timeout: Duration) -> Result<WaitOutcome, Interrupted> {
        let mut subscribed = |e: &Arc<Event>| -> Result<bool, Interrupted> {
            Ok(e.kind() == super::event::Kind::Info
                && HEADERS.iter().any(|h| e.raw().starts_with(h)))
        };
        let spec = WaitSpec {
            count: None,
            timeout: Some(timeout),
        };
        self.follower
            .wait(ctx, spec, Some(&mut subscribed))
            .map_err(|_| Interrupted)
    }

    /// Waits until no event arrived for `idle` (the events of an exchange are in), the
    /// monitor ended, or `timeout` passed while events kept coming (see
    /// [`Follower::wait_idle`]).
    pub fn wait_idle(
        &self,
        ctx: &Ctx,
        idle: Duration,
        timeout: Duration,
    ) -> Result<Idle, Interrupted> {
        self.follower.wait_idle(ctx, idle, timeout)
    }

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
        mon.follower.request_stop();
        waited.map_err(|_| Interrupted)?;
        mon.stop(ctx, Duration::from_secs(5));
        Ok(mon.events())
    }
}
