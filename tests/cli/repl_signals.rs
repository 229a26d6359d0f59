//! SIGTERM and SIGHUP to the interactive REPL (issue 23, item 7): the first one ends it,
//! idle at the prompt or during an evaluation, and the terminal is left as it was found
//! (canonical mode and echo back on), not in the line editor's raw mode.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::dead_output::pty_pair;
use super::test::{Test, command};

/// The REPL on a pty; the test keeps the slave side to read its settings afterwards.
struct Repl {
    child: Child,
    slave: OwnedFd,
    _master: std::fs::File,
    screen: Arc<Mutex<String>>,
}

impl Repl {
    fn open(t: &Test) -> Repl {
        let (master, slave) = pty_pair();
        let mut cmd = command(&t.path());
        cmd.env("TERM", "xterm")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        // SAFETY: async-signal-safe calls only: a session with the pty as its terminal.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("labsh starts on the pty");
        let master = std::fs::File::from(master);
        let mut reader = master.try_clone().unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Repl {
            child,
            slave,
            _master: master,
            screen,
        }
    }

    fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while !self.screen.lock().unwrap().contains(text) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never saw {text:?} on {:?}",
                self.screen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our unreaped child.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }

    /// The exit status (a safety net, not a timing assertion).
    fn exit(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "labsh did not exit:\n{}",
                self.screen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the terminal is in canonical mode with echo, as a shell expects it.
    fn cooked(&self) -> bool {
        // SAFETY: tcgetattr(3) on the slave we hold, into a termios we own.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(
            unsafe { libc::tcgetattr(self.slave.as_raw_fd(), &mut t) },
            0
        );
        t.c_lflag & libc::ICANON != 0 && t.c_lflag & libc::ECHO != 0
    }
}

impl Drop for Repl {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn the_idle_repl_exits_on_the_first_sigterm_with_the_terminal_restored() {
    let t = Test::new();
    let mut repl = Repl::open(&t);
    repl.wait_for("labsh> ");
    // The line editor holds the terminal in raw mode while it waits for input.
    let start = Instant::now();
    while repl.cooked() {
        assert!(start.elapsed() < Duration::from_secs(20), "never raw");
        std::thread::sleep(Duration::from_millis(20));
    }
    repl.signal(libc::SIGTERM);
    let status = repl.exit();
    assert_eq!((status.code(), status.signal()), (Some(143), None));
    assert!(repl.cooked(), "the terminal was left in raw mode");
}

#[test]
fn the_idle_repl_exits_on_the_first_sighup() {
    let t = Test::new();
    let mut repl = Repl::open(&t);
    repl.wait_for("labsh> ");
    repl.signal(libc::SIGHUP);
    let status = repl.exit();
    assert_eq!((status.code(), status.signal()), (Some(129), None));
    assert!(repl.cooked(), "the terminal was left in raw mode");
}

#[test]
fn sigterm_during_an_evaluation_ends_it_and_the_repl() {
    let t = Test::new();
    let mut repl = Repl::open(&t);
    repl.wait_for("labsh> ");
    {
        use std::io::Write;
        let mut m = &repl._master;
        m.write_all(b"print(\"sleeping\"); sleep(\"1m\")\r")
            .unwrap();
    }
    repl.wait_for("sleeping\r\n");
    repl.signal(libc::SIGTERM);
    let status = repl.exit();
    assert_eq!((status.code(), status.signal()), (Some(143), None));
    assert!(repl.cooked(), "the terminal was left in raw mode");
}
