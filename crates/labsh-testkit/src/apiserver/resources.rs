//! The resource catalogue of the test API server: which group/version/kind it serves, under
//! which plural, with which scope, short names, verbs and subresources.
//!
//! The catalogue is fixed: the kinds labsh's users read or apply, plus `cilium.io/v2`
//! CiliumEndpoint (`cep`) as a cluster with Cilium serves it. There are no
//! CustomResourceDefinitions: no user applies, lists or deletes one, so discovery never changes.

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

/// The kinds every test API server serves.
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
        // Cilium's CiliumEndpoint CRD, as a cluster with Cilium serves it.
        b(
            "cilium.io",
            "v2",
            "CiliumEndpoint",
            "ciliumendpoints",
            true,
            &["cep"],
        ),
    ]
}

/// The resource type of an `apiVersion`/`kind` pair.
pub fn type_of(api_version: &str, kind: &str) -> Option<ResourceType> {
    let (group, version) = split_api_version(api_version);
    builtins()
        .into_iter()
        .find(|rt| rt.group == group && rt.version == version && rt.kind == kind)
}

/// The resource type served at `group/version/plural`.
pub fn type_at(group: &str, version: &str, plural: &str) -> Option<ResourceType> {
    builtins()
        .into_iter()
        .find(|rt| rt.group == group && rt.version == version && rt.plural == plural)
}

/// Splits `apiVersion` into (group, version): `v1` → ("", "v1"), `apps/v1` → ("apps", "v1").
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}
