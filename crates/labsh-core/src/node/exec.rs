//! Running a command on a node to completion, whichever way in it has: `docker exec` into a
//! kind node, or an exec in the node's debug pod. A timeout or Ctrl-C stops the command in
//! the node before the call returns.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::access::NodeAccess;
use super::cluster::connect_to;
use super::pod_process::{PodProcess, explain_argv};
use super::{ClusterNode, NodeError, debug_pod};
use crate::context::Ctx;
use crate::docker::exec::{ExecOutput, sleep_until};
use crate::kube::exec::ExecLine;
use crate::output_budget::OutputBudget;

/// The command a user would type for the same: `docker exec NODE ARGV…` or
/// `kubectl debug node/NODE -it --image=IMAGE -- ARGV…`.
pub fn explain(node: &ClusterNode, argv: &[String]) -> Vec<String> {
    match &node.access {
        NodeAccess::Docker(d) => {
            let mut a = vec!["docker".to_string(), "exec".to_string(), d.name.clone()];
            a.extend(argv.iter().cloned());
            a
        }
        NodeAccess::DebugPod(config) => explain_argv(node.name(), &config.image, argv),
    }
}

/// The node's debug pod, made on first use (the node must be reached through one).
pub async fn debug_pod_of(ctx: &Ctx, node: &ClusterNode) -> Result<debug_pod::DebugPod, NodeError> {
    let NodeAccess::DebugPod(config) = &node.access else {
        return Err(NodeError::Exec {
            node: node.name().to_string(),
            command: String::new(),
            message: "a kind node is reached through Docker, not a debug pod".into(),
        });
    };
    let conn = connect_to(ctx, &node.context, node.name()).await?;
    let sweep = || async { super::leftovers::sweep(ctx, &conn).await.map(|_| ()) };
    debug_pod::ensure(ctx, &conn, node.name(), config, sweep).await
}

/// Runs `argv` on `node` and returns its exit code and output (a non-zero exit is not an
/// error). `timeout` or `cancel` stop it first: then this is an error. Output past
/// `max_output` bytes (stdout and stderr together) is left out and stops the command
/// ([`ExecOutput::truncated`]).
pub async fn run(
    ctx: &Ctx,
    node: &ClusterNode,
    argv: &[String],
    timeout: Option<Duration>,
    cancel: &CancellationToken,
    max_output: usize,
) -> Result<ExecOutput, NodeError> {
    match &node.access {
        NodeAccess::Docker(d) => {
            let docker = crate::docker::client::client(ctx).await?;
            crate::docker::exec::run(&docker, &d.container_id, argv, timeout, cancel, max_output)
                .await
                .map_err(|e| NodeError::from_docker_exec(node.name(), e))
        }
        NodeAccess::DebugPod(_) => {
            let pod = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(NodeError::Interrupted),
                p = debug_pod_of(ctx, node) => p?,
            };
            run_in_pod(ctx, &pod, argv, timeout, cancel, max_output).await
        }
    }
}

async fn run_in_pod(
    ctx: &Ctx,
    pod: &debug_pod::DebugPod,
    argv: &[String],
    timeout: Option<Duration>,
    cancel: &CancellationToken,
    max_output: usize,
) -> Result<ExecOutput, NodeError> {
    let budget = OutputBudget::new(max_output);
    let mut process = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Err(NodeError::Interrupted),
        p = PodProcess::start(ctx, pod, argv) => p?,
    };
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut stdout = String::new();
    let mut stderr = String::new();
    let mut take = |line: ExecLine| match line {
        ExecLine::Stdout(l) => budget.keep_line(&mut stdout, &l),
        ExecLine::Stderr(l) => budget.keep_line(&mut stderr, &l),
    };
    loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {
                process.stop("TERM").await;
                return Err(NodeError::Interrupted);
            }
            _ = sleep_until(deadline) => {
                for l in process.stop("TERM").await {
                    take(l);
                }
                return Err(NodeError::TimedOut {
                    node: pod.node.clone(),
                    command: process.command().to_string(),
                    after: timeout.unwrap_or_default(),
                    stderr,
                });
            }
            line = process.next() => match line {
                Some(l) => if !take(l) {
                    // Past the bound: stop the command, keep what fitted.
                    process.stop("TERM").await;
                    break;
                },
                None => break,
            },
        }
    }
    let info = process.exit_info().await;
    let truncated = budget.is_full();
    // A command stopped at the bound may end without a status: 128 + SIGTERM, as a shell says.
    let code = info.code.or(truncated.then_some(128 + libc::SIGTERM));
    match code {
        Some(code) => Ok(ExecOutput {
            code: i64::from(code),
            stdout,
            stderr,
            truncated,
        }),
        None => Err(NodeError::Exec {
            node: pod.node.clone(),
            command: process.command().to_string(),
            message: if info.message.is_empty() {
                "the exec ended without an exit status".into()
            } else {
                info.message
            },
        }),
    }
}
