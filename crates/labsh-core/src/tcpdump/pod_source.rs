//! tcpdump in a node's debug pod (`crate::node::debug_pod`): the pod has `hostNetwork`, so
//! tcpdump runs in the node's network namespace; its lines come back through the exec and
//! are parsed as a local tcpdump's. Stopping it is a signal sent by a second exec (SIGINT:
//! tcpdump prints its statistics and exits; SIGKILL if it lingers), so nothing is left
//! running in the node.

use super::source_event::Event;
use crate::context::Ctx;
use crate::kube::exec::ExecLine;
use crate::node::NodeError;
use crate::node::debug_pod::DebugPod;
use crate::node::pod_process::PodProcess;

/// tcpdump running in a debug pod.
pub struct PodSource {
    process: PodProcess,
}

impl PodSource {
    /// Starts `argv` (a tcpdump argument vector) in `pod`.
    pub async fn start(ctx: &Ctx, pod: &DebugPod, argv: &[String]) -> Result<Self, NodeError> {
        Ok(PodSource {
            process: PodProcess::start(ctx, pod, argv).await?,
        })
    }

    /// The command line, for messages.
    pub fn command(&self) -> &str {
        self.process.command()
    }

    pub(super) async fn next(&mut self) -> Event {
        match self.process.next().await {
            Some(ExecLine::Stdout(l)) => Event::Stdout(l),
            Some(ExecLine::Stderr(l)) => Event::Stderr(l),
            None => Event::End,
        }
    }

    pub(super) async fn interrupt(&mut self) {
        self.process.signal("INT").await;
    }

    pub(super) async fn kill(&mut self) {
        self.process.kill().await;
    }

    pub(super) async fn exit_code(&mut self) -> Option<i64> {
        self.process.exit_info().await.code.map(i64::from)
    }
}
