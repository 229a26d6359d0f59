//! Finding a kind cluster's nodes: the containers labelled `io.x-k8s.kind.cluster=<name>`,
//! with their address and gateway on the cluster's Docker network.

use std::collections::{BTreeSet, HashMap};

use bollard::Docker;
use bollard::models::ContainerSummary;
use bollard::query_parameters::ListContainersOptionsBuilder;

use super::Node;
use super::client::DockerError;

/// The label kind puts on every node container, valued with the cluster name.
pub const CLUSTER_LABEL: &str = "io.x-k8s.kind.cluster";
/// The label holding the node's role (`control-plane` or `worker`).
pub const ROLE_LABEL: &str = "io.x-k8s.kind.role";

/// The nodes of `cluster`, control-plane first, then by name. No container → an error naming
/// the cluster and the kind clusters that do exist.
pub async fn discover(docker: &Docker, cluster: &str) -> Result<Vec<Node>, DockerError> {
    let containers = labelled(
        docker,
        format!("{CLUSTER_LABEL}={cluster}"),
        format!("listing the containers of kind cluster {cluster:?}"),
    )
    .await?;
    if containers.is_empty() {
        let existing = clusters(docker).await?;
        let list = if existing.is_empty() {
            "there are no kind clusters (no container has the label io.x-k8s.kind.cluster)"
                .to_string()
        } else {
            format!("existing kind clusters: {}", existing.join(", "))
        };
        return Err(DockerError::Other(format!(
            "no kind cluster named {cluster:?}: no container has the label {CLUSTER_LABEL}={cluster}; {list}"
        )));
    }
    let mut nodes = containers
        .iter()
        .map(|c| node_from(cluster, c))
        .collect::<Result<Vec<_>, _>>()?;
    sort_nodes(&mut nodes);
    Ok(nodes)
}

/// Every container, running or not, matching the label filter `label` (`key` or `key=value`);
/// `what` names the listing in errors.
async fn labelled(
    docker: &Docker,
    label: String,
    what: String,
) -> Result<Vec<bollard::models::ContainerSummary>, DockerError> {
    let mut filters = HashMap::new();
    filters.insert("label".to_string(), vec![label]);
    let options = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(options))
        .await
        .map_err(DockerError::api(what))
}

/// The names of the kind clusters that have containers, sorted.
pub async fn clusters(docker: &Docker) -> Result<Vec<String>, DockerError> {
    let containers = labelled(
        docker,
        CLUSTER_LABEL.to_string(),
        "listing kind clusters".to_string(),
    )
    .await?;
    let names: BTreeSet<String> = containers
        .iter()
        .filter_map(|c| c.labels.as_ref()?.get(CLUSTER_LABEL).cloned())
        .collect();
    Ok(names.into_iter().collect())
}

/// Control-plane nodes first, then by name.
pub fn sort_nodes(nodes: &mut [Node]) {
    nodes.sort_by(|a, b| {
        (a.role != "control-plane", &a.name).cmp(&(b.role != "control-plane", &b.name))
    });
}

fn node_from(cluster: &str, c: &ContainerSummary) -> Result<Node, DockerError> {
    let name = c
        .names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_string())
        .unwrap_or_default();
    let role = c
        .labels
        .as_ref()
        .and_then(|l| l.get(ROLE_LABEL).cloned())
        .unwrap_or_else(|| "unknown".to_string());
    let networks = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default();
    // kind nodes sit on one network (`kind`); prefer it, else the first with an address.
    let mut names: Vec<&String> = networks.keys().collect();
    names.sort_by_key(|n| (n.as_str() != "kind", n.as_str().to_string()));
    let chosen = names.into_iter().find(|n| {
        networks[*n]
            .ip_address
            .as_deref()
            .is_some_and(|ip| !ip.is_empty())
    });
    let (network, ip, gateway) = match chosen {
        Some(n) => {
            let ep = &networks[n];
            (
                n.clone(),
                ep.ip_address.clone().unwrap_or_default(),
                ep.gateway.clone().unwrap_or_default(),
            )
        }
        None => {
            let state = c.state.map(|s| s.to_string()).unwrap_or_default();
            return Err(DockerError::Other(format!(
                "kind node {name:?} of cluster {cluster:?} has no address on any Docker network (container state: {state}); is it running? (`docker start {name}`)"
            )));
        }
    };
    Ok(Node {
        cluster: cluster.to_string(),
        name,
        role,
        ip,
        network,
        gateway,
        container_id: c.id.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, role: &str) -> Node {
        Node {
            cluster: "c".into(),
            name: name.into(),
            role: role.into(),
            ip: String::new(),
            network: String::new(),
            gateway: String::new(),
            container_id: String::new(),
        }
    }

    #[test]
    fn control_plane_sorts_first_then_names() {
        let mut nodes = vec![
            node("c-worker2", "worker"),
            node("c-worker", "worker"),
            node("c-control-plane", "control-plane"),
        ];
        sort_nodes(&mut nodes);
        let names: Vec<_> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["c-control-plane", "c-worker", "c-worker2"]);
    }
}
