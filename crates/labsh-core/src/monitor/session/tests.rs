//! The monitor's behaviours on scripted sources: closing exactly once, waits, captures,
//! the bounded buffer and the filter.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::context::Settings;
use crate::interrupt::Interrupted;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

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
        .wait::<Interrupted>(
            &ctx,
            WaitSpec {
                count: Some(3),
                timeout: Some(Duration::from_secs(5)),
            },
            None,
        )
        .unwrap();
    assert_eq!(outcome, WaitOutcome::Count);
    let reason = mon.stop(&ctx, Duration::from_secs(5));
    assert_eq!(reason, Some(EndReason::Stopped));
    assert_eq!(closed.load(Ordering::SeqCst), 1);
    // The receiver was dropped: the producer can no longer send.
    assert!(tx.is_closed());
    assert!(rt.block_on(tx.send(lost(9))).is_err());
    assert_eq!(counts(&mon.events()), [0, 1, 2]);
    // A second stop changes nothing.
    mon.stop(&ctx, Duration::from_secs(1));
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
    let outcome = mon
        .wait::<Interrupted>(&ctx, WaitSpec::default(), None)
        .unwrap();
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
    let mut until = |e: &Arc<Event>| -> Result<bool, Interrupted> {
        seen.push(e.int("count").unwrap());
        Ok(e.int("count") == Some(1))
    };
    let spec = WaitSpec {
        count: None,
        timeout: Some(Duration::from_secs(5)),
    };
    assert_eq!(
        mon.wait::<Interrupted>(&ctx, spec, Some(&mut until))
            .unwrap(),
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
    let mut until5 = |e: &Arc<Event>| -> Result<bool, Interrupted> {
        seen2.push(e.int("count").unwrap());
        Ok(e.int("count") == Some(5))
    };
    assert_eq!(
        mon.wait::<Interrupted>(&ctx, spec, Some(&mut until5))
            .unwrap(),
        WaitOutcome::Matched
    );
    assert_eq!(seen, [1]);
    assert_eq!(&seen2[..5], [1, 2, 3, 4, 5]);
    let _tx = rt.block_on(producer).unwrap();
    mon.stop(&ctx, Duration::from_secs(5));
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
    let err = mon
        .wait::<Interrupted>(&ctx, WaitSpec::default(), None)
        .unwrap_err();
    assert!(
        matches!(err, crate::monitor::WaitError::Interrupted),
        "{err:?}"
    );
    interrupter.join().unwrap();
    // The monitor itself keeps running until stopped or dropped.
    assert_eq!(mon.ended(), None);
}

#[test]
fn wait_times_out_even_under_a_flood_of_events() {
    let rt = runtime();
    let ctx = Ctx::new(rt.handle().clone(), Settings::default());
    let endless = futures::stream::repeat_with(|| lost(1));
    let mon = Monitor::spawn_stream(&ctx, endless, CloseHook::Nothing, MonitorOptions::default());
    let mut never = |_: &Arc<Event>| -> Result<bool, Interrupted> { Ok(false) };
    let spec = WaitSpec {
        count: None,
        timeout: Some(Duration::from_millis(200)),
    };
    assert_eq!(
        mon.wait::<Interrupted>(&ctx, spec, Some(&mut never))
            .unwrap(),
        WaitOutcome::TimedOut
    );
    mon.stop(&ctx, Duration::from_secs(5));
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
    assert_eq!(
        mon.wait::<Interrupted>(&ctx, spec, None).unwrap(),
        WaitOutcome::TimedOut
    );
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
    mon.wait::<Interrupted>(&ctx, WaitSpec::default(), None)
        .unwrap();
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
    mon.wait::<Interrupted>(&ctx, WaitSpec::default(), None)
        .unwrap();
    assert_eq!(counts(&mon.events()), [0, 3, 6, 9]);
    assert_eq!(mon.received(), 4);
}
