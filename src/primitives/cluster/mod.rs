//! The `cluster::…` Rhai module, in two parts: kind's cluster lifecycle and the `Cluster` type
//! ([`kind`]: `cluster::create`, `delete`, `delete_all`, `list`, `get`), and a cluster's nodes
//! seen from Docker with the `Node` type's methods ([`nodes`]: `cluster::nodes`, `node`,
//! `control_plane`, `node.exec(…)`, `node.host_veth(…)`), and the cluster of any kubeconfig
//! context ([`any`]: `cluster::current`, `cluster::context`, nodes from the API reached
//! through Docker or a node debug pod); `node.exec`/`node.exec_stream` for both node types
//! ([`exec`]).

pub mod any;
pub mod exec;
pub mod kind;
pub mod nodes;
