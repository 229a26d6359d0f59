//! How labsh reaches into a node: one abstraction over kind's Docker path and the debug pod.
//!
//! - [`NodeAccess::Docker`]: a kind node is a Docker container on this host; commands run
//!   with `docker exec`, captures run this host's tcpdump in the container's network
//!   namespace (`nsenter`). No pod needed, and faster.
//! - [`NodeAccess::DebugPod`]: any other node (another machine, a VM, a network namespace,
//!   kind on a Docker engine elsewhere); commands and captures run in the node's debug pod
//!   ([`super::debug_pod`]), in the node's network namespace, with the debug image's
//!   programs.

use super::debug_pod::DebugPodConfig;

/// The way into one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeAccess {
    /// A kind node: its Docker container.
    Docker(crate::docker::Node),
    /// Through a debug pod made from this configuration.
    DebugPod(DebugPodConfig),
}

impl NodeAccess {
    /// `docker` or `debug-pod`, for scripts and messages.
    pub fn kind(&self) -> &'static str {
        match self {
            NodeAccess::Docker(_) => "docker",
            NodeAccess::DebugPod(_) => "debug-pod",
        }
    }
}
