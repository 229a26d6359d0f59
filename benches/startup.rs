//! Startup benchmark: `labsh run` of an empty script against `/bin/true` and
//! `python3 -c pass`, measured in the same run, interleaved so machine load affects all
//! three alike. Run with `cargo bench --bench startup`; prints a Markdown table for
//! BENCHMARKS.md. `LABSH_BENCH_RUNS` sets the runs per command (default 200).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Case {
    name: &'static str,
    argv: Vec<String>,
    samples: Vec<Duration>,
}

fn time_once(argv: &[String]) -> Duration {
    let start = Instant::now();
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", argv[0]));
    let elapsed = start.elapsed();
    assert!(status.success(), "{argv:?} failed: {status}");
    elapsed
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: accept both.
    let runs: usize = std::env::var("LABSH_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let empty = dir.path().join("empty.rhai");
    std::fs::write(&empty, "").expect("write the empty script");
    let labsh = env!("CARGO_BIN_EXE_labsh").to_string();
    let mut cases = vec![
        Case {
            name: "labsh run empty.rhai",
            argv: vec![labsh, "run".into(), empty.display().to_string()],
            samples: Vec::new(),
        },
        Case {
            name: "/bin/true",
            argv: vec!["/bin/true".into()],
            samples: Vec::new(),
        },
        Case {
            name: "python3 -c pass",
            argv: vec!["python3".into(), "-c".into(), "pass".into()],
            samples: Vec::new(),
        },
    ];
    for case in &cases {
        for _ in 0..5 {
            time_once(&case.argv);
        }
    }
    for _ in 0..runs {
        for case in &mut cases {
            let t = time_once(&case.argv);
            case.samples.push(t);
        }
    }
    println!("runs per command: {runs} (interleaved, after 5 warm-up runs each)\n");
    println!("| command | median (ms) | mean (ms) | p90 (ms) | min (ms) |");
    println!("|---|---:|---:|---:|---:|");
    let mut medians = Vec::new();
    for case in &mut cases {
        case.samples.sort();
        let median = percentile(&case.samples, 0.5);
        let mean = case.samples.iter().sum::<Duration>() / case.samples.len() as u32;
        println!(
            "| `{}` | {:.2} | {:.2} | {:.2} | {:.2} |",
            case.name,
            ms(median),
            ms(mean),
            ms(percentile(&case.samples, 0.9)),
            ms(case.samples[0])
        );
        medians.push(ms(median));
    }
    println!(
        "\nlabsh median / python3 median = {:.2} (target: below 0.5); labsh median target: 10 ms",
        medians[0] / medians[2]
    );
}
