//! Discovery documents, those labsh's `Catalog::discover` reads: `/api`, `/api/v1`, `/apis` and
//! `/apis/{group}/{version}`. Not served, as no user asks: `/version`, `/apis/{group}`, and
//! aggregated discovery (`Discovery::run_aggregated`).

use serde_json::{Value, json};

use super::resources::ResourceType;

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            { "clientCIDR": "0.0.0.0/0", "serverAddress": server_address }
        ],
    })
}

/// Non-core groups, in first-seen order, each with its versions in first-seen order (the first
/// is the preferred one).
fn groups(types: &[ResourceType]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for rt in types.iter().filter(|rt| !rt.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == rt.group) {
            Some((_, versions)) => {
                if !versions.contains(&rt.version) {
                    versions.push(rt.version.clone());
                }
            }
            None => out.push((rt.group.clone(), vec![rt.version.clone()])),
        }
    }
    out
}

fn group_value(name: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({ "groupVersion": format!("{name}/{v}"), "version": v });
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv),
    })
}

/// `/apis`.
pub fn group_list(types: &[ResourceType]) -> Value {
    let groups: Vec<Value> = groups(types)
        .iter()
        .map(|(name, versions)| {
            let mut g = group_value(name, versions);
            if let Some(m) = g.as_object_mut() {
                m.remove("kind");
                m.remove("apiVersion");
            }
            g
        })
        .collect();
    json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })
}

/// `/api/v1` or `/apis/{group}/{version}`: `None` when nothing is served there.
pub fn resource_list(types: &[ResourceType], group: &str, version: &str) -> Option<Value> {
    let served: Vec<&ResourceType> = types
        .iter()
        .filter(|rt| rt.group == group && rt.version == version)
        .collect();
    if served.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for rt in served {
        resources.push(json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": rt.verbs,
            "shortNames": rt.short_names,
        }));
        for (sub, kind, verbs) in &rt.subresources {
            resources.push(json!({
                "name": format!("{}/{sub}", rt.plural),
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": kind,
                "verbs": verbs,
            }));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}
