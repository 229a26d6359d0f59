//! One call to a command-line tool labsh drives (kind, helm): printed first under
//! `--explain`, run through [`crate::process`] (own process group, timeout, Ctrl-C → the
//! group is killed before this returns), with a spinner that can follow the tool's progress
//! lines while it works. Both output streams are kept whole, so a caller can show all of it
//! when the tool fails (kind's full output on a failed `kind create cluster`).

use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::Ctx;
use crate::output_budget::OutputBudget;
use crate::process::{self, Captured, ProcessError, Spec};

/// Lines kept in the tail of a timed-out tool's output.
const TAIL: usize = 15;

/// Turns one of the tool's stderr lines into the spinner's new message, if any.
pub type LineWatcher<'a> = &'a mut dyn FnMut(&str) -> Option<String>;

/// What to show while the tool runs.
pub struct Progress<'a> {
    /// The spinner's message (`kind create cluster lab`).
    pub message: String,
    /// Called with every line the tool writes on stderr; returns the spinner's new message,
    /// if any (kind's current step).
    pub on_line: Option<LineWatcher<'a>>,
}

impl Progress<'_> {
    /// A spinner with a fixed message.
    pub fn spinner(message: impl Into<String>) -> Self {
        Progress {
            message: message.into(),
            on_line: None,
        }
    }
}

/// Runs `spec` to completion and returns what it printed, whatever its exit code (use
/// [`Captured::check`] or build a richer error). `spec.timeout` must be set by the caller:
/// every tool call has one.
pub fn run(
    ctx: &Ctx,
    spec: &Spec,
    progress: Option<Progress<'_>>,
) -> Result<Captured, ProcessError> {
    ctx.explain(&spec.argv);
    let max_output = ctx.settings().limits.string_bytes();
    let token = ctx.cancel_token();
    if token.is_cancelled() {
        return Err(ProcessError::Interrupted);
    }
    match progress {
        None => ctx
            .runtime()
            .block_on(run_streaming(spec, &token, &mut |_| {}, max_output)),
        Some(Progress {
            message,
            mut on_line,
        }) => {
            let spinner = ctx.output().spinner(&message);
            let mut update = |line: &str| {
                if let Some(f) = on_line.as_mut()
                    && let Some(msg) = f(line)
                {
                    spinner.set_message(&format!("{message}: {msg}"));
                }
            };
            ctx.runtime()
                .block_on(run_streaming(spec, &token, &mut update, max_output))
        }
    }
}

/// Runs `spec`, calling `on_line` for each line (split on `\n` or `\r`) of its stderr as it
/// arrives. On timeout or cancellation the process group is terminated before returning; so
/// it is when its output (stdout and stderr together) passes `max_output` bytes, and that is
/// an error ([`ProcessError::TooMuchOutput`]): a tool's output is parsed, a part of it is not
/// an answer.
pub async fn run_streaming(
    spec: &Spec,
    cancel: &CancellationToken,
    on_line: &mut dyn FnMut(&str),
    max_output: usize,
) -> Result<Captured, ProcessError> {
    let mut running = process::spawn(spec)?;
    let budget = OutputBudget::new(max_output);
    let out_task = tokio::spawn(process::read_bounded(
        running.child.stdout.take(),
        budget.clone(),
    ));
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let err_task = tokio::spawn(read_lines(running.child.stderr.take(), tx, budget.clone()));
    let started = Instant::now();
    let timeout = spec.timeout.unwrap_or(Duration::MAX);
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut stderr = String::new();
    let mut lines_open = true;
    let ended = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break Err(End::Cancelled),
            _ = &mut deadline => break Err(End::TimedOut),
            _ = budget.filled() => break Err(End::Full),
            line = rx.recv(), if lines_open => match line {
                Some(line) => {
                    on_line(&line);
                    stderr.push_str(&line);
                    stderr.push('\n');
                }
                None => lines_open = false,
            },
            status = running.wait() => break Ok(status),
        }
    };
    match ended {
        Ok(status) => {
            let code = status.map_err(|source| ProcessError::Io {
                command: spec.command_line(),
                source,
            })?;
            // The group is dead (wait() killed what the leader left), so the pipes close.
            let _ = tokio::time::timeout(Duration::from_secs(2), err_task).await;
            while let Ok(line) = rx.try_recv() {
                on_line(&line);
                stderr.push_str(&line);
                stderr.push('\n');
            }
            if budget.is_full() {
                return Err(ProcessError::TooMuchOutput {
                    command: spec.command_line(),
                    limit: max_output,
                });
            }
            let stdout = tokio::time::timeout(Duration::from_secs(2), out_task)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            Ok(Captured {
                code,
                stdout,
                stderr,
            })
        }
        Err(end) => {
            running.terminate().await;
            while let Ok(line) = rx.try_recv() {
                stderr.push_str(&line);
                stderr.push('\n');
            }
            Err(match end {
                End::TimedOut => ProcessError::TimedOut {
                    command: spec.command_line(),
                    after: started.elapsed().min(timeout),
                    stderr_tail: process::tail_lines(&stderr, TAIL),
                },
                End::Cancelled => ProcessError::Interrupted,
                End::Full => ProcessError::TooMuchOutput {
                    command: spec.command_line(),
                    limit: max_output,
                },
            })
        }
    }
}

/// Why a tool run ended before the tool did.
enum End {
    Cancelled,
    TimedOut,
    Full,
}

/// Sends the pipe's lines to `tx`, each taken from `budget` first (so the channel holds no
/// more than the budget); stops at the first that does not fit.
async fn read_lines<R: AsyncRead + Unpin>(
    pipe: Option<R>,
    tx: mpsc::UnboundedSender<String>,
    budget: OutputBudget,
) {
    let Some(pipe) = pipe else { return };
    let mut lines = crate::follow::lines(pipe);
    while let Some(Ok(line)) = lines.next().await {
        // A terminal spinner redraws with `\r`: each redraw is a line of its own.
        for part in line.trim_end_matches('\r').split('\r') {
            if budget.grant(part.len() + 1) < part.len() + 1 || tx.send(part.to_string()).is_err() {
                return;
            }
        }
    }
}

/// A duration as Go prints it (`10m0s`, `1h0m0s`, `1m30s`, `5s`, `1.5s`, `500ms`): what helm's
/// `--timeout` shows in its own messages. Hand-written beside `crate::duration::format`
/// (jiff): Go keeps the zero units (`10m0s`) and the fraction of a second, jiff does not.
pub fn go_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let frac = d.subsec_millis();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let s = if frac == 0 {
        format!("{s}s")
    } else {
        format!("{}s", format!("{s}.{frac:03}").trim_end_matches('0'))
    };
    if h > 0 {
        format!("{h}h{m}m{s}")
    } else if m > 0 {
        format!("{m}m{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_match_gos_string_form() {
        assert_eq!(go_duration(Duration::from_secs(600)), "10m0s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_secs(5)), "5s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
    }

    fn sh(script: &str) -> Spec {
        Spec::new(["sh", "-c", script]).timeout(Duration::from_secs(10))
    }

    #[tokio::test]
    async fn stderr_lines_arrive_one_by_one_and_are_kept() {
        let mut seen = Vec::new();
        let out = run_streaming(
            &sh("printf 'a\\nb\\rc\\n' >&2; echo out; exit 3"),
            &CancellationToken::new(),
            &mut |l| seen.push(l.to_string()),
            usize::MAX,
        )
        .await
        .unwrap();
        assert_eq!(seen, ["a", "b", "c"]);
        assert_eq!(out.code, 3);
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "a\nb\nc\n");
    }

    #[tokio::test]
    async fn a_background_child_holding_stderr_does_not_block_the_end() {
        let started = Instant::now();
        let out = run_streaming(
            &sh("sleep 30 & echo started >&2; exit 0"),
            &CancellationToken::new(),
            &mut |_| {},
            usize::MAX,
        )
        .await
        .unwrap();
        assert_eq!(out.code, 0);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn timeout_kills_and_keeps_the_output_so_far() {
        let spec = Spec::new(["sh", "-c", "echo working >&2; sleep 30"])
            .timeout(Duration::from_millis(300));
        let err = run_streaming(&spec, &CancellationToken::new(), &mut |_| {}, usize::MAX)
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("timed out after 300ms"), "{msg}");
        assert!(msg.ends_with("working"), "{msg}");
    }

    #[tokio::test]
    async fn a_tool_that_writes_without_end_is_stopped_at_the_bound() {
        // `yes` on stdout, then on stderr: each passes the bound, is stopped, and says so.
        for script in ["yes", "yes >&2"] {
            let started = Instant::now();
            let spec = sh(script);
            let err = run_streaming(&spec, &CancellationToken::new(), &mut |_| {}, 1 << 20)
                .await
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "`{}` wrote more than 1,048,576 bytes of output and was stopped (the sandbox limit is 1,048,576 bytes per string; raise it with --max-string-size N)",
                    spec.command_line()
                )
            );
            assert!(started.elapsed() < Duration::from_secs(5), "{script}");
        }
    }
}
