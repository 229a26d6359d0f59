//! Startup benchmark: `labsh run` of an empty script beside a bare Rhai engine that compiles
//! and runs the same file (`Engine::new()` + `run_file`, this bench binary re-run with
//! `LABSH_BENCH_BARE_RHAI=FILE`), `/bin/true` and `python3 -c pass`, measured in the same run,
//! interleaved so machine load weighs on all alike. Each run's CPU time (user + system, from
//! `wait4`) and wall time are recorded; the labsh / bare-engine ratio of the CPU medians is
//! the issue-12 figure (target ≤ 2.0).
//!
//! `cargo bench --bench startup`; `LABSH_BENCH_RUNS` sets the runs per command (default 200),
//! `LABSH_BENCH_LABSH` another labsh binary to measure.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a bare embedding of Rhai costs: the baseline's whole `main`.
fn bare_rhai(file: &str) -> ! {
    let engine = rhai::Engine::new();
    let code = match engine.run_file(file.into()) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            1
        }
    };
    std::process::exit(code)
}

struct Case {
    name: &'static str,
    argv: Vec<String>,
    env: Option<(&'static str, String)>,
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// One run: (wall, user + system CPU).
fn time_once(case: &Case) -> (Duration, Duration) {
    let mut cmd = Command::new(&case.argv[0]);
    cmd.args(&case.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((k, v)) = &case.env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", case.argv[0]));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value; `pid` is our child, reaped exactly once here.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    std::mem::forget(child);
    assert_eq!(rc, pid, "wait4 failed for {}", case.name);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{} failed: status {status}",
        case.name
    );
    (wall, tv(usage.ru_utime) + tv(usage.ru_stime))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    if let Ok(file) = std::env::var("LABSH_BENCH_BARE_RHAI") {
        bare_rhai(&file);
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful: accept both.
    let runs: usize = std::env::var("LABSH_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let empty = dir.path().join("empty.rhai");
    std::fs::write(&empty, "").expect("write the empty script");
    let empty = empty.display().to_string();
    // LABSH_BENCH_LABSH=PATH measures another labsh build (e.g. main's, for a before/after).
    let labsh =
        std::env::var("LABSH_BENCH_LABSH").unwrap_or_else(|_| env!("CARGO_BIN_EXE_labsh").into());
    let me = std::env::current_exe()
        .expect("the bench binary")
        .display()
        .to_string();
    let case = |name, argv: Vec<String>, env| Case {
        name,
        argv,
        env,
        wall: Vec::new(),
        cpu: Vec::new(),
    };
    let mut cases = vec![
        case(
            "labsh run empty.rhai",
            vec![labsh, "run".into(), empty.clone()],
            None,
        ),
        case(
            "bare Rhai engine: Engine::new() + run_file(empty.rhai)",
            vec![me],
            Some(("LABSH_BENCH_BARE_RHAI", empty)),
        ),
        case("/bin/true", vec!["/bin/true".into()], None),
        case(
            "python3 -c pass",
            vec!["python3".into(), "-c".into(), "pass".into()],
            None,
        ),
    ];
    for case in &cases {
        for _ in 0..5 {
            time_once(case);
        }
    }
    for _ in 0..runs {
        for case in &mut cases {
            let (wall, cpu) = time_once(case);
            case.wall.push(wall);
            case.cpu.push(cpu);
        }
    }
    println!("runs per command: {runs} (interleaved, after 5 warm-up runs each)\n");
    println!(
        "| command | CPU median (ms) | CPU p90 (ms) | wall median (ms) | wall p90 (ms) | wall min (ms) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut cpu_medians = Vec::new();
    let mut wall_medians = Vec::new();
    for case in &mut cases {
        case.wall.sort();
        case.cpu.sort();
        println!(
            "| `{}` | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            case.name,
            ms(percentile(&case.cpu, 0.5)),
            ms(percentile(&case.cpu, 0.9)),
            ms(percentile(&case.wall, 0.5)),
            ms(percentile(&case.wall, 0.9)),
            ms(case.wall[0])
        );
        cpu_medians.push(ms(percentile(&case.cpu, 0.5)));
        wall_medians.push(ms(percentile(&case.wall, 0.5)));
    }
    println!(
        "\nlabsh / bare Rhai engine: CPU {:.2}, wall {:.2} (target: ≤ 2.0)",
        cpu_medians[0] / cpu_medians[1],
        wall_medians[0] / wall_medians[1]
    );
    println!(
        "labsh / python3 -c pass: wall {:.2} (target: below 0.5)",
        wall_medians[0] / wall_medians[3]
    );
}
