//! Typed views of the objects scripts use most: `Pod` and `Service`, read through
//! k8s-openapi's types (`k8s_openapi::api::core::v1::Pod`, …) from the object's JSON, plus
//! the pod status kubectl prints (`Running`, `CrashLoopBackOff`, `Init:0/1`, `Terminating`),
//! shared by tables and wait summaries. Kinds labsh does not know stay `DynamicObject`s.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ContainerStatus, Node as KNode, NodeCondition, Pod as KPod, Service as KService,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerInfo {
    /// Container name (`php-redis`).
    pub name: String,
    /// Image.
    pub image: String,
    /// Ready per its readiness probe.
    pub ready: bool,
    /// Restart count.
    pub restarts: i64,
    /// `running`, `waiting: CrashLoopBackOff`, `terminated: Completed`, or `unknown`.
    pub state: String,
}

/// A pod as scripts see it (its serialised form: `pod.ip`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Pod {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// The node it runs on (`""` when not scheduled).
    pub node: String,
    /// Pod IP (`""` when none yet).
    pub ip: String,
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: String,
    /// The `Ready` condition is true.
    pub ready: bool,
    /// Its containers, in spec order.
    pub containers: Vec<ContainerInfo>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// `v` read as the k8s-openapi type `K`. Missing fields are their defaults and unknown ones
/// are ignored (k8s-openapi's reading), so a partial object reads as far as it goes; an
/// object that is not a `K` at all (a field of the wrong JSON type, another `kind`) reads as
/// the empty `K`, as walking its JSON found nothing in it either.
pub fn read<K: DeserializeOwned + Default>(v: &Value) -> K {
    K::deserialize(v).unwrap_or_default()
}

/// Whether a pod's `Ready` condition is `True`.
pub fn pod_ready(pod: &Value) -> bool {
    is_ready(&read::<KPod>(pod))
}

/// Whether a k8s-openapi pod's `Ready` condition is `True`.
pub fn is_ready(pod: &KPod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether a node's `Ready` condition is `True`.
pub fn node_ready(node: &KNode) -> bool {
    node_condition(node, "Ready").is_some_and(|c| c.status == "True")
}

/// A node's condition of type `kind`.
pub fn node_condition<'a>(node: &'a KNode, kind: &str) -> Option<&'a NodeCondition> {
    node.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == kind))
}

/// A reason of a container state part (`waiting.reason`), `""` when absent.
fn reason(r: Option<&String>) -> &str {
    r.map_or("", String::as_str)
}

fn container_state(status: &ContainerStatus) -> String {
    match &status.state {
        Some(st) if st.running.is_some() => "running".into(),
        Some(st) if st.waiting.is_some() => format!(
            "waiting: {}",
            reason(st.waiting.as_ref().and_then(|w| w.reason.as_ref()))
        ),
        Some(st) if st.terminated.is_some() => format!(
            "terminated: {}",
            reason(st.terminated.as_ref().and_then(|t| t.reason.as_ref()))
        ),
        _ => "unknown".into(),
    }
}

/// The STATUS column kubectl prints for a pod.
pub fn pod_status(pod: &Value) -> String {
    status_of(&read::<KPod>(pod))
}

/// The STATUS column kubectl prints for a k8s-openapi pod.
pub fn status_of(pod: &KPod) -> String {
    if pod.metadata.deletion_timestamp.is_some() {
        return "Terminating".into();
    }
    let status = pod.status.as_ref();
    let mut reason_text = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    if let Some(r) = status
        .and_then(|s| s.reason.as_ref())
        .filter(|r| !r.is_empty())
    {
        reason_text = r.clone();
    }
    let inits = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let n_init = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_ref())
        .map_or(inits.len(), Vec::len);
    for (i, c) in inits.iter().enumerate() {
        let state = c.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let term_reason = reason(terminated.and_then(|t| t.reason.as_ref()));
        match terminated.map(|t| t.exit_code) {
            Some(0) => continue,
            Some(code) => {
                return if term_reason.is_empty() {
                    format!("Init:ExitCode:{code}")
                } else {
                    format!("Init:{term_reason}")
                };
            }
            None => {}
        }
        let waiting = reason(
            state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_ref()),
        );
        if !waiting.is_empty() && waiting != "PodInitializing" {
            return format!("Init:{waiting}");
        }
        return format!("Init:{i}/{n_init}");
    }
    let mut has_running = false;
    let statuses = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    for c in statuses.iter().rev() {
        let state = c.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = reason(
            state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_ref()),
        );
        let term_reason = reason(terminated.and_then(|t| t.reason.as_ref()));
        if !waiting.is_empty() {
            reason_text = waiting.to_string();
        } else if !term_reason.is_empty() {
            reason_text = term_reason.to_string();
        } else if let Some(t) = terminated {
            reason_text = format!("ExitCode:{}", t.exit_code);
        } else if state.is_some_and(|s| s.running.is_some()) && c.ready {
            has_running = true;
        }
    }
    if reason_text == "Completed" && has_running {
        reason_text = if is_ready(pod) {
            "Running".into()
        } else {
            "NotReady".into()
        };
    }
    reason_text
}

/// `ready/total` containers and total restarts.
pub fn pod_ready_counts(pod: &Value) -> (usize, usize, i64) {
    let pod = read::<KPod>(pod);
    let total = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let ready = statuses.iter().filter(|c| c.ready).count();
    let restarts = statuses.iter().map(|c| i64::from(c.restart_count)).sum();
    (ready, total.max(ready), restarts)
}

impl Pod {
    /// Reads a pod object.
    pub fn from_json(v: &Value) -> Pod {
        Pod::from_typed(&read::<KPod>(v))
    }

    /// Reads a k8s-openapi pod.
    pub fn from_typed(pod: &KPod) -> Pod {
        let status = pod.status.as_ref();
        let statuses: BTreeMap<&str, &ContainerStatus> = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default()
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect();
        let containers = pod
            .spec
            .as_ref()
            .map(|s| s.containers.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let st = statuses.get(c.name.as_str());
                ContainerInfo {
                    name: c.name.clone(),
                    image: c.image.clone().unwrap_or_default(),
                    ready: st.is_some_and(|st| st.ready),
                    restarts: st.map_or(0, |st| i64::from(st.restart_count)),
                    state: st.map_or("unknown".into(), |st| container_state(st)),
                }
            })
            .collect();
        Pod {
            name: pod.metadata.name.clone().unwrap_or_default(),
            namespace: pod.metadata.namespace.clone().unwrap_or_default(),
            node: pod
                .spec
                .as_ref()
                .and_then(|s| s.node_name.clone())
                .unwrap_or_default(),
            ip: status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
            phase: status.and_then(|s| s.phase.clone()).unwrap_or_default(),
            ready: is_ready(pod),
            containers,
            labels: pod.metadata.labels.clone().unwrap_or_default(),
        }
    }
}

/// One port of a Service.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServicePort {
    /// Port name (`""` when unnamed).
    pub name: String,
    /// The service port.
    pub port: i64,
    /// The NodePort, for NodePort and LoadBalancer services.
    pub node_port: Option<i64>,
    /// The target port, as written (`80` or `http`).
    pub target_port: String,
    /// `TCP`, `UDP`, `SCTP`.
    pub protocol: String,
}

/// A Service as scripts see it (its serialised form: `svc.cluster_ip`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Service {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Cluster IP (`None` for headless services).
    pub cluster_ip: String,
    /// Ports, in spec order.
    pub ports: Vec<ServicePort>,
    /// The pod selector.
    pub selector: BTreeMap<String, String>,
}

impl Service {
    /// Reads a service object.
    pub fn from_json(v: &Value) -> Service {
        Service::from_typed(&read::<KService>(v))
    }

    /// Reads a k8s-openapi service.
    pub fn from_typed(svc: &KService) -> Service {
        let spec = svc.spec.clone().unwrap_or_default();
        let ports = spec
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| ServicePort {
                name: p.name.unwrap_or_default(),
                port: i64::from(p.port),
                node_port: p.node_port.map(i64::from),
                target_port: match p.target_port {
                    Some(IntOrString::Int(n)) => n.to_string(),
                    Some(IntOrString::String(s)) => s,
                    None => p.port.to_string(),
                },
                protocol: p
                    .protocol
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| "TCP".into()),
            })
            .collect();
        Service {
            name: svc.metadata.name.clone().unwrap_or_default(),
            namespace: svc.metadata.namespace.clone().unwrap_or_default(),
            type_: spec
                .type_
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "ClusterIP".into()),
            cluster_ip: spec.cluster_ip.unwrap_or_default(),
            ports,
            selector: spec.selector.unwrap_or_default(),
        }
    }

    /// The first port's NodePort, or why there is none.
    pub fn node_port(&self) -> Result<i64, String> {
        match self.ports.first() {
            None => Err(format!(
                "service {}/{} has no ports",
                self.namespace, self.name
            )),
            Some(p) => p.node_port.ok_or_else(|| {
                format!(
                    "service {}/{} is of type {}: its port {} has no NodePort",
                    self.namespace, self.name, self.type_, p.port
                )
            }),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// The handout's `kubectl get svc` line as an object: `frontend NodePort 10.96.188.84
    /// <none> 80:32150/TCP`.
    pub(crate) fn frontend_service() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "frontend", "namespace": "default",
                "labels": {"app": "guestbook", "tier": "frontend"},
                "creationTimestamp": "2022-09-14T20:34:46Z"},
            "spec": {"type": "NodePort", "clusterIP": "10.96.188.84", "clusterIPs": ["10.96.188.84"],
                "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 32150}],
                "selector": {"app": "guestbook", "tier": "frontend"},
                "externalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}
        })
    }

    pub(crate) fn crashing_cilium_pod() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "cilium-x7k2p", "namespace": "kube-system",
                "labels": {"k8s-app": "cilium"}, "creationTimestamp": "2022-09-14T20:30:00Z"},
            "spec": {"nodeName": "lab-worker2",
                "initContainers": [{"name": "mount-cgroup", "image": "quay.io/cilium/cilium:v1.12.1"}],
                "containers": [{"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.12.1"}]},
            "status": {"phase": "Running", "podIP": "172.18.0.4",
                "conditions": [{"type": "Ready", "status": "False"}],
                "initContainerStatuses": [{"name": "mount-cgroup", "ready": true, "restartCount": 0,
                    "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
                "containerStatuses": [{"name": "cilium-agent", "ready": false, "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s"}}}]}
        })
    }

    #[test]
    fn service_reads_the_handout_node_port() {
        let svc = Service::from_json(&frontend_service());
        assert_eq!(svc.type_, "NodePort");
        assert_eq!(svc.cluster_ip, "10.96.188.84");
        assert_eq!(svc.node_port(), Ok(32150));
        assert_eq!(svc.ports[0].target_port, "80");
        assert_eq!(svc.selector["tier"], "frontend");
    }

    #[test]
    fn cluster_ip_service_has_no_node_port() {
        let mut v = frontend_service();
        v["spec"]["type"] = "ClusterIP".into();
        v["spec"]["ports"][0]
            .as_object_mut()
            .unwrap()
            .remove("nodePort");
        let err = Service::from_json(&v).node_port().unwrap_err();
        assert_eq!(
            err,
            "service default/frontend is of type ClusterIP: its port 80 has no NodePort"
        );
    }

    #[test]
    fn crash_looping_pod_reads_as_kubectl_shows_it() {
        let v = crashing_cilium_pod();
        assert_eq!(pod_status(&v), "CrashLoopBackOff");
        assert_eq!(pod_ready_counts(&v), (0, 1, 4));
        let pod = Pod::from_json(&v);
        assert!(!pod.ready);
        assert_eq!(pod.node, "lab-worker2");
        assert_eq!(pod.containers[0].state, "waiting: CrashLoopBackOff");
        assert_eq!(pod.containers[0].restarts, 4);
        assert_eq!(pod.labels["k8s-app"], "cilium");
    }

    #[test]
    fn pending_init_and_terminating_pods() {
        let v = json!({"metadata": {"name": "p"}, "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "c"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"name": "i", "state": {"running": {}}}]}});
        assert_eq!(pod_status(&v), "Init:0/1");
        let v = json!({"metadata": {"name": "p", "deletionTimestamp": "2022-09-14T20:30:00Z"}, "status": {"phase": "Running"}});
        assert_eq!(pod_status(&v), "Terminating");
        let v = json!({"metadata": {"name": "p"}, "status": {"phase": "Pending"}});
        assert_eq!(pod_status(&v), "Pending");
    }

    /// Objects recorded from the real Kubernetes 1.20.2 tier (`tests/k8s/cluster.sh`, the
    /// lab's frontend manifests applied, `managedFields` left out).
    pub(crate) fn recorded(name: &str) -> Value {
        let text = match name {
            "pod" => include_str!("testdata/k8s-1.20-pod.json"),
            "service" => include_str!("testdata/k8s-1.20-service.json"),
            "deployment" => include_str!("testdata/k8s-1.20-deployment.json"),
            _ => include_str!("testdata/k8s-1.20-node.json"),
        };
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_recorded_running_pod_reads_as_its_json_says() {
        let v = recorded("pod");
        let pod = Pod::from_json(&v);
        assert_eq!(pod.name, v["metadata"]["name"].as_str().unwrap());
        assert!(pod.name.starts_with("frontend-"));
        assert_eq!(pod.namespace, "default");
        assert_eq!(pod.node, "labsh-node");
        assert_eq!(pod.ip, v["status"]["podIP"].as_str().unwrap());
        assert_eq!(pod.phase, "Running");
        assert!(pod.ready);
        assert_eq!(pod.labels["app"], "guestbook");
        assert_eq!(pod.containers.len(), 1);
        let c = &pod.containers[0];
        assert_eq!(
            (c.name.as_str(), c.ready, c.restarts, c.state.as_str()),
            ("php-redis", true, 0, "running")
        );
        assert_eq!(c.image, "gcr.io/google-samples/gb-frontend:v4");
        assert_eq!(pod_status(&v), "Running");
        assert_eq!(pod_ready_counts(&v), (1, 1, 0));
    }

    #[test]
    fn a_recorded_nodeport_service_reads_its_node_port() {
        let svc = Service::from_json(&recorded("service"));
        assert_eq!(
            (svc.name.as_str(), svc.type_.as_str()),
            ("frontend", "NodePort")
        );
        assert_eq!(svc.cluster_ip, "10.97.220.152");
        assert_eq!(
            svc.ports,
            vec![ServicePort {
                name: String::new(),
                port: 80,
                node_port: Some(32362),
                target_port: "80".into(),
                protocol: "TCP".into(),
            }]
        );
        assert_eq!(svc.selector["app"], "guestbook");
        assert_eq!(svc.node_port(), Ok(32362));
    }

    #[test]
    fn an_object_of_another_kind_reads_as_an_empty_one() {
        // A Service is no Pod (k8s-openapi checks `kind`): nothing is read from it.
        let pod = Pod::from_json(&recorded("service"));
        assert_eq!(pod.name, "");
        assert!(pod.containers.is_empty());
    }
}
