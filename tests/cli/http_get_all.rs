//! `http::get_all` of many URLs (issue 23, item 6): at most `concurrency` connections at
//! once (64 by default), so 10,000 URLs fit under `ulimit -n 512`; failures summarised by
//! cause, with the first few in full.

use std::os::unix::process::CommandExt;
use std::process::Stdio;

use super::test::{Test, command};

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Runs `labsh run x.rhai` with at most 512 open files; (exit code, stdout, stderr).
fn run_with_512_files(t: &Test) -> (i32, String, String) {
    let mut cmd = command(&t.path());
    cmd.args(["run", "x.rhai"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit(2) between fork and exec, async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 512,
                rlim_max: 512,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("labsh starts");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn ten_thousand_closed_ports_under_512_files_all_fail_for_their_own_reason() {
    let port = closed_port();
    let t = Test::new().write(
        "x.rhai",
        &format!(
            "let urls = []; for i in 0..10000 {{ urls.push(`http://127.0.0.1:{port}/${{i}}`); }}\nlet rs = http::get_all(urls, #{{fail: false, timeout: \"30s\"}});\nlet refused = rs.filter(|r| \"error\" in r && r.error.contains(\"Connection refused\")).len();\nlet files = rs.filter(|r| \"error\" in r && r.error.contains(\"Too many open files\")).len();\nprint(`${{rs.len()}} ${{refused}} ${{files}}`);\n"
        ),
    );
    let (code, out, err) = run_with_512_files(&t);
    assert_eq!((code, out.as_str()), (0, "10000 10000 0\n"), "{err}");
}

#[test]
fn failures_are_summarised_by_cause_with_the_first_five_in_full() {
    let port = closed_port();
    let t = Test::new().write(
        "x.rhai",
        &format!(
            "let urls = []; for i in 0..10000 {{ urls.push(`http://127.0.0.1:{port}/${{i}}`); }}\nurls.push(\"ftp://example/\");\nhttp::get_all(urls, #{{concurrency: 16}});\n"
        ),
    );
    let (code, _, err) = run_with_512_files(&t);
    assert_eq!(code, 1);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        "error: http::get_all: 10,001 of 10,001 requests failed:"
    );
    assert!(
        lines[1].starts_with("  10,000 × ") && lines[1].contains("Connection refused"),
        "{err}"
    );
    assert_eq!(lines[2], "  1 × expected an http:// URL");
    assert_eq!(lines[3], "the first:");
    for (i, line) in lines[4..9].iter().enumerate() {
        assert!(
            line.starts_with(&format!("  GET http://127.0.0.1:{port}/{i}: "))
                && line.contains("Connection refused"),
            "{err}"
        );
    }
    // Then the caret diagnostic: the whole error stays short.
    assert!(err.len() < 2000, "{} bytes:\n{err}", err.len());
}
