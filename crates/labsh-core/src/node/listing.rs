//! A cluster's nodes as its API server describes them: name, InternalIP, roles (from the
//! `node-role.kubernetes.io/ROLE` labels, as `kubectl get nodes` shows them), podCIDR and the
//! Ready condition.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};

use crate::kube::{Conn, KubeError};

/// The label prefix whose suffix is a role (`node-role.kubernetes.io/control-plane`).
pub const ROLE_LABEL_PREFIX: &str = "node-role.kubernetes.io/";
/// The older single-valued role label (`kubernetes.io/role=master`).
pub const LEGACY_ROLE_LABEL: &str = "kubernetes.io/role";

/// One node, as the API server describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// Node name.
    pub name: String,
    /// Its `InternalIP` address (`""` when it reports none).
    pub internal_ip: String,
    /// Its roles, sorted (`["control-plane", "master"]`); empty when it has no role label.
    pub roles: Vec<String>,
    /// `spec.podCIDR` (`""` when the cluster does not allocate one per node).
    pub pod_cidr: String,
    /// The `Ready` condition is `True`.
    pub ready: bool,
}

impl NodeInfo {
    /// Reads the fields labsh uses from a node object.
    pub fn from_node(node: &Node) -> NodeInfo {
        let labels = node.metadata.labels.clone().unwrap_or_default();
        let status = node.status.as_ref();
        let internal_ip = status
            .and_then(|s| s.addresses.as_ref())
            .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
            .map(|a| a.address.clone())
            .unwrap_or_default();
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        NodeInfo {
            name: node.metadata.name.clone().unwrap_or_default(),
            internal_ip,
            roles: roles(&labels),
            pod_cidr: node
                .spec
                .as_ref()
                .and_then(|s| s.pod_cidr.clone())
                .unwrap_or_default(),
            ready,
        }
    }

    /// `control-plane` when the node has that role (or the older `master`), else `worker`:
    /// the one-word role kind's nodes have.
    pub fn role(&self) -> &'static str {
        if self
            .roles
            .iter()
            .any(|r| r == "control-plane" || r == "master")
        {
            "control-plane"
        } else {
            "worker"
        }
    }
}

/// The roles in a node's labels, as kubectl finds them: the suffix of each
/// `node-role.kubernetes.io/ROLE` label, and the value of `kubernetes.io/role`.
pub fn roles(labels: &BTreeMap<String, String>) -> Vec<String> {
    let mut roles: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| {
            if let Some(role) = k.strip_prefix(ROLE_LABEL_PREFIX) {
                (!role.is_empty()).then(|| role.to_string())
            } else if k == LEGACY_ROLE_LABEL {
                (!v.is_empty()).then(|| v.clone())
            } else {
                None
            }
        })
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// Control-plane nodes first, then by name (the order kind's nodes come in).
pub fn sort(nodes: &mut [NodeInfo]) {
    nodes.sort_by(|a, b| {
        (a.role() != "control-plane", &a.name).cmp(&(b.role() != "control-plane", &b.name))
    });
}

/// Every node of the connection's cluster, control-plane first.
pub async fn list(conn: &Conn) -> Result<Vec<NodeInfo>, KubeError> {
    let api: Api<Node> = Api::all(conn.client.clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| conn.error(|| "list nodes".to_string(), e))?;
    let mut nodes: Vec<NodeInfo> = list.items.iter().map(NodeInfo::from_node).collect();
    sort(&mut nodes);
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(json: serde_json::Value) -> NodeInfo {
        NodeInfo::from_node(&serde_json::from_value(json).unwrap())
    }

    #[test]
    fn roles_come_from_role_labels_like_kubectl() {
        let labels: BTreeMap<String, String> = [
            ("node-role.kubernetes.io/control-plane", ""),
            ("node-role.kubernetes.io/master", ""),
            ("kubernetes.io/hostname", "cp"),
            ("kubernetes.io/role", "master"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(roles(&labels), ["control-plane", "master"]);
        assert!(roles(&BTreeMap::new()).is_empty());
    }

    #[test]
    fn a_kind_worker_reads_as_its_api_object() {
        // The fields of `kubectl get node lab-worker -o json` on kind v0.22 (trimmed).
        let n = node(serde_json::json!({
            "metadata": {"name": "lab-worker", "labels": {"kubernetes.io/hostname": "lab-worker"}},
            "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": "172.18.0.3"},
                    {"type": "Hostname", "address": "lab-worker"}
                ],
                "conditions": [
                    {"type": "MemoryPressure", "status": "False"},
                    {"type": "Ready", "status": "True"}
                ]
            }
        }));
        assert_eq!(
            n,
            NodeInfo {
                name: "lab-worker".into(),
                internal_ip: "172.18.0.3".into(),
                roles: vec![],
                pod_cidr: "10.244.1.0/24".into(),
                ready: true,
            }
        );
        assert_eq!(n.role(), "worker");
    }

    #[test]
    fn a_node_without_status_is_not_ready_and_has_no_address() {
        let n = node(serde_json::json!({
            "metadata": {"name": "new", "labels": {"node-role.kubernetes.io/master": ""}}
        }));
        assert!(!n.ready);
        assert_eq!(n.internal_ip, "");
        assert_eq!(n.role(), "control-plane");
    }

    #[test]
    fn control_planes_sort_first_then_names() {
        let mut nodes = vec![
            NodeInfo {
                name: "b".into(),
                ..NodeInfo::default()
            },
            NodeInfo {
                name: "a".into(),
                ..NodeInfo::default()
            },
            NodeInfo {
                name: "z".into(),
                roles: vec!["control-plane".into()],
                ..NodeInfo::default()
            },
        ];
        sort(&mut nodes);
        let names: Vec<_> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["z", "a", "b"]);
    }
}
