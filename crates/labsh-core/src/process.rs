//! Every external program labsh runs (kind, helm, tcpdump, anything from `proc::run`) starts
//! here: from an argument vector, never a shell string; in its own process group, so a
//! timeout or Ctrl-C kills it *with its children*; and registered, so a second Ctrl-C that
//! exits at once still kills what is left. If labsh dies without cleaning up (SIGKILL, the
//! OOM killer), the [guardian](crate::guardian) kills the groups.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::output_budget::OutputBudget;

/// How long a process gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_millis(1500);

/// Process groups still alive, killed by [`kill_all`] on an emergency exit.
static LIVE_GROUPS: Mutex<Option<HashSet<i32>>> = Mutex::new(None);

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Ends the program (and its children) after this long.
    pub timeout: Option<Duration>,
    /// Bytes written to stdin, then closed. `None`: stdin is null.
    pub stdin: Option<Vec<u8>>,
}

impl Spec {
    /// A spec for `argv` with no timeout.
    pub fn new<S: Into<String>>(argv: impl IntoIterator<Item = S>) -> Self {
        Spec {
            argv: argv.into_iter().map(Into::into).collect(),
            ..Spec::default()
        }
    }

    /// Sets the timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The command line as a shell would show it.
    pub fn command_line(&self) -> String {
        crate::shell::join(&self.argv)
    }
}

/// What a finished program left.
#[derive(Debug, Clone)]
pub struct Captured {
    /// Exit code; a signal death is 128 + signal, as shells report it.
    pub code: i32,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
}

impl Captured {
    /// `Ok(self)` when the program exited 0, else [`ProcessError::Failed`].
    pub fn check(self, spec: &Spec) -> Result<Captured, ProcessError> {
        if self.code == 0 {
            Ok(self)
        } else {
            Err(ProcessError::Failed {
                command: spec.command_line(),
                code: self.code,
                stderr_tail: tail_lines(
                    if self.stderr.trim().is_empty() {
                        &self.stdout
                    } else {
                        &self.stderr
                    },
                    15,
                ),
            })
        }
    }
}

/// Why running a program failed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program is not on PATH.
    #[error("`{program}` not found on PATH{}", hint.map(|h| format!("; {h}")).unwrap_or_default())]
    NotFound {
        program: String,
        hint: Option<&'static str>,
    },
    /// The program exists but could not start.
    #[error("could not start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    /// The timeout ran out; the program and its children were killed.
    #[error("`{command}` timed out after {} and was killed{}", crate::duration::format(*after), stderr_suffix(stderr_tail))]
    TimedOut {
        command: String,
        after: Duration,
        stderr_tail: String,
    },
    /// Ctrl-C; the program and its children were killed.
    #[error("interrupted")]
    Interrupted,
    /// The program exited non-zero.
    #[error(
        "`{command}` failed with exit status {code}{}",
        stderr_suffix(stderr_tail)
    )]
    Failed {
        command: String,
        code: i32,
        stderr_tail: String,
    },
    /// The program wrote more than labsh keeps of a tool's output; it was stopped.
    #[error(
        "`{command}` wrote more than {} bytes of output and was stopped (the sandbox limit is {} bytes per string; raise it with {} N)",
        crate::limits::group(*limit),
        crate::limits::group(*limit),
        crate::limits::STRING_FLAG
    )]
    TooMuchOutput { command: String, limit: usize },
    /// Reading or writing its pipes failed.
    #[error("`{command}`: {source}")]
    Io {
        command: String,
        source: std::io::Error,
    },
}

fn stderr_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!(":\n{}", tail.trim_end())
    }
}

/// How to get the tools labsh drives.
pub fn install_hint(program: &str) -> Option<&'static str> {
    let name = Path::new(program).file_name()?.to_str()?;
    Some(match name {
        "kind" => "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
        "helm" => "install Helm: https://helm.sh/docs/intro/install/",
        "docker" | "dockerd" => {
            "install Docker Engine: https://docs.docker.com/engine/install/ (Debian: apt-get install docker.io)"
        }
        "tcpdump" => "install tcpdump (Debian/Ubuntu: apt-get install tcpdump)",
        "kubectl" => "install kubectl: https://kubernetes.io/docs/tasks/tools/",
        "cilium" => {
            "install the Cilium CLI: https://docs.cilium.io/en/stable/gettingstarted/k8s-install-default/"
        }
        _ => return None,
    })
}

/// Finds `program` on PATH (or as a path).
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A running program in its own process group; dropping the guard kills the group.
pub struct Running {
    /// The child (stdout/stderr piped unless taken).
    pub child: Child,
    pgid: i32,
    command: String,
    killed: bool,
}

impl Running {
    /// The program's pid (also its process group id).
    pub fn pid(&self) -> i32 {
        self.pgid
    }

    /// The command line, for messages.
    pub fn command_line(&self) -> &str {
        &self.command
    }

    /// Sends `signal` to the whole process group.
    pub fn signal(&self, signal: i32) {
        signal_group(self.pgid, signal);
    }

    /// SIGTERM to the group, then SIGKILL after [`KILL_GRACE`] if the leader is still alive;
    /// reaps the leader.
    pub async fn terminate(&mut self) {
        self.terminate_with(libc::SIGTERM).await
    }

    /// Like [`Running::terminate`] with a first signal of your choice (tcpdump prints its
    /// statistics on SIGINT).
    pub async fn terminate_with(&mut self, first: i32) {
        self.signal(first);
        if tokio::time::timeout(KILL_GRACE, self.child.wait())
            .await
            .is_err()
        {
            self.signal(libc::SIGKILL);
            let _ = self.child.wait().await;
        }
        // Children that ignored the first signal must not outlive the leader.
        self.signal(libc::SIGKILL);
        self.killed = true;
        unregister(self.pgid);
    }

    /// Waits for the leader to exit; returns its exit code (128 + signal for a signal death).
    pub async fn wait(&mut self) -> std::io::Result<i32> {
        let status = self.child.wait().await?;
        // Whatever the leader left in its group goes with it.
        signal_group(self.pgid, libc::SIGKILL);
        self.killed = true;
        unregister(self.pgid);
        Ok(exit_code(status))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.killed {
            signal_group(self.pgid, libc::SIGKILL);
            unregister(self.pgid);
        }
    }
}

/// Starts `spec` with stdout and stderr piped (stdin from `spec.stdin`, else null).
pub fn spawn(spec: &Spec) -> Result<Running, ProcessError> {
    let program = spec.argv.first().ok_or_else(|| ProcessError::Spawn {
        command: String::new(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty argument vector"),
    })?;
    if which(program).is_none() {
        return Err(ProcessError::NotFound {
            program: program.clone(),
            hint: install_hint(program),
        });
    }
    let mut cmd = Command::new(program);
    cmd.args(&spec.argv[1..])
        .envs(&spec.env)
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    if let Some(fd) = crate::guardian::writer() {
        // SAFETY: the closure runs in the forked child before exec and only calls getpid(2)
        // and write(2), both async-signal-safe. The child registers its own group, so there
        // is no moment when it runs and the guardian does not know it.
        unsafe {
            cmd.pre_exec(move || {
                crate::guardian::add(fd, libc::getpid());
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound if spec.cwd.as_ref().is_some_and(|c| !c.is_dir()) => {
            ProcessError::Spawn {
                command: spec.command_line(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "working directory {} does not exist",
                        spec.cwd.as_ref().unwrap().display()
                    ),
                ),
            }
        }
        _ => ProcessError::Spawn {
            command: spec.command_line(),
            source,
        },
    })?;
    let pgid = child.id().map(|p| p as i32).unwrap_or(0);
    register(pgid);
    if let Some(input) = spec.stdin.clone()
        && let Some(mut stdin) = child.stdin.take()
    {
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = stdin.write_all(&input).await;
        });
    }
    Ok(Running {
        child,
        pgid,
        command: spec.command_line(),
        killed: false,
    })
}

/// Runs `spec` to completion, capturing its output. On timeout or cancellation the program
/// and its children are killed before this returns.
pub async fn run(spec: &Spec, cancel: &CancellationToken) -> Result<Captured, ProcessError> {
    run_bounded(spec, cancel, usize::MAX).await.map(|(c, _)| c)
}

/// Like [`run`], keeping at most `max_output` bytes of stdout and stderr together: a program
/// that writes more is stopped (with its group) as soon as it passes the bound, and the
/// second value says so (issue 23: `proc::run(["yes"])` grew until memory ran out).
pub async fn run_bounded(
    spec: &Spec,
    cancel: &CancellationToken,
    max_output: usize,
) -> Result<(Captured, bool), ProcessError> {
    let mut running = spawn(spec)?;
    let stdout = running.child.stdout.take();
    let stderr = running.child.stderr.take();
    let budget = OutputBudget::new(max_output);
    let out_task = tokio::spawn(read_bounded(stdout, budget.clone()));
    let err_task = tokio::spawn(read_bounded(stderr, budget.clone()));
    let timeout = spec.timeout.unwrap_or(Duration::MAX);
    enum End {
        Exited(std::io::Result<i32>),
        Full,
        TimedOut,
        Cancelled,
    }
    let end = tokio::select! {
        r = running.wait() => End::Exited(r),
        _ = budget.filled() => End::Full,
        _ = tokio::time::sleep(timeout) => End::TimedOut,
        _ = cancel.cancelled() => End::Cancelled,
    };
    let code = match end {
        End::Exited(status) => status.map_err(|source| ProcessError::Io {
            command: spec.command_line(),
            source,
        })?,
        End::Full => {
            running.terminate().await;
            // 128 + SIGTERM, as a shell reports a program stopped this way.
            128 + libc::SIGTERM
        }
        End::TimedOut | End::Cancelled => {
            running.terminate().await;
            let stderr = tokio::time::timeout(Duration::from_millis(200), err_task)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            return Err(if matches!(end, End::TimedOut) {
                ProcessError::TimedOut {
                    command: spec.command_line(),
                    after: timeout,
                    stderr_tail: tail_lines(&stderr, 15),
                }
            } else {
                ProcessError::Interrupted
            });
        }
    };
    // The group is dead: both pipes reach their end (or stopped at the bound).
    let stdout = out_task.await.unwrap_or_default();
    let stderr = err_task.await.unwrap_or_default();
    Ok((
        Captured {
            code,
            stdout,
            stderr,
        },
        budget.is_full(),
    ))
}

/// Reads a pipe to its end, keeping what `budget` (shared with the other pipe) allows; past
/// it, stops reading (the budget is full).
pub async fn read_bounded<R: AsyncRead + Unpin>(pipe: Option<R>, budget: OutputBudget) -> String {
    let mut buf = Vec::new();
    if let Some(mut p) = pipe {
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = match p.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !budget.keep(&mut buf, &chunk[..n]) {
                break;
            }
        }
    }
    match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The last `n` lines of `text`.
pub fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(-1)
}

fn signal_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

fn register(pgid: i32) {
    LIVE_GROUPS
        .lock()
        .expect("process registry")
        .get_or_insert_with(HashSet::new)
        .insert(pgid);
}

fn unregister(pgid: i32) {
    if let Some(set) = LIVE_GROUPS.lock().expect("process registry").as_mut() {
        set.remove(&pgid);
    }
    crate::guardian::remove(pgid);
}

/// Kills every process group labsh started that is still alive (used before an immediate
/// exit on a second Ctrl-C).
pub fn kill_all() {
    if let Ok(mut guard) = LIVE_GROUPS.lock()
        && let Some(set) = guard.as_mut()
    {
        for pgid in set.drain() {
            signal_group(pgid, libc::SIGKILL);
            crate::guardian::remove(pgid);
        }
    }
}
