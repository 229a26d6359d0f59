//! Whether the cluster enforces NetworkPolicy. The API server stores a NetworkPolicy
//! whatever the network plugin: only a CNI that implements policies (Cilium, Calico, …)
//! makes it do anything. labsh looks for the DaemonSet of a known enforcing CNI, in every
//! namespace, by its usual name; none found means a policy is stored and ignored.

use serde_json::Value;

use crate::kube::objects::{self, ListQuery};
use crate::kube::{Conn, KubeError};

/// The DaemonSets of CNIs that enforce NetworkPolicy, by their usual names, and the CNI.
pub const ENFORCING_DAEMONSETS: &[(&str, &str)] = &[
    ("cilium", "Cilium"),
    ("calico-node", "Calico"),
    ("canal", "Canal"),
    ("weave-net", "Weave Net"),
    ("kube-router", "kube-router"),
    ("antrea-agent", "Antrea"),
];

/// What was looked for, for messages: `the DaemonSets cilium, calico-node, … in every
/// namespace`.
pub fn looked_for() -> String {
    let names: Vec<&str> = ENFORCING_DAEMONSETS.iter().map(|(n, _)| *n).collect();
    format!("the DaemonSets {} in every namespace", names.join(", "))
}

/// The enforcing CNI among `daemonsets` (their JSON), if any: `Cilium (kube-system/cilium)`.
pub fn enforcer_in(daemonsets: &[Value]) -> Option<String> {
    daemonsets.iter().find_map(|ds| {
        let name = ds.pointer("/metadata/name")?.as_str()?;
        let ns = ds.pointer("/metadata/namespace")?.as_str()?;
        ENFORCING_DAEMONSETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, cni)| format!("{cni} ({ns}/{name})"))
    })
}

/// The CNI that enforces NetworkPolicy on the cluster of `conn`, if one is found.
pub async fn enforcer(conn: &Conn) -> Result<Option<String>, KubeError> {
    let kind = conn.kind("daemonsets").await?;
    let query = ListQuery {
        all_namespaces: true,
        ..Default::default()
    };
    let daemonsets = objects::list(conn, &kind, &query).await?;
    Ok(enforcer_in(&daemonsets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ds(ns: &str, name: &str) -> Value {
        json!({"metadata": {"namespace": ns, "name": name}})
    }

    #[test]
    fn a_known_cni_daemonset_enforces() {
        let found = enforcer_in(&[ds("kube-system", "kube-proxy"), ds("kube-system", "cilium")]);
        assert_eq!(found.as_deref(), Some("Cilium (kube-system/cilium)"));
    }

    #[test]
    fn kube_proxy_and_kindnet_alone_do_not() {
        assert_eq!(
            enforcer_in(&[
                ds("kube-system", "kube-proxy"),
                ds("kube-system", "kindnet")
            ]),
            None
        );
    }

    #[test]
    fn what_was_looked_for_names_every_daemonset() {
        assert_eq!(
            looked_for(),
            "the DaemonSets cilium, calico-node, canal, weave-net, kube-router, antrea-agent in every namespace"
        );
    }
}
