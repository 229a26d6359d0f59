//! Events delivered into a Rhai closure through `mon.wait(#{"until": …})`, over the TP12
//! handout's real `cilium monitor` lines, beside calling the same closure on ready-made maps:
//! what a script pays on top of the parser (whose own throughput is labsh-core's
//! `monitor_parse` bench).
//!
//! `CARGO_TARGET_DIR=/work/bench-target cargo bench --bench monitor_callback`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labsh::monitor::{CloseHook, Monitor, MonitorOptions, parse};
use labsh::{Session, Workbench};
use rhai::{Dynamic, FnPtr};

const HANDOUT: &str = include_str!("../crates/labsh-core/src/monitor/testdata/tp12_monitor.txt");

fn corpus() -> Vec<&'static str> {
    HANDOUT.lines().collect()
}

const EVENTS: usize = 50_000;

/// A session whose `filled_monitor()` returns a monitor holding EVENTS events, its source
/// ended (so `wait` checks every event then returns).
fn session() -> Session {
    let mut session = Workbench::new()
        .with_primitives([labsh::primitives::monitor::FAMILY])
        .build()
        .expect("runtime");
    let ctx = session.ctx().clone();
    session.engine_mut().register_fn("filled_monitor", move || {
        let lines: Vec<String> = corpus()
            .into_iter()
            .cycle()
            .take(EVENTS)
            .map(str::to_string)
            .collect();
        let options = MonitorOptions {
            capacity: EVENTS,
            ..MonitorOptions::default()
        };
        let mon = Monitor::spawn_stream(
            &ctx,
            futures::stream::iter(lines),
            CloseHook::Nothing,
            options,
        );
        mon.wait::<labsh::errors::Interrupted>(&ctx, Default::default(), None)
            .expect("filled");
        assert_eq!(mon.received(), EVENTS as u64);
        mon
    });
    session
}

fn bench_callback(c: &mut Criterion) {
    let mut g = c.benchmark_group("monitor_callback");
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.sample_size(10);
    let mut s = session();
    g.bench_function("mon_wait_until_closure", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = s.eval("setup", "let mon = filled_monitor();").unwrap();
                let started = Instant::now();
                let seen = s
                    .eval(
                        "bench",
                        r#"mon.wait(#{"until": |e| e.kind == "drop" && e.dport == 80})"#,
                    )
                    .unwrap();
                total += started.elapsed();
                assert!(!seen.as_bool().unwrap());
            }
            total
        })
    });
    // Baseline: the same closure called from Rust on maps built beforehand.
    let engine = rhai::Engine::new();
    let ast = engine
        .compile(r#"|e| e.kind == "drop" && e.dport == 80"#)
        .unwrap();
    let f: FnPtr = engine.eval_ast(&ast).unwrap();
    let maps: Vec<Dynamic> = corpus()
        .into_iter()
        .cycle()
        .take(EVENTS)
        .map(|l| Dynamic::from_map(labsh::records::event::event_map(&parse(l))))
        .collect();
    g.bench_function("closure_on_prebuilt_maps_baseline", |b| {
        b.iter(|| {
            for m in &maps {
                let r: bool = f.call(&engine, &ast, (m.clone(),)).unwrap();
                black_box(r);
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_callback
}
criterion_main!(benches);
