//! Typed views of the objects scripts use most: `Pod` and `Service`, read from the object's
//! JSON, plus the pod status kubectl prints (`Running`, `CrashLoopBackOff`, `Init:0/1`,
//! `Terminating`), shared by tables and wait summaries.

use std::collections::BTreeMap;

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

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// Whether a pod's `Ready` condition is `True`.
pub fn pod_ready(pod: &Value) -> bool {
    condition_true(pod, "Ready")
}

/// Whether the object's `status.conditions` has `type` with status `True`.
pub fn condition_true(obj: &Value, kind: &str) -> bool {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.get("type").and_then(Value::as_str) == Some(kind)
                    && c.get("status").and_then(Value::as_str) == Some("True")
            })
        })
}

fn container_state(status: &Value) -> String {
    match status.get("state") {
        Some(st) if st.get("running").is_some() => "running".into(),
        Some(st) if st.get("waiting").is_some() => {
            format!("waiting: {}", s(st, &["waiting", "reason"]))
        }
        Some(st) if st.get("terminated").is_some() => {
            format!("terminated: {}", s(st, &["terminated", "reason"]))
        }
        _ => "unknown".into(),
    }
}

/// The STATUS column kubectl prints for a pod.
pub fn pod_status(pod: &Value) -> String {
    if pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return "Terminating".into();
    }
    let mut reason = s(pod, &["status", "phase"]).to_string();
    let status_reason = s(pod, &["status", "reason"]);
    if !status_reason.is_empty() {
        reason = status_reason.to_string();
    }
    let empty = Vec::new();
    let inits = pod
        .pointer("/status/initContainerStatuses")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let n_init = pod
        .pointer("/spec/initContainers")
        .and_then(Value::as_array)
        .map_or(inits.len(), Vec::len);
    for (i, c) in inits.iter().enumerate() {
        let term_reason = s(c, &["state", "terminated", "reason"]);
        let exit = c
            .pointer("/state/terminated/exitCode")
            .and_then(Value::as_i64);
        if exit == Some(0) {
            continue;
        }
        if exit.is_some() {
            return if term_reason.is_empty() {
                format!("Init:ExitCode:{}", exit.unwrap_or_default())
            } else {
                format!("Init:{term_reason}")
            };
        }
        let waiting = s(c, &["state", "waiting", "reason"]);
        if !waiting.is_empty() && waiting != "PodInitializing" {
            return format!("Init:{waiting}");
        }
        return format!("Init:{i}/{n_init}");
    }
    let mut has_running = false;
    if let Some(cs) = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
    {
        for c in cs.iter().rev() {
            let waiting = s(c, &["state", "waiting", "reason"]);
            let terminated = s(c, &["state", "terminated", "reason"]);
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if !terminated.is_empty() {
                reason = terminated.to_string();
            } else if let Some(code) = c
                .pointer("/state/terminated/exitCode")
                .and_then(Value::as_i64)
            {
                reason = format!("ExitCode:{code}");
            } else if c.pointer("/state/running").is_some()
                && c.get("ready").and_then(Value::as_bool) == Some(true)
            {
                has_running = true;
            }
        }
    }
    if reason == "Completed" && has_running {
        reason = if pod_ready(pod) {
            "Running".into()
        } else {
            "NotReady".into()
        };
    }
    reason
}

/// `ready/total` containers and total restarts.
pub fn pod_ready_counts(pod: &Value) -> (usize, usize, i64) {
    let total = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut ready = 0;
    let mut restarts = 0;
    if let Some(cs) = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
    {
        for c in cs {
            if c.get("ready").and_then(Value::as_bool) == Some(true) {
                ready += 1;
            }
            restarts += c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
        }
    }
    (ready, total.max(ready), restarts)
}

impl Pod {
    /// Reads a pod object.
    pub fn from_json(v: &Value) -> Pod {
        let statuses: BTreeMap<&str, &Value> = v
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|c| (s(c, &["name"]), c)).collect())
            .unwrap_or_default();
        let containers = v
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let name = s(c, &["name"]).to_string();
                        let st = statuses.get(name.as_str());
                        ContainerInfo {
                            image: s(c, &["image"]).to_string(),
                            ready: st
                                .and_then(|st| st.get("ready"))
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                            restarts: st
                                .and_then(|st| st.get("restartCount"))
                                .and_then(Value::as_i64)
                                .unwrap_or(0),
                            state: st.map_or("unknown".into(), |st| container_state(st)),
                            name,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Pod {
            name: s(v, &["metadata", "name"]).into(),
            namespace: s(v, &["metadata", "namespace"]).into(),
            node: s(v, &["spec", "nodeName"]).into(),
            ip: s(v, &["status", "podIP"]).into(),
            phase: s(v, &["status", "phase"]).into(),
            ready: pod_ready(v),
            containers,
            labels: labels(v),
        }
    }
}

/// `metadata.labels` as a sorted map.
pub fn labels(v: &Value) -> BTreeMap<String, String> {
    v.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
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
        let ports = v
            .pointer("/spec/ports")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|p| ServicePort {
                        name: s(p, &["name"]).into(),
                        port: p.get("port").and_then(Value::as_i64).unwrap_or(0),
                        node_port: p.get("nodePort").and_then(Value::as_i64),
                        target_port: match p.get("targetPort") {
                            Some(Value::Number(n)) => n.to_string(),
                            Some(Value::String(s)) => s.clone(),
                            _ => p.get("port").map(|v| v.to_string()).unwrap_or_default(),
                        },
                        protocol: match s(p, &["protocol"]) {
                            "" => "TCP".into(),
                            other => other.into(),
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        let selector = v
            .pointer("/spec/selector")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Service {
            name: s(v, &["metadata", "name"]).into(),
            namespace: s(v, &["metadata", "namespace"]).into(),
            type_: match s(v, &["spec", "type"]) {
                "" => "ClusterIP".into(),
                t => t.into(),
            },
            cluster_ip: s(v, &["spec", "clusterIP"]).into(),
            ports,
            selector,
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
}
