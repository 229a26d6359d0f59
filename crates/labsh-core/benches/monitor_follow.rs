//! Follows 10 million `cilium monitor` lines (the TP12 handout's real lines, cycled) through
//! a `Monitor` session with a filter, and reports throughput, the events kept and dropped,
//! and the peak resident memory (VmHWM from /proc/self/status). The buffer is bounded, so
//! memory must stay flat however long the stream.
//!
//! `CARGO_TARGET_DIR=/work/bench-target cargo bench -p labsh-core --bench monitor_follow`
//! (`MONITOR_FOLLOW_LINES=N` changes the line count.)

use std::sync::Arc;
use std::time::{Duration, Instant};

use labsh_core::Ctx;
use labsh_core::Settings;
use labsh_core::monitor::{CloseHook, Event, Kind, Monitor, MonitorOptions, WaitSpec};
use tokio::sync::mpsc;

const HANDOUT: &str = include_str!("../src/monitor/testdata/tp12_monitor.txt");

fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let total: u64 = std::env::var("MONITOR_FOLLOW_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ctx = Ctx::new(rt.handle().clone(), Settings::default());
    let hwm_start = status_kb("VmHWM:");

    let lines: Vec<&'static str> = HANDOUT.lines().collect();
    let (tx, rx) = mpsc::channel::<String>(1024);
    // The filter a script would ask for: traces to port 80 (the NodePort app).
    let filter = Arc::new(|e: &Event| e.kind() == Kind::Trace && e.int("dport") == Some(80));
    let options = MonitorOptions {
        capacity: labsh_core::monitor::DEFAULT_CAPACITY,
        filter: Some(filter),
        name: "bench".to_string(),
        ..MonitorOptions::default()
    };
    let started = Instant::now();
    let mon = Monitor::spawn(&ctx, rx, CloseHook::Nothing, options);
    let producer = rt.spawn(async move {
        for line in lines.iter().cycle().take(total as usize) {
            if tx.send((*line).to_string()).await.is_err() {
                break;
            }
        }
    });
    let outcome = mon
        .wait::<labsh_core::errors::Interrupted>(
            &ctx,
            WaitSpec {
                count: None,
                timeout: Some(Duration::from_secs(600)),
            },
            None,
        )
        .expect("wait");
    let elapsed = started.elapsed();
    rt.block_on(producer).unwrap();
    let hwm_end = status_kb("VmHWM:");
    let rss_end = status_kb("VmRSS:");
    let kept = |l: &&str| {
        let e = labsh_core::monitor::parse(l);
        e.kind() == Kind::Trace && e.int("dport") == Some(80)
    };
    let cycle = HANDOUT.lines().count() as u64;
    let per_cycle = HANDOUT.lines().filter(kept).count() as u64;
    let remainder = HANDOUT
        .lines()
        .take((total % cycle) as usize)
        .filter(kept)
        .count() as u64;
    let expected = total / cycle * per_cycle + remainder;
    println!("cilium monitor follow: {outcome:?}");
    println!("lines followed:        {total}");
    println!(
        "throughput:            {:.2} M lines/s ({:.2} s)",
        total as f64 / elapsed.as_secs_f64() / 1e6,
        elapsed.as_secs_f64()
    );
    println!(
        "events kept by filter: {} (expected {expected}: {per_cycle} per {cycle}-line cycle)",
        mon.received(),
    );
    println!(
        "events held / dropped: {} / {} (capacity {})",
        mon.events().len(),
        mon.dropped(),
        mon.capacity()
    );
    println!("VmHWM before:          {:.1} MB", hwm_start as f64 / 1024.0);
    println!("VmHWM after (peak):    {:.1} MB", hwm_end as f64 / 1024.0);
    println!("VmRSS after:           {:.1} MB", rss_end as f64 / 1024.0);
    assert_eq!(
        mon.received(),
        expected,
        "the filter kept the wrong number of events"
    );
    assert_eq!(
        mon.received(),
        mon.events().len() as u64 + mon.dropped(),
        "every kept event is either held or counted as dropped"
    );
    ctx.shutdown(Duration::from_secs(5));
}
