//! Values a real API server fills in on write (defaulting and allocation, not controllers):
//! a Service gets a `type`, a cluster IP, port protocols and target ports, and node ports when it
//! is a NodePort or LoadBalancer; a Deployment gets `replicas: 1`. Allocated values survive later
//! writes that leave them out (a re-apply of the same manifest stays a no-op).

use serde_json::{Value, json};

use super::resources::ResourceType;
use super::store::Store;

/// Fills in `new` (about to be stored) from `current` (the stored version, if any) and, for
/// fresh allocations, from what other objects in the store already use.
pub fn apply(rt: &ResourceType, store: &Store, current: Option<&Value>, new: &mut Value) {
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Service") => service(rt, store, current, new),
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet")
            if new["spec"].is_object() && new["spec"].get("replicas").is_none() =>
        {
            new["spec"]["replicas"] = json!(1);
        }
        _ => {}
    }
}

fn service(rt: &ResourceType, store: &Store, current: Option<&Value>, new: &mut Value) {
    if !new["spec"].is_object() {
        new["spec"] = json!({});
    }
    let spec = &mut new["spec"];
    if spec.get("type").is_none() {
        spec["type"] = json!("ClusterIP");
    }
    let kind = spec["type"].as_str().unwrap_or_default().to_string();
    if kind == "ExternalName" {
        return;
    }
    let current_spec = current.map(|c| &c["spec"]);
    if spec.get("clusterIP").is_none() {
        let ip = current_spec
            .and_then(|c| c["clusterIP"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| free_cluster_ip(rt, store));
        spec["clusterIP"] = json!(ip);
    }
    if spec.get("clusterIPs").is_none() {
        spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
    }
    let wants_node_ports = matches!(kind.as_str(), "NodePort" | "LoadBalancer");
    let mut taken = used_node_ports(rt, store);
    let Some(ports) = spec["ports"].as_array_mut() else {
        return;
    };
    for port in ports.iter_mut().filter(|p| p.is_object()) {
        if port.get("protocol").is_none() {
            port["protocol"] = json!("TCP");
        }
        if port.get("targetPort").is_none() {
            port["targetPort"] = port["port"].clone();
        }
        if !wants_node_ports || port.get("nodePort").is_some() {
            continue;
        }
        let kept = current_spec
            .and_then(|c| c["ports"].as_array())
            .and_then(|old| {
                old.iter().find(|o| {
                    o["port"] == port["port"]
                        && o["protocol"].as_str().unwrap_or("TCP") == port["protocol"]
                })
            })
            .and_then(|o| o["nodePort"].as_u64());
        let node_port = kept.unwrap_or_else(|| {
            let free = (30000..=32767)
                .find(|p| !taken.contains(p))
                .unwrap_or(32767);
            taken.push(free);
            free
        });
        port["nodePort"] = json!(node_port);
    }
}

fn services<'a>(rt: &'a ResourceType, store: &'a Store) -> impl Iterator<Item = &'a Value> + 'a {
    store.list(rt, None)
}

fn used_node_ports(rt: &ResourceType, store: &Store) -> Vec<u64> {
    services(rt, store)
        .flat_map(|s| s["spec"]["ports"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["nodePort"].as_u64())
        .collect()
}

/// The lowest free address from 10.96.0.11 on (10.96.0.1 is `kubernetes`, .10 is usually DNS).
fn free_cluster_ip(rt: &ResourceType, store: &Store) -> String {
    let used: Vec<String> = services(rt, store)
        .filter_map(|s| s["spec"]["clusterIP"].as_str().map(str::to_string))
        .collect();
    (11u32..65_000)
        .map(|n| format!("10.96.{}.{}", n / 250, n % 250))
        .find(|ip| !used.contains(ip))
        .unwrap_or_else(|| "10.96.255.254".into())
}
