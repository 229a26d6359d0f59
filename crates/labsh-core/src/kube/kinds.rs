//! kubectl's resource names (`svc`, `service`, `services`, `deploy`, `deployments.apps`,
//! `cep`) resolved through discovery: each served resource's plural, singular, kind and
//! short names. A few well-known short names are also built in, for API servers that do not
//! publish `shortNames`.

use futures::future::join_all;
use kube::discovery::ApiResource;

use crate::kube::{Conn, KubeError};

/// One served resource at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    /// Group, version, kind, plural.
    pub resource: ApiResource,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Singular name (`service`); empty when the server does not say.
    pub singular: String,
    /// Short names (`svc`).
    pub short_names: Vec<String>,
    /// Verbs (`get`, `list`, `watch`, `patch`, …).
    pub verbs: Vec<String>,
    /// Whether this is the group's preferred version.
    pub preferred: bool,
}

impl Kind {
    /// kubectl's name for the resource type: `deployment.apps`, `service`.
    pub fn display(&self) -> String {
        let kind = self.resource.kind.to_lowercase();
        if self.resource.group.is_empty() {
            kind
        } else {
            format!("{kind}.{}", self.resource.group)
        }
    }

    /// kubectl's reference to one object: `deployment.apps/frontend`.
    pub fn reference(&self, name: &str) -> String {
        format!("{}/{name}", self.display())
    }

    /// The names this resource answers to, lowercase.
    fn names(&self) -> impl Iterator<Item = String> + '_ {
        [
            self.resource.plural.to_lowercase(),
            self.singular.to_lowercase(),
            self.resource.kind.to_lowercase(),
        ]
        .into_iter()
        .chain(self.short_names.iter().map(|s| s.to_lowercase()))
        .filter(|s| !s.is_empty())
    }
}

/// Short names kubectl users type, for servers whose discovery does not publish them.
const WELL_KNOWN: &[(&str, &str)] = &[
    ("po", "pods"),
    ("svc", "services"),
    ("deploy", "deployments"),
    ("no", "nodes"),
    ("ds", "daemonsets"),
    ("ns", "namespaces"),
    ("cm", "configmaps"),
    ("sa", "serviceaccounts"),
    ("ep", "endpoints"),
    ("rs", "replicasets"),
    ("sts", "statefulsets"),
    ("pv", "persistentvolumes"),
    ("pvc", "persistentvolumeclaims"),
    ("crd", "customresourcedefinitions"),
    ("crds", "customresourcedefinitions"),
    ("ing", "ingresses"),
    ("netpol", "networkpolicies"),
    ("ev", "events"),
    ("cj", "cronjobs"),
    ("cep", "ciliumendpoints"),
    ("cnp", "ciliumnetworkpolicies"),
    ("ccnp", "ciliumclusterwidenetworkpolicies"),
];

/// Every resource the server serves, preferred versions first.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    kinds: Vec<Kind>,
}

impl Catalog {
    /// A catalog of `kinds` (order matters: earlier entries win ties).
    pub fn new(kinds: Vec<Kind>) -> Self {
        let mut kinds = kinds;
        // Core group first, then preferred versions, stable otherwise.
        kinds.sort_by_key(|k| (!k.resource.group.is_empty(), !k.preferred));
        Catalog { kinds }
    }

    /// All resources.
    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    /// Runs discovery: `/api/v1` and every version of every group under `/apis`. A group
    /// whose resources cannot be listed (an aggregated API that is down) is skipped.
    pub async fn discover(conn: &Conn) -> Result<Catalog, KubeError> {
        let client = &conn.client;
        let core = client
            .list_core_api_versions()
            .await
            .map_err(|e| conn.error(|| "discovery (GET /api)".into(), e))?;
        let groups = client
            .list_api_groups()
            .await
            .map_err(|e| conn.error(|| "discovery (GET /apis)".into(), e))?;
        let mut wanted: Vec<(String, bool)> = core
            .versions
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i == 0))
            .collect();
        for g in &groups.groups {
            let preferred = g
                .preferred_version
                .as_ref()
                .map(|p| p.group_version.clone());
            for v in &g.versions {
                let is_pref = preferred.as_deref() == Some(v.group_version.as_str())
                    || (preferred.is_none() && std::ptr::eq(v, &g.versions[0]));
                wanted.push((v.group_version.clone(), is_pref));
            }
        }
        let lists = join_all(wanted.iter().map(|(gv, _)| async move {
            if gv.contains('/') {
                client.list_api_group_resources(gv).await
            } else {
                client.list_core_api_resources(gv).await
            }
        }))
        .await;
        let mut kinds = Vec::new();
        for ((gv, preferred), list) in wanted.into_iter().zip(lists) {
            let list = match list {
                Ok(l) => l,
                Err(e @ (kube::Error::HyperError(_) | kube::Error::Service(_))) => {
                    return Err(conn.error(|| format!("discovery of {gv}"), e));
                }
                Err(_) => continue,
            };
            let (group, version) = match gv.split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), gv.clone()),
            };
            for r in list.resources {
                if r.name.contains('/') {
                    continue;
                }
                kinds.push(Kind {
                    resource: ApiResource {
                        group: r.group.clone().unwrap_or_else(|| group.clone()),
                        version: r.version.clone().unwrap_or_else(|| version.clone()),
                        api_version: gv.clone(),
                        kind: r.kind.clone(),
                        plural: r.name.clone(),
                    },
                    namespaced: r.namespaced,
                    singular: r.singular_name.clone(),
                    short_names: r.short_names.clone().unwrap_or_default(),
                    verbs: r.verbs.clone(),
                    preferred,
                });
            }
        }
        Ok(Catalog::new(kinds))
    }

    /// The resource for a kubectl name; `Err` carries a hint (`; did you mean …?`).
    pub fn resolve(&self, name: &str) -> Result<&Kind, String> {
        let lower = name.trim().to_lowercase();
        if let Some(k) = self.find(&lower) {
            return Ok(k);
        }
        if let Some((_, plural)) = WELL_KNOWN.iter().find(|(alias, _)| *alias == lower)
            && let Some(k) = self.find(plural)
        {
            return Ok(k);
        }
        Err(self.hint(&lower))
    }

    fn find(&self, lower: &str) -> Option<&Kind> {
        if let Some(k) = self.kinds.iter().find(|k| k.names().any(|n| n == lower)) {
            return Some(k);
        }
        // `deployments.apps`, `deploy.apps`, `ciliumendpoints.cilium.io`
        let (res, group) = lower.split_once('.')?;
        let res = WELL_KNOWN
            .iter()
            .find(|(alias, _)| *alias == res)
            .map(|(_, p)| *p)
            .unwrap_or(res);
        self.kinds.iter().find(|k| {
            k.resource.group.to_lowercase() == group
                && (k.names().any(|n| n == res) || k.resource.plural == res)
        })
    }

    fn hint(&self, lower: &str) -> String {
        let mut best: Option<(usize, String)> = None;
        for k in &self.kinds {
            for n in k.names() {
                let d = edit_distance(lower, &n);
                if d <= 2 && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                    best = Some((d, k.resource.plural.clone()));
                }
            }
        }
        match best {
            Some((_, plural)) => format!("; did you mean `{plural}`?"),
            None => "; `kube::kinds()` lists the ones the cluster serves".to_string(),
        }
    }

    /// The resource for a manifest's `apiVersion` and `kind`.
    pub fn by_gvk(&self, api_version: &str, kind: &str) -> Option<&Kind> {
        self.kinds
            .iter()
            .find(|k| k.resource.api_version == api_version && k.resource.kind == kind)
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn kind(
        api_version: &str,
        kind: &str,
        plural: &str,
        singular: &str,
        short: &[&str],
        namespaced: bool,
    ) -> Kind {
        let (group, version) = api_version
            .split_once('/')
            .map(|(g, v)| (g.to_string(), v.to_string()))
            .unwrap_or((String::new(), api_version.to_string()));
        Kind {
            resource: ApiResource {
                group,
                version,
                api_version: api_version.into(),
                kind: kind.into(),
                plural: plural.into(),
            },
            namespaced,
            singular: singular.into(),
            short_names: short.iter().map(|s| s.to_string()).collect(),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            preferred: true,
        }
    }

    /// A catalog shaped like a kind cluster's discovery with Cilium installed.
    pub(crate) fn lab_catalog() -> Catalog {
        Catalog::new(vec![
            kind(
                "apps/v1",
                "Deployment",
                "deployments",
                "deployment",
                &["deploy"],
                true,
            ),
            kind(
                "apps/v1",
                "DaemonSet",
                "daemonsets",
                "daemonset",
                &["ds"],
                true,
            ),
            kind("v1", "Pod", "pods", "pod", &["po"], true),
            kind("v1", "Service", "services", "service", &["svc"], true),
            kind("v1", "Node", "nodes", "node", &["no"], false),
            kind(
                "events.k8s.io/v1",
                "Event",
                "events",
                "event",
                &["ev"],
                true,
            ),
            kind("v1", "Event", "events", "event", &["ev"], true),
            // As the test API server may publish it: no short names, no singular.
            kind(
                "cilium.io/v2",
                "CiliumEndpoint",
                "ciliumendpoints",
                "",
                &[],
                true,
            ),
        ])
    }

    #[test]
    fn kubectl_names_of_services_all_resolve() {
        let c = lab_catalog();
        for name in ["svc", "service", "services", "Service", "SVC"] {
            assert_eq!(
                c.resolve(name).unwrap().resource.plural,
                "services",
                "{name}"
            );
        }
    }

    #[test]
    fn short_names_resolve_to_their_group() {
        let c = lab_catalog();
        assert_eq!(c.resolve("deploy").unwrap().display(), "deployment.apps");
        assert_eq!(c.resolve("po").unwrap().resource.kind, "Pod");
        assert!(!c.resolve("no").unwrap().namespaced);
        assert_eq!(c.resolve("ds").unwrap().resource.api_version, "apps/v1");
    }

    #[test]
    fn well_known_short_name_works_without_server_short_names() {
        let c = lab_catalog();
        assert_eq!(c.resolve("cep").unwrap().resource.kind, "CiliumEndpoint");
        assert_eq!(
            c.resolve("ciliumendpoint").unwrap().resource.plural,
            "ciliumendpoints"
        );
    }

    #[test]
    fn group_qualified_names_pick_the_group() {
        let c = lab_catalog();
        assert_eq!(c.resolve("events").unwrap().resource.group, "");
        assert_eq!(
            c.resolve("events.events.k8s.io").unwrap().resource.group,
            "events.k8s.io"
        );
        assert_eq!(
            c.resolve("deployments.apps").unwrap().resource.kind,
            "Deployment"
        );
        assert_eq!(
            c.resolve("deploy.apps").unwrap().resource.kind,
            "Deployment"
        );
    }

    #[test]
    fn unknown_name_suggests_the_closest() {
        let c = lab_catalog();
        assert_eq!(
            c.resolve("servics").unwrap_err(),
            "; did you mean `services`?"
        );
        assert!(
            c.resolve("frobnicators")
                .unwrap_err()
                .contains("kube::kinds()")
        );
    }

    #[test]
    fn references_read_like_kubectl_output() {
        let c = lab_catalog();
        assert_eq!(
            c.resolve("deploy").unwrap().reference("frontend"),
            "deployment.apps/frontend"
        );
        assert_eq!(
            c.resolve("svc").unwrap().reference("frontend"),
            "service/frontend"
        );
        assert_eq!(
            c.by_gvk("cilium.io/v2", "CiliumEndpoint")
                .unwrap()
                .display(),
            "ciliumendpoint.cilium.io"
        );
    }
}
