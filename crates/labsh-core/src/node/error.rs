//! What can go wrong reaching into a node, with what a user needs to act on it: the node,
//! the debug pod and its namespace, the command, and the server's or the container's words.

use std::time::Duration;

use crate::docker::client::DockerError;
use crate::kube::KubeError;

/// A node-side failure.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Talking to the API server failed.
    #[error(transparent)]
    Kube(#[from] KubeError),
    /// Talking to Docker failed (kind nodes).
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// No node of that name.
    #[error("context `{context}` has no node {name:?}; its nodes: {known}")]
    NoNode {
        /// The kubeconfig context.
        context: String,
        /// The name asked for.
        name: String,
        /// The nodes it has, comma-separated.
        known: String,
    },
    /// The node belongs to another context than the one `kube::` uses now.
    #[error(
        "node {node} belongs to context `{node_context}`, but labsh now talks to context `{current}`; select it again with cluster::context({node_context:?})"
    )]
    OtherContext {
        /// The node.
        node: String,
        /// Its context.
        node_context: String,
        /// The selected context.
        current: String,
    },
    /// The debug pod did not start.
    #[error(
        "the debug pod {namespace}/{pod} on node {node} did not start: {reason} (image {image}; set LABSH_NODE_IMAGE or the `image` option to an image with tcpdump and iproute2 the node can pull)"
    )]
    DebugPodNotRunning {
        /// The node.
        node: String,
        /// The pod's namespace.
        namespace: String,
        /// The pod's name.
        pod: String,
        /// Its image.
        image: String,
        /// What the pod's status says (`ErrImagePull: …`, `timed out after 3m`).
        reason: String,
    },
    /// The command could not run (no such program in the debug image, exec refused).
    #[error("node {node}: `{command}` could not run: {message}")]
    Exec {
        /// The node.
        node: String,
        /// The command line.
        command: String,
        /// Why.
        message: String,
    },
    /// The command ran out of time and was stopped.
    #[error("node {node}: `{command}` timed out after {} and was stopped{}", crate::duration::format(*after), if stderr.trim().is_empty() { String::new() } else { format!(":\n{}", stderr.trim_end()) })]
    TimedOut {
        /// The node.
        node: String,
        /// The command line.
        command: String,
        /// The timeout.
        after: Duration,
        /// What it wrote on stderr.
        stderr: String,
    },
    /// A pod's interface could not be found.
    #[error("{0}")]
    Veth(String),
    /// Ctrl-C; what was started was stopped.
    #[error("interrupted")]
    Interrupted,
}

impl NodeError {
    /// A Docker exec failure on kind node `node`.
    pub fn from_docker_exec(node: &str, e: crate::docker::exec::ExecError) -> Self {
        use crate::docker::exec::ExecError;
        match e {
            ExecError::Docker(d) => NodeError::Docker(d),
            ExecError::Interrupted => NodeError::Interrupted,
            ExecError::TimedOut {
                command,
                after,
                stderr,
            } => NodeError::TimedOut {
                node: node.to_string(),
                command,
                after,
                stderr,
            },
        }
    }

    /// Whether this is Ctrl-C.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, NodeError::Interrupted)
    }
}

impl From<crate::interrupt::Interrupted> for NodeError {
    fn from(_: crate::interrupt::Interrupted) -> Self {
        NodeError::Interrupted
    }
}
