//! The interactive REPL on a real pseudo-terminal: multi-line input decided by compiling the
//! buffer, Tab completion, Ctrl-C during an evaluation (back to the prompt, session kept),
//! and the history file under the XDG state folder.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::test::Test;

/// A labsh REPL on the slave side of a pty; the test types on the master side.
struct Terminal {
    child: Child,
    master: std::fs::File,
    screen: Arc<Mutex<String>>,
}

impl Terminal {
    fn open(dir: &std::path::Path) -> Terminal {
        Terminal::open_with(dir, &[], true)
    }

    /// labsh with `args` on a pty; `no_color` sets NO_COLOR (the harness's default).
    fn open_with(dir: &std::path::Path, args: &[&str], no_color: bool) -> Terminal {
        Terminal::spawn(dir, args, no_color, None)
    }

    /// The REPL on a pty of `rows` rows (80 columns).
    fn open_rows(dir: &std::path::Path, rows: u16) -> Terminal {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: 80,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        Terminal::spawn(dir, &[], true, Some(size))
    }

    fn spawn(
        dir: &std::path::Path,
        args: &[&str],
        no_color: bool,
        size: Option<libc::winsize>,
    ) -> Terminal {
        let (mut master, mut slave) = (0, 0);
        let size_ptr = size
            .as_ref()
            .map_or(std::ptr::null(), |s| s as *const libc::winsize);
        // SAFETY: openpty fills two fds we own from here on; it only reads `size`.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                size_ptr,
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: both fds were just opened and are owned by nobody else.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut cmd = super::test::command(dir);
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        cmd.args(args)
            .env("TERM", "xterm")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec: a new session with the
        // pty as its controlling terminal, so Ctrl-C typed on it sends SIGINT to labsh.
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
        let screen = Arc::new(Mutex::new(String::new()));
        let mut reader = master.try_clone().unwrap();
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
        Terminal {
            child,
            master,
            screen,
        }
    }

    fn screen(&self) -> String {
        self.screen.lock().unwrap().clone()
    }

    /// Waits until the screen shows `text` `count` times (or fails after a generous limit).
    fn wait_for(&self, text: &str, count: usize) {
        let start = Instant::now();
        while self.screen().matches(text).count() < count {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "never saw {text:?} x{count} on:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for a prompt printed after the last `marker`.
    fn wait_for_prompt_after(&self, marker: &str) {
        let start = Instant::now();
        while !self
            .screen()
            .rsplit(marker)
            .next()
            .unwrap_or("")
            .contains("labsh> ")
        {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no prompt after {marker:?}:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types a complete input and Enter, then waits for the next prompt (rustyline drops
    /// what is typed ahead while it leaves raw mode).
    fn enter(&mut self, line: &str) {
        const ACCEPTED: &str = "\x1b[?2004l";
        let before = self.screen().matches(ACCEPTED).count();
        self.type_text(&format!("{line}\r"));
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.matches(ACCEPTED).count() > before
                && screen
                    .rsplit(ACCEPTED)
                    .next()
                    .unwrap_or("")
                    .contains("labsh> ")
            {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no prompt after {line:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn type_text(&mut self, text: &str) {
        self.master.write_all(text.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }
}

#[test]
fn the_terminal_repl_continues_input_completes_survives_ctrl_c_and_keeps_history() {
    let t = Test::new();
    let mut term = Terminal::open(&t.path());
    term.wait_for("labsh> ", 1);
    // An unclosed brace continues on the next line instead of failing.
    term.type_text("fn double(x) {\r");
    term.wait_for("fn double(x) {", 1);
    // ... with a continuation prompt (issue 21).
    term.wait_for("  ...> ", 1);
    term.type_text("  x * 2\r");
    term.wait_for("  x * 2", 1);
    term.wait_for("  ...> ", 2);
    term.enter("}");
    term.enter("double(21)");
    term.wait_for("\n42\r\n", 1);
    // Tab completes a function of a module.
    term.type_text("fs::exi\t");
    term.wait_for("fs::exists(", 1);
    term.enter("\"nothing-here\")");
    term.wait_for("\nfalse\r\n", 1);
    // Ctrl-C ends a long sleep and the session keeps its functions.
    let accepted = term.screen().matches("\x1b[?2004l").count();
    term.type_text("sleep(\"1m\")\r");
    term.wait_for("\x1b[?2004l", accepted + 1);
    // Accepted: the terminal is back in cooked mode, where Ctrl-C is SIGINT.
    std::thread::sleep(Duration::from_millis(200));
    term.type_text("\x03");
    term.wait_for("interrupted\r\n", 1);
    term.wait_for_prompt_after("interrupted\r\n");
    term.enter("double(50)");
    term.wait_for("\n100\r\n", 1);
    term.type_text("\x04");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = term.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "labsh did not exit on Ctrl-D"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0), "{}", term.screen());
    let history =
        std::fs::read_to_string(t.path().join(".state/labsh/history")).expect("the history file");
    assert!(
        history.contains("double(21)\n") && history.contains("sleep(\"1m\")\n"),
        "{history}"
    );
}

/// Runs `labsh ARGS` on a pty and returns what it printed.
fn run_on_terminal(t: &Test, args: &[&str], no_color: bool) -> String {
    let mut term = Terminal::open_with(&t.path(), args, no_color);
    let start = Instant::now();
    while term.child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "labsh did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The reader thread may still be draining the pty.
    std::thread::sleep(Duration::from_millis(100));
    term.screen()
}

#[test]
fn a_terminal_gets_colors_unless_no_color_or_the_flag_says_otherwise() {
    let t = Test::new().write(
        "c.rhai",
        "import \"lab\" as lab;\nlab::check(\"ok\", true);\n",
    );
    let colored = run_on_terminal(&t, &["run", "c.rhai"], false);
    assert!(colored.contains("\x1b[32mPASS\x1b[0m ok"), "{colored:?}");
    let no_color_env = run_on_terminal(&t, &["run", "c.rhai"], true);
    assert!(no_color_env.contains("  PASS ok\r\n"), "{no_color_env:?}");
    assert!(!no_color_env.contains("\x1b["), "{no_color_env:?}");
    let no_color_flag = run_on_terminal(&t, &["--no-color", "run", "c.rhai"], false);
    assert!(!no_color_flag.contains("\x1b["), "{no_color_flag:?}");
}

#[test]
fn a_value_taller_than_the_terminal_shows_its_first_lines_and_print_shows_all() {
    // Issue 14: 12 rows leave 10 lines of the value, the "more" line and the prompt.
    let t = Test::new();
    let mut term = Terminal::open_rows(&t.path(), 12);
    term.wait_for("labsh> ", 1);
    term.enter("let a = []; for i in 0..30 { a.push(i * 1000) }");
    term.enter("a");
    term.wait_for("… 22 more lines: print(a) to see all\r\n", 1);
    let cut = term.screen();
    // What follows the typed `a` once rustyline accepted it.
    let value = cut.rsplit("a\x1b[?2004l\r\n").next().unwrap_or("");
    let expected: String = std::iter::once("[\r\n".to_string())
        .chain((0..9).map(|i| format!("    {},\r\n", i * 1000)))
        .collect();
    assert!(value.starts_with(&expected), "{value:?}");
    assert!(!cut.contains("    9000,"), "{cut:?}");
    term.enter("print(a)");
    term.wait_for("    29000,\r\n]\r\n", 1);
    term.type_text("\x04");
}

#[test]
fn step_pauses_take_a_single_key_on_a_terminal() {
    // Issue 21: `s` skips and `q` quits without Enter after them.
    let t = Test::new().write(
        "steps.rhai",
        "import \"lab\" as lab;\nlab::step(\"one\", \"Un\", || print(\"ran one\"));\nlab::step(\"two\", \"Deux\", || print(\"ran two\"));\nlab::step(\"three\", \"Trois\", || print(\"ran three\"));\n",
    );
    let mut term = Terminal::open_with(&t.path(), &["--step", "run", "steps.rhai"], true);
    term.wait_for("Run step 1?", 1);
    term.type_text("s");
    term.wait_for("Run step 2?", 1);
    term.type_text("\r");
    term.wait_for("ran two", 1);
    term.wait_for("Run step 3?", 1);
    term.type_text("q");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = term.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "labsh did not quit on q:\n{}",
            term.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(100));
    let screen = term.screen();
    assert!(status.success(), "{screen}");
    assert!(screen.contains("skip\r\n"), "{screen:?}");
    assert!(
        !screen.contains("ran one") && !screen.contains("ran three"),
        "{screen:?}"
    );
}

impl Drop for Terminal {
    /// A failed assertion must not leave labsh running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
