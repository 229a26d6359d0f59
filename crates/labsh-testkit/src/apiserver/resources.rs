//! The resource catalogue of the test API server: which group/version/kind it serves, under
//! which plural, with which scope, short names, verbs and subresources.
//!
//! Built-in kinds are fixed; custom resources come from the CustomResourceDefinition objects in
//! the store, so applying a CRD makes its resource appear in discovery (and deleting it removes it).

use serde_json::Value;

/// Verbs of an ordinary resource, as a real API server lists them.
const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One resource type served at `/{api|apis/group}/{version}/{plural}`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceType {
    /// API group, `""` for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub verbs: Vec<String>,
    /// Subresources: (name, kind of the response, verbs).
    pub subresources: Vec<(String, String, Vec<String>)>,
}

impl ResourceType {
    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether the resource has the subresource `name` (`log`, `exec`).
    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|(n, _, _)| n == name)
    }

    fn builtin(
        group: &str,
        version: &str,
        kind: &str,
        plural: &str,
        namespaced: bool,
        short_names: &[&str],
    ) -> Self {
        ResourceType {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            namespaced,
            short_names: short_names.iter().map(|s| s.to_string()).collect(),
            verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
            subresources: Vec::new(),
        }
    }

    fn with_subresource(mut self, name: &str, kind: &str, verbs: &[&str]) -> Self {
        self.subresources.push((
            name.into(),
            kind.into(),
            verbs.iter().map(|s| s.to_string()).collect(),
        ));
        self
    }
}

/// The kinds every test API server serves, whatever the store holds.
pub fn builtins() -> Vec<ResourceType> {
    let b = ResourceType::builtin;
    vec![
        b("", "v1", "Pod", "pods", true, &["po"])
            .with_subresource("log", "Pod", &["get"])
            .with_subresource("exec", "PodExecOptions", &["create", "get"]),
        b("", "v1", "Service", "services", true, &["svc"]),
        b("", "v1", "Namespace", "namespaces", false, &["ns"]),
        b("", "v1", "Node", "nodes", false, &["no"]),
        b("", "v1", "ConfigMap", "configmaps", true, &["cm"]),
        b("", "v1", "Endpoints", "endpoints", true, &["ep"]),
        b("", "v1", "ServiceAccount", "serviceaccounts", true, &["sa"]),
        b("", "v1", "Secret", "secrets", true, &[]),
        b("", "v1", "Event", "events", true, &["ev"]),
        b("apps", "v1", "Deployment", "deployments", true, &["deploy"]),
        b("apps", "v1", "DaemonSet", "daemonsets", true, &["ds"]),
        b("apps", "v1", "ReplicaSet", "replicasets", true, &["rs"]),
        b("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"]),
        b(
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
            &["crd", "crds"],
        ),
    ]
}

/// The resource types a CustomResourceDefinition object declares (one per served version).
/// Malformed CRDs declare nothing.
pub fn from_crd(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let (Some(group), Some(kind), Some(plural)) = (
        spec["group"].as_str(),
        spec["names"]["kind"].as_str(),
        spec["names"]["plural"].as_str(),
    ) else {
        return Vec::new();
    };
    let singular = spec["names"]["singular"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_ascii_lowercase());
    let short_names: Vec<String> = spec["names"]["shortNames"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let versions = spec["versions"].as_array().cloned().unwrap_or_default();
    versions
        .iter()
        .filter(|v| v["served"].as_bool().unwrap_or(true))
        .filter_map(|v| {
            let version = v["name"].as_str()?;
            let rt = ResourceType {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: plural.into(),
                singular: singular.clone(),
                namespaced,
                short_names: short_names.clone(),
                verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
                subresources: Vec::new(),
            };
            Some(rt)
        })
        .collect()
}

/// The CRD objects for the Cilium kinds the lab reads (`cilium.io/v2` CiliumEndpoint and
/// CiliumNetworkPolicy). The server starts with them, as a cluster with Cilium installed would;
/// deleting them makes the kinds disappear (a cluster without Cilium).
pub fn cilium_crds() -> Vec<Value> {
    [
        ("CiliumEndpoint", "ciliumendpoints", "ciliumendpoint", "cep"),
        (
            "CiliumNetworkPolicy",
            "ciliumnetworkpolicies",
            "ciliumnetworkpolicy",
            "cnp",
        ),
    ]
    .into_iter()
    .map(|(kind, plural, singular, short)| {
        serde_json::json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": { "name": format!("{plural}.cilium.io") },
            "spec": {
                "group": "cilium.io",
                "names": {
                    "kind": kind,
                    "listKind": format!("{kind}List"),
                    "plural": plural,
                    "singular": singular,
                    "shortNames": [short],
                },
                "scope": "Namespaced",
                "versions": [{
                    "name": "v2",
                    "served": true,
                    "storage": true,
                    "schema": { "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                    }},
                }],
            },
        })
    })
    .collect()
}

/// Splits `apiVersion` into (group, version): `v1` → ("", "v1"), `apps/v1` → ("apps", "v1").
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}
