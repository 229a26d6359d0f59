//! The cluster of a kubeconfig context, whatever made it: its nodes from the API, each with
//! its way in ([`NodeAccess`]). A context named `kind-NAME` whose nodes are containers of
//! this host's Docker engine keeps kind's Docker path; every other node goes through a debug
//! pod.

use std::collections::HashMap;
use std::sync::Arc;

use super::debug_pod::DebugPodConfig;
use super::{ClusterNode, NodeAccess, NodeError, listing};
use crate::context::Ctx;
use crate::kube::{Conn, connect};

/// Which way into the nodes a cluster uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessMode {
    /// kind's Docker path when the nodes are containers here, the debug pod otherwise.
    #[default]
    Auto,
    /// kind's Docker path, or an error.
    Docker,
    /// The debug pod, even for kind nodes.
    DebugPod,
}

impl AccessMode {
    /// `"auto"`, `"docker"` or `"pod"`.
    pub fn parse(text: &str) -> Result<AccessMode, String> {
        match text {
            "auto" => Ok(AccessMode::Auto),
            "docker" => Ok(AccessMode::Docker),
            "pod" | "debug-pod" => Ok(AccessMode::DebugPod),
            other => Err(format!(
                "the access must be \"auto\", \"docker\" or \"pod\", got {other:?}"
            )),
        }
    }
}

/// A cluster reached through a kubeconfig context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnyCluster {
    /// The context.
    pub context: String,
    /// Its API server URL.
    pub server: String,
    /// How nodes are reached.
    pub mode: AccessMode,
    /// The debug pods' image and namespace.
    pub debug: DebugPodConfig,
}

/// The kind cluster a context name stands for (`kind-lab` → `lab`).
pub fn kind_name(context: &str) -> Option<&str> {
    context.strip_prefix("kind-").filter(|n| !n.is_empty())
}

/// The connection `kube::` uses now, which must be on `context`.
pub async fn connect_to(ctx: &Ctx, context: &str, node: &str) -> Result<Arc<Conn>, NodeError> {
    let conn = connect(ctx).await?;
    if conn.context != context {
        return Err(NodeError::OtherContext {
            node: node.to_string(),
            node_context: context.to_string(),
            current: conn.context.clone(),
        });
    }
    Ok(conn)
}

impl AnyCluster {
    /// The cluster of the context `kube::` uses now.
    pub async fn current(
        ctx: &Ctx,
        mode: AccessMode,
        debug: DebugPodConfig,
    ) -> Result<AnyCluster, NodeError> {
        let conn = connect(ctx).await?;
        Ok(AnyCluster {
            context: conn.context.clone(),
            server: conn.server.clone(),
            mode,
            debug,
        })
    }

    /// Its nodes, control-plane first, each with its way in.
    pub async fn nodes(&self, ctx: &Ctx) -> Result<Vec<ClusterNode>, NodeError> {
        let conn = connect_to(ctx, &self.context, "(listing nodes)").await?;
        let infos = listing::list(&conn).await?;
        let containers = self.kind_containers(ctx).await?;
        Ok(infos
            .into_iter()
            .map(|info| {
                let access = match containers.get(&info.name) {
                    Some(c) => NodeAccess::Docker(c.clone()),
                    None => NodeAccess::DebugPod(self.debug.clone()),
                };
                ClusterNode {
                    context: self.context.clone(),
                    info,
                    access,
                }
            })
            .collect())
    }

    /// Its node `name`.
    pub async fn node(&self, ctx: &Ctx, name: &str) -> Result<ClusterNode, NodeError> {
        let nodes = self.nodes(ctx).await?;
        let known: Vec<String> = nodes.iter().map(|n| n.info.name.clone()).collect();
        nodes
            .into_iter()
            .find(|n| n.info.name == name)
            .ok_or_else(|| NodeError::NoNode {
                context: self.context.clone(),
                name: name.to_string(),
                known: known.join(", "),
            })
    }

    /// kind's node containers by name, when the mode allows the Docker path and the context
    /// is a kind cluster's whose containers this host's engine runs.
    async fn kind_containers(
        &self,
        ctx: &Ctx,
    ) -> Result<HashMap<String, crate::docker::Node>, NodeError> {
        if self.mode == AccessMode::DebugPod {
            return Ok(HashMap::new());
        }
        let found = match kind_name(&self.context) {
            Some(kind) => match crate::docker::client::client(ctx).await {
                Ok(docker) => crate::docker::nodes::discover(&docker, kind).await,
                Err(e) => Err(e),
            },
            None => Err(crate::docker::client::DockerError::Other(format!(
                "context `{}` is not a kind cluster's (kind names its contexts kind-NAME)",
                self.context
            ))),
        };
        match (found, self.mode) {
            (Ok(nodes), _) => Ok(nodes.into_iter().map(|n| (n.name.clone(), n)).collect()),
            (Err(_), AccessMode::Auto) => Ok(HashMap::new()),
            (Err(e), _) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_contexts_name_their_cluster() {
        assert_eq!(kind_name("kind-tp12"), Some("tp12"));
        assert_eq!(kind_name("kind-"), None);
        assert_eq!(kind_name("labsh-test"), None);
    }

    #[test]
    fn access_modes_parse_and_reject_others() {
        assert_eq!(AccessMode::parse("auto"), Ok(AccessMode::Auto));
        assert_eq!(AccessMode::parse("pod"), Ok(AccessMode::DebugPod));
        assert_eq!(AccessMode::parse("docker"), Ok(AccessMode::Docker));
        assert!(AccessMode::parse("ssh").unwrap_err().contains("\"ssh\""));
    }
}
