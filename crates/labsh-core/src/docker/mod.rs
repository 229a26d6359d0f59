//! The Docker side of a kind cluster: its nodes are containers, found through bollard.
//! [`client`] connects (honouring `DOCKER_HOST`), [`nodes`] discovers a cluster's nodes,
//! [`exec`] runs commands inside them (and can stop them), [`veth`] finds their host-side
//! interface.

pub mod client;
pub mod exec;
pub mod netns;
pub mod nodes;
pub mod veth;

/// A kind node: a Docker container labelled `io.x-k8s.kind.cluster=<cluster>`. Its
/// serialised form (its fields) is what scripts read (`node.ip`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
