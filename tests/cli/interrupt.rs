//! Ctrl-C: SIGINT to a `labsh run` whose script sleeps ends it with exit 130 and a one-line
//! message; in the REPL it ends the evaluation and the session goes on.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::test::Test;

fn sigint(child: &Child) {
    // SAFETY: kill(2) on the pid of a child we started and have not reaped yet.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0, "kill failed");
}

/// Waits for the child; a run still alive after `limit` is killed and the test fails (the
/// limit is a safety net against a hung test, not a timing assertion).
fn wait(mut child: Child, limit: Duration) -> (i32, String, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let mut out = String::new();
            let mut err = String::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code().unwrap_or(-1), out, err);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("labsh did not exit after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_during_a_long_sleep_exits_130_with_one_line() {
    let t = Test::new().write(
        "sleepy.rhai",
        "print(\"sleeping\");\nsleep(\"1m\");\nprint(\"woke up\");\n",
    );
    let mut child = super::test::command(&t.path())
        .args(["run", "sleepy.rhai"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labsh starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "sleeping\n");
    child.stdout = Some(stdout.into_inner());
    // The script printed before sleeping; give the engine a moment to enter the sleep.
    std::thread::sleep(Duration::from_millis(100));
    sigint(&child);
    let (code, out, err) = wait(child, Duration::from_secs(20));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (130, "", "labsh: interrupted\n")
    );
}

#[test]
fn ctrl_c_in_the_repl_ends_the_evaluation_and_keeps_the_session() {
    let t = Test::new();
    let mut child = super::test::command(&t.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labsh starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"let kept = 7;\nprint(\"sleeping\");\nsleep(\"1m\");\n")
        .unwrap();
    stdin.flush().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "sleeping\n");
    std::thread::sleep(Duration::from_millis(100));
    sigint(&child);
    stdin.write_all(b"kept * 6\n").unwrap();
    drop(stdin);
    child.stdout = Some(stdout.into_inner());
    let (code, out, err) = wait(child, Duration::from_secs(20));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (1, "42\n", "interrupted\n")
    );
}

#[test]
fn ctrl_c_ends_a_busy_pure_rhai_loop() {
    let t = Test::new().write(
        "busy.rhai",
        "print(\"spinning\");\nlet n = 0;\nloop { n += 1; }\n",
    );
    let mut child = super::test::command(&t.path())
        .args(["run", "busy.rhai"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labsh starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "spinning\n");
    child.stdout = Some(stdout.into_inner());
    std::thread::sleep(Duration::from_millis(100));
    sigint(&child);
    let (code, out, err) = wait(child, Duration::from_secs(20));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (130, "", "labsh: interrupted\n")
    );
}

#[test]
fn ctrl_c_during_proc_run_kills_the_program() {
    let t = Test::new().write(
        "child.rhai",
        "print(\"starting\");\nproc::run([\"sh\", \"-c\", \"echo $$ > child.pid; exec sleep 60\"]);\n",
    );
    let child = super::test::command(&t.path())
        .args(["run", "child.rhai"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labsh starts");
    let pid_file = t.path().join("child.pid");
    let start = Instant::now();
    let pid: i32 = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            break pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the program never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    sigint(&child);
    let (code, out, err) = wait(child, Duration::from_secs(20));
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (130, "starting\n", "labsh: interrupted\n")
    );
    // Killed and reaped: no /proc entry, or at most a zombie awaiting init.
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = state.rsplit(") ").next().and_then(|s| s.chars().next());
    assert!(
        matches!(state, None | Some('Z') | Some('X')),
        "sleep {pid} still runs: {state:?}"
    );
}
