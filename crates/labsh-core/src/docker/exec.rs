//! Running a command inside a container through the Docker API, and — the hard part —
//! ending it. The exec API has no kill: dropping the output stream only detaches, and the
//! process runs on. So every command starts as `sh -c 'echo $$; exec "$@"' sh CMD…`: the
//! first stdout line is its pid (the `exec` keeps it), and stopping it is a second exec that
//! runs `kill`. Every wait is selected against a cancellation token and a deadline.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::client::DockerError;
pub use crate::follow::LineSplitter;
use crate::output_budget::OutputBudget;
use tokio_util::codec::Decoder;

/// How long a stopped command gets between its first signal and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_millis(1500);

/// How long the exec that sends a signal may take before labsh gives up on it.
pub const SIGNAL_TIMEOUT: Duration = Duration::from_secs(10);

type OutputStream = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;

/// A chunk of output from a command running in a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Bytes on stdout.
    Stdout(Bytes),
    /// Bytes on stderr.
    Stderr(Bytes),
}

/// A command running inside a container, with its pid (in the container's pid namespace).
pub struct ExecProcess {
    docker: Docker,
    container: String,
    exec_id: String,
    pid: u32,
    output: OutputStream,
    pending: VecDeque<Chunk>,
    ended: bool,
    command: String,
}

/// `docker exec CONTAINER ARGV…` as a shell would show it (for messages and `--explain`).
pub fn command_line(container: &str, argv: &[String]) -> String {
    let mut full = vec![
        "docker".to_string(),
        "exec".to_string(),
        container.to_string(),
    ];
    full.extend(argv.iter().cloned());
    crate::shell::join(&full)
}

impl ExecProcess {
    /// Starts `argv` in `container` and reads its pid. Bounded by a 30 s timeout.
    pub async fn start(
        docker: &Docker,
        container: &str,
        argv: &[String],
    ) -> Result<ExecProcess, DockerError> {
        let command = command_line(container, argv);
        match tokio::time::timeout(
            Duration::from_secs(30),
            Self::start_inner(docker, container, argv, command.clone()),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(DockerError::Other(format!(
                "`{command}`: the Docker engine did not start the command within 30s"
            ))),
        }
    }

    async fn start_inner(
        docker: &Docker,
        container: &str,
        argv: &[String],
        command: String,
    ) -> Result<ExecProcess, DockerError> {
        let mut cmd = vec![
            "sh".to_string(),
            "-c".to_string(),
            "echo $$; exec \"$@\"".to_string(),
            "sh".to_string(),
        ];
        cmd.extend(argv.iter().cloned());
        let created = create_attached(docker, container, cmd, format!("`{command}`")).await?;
        let started = docker
            .start_exec(&created.id, None)
            .await
            .map_err(DockerError::api(format!("`{command}`")))?;
        let StartExecResults::Attached { output, .. } = started else {
            return Err(DockerError::Other(format!(
                "`{command}`: the Docker engine started the command detached"
            )));
        };
        let mut process = ExecProcess {
            docker: docker.clone(),
            container: container.to_string(),
            exec_id: created.id,
            pid: 0,
            output,
            pending: VecDeque::new(),
            ended: false,
            command,
        };
        process.read_pid().await?;
        Ok(process)
    }

    async fn read_pid(&mut self) -> Result<(), DockerError> {
        // The pid comes as the first line of stdout, read with the one line splitter.
        let mut first = bytes::BytesMut::new();
        let mut decoder = crate::follow::LineDecoder::default();
        let mut stderr = Vec::new();
        loop {
            match self.output.next().await {
                Some(Ok(LogOutput::StdOut { message }))
                | Some(Ok(LogOutput::Console { message })) => {
                    first.extend_from_slice(&message);
                    if let Ok(Some(line)) = decoder.decode(&mut first) {
                        let pid = line.trim().parse::<u32>().map_err(|_| {
                            DockerError::Other(format!(
                                "`{}`: could not read the command's pid (got {line:?})",
                                self.command
                            ))
                        })?;
                        self.pid = pid;
                        if !first.is_empty() {
                            self.pending.push_back(Chunk::Stdout(first.freeze()));
                        }
                        return Ok(());
                    }
                }
                Some(Ok(LogOutput::StdErr { message })) => {
                    stderr.extend_from_slice(&message);
                    self.pending.push_back(Chunk::Stderr(message));
                }
                Some(Ok(LogOutput::StdIn { .. })) => {}
                Some(Err(e)) => {
                    return Err(DockerError::Api {
                        what: format!("`{}`", self.command),
                        source: e,
                    });
                }
                None => {
                    self.ended = true;
                    return Err(DockerError::Other(format!(
                        "`{}`: the container's shell exited before running the command: {}",
                        self.command,
                        String::from_utf8_lossy(&stderr).trim()
                    )));
                }
            }
        }
    }

    /// The command's pid inside the container.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The command line, for messages.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The next chunk of output; `None` once the command has closed its output.
    pub async fn next(&mut self) -> Option<Result<Chunk, DockerError>> {
        if let Some(c) = self.pending.pop_front() {
            return Some(Ok(c));
        }
        self.read_stream().await
    }

    /// The next chunk from the engine's stream, past what is pending.
    async fn read_stream(&mut self) -> Option<Result<Chunk, DockerError>> {
        if self.ended {
            return None;
        }
        loop {
            match self.output.next().await {
                Some(Ok(LogOutput::StdOut { message }))
                | Some(Ok(LogOutput::Console { message })) => {
                    return Some(Ok(Chunk::Stdout(message)));
                }
                Some(Ok(LogOutput::StdErr { message })) => return Some(Ok(Chunk::Stderr(message))),
                Some(Ok(LogOutput::StdIn { .. })) => continue,
                Some(Err(e)) => {
                    self.ended = true;
                    return Some(Err(DockerError::Api {
                        what: format!("`{}`", self.command),
                        source: e,
                    }));
                }
                None => {
                    self.ended = true;
                    return None;
                }
            }
        }
    }

    /// The exit code, once the output has ended (polls briefly while the engine catches up).
    pub async fn exit_code(&mut self) -> Result<i64, DockerError> {
        for _ in 0..50 {
            let info = self
                .docker
                .inspect_exec(&self.exec_id)
                .await
                .map_err(DockerError::api(format!("`{}`", self.command)))?;
            if info.running != Some(true) {
                return Ok(info.exit_code.unwrap_or(-1));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(DockerError::Other(format!(
            "`{}`: the Docker engine still reports the command running after its output ended",
            self.command
        )))
    }

    /// Sends `signal` (`"INT"`, `"TERM"`, `"KILL"`) to the command through a second exec;
    /// what the command writes meanwhile (at most [`SMALL_OUTPUT`] bytes of each stream) is
    /// kept for [`ExecProcess::next`].
    pub async fn signal(&mut self, signal: &str) -> Result<(), DockerError> {
        let mut drained = Drained::default();
        let sent = self.signal_reading(signal, &mut drained).await;
        self.pending.extend(drained.chunks);
        sent
    }

    /// Stops the command: `first` signal, then SIGKILL if it is still running after
    /// [`KILL_GRACE`]. Returns the output it wrote meanwhile (tcpdump prints its statistics
    /// on SIGINT), at most [`SMALL_OUTPUT`] bytes of each stream; the rest is read and
    /// dropped.
    ///
    /// The output is read *while* the signal is sent: the Docker engine does not finish an
    /// exec (not even the one that sends the signal) while another exec's attached output
    /// is unread, so an endless producer would otherwise block the stop forever.
    pub async fn stop(&mut self, first: &str) -> Vec<Chunk> {
        let mut drained = Drained::default();
        if self.ended && self.pending.is_empty() {
            return drained.chunks;
        }
        while let Some(c) = self.pending.pop_front() {
            drained.push(c);
        }
        let _ = self.signal_reading(first, &mut drained).await;
        let deadline = tokio::time::Instant::now() + KILL_GRACE;
        loop {
            match tokio::time::timeout_at(deadline, self.next()).await {
                Ok(Some(Ok(c))) => drained.push(c),
                Ok(Some(Err(_))) | Ok(None) => return drained.chunks,
                Err(_) => break,
            }
        }
        let _ = self.signal_reading("KILL", &mut drained).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while let Ok(Some(Ok(c))) = tokio::time::timeout_at(deadline, self.next()).await {
            drained.push(c);
        }
        self.ended = true;
        drained.chunks
    }

    /// Sends `signal` while reading the command's output into `drained`, bounded by
    /// [`SIGNAL_TIMEOUT`].
    async fn signal_reading(
        &mut self,
        signal: &str,
        drained: &mut Drained,
    ) -> Result<(), DockerError> {
        let docker = self.docker.clone();
        let container = self.container.clone();
        let pid = self.pid;
        let send = tokio::time::timeout(
            SIGNAL_TIMEOUT,
            send_signal(&docker, &container, pid, signal),
        );
        tokio::pin!(send);
        loop {
            tokio::select! {
                sent = &mut send => return sent.unwrap_or_else(|_| Err(DockerError::Other(format!(
                    "`{}`: sending SIG{signal} took longer than {}",
                    self.command,
                    crate::duration::format(SIGNAL_TIMEOUT)
                )))),
                c = self.read_stream(), if !self.ended => {
                    if let Some(Ok(c)) = c {
                        drained.push(c);
                    }
                }
            }
        }
    }

    /// Whether the output has ended.
    pub fn ended(&self) -> bool {
        self.ended && self.pending.is_empty()
    }
}

impl Drop for ExecProcess {
    fn drop(&mut self) {
        // A safety net for paths that did not call `stop`: detaching would leave the command
        // running in the container.
        if !self.ended
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let docker = self.docker.clone();
            let container = self.container.clone();
            let pid = self.pid;
            handle.spawn(async move {
                let _ = send_signal(&docker, &container, pid, "KILL").await;
            });
        }
    }
}

/// `kill -s SIGNAL PID` inside `container`, through the shell's builtin (no `kill` binary
/// needed), waiting for it to finish.
pub async fn send_signal(
    docker: &Docker,
    container: &str,
    pid: u32,
    signal: &str,
) -> Result<(), DockerError> {
    if pid == 0 {
        return Ok(());
    }
    let cmd: Vec<String> = [
        "sh",
        "-c",
        "kill -s \"$1\" \"$2\" 2>/dev/null",
        "sh",
        signal,
        &pid.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let what = format!("signalling pid {pid} in {container}");
    let created = create_attached(docker, container, cmd, what.clone()).await?;
    if let StartExecResults::Attached { mut output, .. } = docker
        .start_exec(&created.id, None)
        .await
        .map_err(DockerError::api(what))?
    {
        while output.next().await.is_some() {}
    }
    Ok(())
}

/// The output read while stopping a command: at most [`SMALL_OUTPUT`] bytes of each stream.
#[derive(Default)]
struct Drained {
    chunks: Vec<Chunk>,
    stdout: usize,
    stderr: usize,
}

impl Drained {
    fn push(&mut self, chunk: Chunk) {
        let (kept, bytes) = match &chunk {
            Chunk::Stdout(b) => (&mut self.stdout, b.len()),
            Chunk::Stderr(b) => (&mut self.stderr, b.len()),
        };
        if *kept + bytes <= SMALL_OUTPUT {
            *kept += bytes;
            self.chunks.push(chunk);
        }
    }
}

/// What a finished command left.
#[derive(Debug, Clone, Default)]
pub struct ExecOutput {
    /// Exit code.
    pub code: i64,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
    /// The output passed the bound the caller gave: what fitted is kept, and the command
    /// was stopped.
    pub truncated: bool,
}

/// The bound of a small read labsh makes itself (`cat …/iflink`, `ip route get`).
pub const SMALL_OUTPUT: usize = 1 << 20;

/// Why [`run`] did not return an output.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Docker failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The timeout ran out; the command was killed.
    #[error("`{command}` timed out after {} and was stopped{}", crate::duration::format(*after), if stderr.trim().is_empty() { String::new() } else { format!(":\n{}", stderr.trim_end()) })]
    TimedOut {
        command: String,
        after: Duration,
        stderr: String,
    },
    /// Cancelled (Ctrl-C); the command was killed.
    #[error("interrupted")]
    Interrupted,
}

/// Runs `argv` in `container` to completion, unless `timeout` or `cancel` ends it first —
/// then the command is killed inside the container before this returns.
pub async fn run(
    docker: &Docker,
    container: &str,
    argv: &[String],
    timeout: Option<Duration>,
    cancel: &CancellationToken,
    max_output: usize,
) -> Result<ExecOutput, ExecError> {
    let mut process = ExecProcess::start(docker, container, argv).await?;
    let budget = OutputBudget::new(max_output);
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                process.stop("TERM").await;
                return Err(ExecError::Interrupted);
            }
            _ = sleep_until(deadline) => {
                for c in process.stop("TERM").await {
                    if let Chunk::Stderr(b) = c { stderr.extend_from_slice(&b) }
                }
                return Err(ExecError::TimedOut {
                    command: process.command().to_string(),
                    after: timeout.unwrap_or_default(),
                    stderr: String::from_utf8_lossy(&stderr).into_owned(),
                });
            }
            n = process.next() => n,
        };
        let kept = match next {
            Some(Ok(Chunk::Stdout(b))) => budget.keep(&mut stdout, &b),
            Some(Ok(Chunk::Stderr(b))) => budget.keep(&mut stderr, &b),
            Some(Err(e)) => {
                process.stop("KILL").await;
                return Err(e.into());
            }
            None => break,
        };
        if !kept {
            // Past the bound: stop reading, and stop the command.
            process.stop("TERM").await;
            break;
        }
    }
    let code = process.exit_code().await?;
    Ok(ExecOutput {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        truncated: budget.is_full(),
    })
}

/// Sleeps until `deadline`, forever when there is none.
pub async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Creates an exec of `cmd` in `container` with stdout and stderr attached; `what` names it in
/// errors.
async fn create_attached(
    docker: &Docker,
    container: &str,
    cmd: Vec<String>,
    what: String,
) -> Result<bollard::exec::CreateExecResults, DockerError> {
    docker
        .create_exec(
            container,
            CreateExecOptions {
                cmd: Some(cmd),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .map_err(DockerError::api(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_quotes_like_a_shell() {
        let argv = vec!["sh".to_string(), "-c".to_string(), "echo hi".to_string()];
        assert_eq!(
            command_line("lab-worker", &argv),
            "docker exec lab-worker sh -c 'echo hi'"
        );
    }
}
