//! The Docker side of a kind cluster: its nodes are containers, found through bollard.
//! (Issue "Docker-side primitives" implements this module; the types are fixed here so the
//! kind lifecycle can hand out nodes.)

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};

/// A kind node: a Docker container labelled `io.x-k8s.kind.cluster=<cluster>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The kind cluster it belongs to.
    pub cluster: String,
    /// Container (and Kubernetes node) name, e.g. `lab-worker2`.
    pub name: String,
    /// `control-plane` or `worker`.
    pub role: String,
    /// Its address on the cluster's Docker network.
    pub ip: String,
    /// The Docker network (`kind`).
    pub network: String,
    /// The host's address on that network (the client address pods see).
    pub gateway: String,
    /// The container id.
    pub container_id: String,
}

/// The nodes of kind cluster `cluster`, control-plane first, then by name.
pub fn cluster_nodes(_ctx: &Ctx, cluster: &str) -> ScriptResult<Vec<Node>> {
    Err(error(format!(
        "cluster::nodes({cluster:?}): not implemented yet"
    )))
}
