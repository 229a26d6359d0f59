//! labsh when its output or its life ends badly (issue 23, item 2): a failed write to stdout
//! or stderr (a full disk, a closed terminal) ends it through the normal cleanup with exit 1,
//! never SIGABRT; and SIGKILL of labsh leaves none of the programs it started running.

use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::test::{Test, command};

fn dev_full() -> Stdio {
    Stdio::from(
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full"),
    )
}

/// Waits for `child` (a safety net against a hung test, not a timing assertion).
fn wait(child: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("labsh did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Pids of processes whose argument vector is exactly `argv`.
fn processes_with(argv: &[&str]) -> Vec<u32> {
    let wanted: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == wanted))
        .collect()
}

/// Waits until no process runs `argv`; returns those still there after a generous limit.
fn gone(argv: &[&str]) -> Vec<u32> {
    let start = Instant::now();
    loop {
        let left = processes_with(argv);
        if left.is_empty() || start.elapsed() > Duration::from_secs(10) {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A number no other test run uses at the same time (for unique `sleep` arguments).
fn unique() -> u32 {
    10_000 + std::process::id() % 50_000
}

#[test]
fn an_error_with_stderr_on_a_full_disk_exits_1_instead_of_aborting() {
    let t = Test::new().write("x.rhai", "throw \"boom\";\n");
    let status = command(&t.path())
        .args(["run", "x.rhai"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(dev_full())
        .status()
        .expect("labsh starts");
    assert_eq!(
        (status.code(), status.signal()),
        (Some(1), None),
        "{status:?}"
    );
}

#[test]
fn stdout_on_a_full_disk_ends_the_script_with_an_error_naming_it() {
    // Issue 23, item 8: this was "internal error (a bug)"; the script must stop at the write
    // that failed, not run on unseen.
    let t = Test::new().write(
        "x.rhai",
        "print(\"hello\");\nfs::write(\"after.txt\", \"the script went on\");\n",
    );
    let out = command(&t.path())
        .args(["run", "x.rhai"])
        .stdin(Stdio::null())
        .stdout(dev_full())
        .stderr(Stdio::piped())
        .output()
        .expect("labsh starts");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (
            Some(1),
            "error: cannot write to standard output: No space left on device (os error 28)\n"
        )
    );
    assert!(!t.path().join("after.txt").exists());
}

#[test]
fn a_piped_repl_whose_output_fails_stops_and_exits_1() {
    let t = Test::new();
    let mut child = command(&t.path())
        .stdin(Stdio::piped())
        .stdout(dev_full())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labsh starts");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"40 + 2\nfs::write(\"after.txt\", \"went on\");\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (
            Some(1),
            "error: cannot write to standard output: No space left on device (os error 28)\n"
        )
    );
    assert!(!t.path().join("after.txt").exists());
}

#[test]
fn a_closed_terminal_ends_a_run_cleanly_and_kills_its_children() {
    let n = unique();
    let (a, b) = (n.to_string(), (n + 1).to_string());
    let t = Test::new().write(
        "x.rhai",
        &format!(
            "print(\"started\");\nproc::run([\"sh\", \"-c\", \"sleep {a} & exec sleep {b}\"]);\n"
        ),
    );
    let (master, slave) = pty_pair();
    let mut cmd = command(&t.path());
    cmd.args(["run", "x.rhai"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    // SAFETY: async-signal-safe calls only: a session whose controlling terminal is the pty,
    // so closing it sends SIGHUP to labsh.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("labsh starts on the pty");
    let mut screen = BufReader::new(std::fs::File::from(master));
    let mut line = String::new();
    screen.read_line(&mut line).unwrap();
    assert_eq!(line, "started\r\n");
    let start = Instant::now();
    while processes_with(&["sleep", &b]).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no sleep started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The terminal closes: labsh gets SIGHUP, and EIO on every later write.
    drop(screen);
    let status = wait(&mut child);
    assert_eq!(status.signal(), None, "{status:?}");
    assert_ne!(status.code(), Some(0), "{status:?}");
    assert_eq!(gone(&["sleep", &a]), Vec::<u32>::new());
    assert_eq!(gone(&["sleep", &b]), Vec::<u32>::new());
}

#[test]
fn sigkill_of_labsh_leaves_none_of_its_children_running() {
    let n = unique() + 2;
    let (a, b) = (n.to_string(), (n + 1).to_string());
    let t = Test::new().write(
        "x.rhai",
        &format!(
            "print(\"started\");\nproc::run([\"sh\", \"-c\", \"sleep {a} & exec sleep {b}\"]);\n"
        ),
    );
    let mut child = command(&t.path())
        .args(["run", "x.rhai"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("labsh starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let start = Instant::now();
    while processes_with(&["sleep", &a]).is_empty() || processes_with(&["sleep", &b]).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no sleeps started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    wait(&mut child);
    // The backgrounded `sleep` is a grandchild: only the whole group dying takes it along.
    assert_eq!(gone(&["sleep", &a]), Vec::<u32>::new());
    assert_eq!(gone(&["sleep", &b]), Vec::<u32>::new());
}

#[test]
fn sigkill_of_labsh_mid_capture_leaves_no_tcpdump() {
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 || labsh_core_which("tcpdump").is_none() {
        assert!(
            std::env::var_os("LABSH_REQUIRE_DOCKER").is_none(),
            "needs root and tcpdump"
        );
        eprintln!("skipping: needs root and tcpdump");
        return;
    }
    let port = (unique() + 4).to_string();
    let t = Test::new().write(
        "x.rhai",
        &format!(
            "let c = tcpdump::start(\"lo\", #{{filter: \"udp port {port}\"}});\nprint(\"capturing\");\nsleep(\"1m\");\n"
        ),
    );
    let mut child = command(&t.path())
        .args(["run", "x.rhai"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("labsh starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "capturing\n");
    let ours = || tcpdumps_with(&port);
    let start = Instant::now();
    while ours().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "no tcpdump seen");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    wait(&mut child);
    let start = Instant::now();
    while !ours().is_empty() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ours(), Vec::<u32>::new(), "tcpdump outlived labsh");
}

/// A pseudo-terminal (master, slave), both close-on-exec from the start: a master that
/// leaked into labsh (or into a process another test starts meanwhile) would keep the
/// terminal open, and closing ours would not hang it up.
pub fn pty_pair() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: posix_openpt/grantpt/unlockpt/ptsname_r/open on descriptors and a buffer we
    // own; each result is checked.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        assert!(m >= 0, "posix_openpt");
        let master = OwnedFd::from_raw_fd(m);
        assert_eq!(libc::grantpt(m), 0);
        assert_eq!(libc::unlockpt(m), 0);
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(libc::ptsname_r(m, name.as_mut_ptr(), name.len()), 0);
        let s = libc::open(
            name.as_ptr(),
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        );
        assert!(s >= 0, "open the slave");
        (master, OwnedFd::from_raw_fd(s))
    }
}

/// Pids of tcpdump processes whose filter is `udp port PORT`.
fn tcpdumps_with(port: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let args: Vec<&[u8]> = c.split(|&b| b == 0).collect();
                args.first().is_some_and(|p| p.ends_with(b"tcpdump"))
                    && args
                        .iter()
                        .any(|a| *a == format!("udp port {port}").as_bytes())
            })
        })
        .collect()
}

fn labsh_core_which(program: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}
