//! The `Cluster` scripts get from `cluster::create` and `cluster::get`: a kind cluster's name,
//! its kubectl context (`kind-<name>`) and the kubeconfig file holding it. Its nodes come from
//! Docker (`crate::docker::cluster_nodes`).

use std::path::PathBuf;

use crate::context::Ctx;
use crate::docker::Node;
use crate::errors::{Error, Result};

/// A kind cluster. Its serialised form (its fields) is what scripts read (`c.context`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cluster {
    /// The kind cluster name (`lab`).
    pub name: String,
    /// Its kubectl context (`kind-lab`).
    pub context: String,
    /// The kubeconfig file kind wrote the context to.
    pub kubeconfig: PathBuf,
    /// Whether `cluster::create` found it already there and reused it.
    pub reused: bool,
}

impl Cluster {
    /// The cluster `name` with kind's context name and kubeconfig path.
    pub fn new(name: &str, reused: bool) -> Self {
        Cluster {
            name: name.to_string(),
            context: format!("kind-{name}"),
            kubeconfig: super::kubeconfig_path(),
            reused,
        }
    }

    /// Makes this cluster's context the one `kube::` primitives use next. The kubeconfig's
    /// own current-context is left as it is.
    pub fn select(&self, ctx: &Ctx) {
        crate::selection::select(
            ctx,
            Some(self.context.clone()),
            Some(self.kubeconfig.clone()),
        );
    }

    /// Its nodes, control-plane first.
    pub fn nodes(&self, ctx: &Ctx) -> Result<Vec<Node>> {
        super::cluster_nodes(ctx, &self.name)
    }

    /// Its `index`-th node (0 is the control-plane).
    pub fn node_at(&self, ctx: &Ctx, index: i64) -> Result<Node> {
        let nodes = self.nodes(ctx)?;
        usize::try_from(index)
            .ok()
            .and_then(|i| nodes.get(i).cloned())
            .ok_or_else(|| {
                Error::msg(format!(
                    "cluster `{}` has {} nodes (0 to {}); there is no node {index}",
                    self.name,
                    nodes.len(),
                    nodes.len().saturating_sub(1)
                ))
            })
    }

    /// The node named `name`, either in full (`lab-worker2`) or without the cluster prefix
    /// (`worker2`).
    pub fn node_named(&self, ctx: &Ctx, name: &str) -> Result<Node> {
        let nodes = self.nodes(ctx)?;
        let full = format!("{}-{name}", self.name);
        nodes
            .iter()
            .find(|n| n.name == name || n.name == full)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
                Error::msg(format!(
                    "cluster `{}` has no node `{name}`; its nodes: {}",
                    self.name,
                    names.join(", ")
                ))
            })
    }

    /// The control-plane node.
    pub fn control_plane(&self, ctx: &Ctx) -> Result<Node> {
        self.nodes(ctx)?
            .into_iter()
            .find(|n| n.role == "control-plane")
            .ok_or_else(|| Error::msg(format!("cluster `{}` has no control-plane node", self.name)))
    }
}

impl std::fmt::Display for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Cluster({}, context {}, kubeconfig {})",
            self.name,
            self.context,
            self.kubeconfig.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selecting_a_cluster_points_kube_at_its_context_and_kubeconfig() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ctx = Ctx::new(rt.handle().clone(), crate::Settings::default());
        let before = crate::selection::current(&ctx);
        let c = Cluster {
            name: "lab".into(),
            context: "kind-lab".into(),
            kubeconfig: "/tmp/kc".into(),
            reused: false,
        };
        c.select(&ctx);
        let now = crate::selection::current(&ctx);
        assert_eq!(now.context.as_deref(), Some("kind-lab"));
        assert_eq!(now.kubeconfig, Some(PathBuf::from("/tmp/kc")));
        assert!(now.generation > before.generation);
    }
}
