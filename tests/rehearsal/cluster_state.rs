//! What a live kind cluster's API would show at each step of the lab, as objects for the test
//! API server (a test double): the nodes (NotReady without a CNI, Ready once Cilium runs), the
//! Cilium DaemonSet and one agent pod per node, the frontend's pod, its CiliumEndpoint and the
//! Deployment's rolled-out status. Nothing here is Kubernetes or Cilium: these are the shapes
//! the real objects have, filled with the rehearsal's addresses.

use serde_json::{Value, json};

use super::datapath::Mode;
use crate::support::apiserver::{ExecReply, ExecRequest, TestApiServer};

/// A stand-in node: its Docker container name (= the Kubernetes node name) and address.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub name: String,
    pub ip: String,
    pub control_plane: bool,
}

/// The frontend pod's name (the handout's).
pub const FRONTEND_POD: &str = "frontend-85595f5bf9-jx5xq";
/// The frontend's Cilium endpoint id and identity (the handout's).
pub const ENDPOINT_ID: i64 = 1890;
pub const IDENTITY: i64 = 6623;

/// Agent pod names, one per node in node order (control-plane first).
pub const AGENTS: [&str; 4] = [
    "cilium-d54wb",
    "cilium-x7k2p",
    "cilium-4kq9n",
    "cilium-m2r8z",
];

fn ready_condition(ready: bool) -> Value {
    if ready {
        json!({"type": "Ready", "status": "True", "reason": "KubeletReady",
               "message": "kubelet is posting ready status"})
    } else {
        json!({"type": "Ready", "status": "False", "reason": "KubeletNotReady",
               "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"})
    }
}

/// The nodes as kind leaves them without a CNI: NotReady.
pub fn insert_nodes(server: &TestApiServer, nodes: &[NodeInfo]) {
    for n in nodes {
        let mut labels = json!({"kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux"});
        if n.control_plane {
            labels["node-role.kubernetes.io/control-plane"] = "".into();
        }
        server.insert(json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": n.name, "labels": labels},
            "spec": {"podCIDR": "10.244.0.0/24"},
            "status": {
                "addresses": [{"type": "InternalIP", "address": n.ip}, {"type": "Hostname", "address": n.name}],
                "conditions": [ready_condition(false)],
                "nodeInfo": {"kubeletVersion": "v1.25.3", "containerRuntimeVersion": "containerd://1.6.9",
                             "osImage": "Ubuntu 22.04.1 LTS", "kernelVersion": "5.15.0"}}}));
    }
}

/// What installing the chart leads to: the cilium DaemonSet, one Running agent per node, and
/// the nodes Ready (the kubelet sees a CNI).
pub fn install_cilium(server: &TestApiServer, nodes: &[NodeInfo]) {
    let count = nodes.len() as i64;
    server.insert(json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "cilium", "namespace": "kube-system", "labels": {"k8s-app": "cilium"}, "generation": 1},
        "spec": {"selector": {"matchLabels": {"k8s-app": "cilium"}},
                 "template": {"metadata": {"labels": {"k8s-app": "cilium"}},
                              "spec": {"containers": [{"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.12.1"}]}}},
        "status": {"observedGeneration": 1, "currentNumberScheduled": count, "desiredNumberScheduled": count,
                   "numberReady": count, "updatedNumberScheduled": count, "numberAvailable": count}}));
    for (n, agent) in nodes.iter().zip(AGENTS) {
        server.insert(running_pod(
            "kube-system",
            agent,
            json!({"k8s-app": "cilium"}),
            "cilium-agent",
            "quay.io/cilium/cilium:v1.12.1",
            &n.name,
            &n.ip,
            &n.ip,
        ));
        server.update("v1", "Node", None, &n.name, |node| {
            node["status"]["conditions"] = json!([ready_condition(true)]);
        });
    }
}

/// What a `helm upgrade` that changed the agents' configuration leads to: the DaemonSet's new
/// generation, rolled out on every node (the stand-in agents restart at once).
pub fn roll_cilium(server: &TestApiServer) {
    server.update(
        "apps/v1",
        "DaemonSet",
        Some("kube-system"),
        "cilium",
        |ds| {
            let generation = ds["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
            ds["metadata"]["generation"] = generation.into();
            ds["status"]["observedGeneration"] = generation.into();
            let desired = ds["status"]["desiredNumberScheduled"].clone();
            ds["status"]["updatedNumberScheduled"] = desired;
        },
    );
}

#[allow(clippy::too_many_arguments)]
fn running_pod(
    namespace: &str,
    name: &str,
    labels: Value,
    container: &str,
    image: &str,
    node: &str,
    node_ip: &str,
    pod_ip: &str,
) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": container, "image": image}]},
        "status": {"phase": "Running", "hostIP": node_ip, "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": container, "image": image, "ready": true, "restartCount": 0,
                                   "state": {"running": {"startedAt": "2022-09-14T20:35:00Z"}}}]}})
}

/// What the Deployment controller, the scheduler and the kubelet do for the frontend: its pod
/// Running and Ready on `node` with the address `pod_ip`, its CiliumEndpoint (what the agent
/// creates), and the Deployment's status rolled out.
pub fn run_frontend(server: &TestApiServer, node: &NodeInfo, pod_ip: &str) {
    server.insert(running_pod(
        "default",
        FRONTEND_POD,
        json!({"app": "guestbook", "tier": "frontend", "pod-template-hash": "85595f5bf9"}),
        "php-redis",
        "gcr.io/google-samples/gb-frontend:v4",
        &node.name,
        &node.ip,
        pod_ip,
    ));
    server.insert(json!({"apiVersion": "cilium.io/v2", "kind": "CiliumEndpoint",
        "metadata": {"name": FRONTEND_POD, "namespace": "default"},
        "status": {"id": ENDPOINT_ID, "identity": {"id": IDENTITY, "labels": ["k8s:app=guestbook", "k8s:tier=frontend"]},
                   "networking": {"addressing": [{"ipv4": pod_ip}], "node": node.ip}, "state": "ready"}}));
    server.update("apps/v1", "Deployment", Some("default"), "frontend", |d| {
        let generation = d["metadata"]["generation"].as_i64().unwrap_or(1);
        d["status"] = json!({"observedGeneration": generation, "replicas": 1, "updatedReplicas": 1,
            "readyReplicas": 1, "availableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]});
    });
}

/// The Deployment and Service of `scripts/tp12/` as they are once applied (for runs that start
/// on an existing cluster), with the handout's node port.
pub fn insert_frontend_objects(server: &TestApiServer, node_port: i64) {
    server.insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "frontend", "namespace": "default", "labels": {"app": "guestbook", "tier": "frontend"}, "generation": 1},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "guestbook", "tier": "frontend"}},
                 "template": {"metadata": {"labels": {"app": "guestbook", "tier": "frontend"}},
                              "spec": {"containers": [{"name": "php-redis", "image": "gcr.io/google-samples/gb-frontend:v4"}]}}}}));
    server.insert(json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "frontend", "namespace": "default", "labels": {"app": "guestbook", "tier": "frontend"}},
        "spec": {"type": "NodePort", "clusterIP": "10.96.188.84",
                 "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": node_port}],
                 "selector": {"app": "guestbook", "tier": "frontend"}}}));
}

/// The frontend Service's node port, once it exists.
pub fn node_port(server: &TestApiServer) -> Option<i64> {
    server.get("v1", "Service", Some("default"), "frontend")?["spec"]["ports"][0]["nodePort"]
        .as_i64()
}

/// The agents' answers to `kubectl exec`: `cilium status` (what the lab filters), and
/// `cilium monitor`: the handout's `-v --related-to` lines with the rehearsal's addresses
/// (played, not observed: the stand-in has no eBPF events), then the stream stays open as the
/// real command does; and `monitor::start`'s probe for the agent's CLI (a 1.12 agent: `cilium`,
/// no `cilium-dbg`). Anything else fails like a missing command.
///
/// In `snat` mode the lines are what Cilium shows when the called node `called` SNATed the
/// request: the pod sees it come from that node (identity `remote-node`, orig-ip the node),
/// and replies to it.
pub fn agent_exec(
    req: &ExecRequest,
    node_ip: &str,
    pod_ip: &str,
    client: &str,
    called: &str,
    mode: Mode,
) -> ExecReply {
    let cli = req.command.first().map(String::as_str).unwrap_or_default();
    if cli == "sh"
        && req
            .command
            .get(2)
            .is_some_and(|script| script.contains("command -v cilium-dbg"))
    {
        return ExecReply::lines(&["/usr/bin/cilium"], 0);
    }
    if !(cli == "cilium" || cli == "cilium-dbg") {
        return ExecReply::lines(&[], 127).with_stderr(&format!(
            "exec: \"{cli}\": executable file not found in $PATH\n"
        ));
    }
    match req.command.get(1).map(String::as_str) {
        Some("status") => {
            let lines = [
                "KVStore:                 Ok   Disabled".to_string(),
                "Kubernetes:              Ok   1.25 (v1.25.3) [linux/amd64]".to_string(),
                format!("KubeProxyReplacement:    Strict   [eth0 {node_ip} (Direct Routing)]"),
                "Host Routing:            Legacy".to_string(),
                "Cilium:                  Ok   1.12.1 (v1.12.1-4c9a630)".to_string(),
            ];
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            ExecReply::lines(&lines, 0)
        }
        Some("monitor") => {
            let handout = [
                "Listening for events on 4 CPUs with 64x4096 of shared memory",
                "Press Ctrl-C to quit",
                "-> endpoint 1890 flow 0x225d6fff , identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1:38138 -> 10.244.4.66:80 tcp SYN",
                "-> network flow 0x503498ae , identity 6623->world state reply ifindex 0 orig-ip 0.0.0.0: 10.244.4.66:80 -> 172.18.0.1:38138 tcp SYN, ACK",
                "-> endpoint 1890 flow 0x225d6fff , identity world->6623 state established ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1:38138 -> 10.244.4.66:80 tcp ACK",
            ];
            let snat = [
                "Listening for events on 4 CPUs with 64x4096 of shared memory",
                "Press Ctrl-C to quit",
                "-> endpoint 1890 flow 0x225d6fff , identity remote-node->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.3: 172.18.0.3:41234 -> 10.244.4.66:80 tcp SYN",
                "-> network flow 0x503498ae , identity 6623->remote-node state reply ifindex 0 orig-ip 0.0.0.0: 10.244.4.66:80 -> 172.18.0.3:41234 tcp SYN, ACK",
                "-> endpoint 1890 flow 0x225d6fff , identity remote-node->6623 state established ifindex lxc39c176bde913 orig-ip 172.18.0.3: 172.18.0.3:41234 -> 10.244.4.66:80 tcp ACK",
            ];
            let played = if mode == Mode::Snat { &snat } else { &handout };
            let lines: Vec<String> = played
                .iter()
                .map(|l| {
                    l.replace("10.244.4.66", pod_ip)
                        .replace("172.18.0.1", client)
                        .replace("172.18.0.3", called)
                })
                .collect();
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            ExecReply::stream(&lines, std::time::Duration::from_millis(300))
        }
        _ => ExecReply::lines(&[], 1).with_stderr("stand-in agent: unknown cilium command\n"),
    }
}
