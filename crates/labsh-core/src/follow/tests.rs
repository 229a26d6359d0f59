//! The follower's behaviours on scripted sources: a stop grace that lets the source drain,
//! a source that ignores the stop and is closed after the grace, a multi-line parser
//! flushed after a quiet spell, and the source's own failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::*;
use crate::context::{Ctx, Settings};
use crate::interrupt::Interrupted;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Lines from a channel; on stop, says `last` (as tcpdump prints its statistics) and ends
/// if `obeys`, otherwise goes on; records that it was closed and returns `failure`.
struct Scripted {
    rx: mpsc::Receiver<String>,
    tx: Option<mpsc::Sender<String>>,
    kept: Option<mpsc::Sender<String>>,
    obeys: bool,
    closed: Arc<AtomicBool>,
    failure: Option<String>,
}

impl Source for Scripted {
    type Line = String;

    async fn next(&mut self) -> Option<String> {
        self.rx.recv().await
    }

    async fn stop(&mut self) -> Option<Duration> {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send("last words".into()).await;
            if !self.obeys {
                // Keeps its sender: the channel never ends.
                self.kept = Some(tx);
            }
        }
        Some(Duration::from_millis(300))
    }

    async fn close(&mut self, _stopped: bool) -> Option<String> {
        self.closed.store(true, Ordering::SeqCst);
        self.failure.take()
    }
}

fn scripted(
    obeys: bool,
    failure: Option<&str>,
) -> (Scripted, mpsc::Sender<String>, Arc<AtomicBool>) {
    let (tx, rx) = mpsc::channel(16);
    let closed = Arc::new(AtomicBool::new(false));
    let source = Scripted {
        rx,
        tx: Some(tx.clone()),
        kept: None,
        obeys,
        closed: closed.clone(),
        failure: failure.map(str::to_string),
    };
    (source, tx, closed)
}

fn texts(f: &Follower<String>) -> Vec<String> {
    f.items().iter().map(|s| s.to_string()).collect()
}

#[test]
fn stop_lets_the_source_drain_within_its_grace() {
    let rt = runtime();
    let ctx = Ctx::new(rt.handle().clone(), Settings::default());
    let (source, tx, closed) = scripted(true, None);
    let f = Follower::spawn(
        &ctx,
        source,
        |l: String| Some(l),
        Store::new(Keep::Newest(10)),
        Options::default(),
    );
    rt.block_on(tx.send("first".into())).unwrap();
    drop(tx);
    let reason = f.stop(&ctx, Duration::from_secs(5));
    assert_eq!(reason, Some(EndReason::Stopped));
    assert_eq!(texts(&f), ["first", "last words"]);
    assert!(closed.load(Ordering::SeqCst));
    assert_eq!(f.error(), None);
}

#[test]
fn a_source_that_ignores_the_stop_is_closed_after_its_grace() {
    let rt = runtime();
    let ctx = Ctx::new(rt.handle().clone(), Settings::default());
    let (source, _tx, closed) = scripted(false, None);
    let f = Follower::spawn(
        &ctx,
        source,
        |l: String| Some(l),
        Store::new(Keep::Newest(10)),
        Options::default(),
    );
    let started = Instant::now();
    assert_eq!(
        f.stop(&ctx, Duration::from_secs(5)),
        Some(EndReason::Stopped)
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(closed.load(Ordering::SeqCst));
    assert_eq!(texts(&f), ["last words"]);
}

/// Joins `+`-continued lines: a record is complete when the next one starts, or after
/// 50 ms of quiet.
struct Joined {
    open: Option<String>,
}

impl Parse<String> for Joined {
    type Item = String;

    fn line(&mut self, line: String, out: &mut Vec<String>) {
        match (line.strip_prefix('+'), self.open.as_mut()) {
            (Some(rest), Some(open)) => open.push_str(rest),
            _ => out.extend(self.open.replace(line)),
        }
    }

    fn idle(&self) -> Option<Duration> {
        self.open.is_some().then_some(Duration::from_millis(50))
    }

    fn flush(&mut self, out: &mut Vec<String>) {
        out.extend(self.open.take());
    }
}

#[test]
fn a_multi_line_record_is_flushed_after_a_quiet_spell_and_at_the_end() {
    let rt = runtime();
    let ctx = Ctx::new(rt.handle().clone(), Settings::default());
    let (tx, mut rx) = mpsc::channel::<String>(16);
    let lines = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let f = Follower::spawn(
        &ctx,
        StreamSource::new(Box::pin(lines), CloseHook::Nothing),
        Joined { open: None },
        Store::new(Keep::Newest(10)),
        Options::default(),
    );
    for l in ["a", "+b", "c"] {
        rt.block_on(tx.send(l.into())).unwrap();
    }
    // "c" is complete only once the source goes quiet.
    let spec = WaitSpec {
        count: Some(2),
        timeout: Some(Duration::from_secs(5)),
    };
    assert_eq!(
        f.wait::<Interrupted>(&ctx, spec, None).unwrap(),
        WaitOutcome::Count
    );
    assert_eq!(texts(&f), ["ab", "c"]);
    rt.block_on(tx.send("d".into())).unwrap();
    drop(tx);
    assert_eq!(
        f.wait::<Interrupted>(&ctx, WaitSpec::default(), None)
            .unwrap(),
        WaitOutcome::Ended
    );
    assert_eq!(texts(&f), ["ab", "c", "d"]);
    assert_eq!(f.ended(), Some(EndReason::SourceEnded));
}

#[test]
fn the_sources_own_failure_is_the_followers_error() {
    let rt = runtime();
    let ctx = Ctx::new(rt.handle().clone(), Settings::default());
    let (mut source, tx, closed) = scripted(true, Some("the server went away"));
    // It ends by itself once the test's sender goes.
    source.tx = None;
    let f = Follower::spawn(
        &ctx,
        source,
        |l: String| Some(l),
        Store::new(Keep::Newest(10)),
        Options::default(),
    );
    rt.block_on(tx.send("a line".into())).unwrap();
    drop(tx);
    assert_eq!(
        f.wait::<Interrupted>(&ctx, WaitSpec::default(), None)
            .unwrap(),
        WaitOutcome::Ended
    );
    assert_eq!(f.ended(), Some(EndReason::SourceEnded));
    assert_eq!(f.error().as_deref(), Some("the server went away"));
    assert_eq!(texts(&f), ["a line"]);
    assert!(closed.load(Ordering::SeqCst));
}

#[test]
fn wait_idle_returns_once_the_items_stop_coming_and_says_when_they_never_stop() {
    let rt = runtime();
    let ctx = Ctx::new(rt.handle().clone(), Settings::default());
    let (source, tx, _closed) = scripted(true, None);
    let f = Follower::spawn(
        &ctx,
        source,
        |l: String| Some(l),
        Store::new(Keep::Newest(100)),
        Options::default(),
    );
    // A burst of five, then silence: the wait returns after the burst, every item in.
    let burst = tx.clone();
    let sender = std::thread::spawn(move || {
        for i in 0..5 {
            burst.blocking_send(format!("packet {i}")).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let idle = f
        .wait_idle(&ctx, Duration::from_secs(1), Duration::from_secs(30))
        .unwrap();
    sender.join().unwrap();
    assert_eq!(idle, Idle::Quiet);
    assert_eq!(f.received(), 5);
    // A source that never goes quiet: the timeout ends the wait, saying so.
    let flood = tx.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let sender = std::thread::spawn(move || {
        while !stopping.load(Ordering::SeqCst) {
            let _ = flood.blocking_send("more".into());
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let idle = f
        .wait_idle(&ctx, Duration::from_secs(2), Duration::from_millis(500))
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    assert_eq!(idle, Idle::Busy);
    // An ended follower has nothing more to come.
    drop(tx);
    f.stop(&ctx, Duration::from_secs(5));
    let idle = f
        .wait_idle(&ctx, Duration::from_secs(60), Duration::from_secs(60))
        .unwrap();
    assert_eq!(idle, Idle::Ended);
}
