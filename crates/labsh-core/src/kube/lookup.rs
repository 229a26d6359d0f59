//! From a node or a pod to Cilium: the agent pod running on a node (namespace `kube-system`,
//! label `k8s-app=cilium`, field selector `spec.nodeName`) and a pod's endpoint id (its
//! CiliumEndpoint's `.status.id`), with errors that say when Cilium is not installed or the
//! pod has no endpoint.

use serde_json::Value;

use crate::kube::objects::{self, ListQuery};
use crate::kube::{Conn, KubeError};

/// Where Cilium's agents run.
pub const CILIUM_NAMESPACE: &str = "kube-system";
/// The agents' label.
pub const CILIUM_SELECTOR: &str = "k8s-app=cilium";
/// The agent's container.
pub const AGENT_CONTAINER: &str = "cilium-agent";

/// The Cilium agent pod on `node`, as a pod object.
pub async fn agent_pod(conn: &Conn, node: &str) -> Result<Value, KubeError> {
    match agent_pod_if_any(conn, node).await? {
        Some(pod) => Ok(pod),
        None => Err(KubeError::Other(format!(
            "Cilium is not installed on context `{}`: no pod labelled {CILIUM_SELECTOR} in {CILIUM_NAMESPACE}",
            conn.context
        ))),
    }
}

/// The Cilium agent pod on `node`; `None` when the cluster has no agent pod at all (Cilium
/// is not installed, or its agents run on the nodes themselves, not as pods); an error when
/// agent pods run on other nodes only.
pub async fn agent_pod_if_any(conn: &Conn, node: &str) -> Result<Option<Value>, KubeError> {
    let pods = conn.kind("pods").await?;
    let query = ListQuery {
        namespace: Some(CILIUM_NAMESPACE.into()),
        selector: Some(CILIUM_SELECTOR.into()),
        field_selector: Some(format!("spec.nodeName={node}")),
        all_namespaces: false,
    };
    let mut found = objects::list(conn, &pods, &query).await?;
    if let Some(pod) = found.drain(..).next() {
        return Ok(Some(pod));
    }
    let all = objects::list(
        conn,
        &pods,
        &ListQuery {
            field_selector: None,
            ..query
        },
    )
    .await?;
    if all.is_empty() {
        return Ok(None);
    }
    let mut nodes: Vec<&str> = all
        .iter()
        .filter_map(|p| p.pointer("/spec/nodeName").and_then(Value::as_str))
        .collect();
    nodes.sort();
    nodes.dedup();
    Err(KubeError::Other(format!(
        "no Cilium agent pod on node `{node}` (agents run on: {})",
        if nodes.is_empty() {
            "no node yet".to_string()
        } else {
            nodes.join(", ")
        }
    )))
}

/// The Cilium endpoint id of pod `namespace/pod`.
pub async fn endpoint_id(conn: &Conn, namespace: &str, pod: &str) -> Result<i64, KubeError> {
    let catalog = conn.catalog().await?;
    let Some(cep) = catalog.by_gvk("cilium.io/v2", "CiliumEndpoint").cloned() else {
        return Err(KubeError::Other(format!(
            "Cilium is not installed on context `{}`: the cluster does not serve ciliumendpoints.cilium.io/v2",
            conn.context
        )));
    };
    let obj = match objects::get(conn, &cep, pod, Some(namespace)).await {
        Ok(o) => o,
        Err(KubeError::Api { code: 404, .. }) => {
            return Err(KubeError::Other(format!(
                "pod {namespace}/{pod} has no CiliumEndpoint (no such pod, a host-network pod, or Cilium has not created its endpoint yet)"
            )));
        }
        Err(e) => return Err(e),
    };
    endpoint_id_of(&obj).ok_or_else(|| {
        KubeError::Other(format!(
            "the CiliumEndpoint of pod {namespace}/{pod} has no status.id yet (its endpoint is still being created)"
        ))
    })
}

/// `.status.id` of a CiliumEndpoint.
pub fn endpoint_id_of(cep: &Value) -> Option<i64> {
    cep.pointer("/status/id").and_then(Value::as_i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_id_is_read_from_status() {
        let cep = serde_json::json!({
            "apiVersion": "cilium.io/v2", "kind": "CiliumEndpoint",
            "metadata": {"name": "frontend-6c6d6dfd4d-xg8lp", "namespace": "default"},
            "status": {"id": 1890, "identity": {"id": 6623, "labels": ["k8s:app=guestbook"]},
                "networking": {"addressing": [{"ipv4": "10.244.4.66"}], "node": "172.18.0.2"},
                "state": "ready"}
        });
        assert_eq!(endpoint_id_of(&cep), Some(1890));
        assert_eq!(endpoint_id_of(&serde_json::json!({"status": {}})), None);
    }
}
