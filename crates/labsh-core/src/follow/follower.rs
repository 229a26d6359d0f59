//! A follower: a background task (started with [`Ctx::spawn_background`]) reads lines from
//! a [`Source`], parses them into items with a [`Parse`], keeps them in a bounded
//! [`Store`] and wakes waiters. The engine thread reads the store (`items`, `received`,
//! `dropped`), waits on it ([`Follower::wait`]) or stops it ([`Follower::stop`]).
//!
//! The source is closed exactly once — [`Source::close`], which ends whatever it runs — when
//! the follower is stopped, when its last handle is dropped (a script variable going out of
//! scope, a function left with an error), when the source ends, or when the session shuts
//! down (end of run, script error, Ctrl-C in `labsh run`): nothing is left running.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::parse::Parse;
use super::source::Source;
use super::store::Store;
use crate::context::Ctx;
use crate::output::Output;

/// Lines taken from the source at once when they are already there (a busy source): one
/// lock and one wake-up per batch.
const INGEST_BATCH: usize = 256;

/// Why a follower stopped following its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// `stop()` was called or the last handle was dropped.
    Stopped,
    /// The source ended (the process exited, the stream finished).
    SourceEnded,
    /// The session shut down.
    SessionShutdown,
}

/// How a follower presents itself.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Names it in messages (`cilium-dbg monitor on kind-worker`, `tcpdump -n -i lo`).
    pub name: String,
    /// Printed once on stderr when the store first leaves an item out (`None`: silent; the
    /// count is still kept).
    pub overflow_note: Option<String>,
}

pub(super) struct State<T> {
    pub(super) store: Store<T>,
    pub(super) end: Option<EndReason>,
    error: Option<String>,
    warned: bool,
}

pub(super) struct Shared<T> {
    state: Mutex<State<T>>,
    pub(super) notify: Notify,
    name: String,
}

impl<T> Shared<T> {
    pub(super) fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A poisoned lock only means a panic elsewhere; the store itself is consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Cancels the task when the last handle goes away.
struct Handle<T> {
    shared: Arc<Shared<T>>,
    stop: CancellationToken,
}

impl<T> Drop for Handle<T> {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A source followed in the background. Clones share it.
pub struct Follower<T> {
    inner: Arc<Handle<T>>,
}

impl<T> Clone for Follower<T> {
    fn clone(&self) -> Self {
        Follower {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Send + Sync + 'static> Follower<T> {
    /// Starts following `source` in the background, parsing its lines with `parser` into
    /// `store`.
    pub fn spawn<S, P>(
        ctx: &Ctx,
        source: S,
        parser: P,
        store: Store<T>,
        options: Options,
    ) -> Follower<T>
    where
        S: Source,
        P: Parse<S::Line, Item = T>,
    {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                store,
                end: None,
                error: None,
                warned: false,
            }),
            notify: Notify::new(),
            name: options.name,
        });
        let stop = CancellationToken::new();
        ctx.spawn_background(run(
            shared.clone(),
            source,
            parser,
            stop.clone(),
            ctx.session_token(),
            ctx.output().clone(),
            options.overflow_note,
        ));
        Follower {
            inner: Arc::new(Handle { shared, stop }),
        }
    }

    pub(super) fn shared(&self) -> &Shared<T> {
        &self.inner.shared
    }

    /// Its name (for messages).
    pub fn name(&self) -> &str {
        &self.shared().name
    }

    /// The items held, oldest first (shared with the store, not copied).
    pub fn items(&self) -> Vec<Arc<T>> {
        self.shared().lock().store.iter().cloned().collect()
    }

    /// Runs `f` on the store under its lock (keep it short: the task waits meanwhile).
    pub fn with_store<R>(&self, f: impl FnOnce(&Store<T>) -> R) -> R {
        f(&self.shared().lock().store)
    }

    /// Items held now.
    pub fn len(&self) -> usize {
        self.shared().lock().store.len()
    }

    /// Whether no item is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Items received since the start, left-out ones included.
    pub fn received(&self) -> u64 {
        self.shared().lock().store.received()
    }

    /// Items left out by the store's policy.
    pub fn dropped(&self) -> u64 {
        self.shared().lock().store.dropped()
    }

    /// The store's capacity.
    pub fn capacity(&self) -> usize {
        self.shared().lock().store.capacity()
    }

    /// Why it ended, or `None` while it still follows its source.
    pub fn ended(&self) -> Option<EndReason> {
        self.shared().lock().end
    }

    /// The source's own failure, once it ended (tcpdump's exit status, a lost server).
    pub fn error(&self) -> Option<String> {
        self.shared().lock().error.clone()
    }

    /// Asks the task to stop, without waiting.
    pub fn request_stop(&self) {
        self.inner.stop.cancel();
    }

    /// Stops following and waits (up to `grace`, not interruptible: stopping must finish)
    /// until the source is closed. Returns why it ended (`None` if it did not end within
    /// `grace`; the task still closes the source when it gets there).
    pub fn stop(&self, ctx: &Ctx, grace: Duration) -> Option<EndReason> {
        self.request_stop();
        self.wait_end(ctx, grace)
    }

    /// Waits (up to `grace`, not interruptible) for the follower to end by itself.
    pub fn wait_end(&self, ctx: &Ctx, grace: Duration) -> Option<EndReason> {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let notified = self.shared().notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if let Some(reason) = self.ended() {
                return Some(reason);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            ctx.runtime().block_on(async move {
                let _ = tokio::time::timeout_at(deadline, notified).await;
            });
        }
    }
}

/// The follower's task: follow `source` until stopped, shut down or ended, then close it.
async fn run<S, P>(
    shared: Arc<Shared<P::Item>>,
    mut source: S,
    mut parser: P,
    stop: CancellationToken,
    session: CancellationToken,
    output: Output,
    overflow_note: Option<String>,
) where
    S: Source,
    P: Parse<S::Line>,
{
    let mut items = Vec::with_capacity(INGEST_BATCH);
    let mut reason = None;
    let mut grace_end = None;
    loop {
        let idle = parser.idle().map(|d| tokio::time::Instant::now() + d);
        tokio::select! {
            biased;
            _ = stop.cancelled(), if reason.is_none() => {
                reason = Some(EndReason::Stopped);
                match source.stop().await {
                    None => break,
                    Some(grace) => grace_end = Some(tokio::time::Instant::now() + grace),
                }
            }
            _ = session.cancelled(), if reason.is_none() => {
                reason = Some(EndReason::SessionShutdown);
                match source.stop().await {
                    None => break,
                    Some(grace) => grace_end = Some(tokio::time::Instant::now() + grace),
                }
            }
            _ = sleep_until(grace_end) => break,
            _ = sleep_until(idle) => {
                parser.flush(&mut items);
                store(&shared, &mut items, &output, overflow_note.as_deref());
            }
            line = source.next() => match line {
                None => break,
                Some(line) => {
                    parser.line(line, &mut items);
                    // Lines already waiting come in the same batch.
                    for _ in 1..INGEST_BATCH {
                        match source.next().now_or_never() {
                            Some(Some(line)) => parser.line(line, &mut items),
                            _ => break,
                        }
                    }
                    store(&shared, &mut items, &output, overflow_note.as_deref());
                }
            },
        }
    }
    parser.flush(&mut items);
    store(&shared, &mut items, &output, overflow_note.as_deref());
    let stopped = reason.is_some();
    let error = source.close(stopped).await;
    drop(source);
    {
        let mut s = shared.lock();
        s.error = error;
        s.end = Some(reason.unwrap_or(EndReason::SourceEnded));
    }
    shared.notify.notify_waiters();
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn store<T>(shared: &Shared<T>, items: &mut Vec<T>, output: &Output, note: Option<&str>) {
    if items.is_empty() {
        return;
    }
    let first_overflow = {
        let mut s = shared.lock();
        let mut left_out = false;
        for item in items.drain(..) {
            left_out |= s.store.push(item);
        }
        let first = left_out && !s.warned;
        if first {
            s.warned = true;
        }
        first
    };
    if first_overflow && let Some(note) = note {
        output.eprintln(note);
    }
    shared.notify.notify_waiters();
}
