//! Building arrays under the sandbox limits (issue 23, item 3): a script pushing 200,000
//! integers, and one pushing 100,000 strings, in a labsh session with the default limits,
//! beside the same scripts with every limit off (`0`) in the same run. Before the patched
//! size check (vendor/rhai/LABSH-PATCH.md) Rhai walked the whole array after each push:
//! 13.1 s for the integers, 30 s for the strings, against 0.09 s and 0.035 s without limits.
//!
//! `cargo bench --bench push_limits`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use labsh::limits::Limits;
use labsh::{Session, Settings, Workbench};

const INTEGERS: &str = "let a = []; for i in 0..200000 { a.push(i); } a.len()";
const STRINGS: &str = "let a = []; for i in 0..100000 { a.push(`line ${i}`); } a.len()";

fn session(limits: Limits) -> Session {
    Workbench::new()
        .with_settings(Settings {
            limits,
            ..Settings::default()
        })
        .build()
        .expect("a session")
}

fn pushes(c: &mut Criterion) {
    let off = Limits {
        max_string_size: 0,
        max_array_size: 0,
        max_map_size: 0,
    };
    let mut group = c.benchmark_group("push");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8));
    for (name, script, n) in [
        ("200k integers", INTEGERS, 200_000),
        ("100k strings", STRINGS, 100_000),
    ] {
        for (limits_name, limits) in [("default limits", Limits::default()), ("limits off", off)] {
            let mut s = session(limits);
            let len = s.eval("bench", script).expect("the script runs");
            assert_eq!(len.as_int().unwrap(), n);
            group.bench_function(format!("{name}, {limits_name}"), |b| {
                b.iter(|| black_box(s.eval("bench", script).unwrap()))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, pushes);
criterion_main!(benches);
