//! `labsh check scripts/tp12.rhai` (issue 21, target ≤ 50 ms with its imports), beside the
//! syntax-only check it replaced, measured in the same run:
//!
//! - in-process, on a session built as `labsh check` builds it: the syntax-only check
//!   (`Session::compile` of tp12.rhai alone, what `labsh check` did before), the same for
//!   tp12.rhai and the five modules it imports, and the checker (`checker::check_script`:
//!   strict compile of the script and its imports, the engine's function table, the call
//!   walk);
//! - the whole process: `labsh check scripts/tp12.rhai` beside `labsh check` of an empty
//!   script (startup alone), wall time from spawn to exit.
//!
//! `cargo bench --bench check`; `LABSH_BENCH_RUNS` sets the runs per case (default 200).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use labsh::{Workbench, checker, primitives};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Stats {
    median: Duration,
    p90: Duration,
    min: Duration,
}

fn stats(mut times: Vec<Duration>) -> Stats {
    times.sort();
    Stats {
        median: times[times.len() / 2],
        p90: times[times.len() * 9 / 10],
        min: times[0],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn row(name: &str, s: &Stats) {
    println!(
        "| {name} | {} | {} | {} |",
        ms(s.median),
        ms(s.p90),
        ms(s.min)
    );
}

fn time(runs: usize, mut f: impl FnMut()) -> Stats {
    f(); // warm-up: caches, the documented catalog is not involved (no finding)
    stats(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

/// One run of `labsh ARGS` in `dir`, spawn to exit.
fn process_once(args: &[&str], dir: &Path) -> Duration {
    let t = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_labsh"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("labsh runs");
    let elapsed = t.elapsed();
    assert!(status.success(), "labsh {args:?} failed");
    elapsed
}

fn main() {
    let runs: usize = std::env::var("LABSH_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let root = root();
    let tp12 = root.join("scripts/tp12.rhai");
    let text = std::fs::read_to_string(&tp12).expect("scripts/tp12.rhai");
    let imports: Vec<(String, String)> = [
        "stdlib/lab.rhai",
        "stdlib/verdicts.rhai",
        "stdlib/flows.rhai",
        "scripts/tp12/cilium.rhai",
        "scripts/tp12/lb.rhai",
    ]
    .iter()
    .map(|p| {
        let t = std::fs::read_to_string(root.join(p)).expect("an imported module");
        (p.to_string(), t)
    })
    .collect();

    let mut session = Workbench::new()
        .with_primitives(primitives::all())
        .without_docs()
        .build()
        .expect("a session");
    assert!(
        checker::check_script(&mut session, &tp12).is_empty(),
        "tp12.rhai checks clean"
    );

    let syntax = time(runs, || {
        session
            .compile("scripts/tp12.rhai", &text)
            .expect("compiles");
    });
    let syntax_all = time(runs, || {
        session
            .compile("scripts/tp12.rhai", &text)
            .expect("compiles");
        for (name, t) in &imports {
            session.compile(name, t).expect("compiles");
        }
    });
    let full = time(runs, || {
        let findings = checker::check_script(&mut session, &tp12);
        assert!(findings.is_empty());
    });

    let empty_dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(empty_dir.path().join("empty.rhai"), "").expect("empty.rhai");
    let mut process_empty = Vec::new();
    let mut process_tp12 = Vec::new();
    // Interleaved, so machine load weighs on both alike.
    for _ in 0..runs {
        process_empty.push(process_once(&["check", "empty.rhai"], empty_dir.path()));
        process_tp12.push(process_once(&["check", "scripts/tp12.rhai"], &root));
    }

    println!("runs per case: {runs}");
    println!("| case | median (ms) | p90 (ms) | min (ms) |");
    println!("|---|---:|---:|---:|");
    row("in-process: syntax only, tp12.rhai (before)", &syntax);
    row(
        "in-process: syntax only, tp12.rhai + its 5 script modules",
        &syntax_all,
    );
    row(
        "in-process: checker, tp12.rhai + its 5 script modules (after)",
        &full,
    );
    row("process: `labsh check empty.rhai`", &stats(process_empty));
    row(
        "process: `labsh check scripts/tp12.rhai`",
        &stats(process_tp12),
    );
}
