//! Values a real API server fills in on write (allocation, not controllers): a Service gets a
//! cluster IP and port target ports, and node ports when it is a NodePort or LoadBalancer. Only
//! what the double's users apply needs: no `type`, `protocol` or `replicas` defaulting, and a
//! re-apply allocates again what it leaves out (no re-apply keeps the old allocations).

use serde_json::{Value, json};

use super::resources::ResourceType;
use super::store::Store;

/// Fills in `new` (about to be stored) from what other objects in the store already use.
pub fn apply(rt: &ResourceType, store: &Store, new: &mut Value) {
    if rt.group.is_empty() && rt.kind == "Service" {
        service(rt, store, new);
    }
}

fn service(rt: &ResourceType, store: &Store, new: &mut Value) {
    if !new["spec"].is_object() {
        new["spec"] = json!({});
    }
    let spec = &mut new["spec"];
    if spec.get("clusterIP").is_none() {
        spec["clusterIP"] = json!(free_cluster_ip(rt, store));
    }
    if spec.get("clusterIPs").is_none() {
        spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
    }
    let wants_node_ports = matches!(spec["type"].as_str(), Some("NodePort" | "LoadBalancer"));
    let mut taken = used_node_ports(rt, store);
    let Some(ports) = spec["ports"].as_array_mut() else {
        return;
    };
    for port in ports.iter_mut().filter(|p| p.is_object()) {
        if port.get("targetPort").is_none() {
            port["targetPort"] = port["port"].clone();
        }
        if !wants_node_ports || port.get("nodePort").is_some() {
            continue;
        }
        let free = (30000..=32767)
            .find(|p| !taken.contains(p))
            .unwrap_or(32767);
        taken.push(free);
        port["nodePort"] = json!(free);
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
