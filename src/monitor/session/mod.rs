//! A running monitor: a background task (started with [`Ctx::spawn_background`]) reads
//! lines from a source (the `cilium monitor` exec's stdout, or any stream of lines), parses
//! each into the bounded [`EventBuffer`], optionally prints it live, and wakes waiters. The
//! engine thread reads the buffer (`events`, `dropped`), waits on it (`wait`, with a
//! script closure evaluated on the engine thread), or stops it (`stop`).
//!
//! The source is closed — the stream dropped and the [`CloseHook`] run, exactly once — when
//! the monitor is stopped, when its last handle is dropped, when the source ends, or when
//! the session shuts down.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use super::buffer::{DEFAULT_CAPACITY, EventBuffer};
use super::close::CloseHook;
use super::event::Event;
use super::parse::parse_owned;
use crate::context::{Ctx, Interrupted};
use crate::errors::ScriptResult;
use crate::output::Output;

/// Keeps or discards an event before it reaches the buffer (runs on the monitor's task).
pub type EventFilter = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

/// The condition a [`Monitor::wait`] checks on each event (runs on the waiting thread).
pub type Until<'a> = &'a mut dyn FnMut(&Arc<Event>) -> ScriptResult<bool>;

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

/// Up to this many events are cloned out of the buffer per lock in `wait`.
const WAIT_BATCH: usize = 4096;

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

    /// The blocking form: follows `lines` until `spec.count` events were kept, `spec.timeout`
    /// passes or the source ends, then stops (closing the source) and returns the events
    /// kept. Reaching the timeout is not an error: the events so far are the result.
    pub fn capture(
        ctx: &Ctx,
        lines: mpsc::Receiver<String>,
        close: impl Into<CloseHook>,
        options: MonitorOptions,
        spec: WaitSpec,
    ) -> ScriptResult<Vec<Arc<Event>>> {
        let mon = Self::spawn(ctx, lines, close, options);
        let waited = mon.wait(ctx, spec, None);
        // Stop even when the wait was interrupted, so nothing is left running.
        mon.inner.stop.cancel();
        waited?;
        mon.stop(ctx, Duration::from_secs(5))?;
        Ok(mon.events())
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

    /// Waits until `until` accepts an event, `spec.count` events were received, the monitor
    /// ends, or `spec.timeout` passes — whichever comes first. `until` runs on the calling
    /// thread (the engine's) on every event held, from the oldest, then on each new one.
    /// With neither `count` nor `until`, waits for the monitor to end.
    pub fn wait(
        &self,
        ctx: &Ctx,
        spec: WaitSpec,
        mut until: Option<Until<'_>>,
    ) -> ScriptResult<WaitOutcome> {
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
                    if until(event)? {
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

/// Lines taken from the source at once when they are already there (a busy agent).
const INGEST_BATCH: usize = 256;

/// The monitor's task: follow `lines` until stopped, shut down or ended, then close.
async fn follow<S>(
    shared: Arc<Shared>,
    lines: S,
    stop: CancellationToken,
    session: CancellationToken,
    print: Option<Output>,
    output: Output,
    filter: Option<EventFilter>,
) where
    S: Stream<Item = String> + Send + 'static,
{
    let reason = {
        // Lines already waiting come as one batch: one lock and one wake-up per batch.
        let mut batches = std::pin::pin!(lines.ready_chunks(INGEST_BATCH));
        let stopped = stop.cancelled();
        let mut stopped = std::pin::pin!(stopped);
        let shutdown = session.cancelled();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut events = Vec::with_capacity(INGEST_BATCH);
        loop {
            tokio::select! {
                biased;
                _ = &mut stopped => break EndReason::Stopped,
                _ = &mut shutdown => break EndReason::SessionShutdown,
                batch = batches.next() => match batch {
                    None => break EndReason::SourceEnded,
                    Some(batch) => {
                        ingest(&shared, batch, &mut events, print.as_ref(), &output, filter.as_ref())
                    }
                },
            }
        }
        // The source is dropped here: a producer sees its channel closed.
    };
    shared.close_source();
    shared.lock().ended = Some(reason);
    shared.notify.notify_waiters();
}

fn ingest(
    shared: &Shared,
    batch: Vec<String>,
    events: &mut Vec<Event>,
    print: Option<&Output>,
    output: &Output,
    filter: Option<&EventFilter>,
) {
    events.clear();
    for line in batch {
        let event = parse_owned(line);
        if filter.is_none_or(|keep| keep(&event)) {
            if let Some(out) = print {
                out.println(event.raw());
            }
            events.push(event);
        }
    }
    if events.is_empty() {
        return;
    }
    let first_drop = {
        let mut s = shared.lock();
        let mut dropped = false;
        for event in events.drain(..) {
            dropped |= s.buffer.push(event);
        }
        let first = dropped && !s.warned;
        if first {
            s.warned = true;
        }
        first.then(|| s.buffer.capacity())
    };
    if let Some(cap) = first_drop {
        output.eprintln(&format!(
            "{}: event buffer full ({cap} events): dropping the oldest; mon.dropped() counts them",
            shared.name
        ));
    }
    shared.notify.notify_waiters();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::context::Settings;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    fn lost(i: usize) -> String {
        format!("CPU 00: Lost {i} events")
    }

    fn counts(events: &[Arc<Event>]) -> Vec<i64> {
        events.iter().map(|e| e.int("count").unwrap()).collect()
    }

    #[test]
    fn stop_closes_the_source_and_runs_the_close_hook_once() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let (tx, rx) = mpsc::channel::<String>(16);
        let closed = Arc::new(AtomicUsize::new(0));
        let c = closed.clone();
        let mon = Monitor::spawn(
            &ctx,
            rx,
            CloseHook::new(move || {
                c.fetch_add(1, Ordering::SeqCst);
            }),
            MonitorOptions::default(),
        );
        for i in 0..3 {
            rt.block_on(tx.send(lost(i))).unwrap();
        }
        let outcome = mon
            .wait(
                &ctx,
                WaitSpec {
                    count: Some(3),
                    timeout: Some(Duration::from_secs(5)),
                },
                None,
            )
            .unwrap();
        assert_eq!(outcome, WaitOutcome::Count);
        let reason = mon.stop(&ctx, Duration::from_secs(5)).unwrap();
        assert_eq!(reason, Some(EndReason::Stopped));
        assert_eq!(closed.load(Ordering::SeqCst), 1);
        // The receiver was dropped: the producer can no longer send.
        assert!(tx.is_closed());
        assert!(rt.block_on(tx.send(lost(9))).is_err());
        assert_eq!(counts(&mon.events()), [0, 1, 2]);
        // A second stop changes nothing.
        mon.stop(&ctx, Duration::from_secs(1)).unwrap();
        assert_eq!(closed.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn dropping_the_last_handle_closes_the_source() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let (tx, rx) = mpsc::channel::<String>(16);
        let token = CancellationToken::new();
        let mon = Monitor::spawn(&ctx, rx, token.clone(), MonitorOptions::default());
        let clone = mon.clone();
        drop(mon);
        assert!(!token.is_cancelled(), "a clone still holds the monitor");
        drop(clone);
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), token.cancelled())
                .await
                .expect("close hook token cancelled");
            tokio::time::timeout(Duration::from_secs(5), tx.closed())
                .await
                .expect("receiver dropped");
        });
    }

    #[test]
    fn session_shutdown_closes_the_source() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let (_tx, rx) = mpsc::channel::<String>(16);
        let token = CancellationToken::new();
        let mon = Monitor::spawn(&ctx, rx, token.clone(), MonitorOptions::default());
        ctx.shutdown(Duration::from_secs(5));
        assert!(token.is_cancelled());
        assert_eq!(mon.ended(), Some(EndReason::SessionShutdown));
    }

    #[test]
    fn events_arrive_in_order_and_the_end_of_the_source_is_seen() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let lines = futures::stream::iter((0..500).map(lost));
        let mon = Monitor::spawn_stream(&ctx, lines, CloseHook::Nothing, MonitorOptions::default());
        let outcome = mon.wait(&ctx, WaitSpec::default(), None).unwrap();
        assert_eq!(outcome, WaitOutcome::Ended);
        assert_eq!(mon.ended(), Some(EndReason::SourceEnded));
        assert_eq!(counts(&mon.events()), (0..500).collect::<Vec<i64>>());
    }

    #[test]
    fn wait_until_sees_events_that_arrived_before_the_wait_and_after() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let (tx, rx) = mpsc::channel::<String>(16);
        let mon = Monitor::spawn(&ctx, rx, CloseHook::Nothing, MonitorOptions::default());
        rt.block_on(tx.send(lost(1))).unwrap();
        let mut seen = Vec::new();
        let mut until = |e: &Arc<Event>| -> ScriptResult<bool> {
            seen.push(e.int("count").unwrap());
            Ok(e.int("count") == Some(1))
        };
        let spec = WaitSpec {
            count: None,
            timeout: Some(Duration::from_secs(5)),
        };
        assert_eq!(
            mon.wait(&ctx, spec, Some(&mut until)).unwrap(),
            WaitOutcome::Matched
        );
        // Later events: the producer sends while the engine thread waits.
        let producer = rt.spawn(async move {
            for i in 2..=6 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                tx.send(lost(i)).await.unwrap();
            }
            tx
        });
        let mut seen2 = Vec::new();
        let mut until5 = |e: &Arc<Event>| -> ScriptResult<bool> {
            seen2.push(e.int("count").unwrap());
            Ok(e.int("count") == Some(5))
        };
        assert_eq!(
            mon.wait(&ctx, spec, Some(&mut until5)).unwrap(),
            WaitOutcome::Matched
        );
        assert_eq!(seen, [1]);
        assert_eq!(&seen2[..5], [1, 2, 3, 4, 5]);
        let _tx = rt.block_on(producer).unwrap();
        mon.stop(&ctx, Duration::from_secs(5)).unwrap();
    }

    #[test]
    fn ctrl_c_interrupts_a_wait_without_timeout() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        ctx.begin_eval();
        let (_tx, rx) = mpsc::channel::<String>(16);
        let mon = Monitor::spawn(&ctx, rx, CloseHook::Nothing, MonitorOptions::default());
        let c = ctx.clone();
        let interrupter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            c.interrupt();
        });
        let err = mon.wait(&ctx, WaitSpec::default(), None).unwrap_err();
        assert!(crate::errors::is_interrupted(&err), "{err}");
        interrupter.join().unwrap();
        // The monitor itself keeps running until stopped or dropped.
        assert_eq!(mon.ended(), None);
    }

    #[test]
    fn wait_times_out_even_under_a_flood_of_events() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let endless = futures::stream::repeat_with(|| lost(1));
        let mon =
            Monitor::spawn_stream(&ctx, endless, CloseHook::Nothing, MonitorOptions::default());
        let mut never = |_: &Arc<Event>| -> ScriptResult<bool> { Ok(false) };
        let spec = WaitSpec {
            count: None,
            timeout: Some(Duration::from_millis(200)),
        };
        assert_eq!(
            mon.wait(&ctx, spec, Some(&mut never)).unwrap(),
            WaitOutcome::TimedOut
        );
        mon.stop(&ctx, Duration::from_secs(5)).unwrap();
        assert!(mon.received() > 0);
    }

    #[test]
    fn capture_returns_after_count_and_closes_the_source() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let (tx, rx) = mpsc::channel::<String>(16);
        let token = CancellationToken::new();
        let producer = rt.spawn(async move {
            for i in 0..100 {
                if tx.send(lost(i)).await.is_err() {
                    return i;
                }
            }
            tx.closed().await;
            100
        });
        let spec = WaitSpec {
            count: Some(5),
            timeout: Some(Duration::from_secs(10)),
        };
        let events =
            Monitor::capture(&ctx, rx, token.clone(), MonitorOptions::default(), spec).unwrap();
        assert!(events.len() >= 5);
        assert_eq!(counts(&events)[..5], [0, 1, 2, 3, 4]);
        assert!(token.is_cancelled());
        // The producer only finishes once a send fails or its channel is closed.
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), producer)
                .await
                .expect("the producer saw its channel closed")
                .unwrap()
        });
    }

    #[test]
    fn capture_returns_what_it_has_at_the_timeout() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let (tx, rx) = mpsc::channel::<String>(16);
        rt.block_on(tx.send(lost(7))).unwrap();
        let spec = WaitSpec {
            count: Some(5),
            timeout: Some(Duration::from_millis(100)),
        };
        let events = Monitor::capture(
            &ctx,
            rx,
            CloseHook::Nothing,
            MonitorOptions::default(),
            spec,
        )
        .unwrap();
        assert_eq!(counts(&events), [7]);
        assert!(tx.is_closed());
    }

    #[test]
    fn wait_times_out_when_nothing_matches() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let (_tx, rx) = mpsc::channel::<String>(16);
        let mon = Monitor::spawn(&ctx, rx, CloseHook::Nothing, MonitorOptions::default());
        let started = Instant::now();
        let spec = WaitSpec {
            count: Some(1),
            timeout: Some(Duration::from_millis(100)),
        };
        assert_eq!(mon.wait(&ctx, spec, None).unwrap(), WaitOutcome::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[test]
    fn a_full_buffer_keeps_the_newest_and_reports_the_dropped_count() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let lines = futures::stream::iter((0..10).map(lost));
        let options = MonitorOptions {
            capacity: 4,
            ..MonitorOptions::default()
        };
        let mon = Monitor::spawn_stream(&ctx, lines, CloseHook::Nothing, options);
        mon.wait(&ctx, WaitSpec::default(), None).unwrap();
        assert_eq!(counts(&mon.events()), [6, 7, 8, 9]);
        assert_eq!(mon.dropped(), 6);
        assert_eq!(mon.received(), 10);
    }

    #[test]
    fn the_filter_decides_what_is_kept() {
        let rt = runtime();
        let ctx = Ctx::new(rt.handle().clone(), Settings::default());
        let lines = futures::stream::iter((0..10).map(lost));
        let options = MonitorOptions {
            filter: Some(Arc::new(|e: &Event| e.int("count").unwrap_or(0) % 3 == 0)),
            ..MonitorOptions::default()
        };
        let mon = Monitor::spawn_stream(&ctx, lines, CloseHook::Nothing, options);
        mon.wait(&ctx, WaitSpec::default(), None).unwrap();
        assert_eq!(counts(&mon.events()), [0, 3, 6, 9]);
        assert_eq!(mon.received(), 4);
    }
}
