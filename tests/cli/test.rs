//! The integration harness, in the style of just's `tests/test.rs`: one fluent builder that
//! writes files into a temporary folder, runs `labsh` there and asserts its exact stdout,
//! stderr and exit code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The labsh binary under test.
pub fn labsh() -> &'static str {
    env!("CARGO_BIN_EXE_labsh")
}

/// One run of `labsh` and what it must print.
#[must_use]
pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
    stdout: String,
    stderr: String,
    status: i32,
}

/// What a run left behind, for extra assertions (files it wrote).
pub struct Output {
    /// The run's folder (kept until this value is dropped).
    pub dir: tempfile::TempDir,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl Output {
    /// The text of a file the run wrote, relative to its folder.
    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(path))
            .unwrap_or_else(|e| panic!("{path} was not written: {e}"))
    }
}

impl Test {
    /// A run in a fresh temporary folder, expecting exit 0 and no output.
    pub fn new() -> Self {
        Test {
            dir: tempfile::tempdir().expect("a temporary folder"),
            args: Vec::new(),
            env: Vec::new(),
            stdin: None,
            stdout: String::new(),
            stderr: String::new(),
            status: 0,
        }
    }

    /// The run's folder.
    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Adds a command-line argument.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Adds command-line arguments.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Writes `text` into `path` (relative to the run's folder), creating folders.
    pub fn write(self, path: &str, text: &str) -> Self {
        let p = self.dir.path().join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&p, text).expect("write a test file");
        self
    }

    /// Sets an environment variable for the run.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Feeds `text` on stdin (otherwise stdin is empty).
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_string());
        self
    }

    /// The exact stdout expected.
    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = text.to_string();
        self
    }

    /// The exact stderr expected.
    pub fn stderr(mut self, text: &str) -> Self {
        self.stderr = text.to_string();
        self
    }

    /// The exit code expected.
    pub fn status(mut self, code: i32) -> Self {
        self.status = code;
        self
    }

    /// Runs labsh and asserts stdout, stderr and the exit code.
    pub fn run(self) -> Output {
        let expected = (self.stdout.clone(), self.stderr.clone(), self.status);
        let args = self.args.clone();
        let (out, code) = self.run_unchecked();
        if (out.stdout.as_str(), out.stderr.as_str(), code)
            != (expected.0.as_str(), expected.1.as_str(), expected.2)
        {
            panic!(
                "labsh {args:?}\n--- stdout (expected)\n{}\n--- stdout (got)\n{}\n--- stderr (expected)\n{}\n--- stderr (got)\n{}\n--- status: expected {}, got {code}",
                expected.0, out.stdout, expected.1, out.stderr, expected.2
            );
        }
        out
    }

    /// Runs labsh and returns what it printed and its exit code, for outputs that are only
    /// partly fixed (clap's usage text, an OS error).
    pub fn run_unchecked(self) -> (Output, i32) {
        let mut cmd = command(self.dir.path());
        cmd.args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("labsh starts");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = self.stdin.clone().unwrap_or_default();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let out = child.wait_with_output().expect("labsh runs");
        writer.join().expect("stdin writer");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code().unwrap_or(-1);
        (
            Output {
                dir: self.dir,
                stdout,
                stderr,
            },
            code,
        )
    }
}

/// `labsh` in `dir` with a clean environment: no colors, history in `dir`, no `LINES`.
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new(labsh());
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", dir.join(".state"))
        .env_remove("LINES")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    cmd
}
