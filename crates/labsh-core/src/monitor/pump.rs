//! The task that pipes a running `cilium monitor`'s stdout lines into a
//! [`crate::monitor::Monitor`]'s channel, whatever runs it: an exec in the agent pod
//! ([`ExecStream`]) or a process in the node's debug pod ([`PodProcess`], for an agent that
//! runs on the node). It stops the command when the monitor closes, drops its receiver or
//! the session ends; when the command ends by itself with a failure, it says so with the
//! last stderr lines. `cilium monitor`'s headers, which Cilium writes on stderr, go on with
//! the events (`Monitor::wait_ready` waits for them).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::kube::exec::{ExecLine, ExecStream, ExitInfo};
use crate::node::pod_process::PodProcess;
use crate::output::Output;

/// Stderr lines kept to explain a failed monitor command.
const STDERR_TAIL: usize = 10;

/// How the monitor command ended when it ended by itself with a failure (a non-zero exit
/// code, no status): shared between the pump and whoever reports it.
pub type Failure = Arc<Mutex<Option<String>>>;

/// A running monitor command, as the pump reads and stops it.
pub trait MonitorCommand: Send {
    /// The next output line; `None` once the output ended.
    fn next_line(&mut self) -> impl Future<Output = Option<ExecLine>> + Send;
    /// Stops the command (it may have ended).
    fn end(&mut self) -> impl Future<Output = ()> + Send;
    /// How it exited, once its output ended.
    fn exit(&mut self) -> impl Future<Output = ExitInfo> + Send;
}

/// An exec in a pod: closing it ends the command (the agent container's monitor).
impl MonitorCommand for ExecStream {
    fn next_line(&mut self) -> impl Future<Output = Option<ExecLine>> + Send {
        self.lines.recv()
    }

    async fn end(&mut self) {
        self.close();
    }

    fn exit(&mut self) -> impl Future<Output = ExitInfo> + Send {
        self.wait_exit()
    }
}

/// A process in a node's debug pod: stopped by a signal in the node (SIGINT, then SIGKILL).
impl MonitorCommand for PodProcess {
    fn next_line(&mut self) -> impl Future<Output = Option<ExecLine>> + Send {
        self.next()
    }

    async fn end(&mut self) {
        self.stop("INT").await;
    }

    fn exit(&mut self) -> impl Future<Output = ExitInfo> + Send {
        self.exit_info()
    }
}

/// The last stderr lines of a monitor command, to explain its failure.
#[derive(Debug, Default)]
struct StderrTail(VecDeque<String>);

impl StderrTail {
    /// Keeps `line`, forgetting the oldest beyond [`STDERR_TAIL`].
    fn push(&mut self, line: String) {
        if self.0.len() == STDERR_TAIL {
            self.0.pop_front();
        }
        self.0.push_back(line);
    }

    /// `NAME why: stderr…` for a command that ended by itself, or `None` if it succeeded.
    fn failure(self, info: &ExitInfo, name: &str) -> Option<String> {
        if info.code == Some(0) {
            return None;
        }
        let mut why = match info.code {
            Some(c) => format!("exited with code {c}"),
            None if info.message.is_empty() => "ended without an exit status".to_string(),
            None => format!("failed: {}", info.message),
        };
        if !self.0.is_empty() {
            why.push_str(": ");
            why.push_str(&Vec::from(self.0).join(" | "));
        }
        Some(format!("{name} {why}"))
    }
}

/// Pipes `command`'s stdout lines into `tx` (the monitor's channel) until `close` or
/// `session` is cancelled or the monitor drops its receiver — then stops the command — or
/// until it ends by itself: then a failure (non-zero exit, no status) is stored in `failure`
/// and printed on stderr with the last stderr lines, and `tx` is dropped so the monitor sees
/// its source end.
pub async fn pump(
    mut command: impl MonitorCommand,
    tx: mpsc::Sender<String>,
    close: CancellationToken,
    session: CancellationToken,
    failure: Failure,
    output: Output,
    name: String,
) {
    let mut stderr = StderrTail::default();
    loop {
        let line = tokio::select! {
            biased;
            _ = close.cancelled() => return command.end().await,
            _ = session.cancelled() => return command.end().await,
            line = command.next_line() => line,
        };
        match line {
            None => break,
            Some(ExecLine::Stdout(l)) => {
                let sent = tokio::select! {
                    biased;
                    _ = close.cancelled() => return command.end().await,
                    _ = session.cancelled() => return command.end().await,
                    sent = tx.send(l) => sent,
                };
                if sent.is_err() {
                    // The monitor stopped and dropped its receiver.
                    return command.end().await;
                }
            }
            // Cilium writes its headers on stderr: passed on in order, as a terminal shows them.
            Some(ExecLine::Stderr(l)) if super::HEADERS.iter().any(|h| l.starts_with(h)) => {
                if tx.send(l).await.is_err() {
                    return command.end().await;
                }
            }
            Some(ExecLine::Stderr(l)) => stderr.push(l),
        }
    }
    let info = tokio::select! {
        biased;
        _ = close.cancelled() => return command.end().await,
        _ = session.cancelled() => return command.end().await,
        info = command.exit() => info,
    };
    if let Some(msg) = stderr.failure(&info, &name) {
        output.eprintln(&msg);
        *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(msg);
    }
    drop(tx);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_names_the_command_its_exit_and_last_stderr_lines() {
        let mut tail = StderrTail::default();
        for i in 0..12 {
            tail.push(format!("e{i}"));
        }
        let info = ExitInfo {
            code: Some(1),
            message: String::new(),
        };
        assert_eq!(
            tail.failure(&info, "cilium monitor on n").unwrap(),
            "cilium monitor on n exited with code 1: e2 | e3 | e4 | e5 | e6 | e7 | e8 | e9 | e10 | e11"
        );
        let ok = ExitInfo {
            code: Some(0),
            message: String::new(),
        };
        assert_eq!(StderrTail::default().failure(&ok, "m"), None);
    }
}
