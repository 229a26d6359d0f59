//! The pods a kubectl target stands for: a pod (`frontend-abc`, `pod/frontend-abc`) or the
//! pods a workload or service selects (`deployment/frontend`, `svc/frontend`, `ds/cilium`),
//! through its `spec.selector`. `logs::` reads them all; `kube::exec` picks one running pod
//! as `kubectl exec deployment/NAME` does ([`TargetPods::pick_running`]).

use serde_json::Value;

use crate::kube::objects::{self, ListQuery};
use crate::kube::target::{Target, selector_string};
use crate::kube::typed::{pod_ready, pod_status};
use crate::kube::{Conn, KubeError};

/// A target's pods, as the API server gave them.
#[derive(Debug, Clone)]
pub struct TargetPods {
    /// The namespace they are in.
    pub namespace: String,
    /// The pods (their JSON), sorted by name.
    pub pods: Vec<Value>,
    /// Whether the target was a workload or a service (several pods possible).
    pub workload: bool,
    /// kubectl's spelling of the target (`deployment/frontend`, `frontend-abc`).
    pub display: String,
}

/// A pod's name.
pub fn pod_name(pod: &Value) -> &str {
    pod.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The container kubectl uses when none is given: the pod's
/// `kubectl.kubernetes.io/default-container` annotation, or its first container.
pub fn default_container(pod: &Value) -> Option<String> {
    pod.pointer("/metadata/annotations/kubectl.kubernetes.io~1default-container")
        .and_then(Value::as_str)
        .or_else(|| {
            pod.pointer("/spec/containers/0/name")
                .and_then(Value::as_str)
        })
        .map(str::to_string)
}

/// Resolves `target` (in `namespace`, or the context's) to its pods.
pub async fn resolve(
    conn: &Conn,
    target: &str,
    namespace: Option<&str>,
) -> Result<TargetPods, KubeError> {
    let t = Target::parse(target).map_err(KubeError::Other)?;
    let ns = conn.namespace(namespace).to_string();
    let pod_kind = conn.kind("pods").await?;
    if t.is_pod() {
        let pod = objects::get(conn, &pod_kind, &t.name, Some(&ns)).await?;
        return Ok(TargetPods {
            namespace: ns,
            pods: vec![pod],
            workload: false,
            display: target.trim().to_string(),
        });
    }
    let kind_name = t.kind.clone().unwrap_or_default();
    let kind = conn.kind(&kind_name).await?;
    let obj = objects::get(conn, &kind, &t.name, Some(&ns)).await?;
    let selector = obj
        .pointer("/spec/selector")
        .and_then(|s| {
            // Services select with a plain map; workloads with a LabelSelector.
            if s.get("matchLabels").is_some() || s.get("matchExpressions").is_some() {
                selector_string(s)
            } else {
                selector_string(&serde_json::json!({ "matchLabels": s }))
            }
        })
        .ok_or_else(|| {
            KubeError::Other(format!(
                "{}: it has no pod selector, so it stands for no pods",
                kind.reference(&t.name)
            ))
        })?;
    let query = ListQuery {
        namespace: Some(ns.clone()),
        selector: Some(selector.clone()),
        ..Default::default()
    };
    let mut pods = objects::list(conn, &pod_kind, &query).await?;
    if pods.is_empty() {
        return Err(KubeError::Other(format!(
            "{kind_name}/{} has no pods (selector {selector} in {ns})",
            t.name
        )));
    }
    pods.sort_by(|a, b| pod_name(a).cmp(pod_name(b)));
    Ok(TargetPods {
        namespace: ns,
        pods,
        workload: true,
        display: format!("{kind_name}/{}", t.name),
    })
}

impl TargetPods {
    /// The pod `kubectl exec` would use: a running and ready one first, then a running one
    /// (the first by name, for a stable choice). None running: an error giving each pod's
    /// state as `kubectl get pods` shows it (`ImagePullBackOff`, `Pending`, …).
    pub fn pick_running(&self) -> Result<&Value, KubeError> {
        let running =
            |p: &&Value| p.pointer("/status/phase").and_then(Value::as_str) == Some("Running");
        if let Some(p) = self
            .pods
            .iter()
            .filter(running)
            .find(|p| pod_ready(p))
            .or_else(|| self.pods.iter().find(running))
        {
            return Ok(p);
        }
        let states: Vec<String> = self
            .pods
            .iter()
            .map(|p| format!("{} is {}", pod_name(p), pod_status(p)))
            .collect();
        Err(KubeError::Other(format!(
            "{} has no running pod in {} ({})",
            self.display,
            self.namespace,
            states.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, phase: &str, ready: bool) -> Value {
        json!({
            "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            "status": {
                "phase": phase,
                "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                "containerStatuses": [{"name": "c", "ready": ready, "restartCount": 0, "image": "nginx", "imageID": "",
                    "state": if phase == "Running" { json!({"running": {}}) } else { json!({"waiting": {"reason": "ImagePullBackOff"}}) }}]
            }
        })
    }

    fn target(pods: Vec<Value>) -> TargetPods {
        TargetPods {
            namespace: "lab".into(),
            pods,
            workload: true,
            display: "deployment/web".into(),
        }
    }

    #[test]
    fn a_ready_running_pod_is_preferred() {
        let t = target(vec![
            pod("web-a", "Pending", false),
            pod("web-b", "Running", false),
            pod("web-c", "Running", true),
        ]);
        assert_eq!(pod_name(t.pick_running().unwrap()), "web-c");
    }

    #[test]
    fn no_running_pod_names_each_pod_s_state() {
        let t = target(vec![pod("web-a", "Pending", false)]);
        let err = t.pick_running().unwrap_err().to_string();
        assert_eq!(
            err,
            "deployment/web has no running pod in lab (web-a is ImagePullBackOff)"
        );
    }

    #[test]
    fn the_default_container_follows_kubectl_s_annotation() {
        let mut p = pod("web-a", "Running", true);
        assert_eq!(default_container(&p).as_deref(), Some("c"));
        p["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/default-container": "app"});
        assert_eq!(default_container(&p).as_deref(), Some("app"));
    }
}
