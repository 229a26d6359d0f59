//! The nodes of any cluster, seen from its API server, and one way in to each of them.
//!
//! [`listing`] reads the nodes (name, InternalIP, roles, podCIDR, Ready) through the API;
//! [`access`] is how labsh reaches into a node: kind's nodes are Docker containers on this
//! host (`docker exec`, `nsenter` into the container's network namespace), every other node
//! goes through a [`debug_pod`] — a privileged pod with `hostNetwork` and `hostPID`, pinned
//! to the node, created on first use, reused within a run and deleted at its end (on error
//! and Ctrl-C too). [`leftovers`] finds and removes the debug pods of runs that died before
//! they could. [`pod_process`] runs a command in a debug pod with its pid known, so it can
//! be signalled and stopped; [`exec`] runs one to completion; [`veth`] finds a pod's
//! host-side interface in its node.

pub mod access;
pub mod cluster;
pub mod debug_pod;
pub mod error;
pub mod exec;
pub mod leftovers;
pub mod listing;
pub mod pod_process;
pub mod veth;

pub use access::NodeAccess;
pub use cluster::AnyCluster;
pub use error::NodeError;
pub use listing::NodeInfo;

/// A node of a cluster reached through a kubeconfig context, with the way in to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    /// The kubeconfig context the node was listed from.
    pub context: String,
    /// What the API says about it.
    pub info: NodeInfo,
    /// How commands and captures reach it.
    pub access: NodeAccess,
}

impl ClusterNode {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// A kind node (a Docker container of this machine) as a node of context `kind-CLUSTER`,
    /// reached through Docker.
    pub fn of_kind(node: &crate::docker::Node) -> ClusterNode {
        ClusterNode {
            context: format!("kind-{}", node.cluster),
            info: NodeInfo {
                name: node.name.clone(),
                internal_ip: node.ip.clone(),
                roles: if node.role == "control-plane" {
                    vec!["control-plane".into()]
                } else {
                    vec![]
                },
                pod_cidr: String::new(),
                ready: true,
            },
            access: NodeAccess::Docker(node.clone()),
        }
    }
}
