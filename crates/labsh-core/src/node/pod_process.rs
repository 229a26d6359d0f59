//! A command running in a node's debug pod, with its pid known so that it can be signalled.
//!
//! An exec cannot be signalled through the API, and closing it does not end the command.
//! So, as for kind's Docker execs, the command starts as
//! `sh -c 'echo labsh-pid $$; exec "$@"' labsh ARGV…`: the first stdout line is its pid
//! (`exec` keeps it; the debug pod has `hostPID`, so it is the node's pid), and a signal is
//! a second exec running `kill -SIG PID` in the same pod. The argument vector reaches the
//! command as `"$@"`: nothing of it is parsed by a shell.

use std::collections::VecDeque;
use std::time::Duration;

use super::NodeError;
use super::debug_pod::{CONTAINER, DebugPod};
use crate::context::Ctx;
use crate::kube::exec::{ExecLine, ExecStream, exec_lines};

/// The shell line that prints the pid, then becomes the command.
pub const PID_WRAPPER: &str = r#"echo "labsh-pid $$"; exec "$@""#;
/// How long the wrapper gets to print the pid.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopped command gets between its first signal and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_millis(1500);

/// The argument vector that runs `argv` behind [`PID_WRAPPER`].
pub fn wrapped(argv: &[String]) -> Vec<String> {
    let mut a = vec![
        "sh".to_string(),
        "-c".to_string(),
        PID_WRAPPER.to_string(),
        "labsh".to_string(),
    ];
    a.extend(argv.iter().cloned());
    a
}

/// The pid in the wrapper's first line.
pub fn pid_line(line: &str) -> Option<u32> {
    line.strip_prefix("labsh-pid ")?.trim().parse().ok()
}

/// `kubectl debug node/NODE -it --image=IMAGE -- ARGV…`: what a user types for the same.
pub fn explain_argv(node: &str, image: &str, argv: &[String]) -> Vec<String> {
    let mut a = vec![
        "kubectl".to_string(),
        "debug".to_string(),
        format!("node/{node}"),
        "-it".to_string(),
        format!("--image={image}"),
        "--".to_string(),
    ];
    a.extend(argv.iter().cloned());
    a
}

/// Reads `lines` up to the first stdout line (returned; `None`: the output ended first),
/// keeping the stderr lines that came before it in `early`.
async fn first_stdout_line(
    lines: &mut tokio::sync::mpsc::Receiver<ExecLine>,
    early: &mut VecDeque<ExecLine>,
) -> Option<String> {
    loop {
        match lines.recv().await {
            Some(ExecLine::Stdout(l)) => return Some(l),
            Some(line) => early.push_back(line),
            None => return None,
        }
    }
}

/// A command running in a debug pod.
pub struct PodProcess {
    ctx: Ctx,
    pod: DebugPod,
    stream: ExecStream,
    /// What the command wrote on stderr before the wrapper's pid line arrived (the two
    /// streams are separate: a line on stderr may overtake the pid on stdout), handed out
    /// first by [`PodProcess::next`].
    early: VecDeque<ExecLine>,
    pid: u32,
    command: String,
    ended: bool,
}

impl PodProcess {
    /// Starts `argv` in `pod` and reads its pid.
    pub async fn start(ctx: &Ctx, pod: &DebugPod, argv: &[String]) -> Result<Self, NodeError> {
        let command = crate::shell::join(argv);
        let mut stream = exec_lines(
            ctx,
            &pod.namespace,
            &pod.name,
            Some(CONTAINER),
            &wrapped(argv),
        )
        .await?;
        let mut early = VecDeque::new();
        let first = tokio::time::timeout(
            START_TIMEOUT,
            first_stdout_line(&mut stream.lines, &mut early),
        )
        .await;
        let failed = |message: String| NodeError::Exec {
            node: pod.node.clone(),
            command: command.clone(),
            message,
        };
        let pid = match first {
            Ok(Some(line)) => {
                pid_line(&line).ok_or_else(|| failed(format!("unexpected first line {line:?}")))?
            }
            Ok(None) => {
                let info = stream.wait_exit().await;
                let stderr: Vec<String> = early
                    .into_iter()
                    .filter_map(|l| match l {
                        ExecLine::Stderr(l) => Some(l),
                        ExecLine::Stdout(_) => None,
                    })
                    .collect();
                let mut why = stderr.join("\n");
                if why.is_empty() {
                    why = info.message;
                }
                return Err(failed(format!(
                    "the debug pod {}/{} has no `sh` or the exec failed: {why}",
                    pod.namespace, pod.name
                )));
            }
            Err(_) => {
                stream.close();
                return Err(failed(format!(
                    "no pid after {}",
                    crate::duration::format(START_TIMEOUT)
                )));
            }
        };
        super::debug_pod::track(ctx, pod, pid);
        Ok(PodProcess {
            ctx: ctx.clone(),
            pod: pod.clone(),
            stream,
            early,
            pid,
            command,
            ended: false,
        })
    }

    /// The next output line; `None` once the command's output ended. Cancel-safe.
    pub async fn next(&mut self) -> Option<ExecLine> {
        if let Some(line) = self.early.pop_front() {
            return Some(line);
        }
        if self.ended {
            return None;
        }
        let line = self.stream.lines.recv().await;
        if line.is_none() {
            self.set_ended();
        }
        line
    }

    fn set_ended(&mut self) {
        self.ended = true;
        super::debug_pod::untrack(&self.ctx, &self.pod, self.pid);
    }

    /// Whether the output ended.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The command line (without the wrapper).
    pub fn command(&self) -> &str {
        &self.command
    }

    /// The command's pid (in the node's pid namespace).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `signal` (`INT`, `TERM`, `KILL`) to the command, through a second exec;
    /// bounded, best effort (the command may have ended).
    pub async fn signal(&self, signal: &str) {
        let argv = vec![
            "kill".to_string(),
            format!("-{signal}"),
            self.pid.to_string(),
        ];
        let run = async {
            if let Ok(s) = exec_lines(
                &self.ctx,
                &self.pod.namespace,
                &self.pod.name,
                Some(CONTAINER),
                &argv,
            )
            .await
            {
                let _ = s.exit_code().await;
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), run).await;
    }

    /// Ends the command: `first` (`INT`, `TERM`), then `KILL` after [`KILL_GRACE`] if its
    /// output has not ended; returns the lines it wrote meanwhile.
    pub async fn stop(&mut self, first: &str) -> Vec<ExecLine> {
        let mut lines = Vec::new();
        if self.ended {
            return lines;
        }
        self.signal(first).await;
        let deadline = tokio::time::Instant::now() + KILL_GRACE;
        loop {
            match tokio::time::timeout_at(deadline, self.next()).await {
                Ok(Some(l)) => lines.push(l),
                Ok(None) => return lines,
                Err(_) => break,
            }
        }
        self.signal("KILL").await;
        self.stream.close();
        self.set_ended();
        lines
    }

    /// Ends the command at once (`KILL`) and closes the exec, unless it ended already.
    pub async fn kill(&mut self) {
        if self.ended {
            return;
        }
        self.signal("KILL").await;
        self.stream.close();
        self.set_ended();
    }

    /// The exit code once the output ended (`None` when the exec was closed first or the
    /// server said none), with the server's message.
    pub async fn exit_info(&mut self) -> crate::kube::exec::ExitInfo {
        self.stream.wait_exit().await
    }
}

impl Drop for PodProcess {
    /// A process dropped while running (its owner was interrupted) is killed in the
    /// background: closing the exec alone would leave it running in the node.
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        self.stream.close();
        let (ctx, pod, pid) = (self.ctx.clone(), self.pod.clone(), self.pid);
        super::debug_pod::untrack(&ctx, &pod, pid);
        let argv = vec!["kill".to_string(), "-KILL".to_string(), pid.to_string()];
        self.ctx.spawn_background(async move {
            let run = async {
                if let Ok(s) =
                    exec_lines(&ctx, &pod.namespace, &pod.name, Some(CONTAINER), &argv).await
                {
                    let _ = s.exit_code().await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(10), run).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrapper_passes_the_argv_untouched_after_the_script() {
        let argv = vec![
            "tcpdump".to_string(),
            "-i".into(),
            "any".into(),
            "tcp port 80; rm -rf /".into(),
        ];
        assert_eq!(
            wrapped(&argv),
            [
                "sh",
                "-c",
                PID_WRAPPER,
                "labsh",
                "tcpdump",
                "-i",
                "any",
                "tcp port 80; rm -rf /"
            ]
        );
    }

    #[test]
    fn the_first_line_holds_the_pid() {
        assert_eq!(pid_line("labsh-pid 4242"), Some(4242));
        assert_eq!(pid_line("labsh-pid x"), None);
        assert_eq!(pid_line("tcpdump: listening"), None);
    }

    #[test]
    fn the_explanation_is_kubectl_debug_node() {
        let argv = ["ip".to_string(), "-o".into(), "link".into()];
        assert_eq!(
            crate::shell::join(&explain_argv(
                "n1",
                "docker.io/nicolaka/netshoot:v0.13",
                &argv
            )),
            "kubectl debug node/n1 -it --image=docker.io/nicolaka/netshoot:v0.13 -- ip -o link"
        );
    }

    #[tokio::test]
    async fn stderr_that_overtakes_the_pid_line_is_kept_in_order() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        for line in [
            ExecLine::Stderr("Press Ctrl-C to quit".into()),
            ExecLine::Stderr("err".into()),
            ExecLine::Stdout("labsh-pid 4242".into()),
            ExecLine::Stdout("out".into()),
        ] {
            tx.send(line).await.unwrap();
        }
        let mut early = VecDeque::new();
        let first = first_stdout_line(&mut rx, &mut early).await;
        assert_eq!(first.as_deref().and_then(pid_line), Some(4242));
        assert_eq!(
            Vec::from(early),
            [
                ExecLine::Stderr("Press Ctrl-C to quit".into()),
                ExecLine::Stderr("err".into())
            ]
        );
        assert_eq!(rx.recv().await, Some(ExecLine::Stdout("out".into())));
    }
}
