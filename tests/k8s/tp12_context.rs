//! `scripts/tp12.rhai -- --context NAME` on the two-node tier: TP12's steps from `app` on an
//! existing cluster (no kind, helm or cluster creation), nodes from the API and captures
//! through the node debug pod. The tier runs kube-proxy, not Cilium: the app deploys and its
//! NodePort answers on every node, and each Cilium-dependent check fails with the reason the
//! tier gives — the pod sees the called node's address (SNAT), the SYN reaches the pod from
//! that node, no Cilium agent is found — and the run ends with exit 1, not an error.

use super::T;
use super::source_ip::{checks, run_script};

#[test]
fn tp12_on_an_existing_cluster_without_cilium_fails_its_cilium_checks_with_their_reasons() {
    let Some(t) = T::new("tp12_context_without_cilium") else {
        return;
    };
    let (code, out, report) = run_script(&t, "scripts/tp12.rhai", &[]);
    let checks = checks(&report);
    let named = |name: &str| -> &(String, bool, String) {
        checks
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("no check {name:?} in {checks:?}\n{out}"))
    };
    // Nothing of kind, helm or the cluster's creation ran.
    assert_eq!(
        out.matches("--context : cluster existant").count(),
        3,
        "steps nettoyage, cluster and cilium skipped: {out}"
    );
    assert!(!out.contains("kind create"), "{out}");
    assert!(!out.contains("Preflight"), "{out}");
    assert!(
        out.contains("aucun agent Cilium (pods k8s-app=cilium dans kube-system)"),
        "{out}"
    );
    assert!(named("deux nœuds Ready").1, "{out}");
    let nodeport = named("NodePort joignable sur chaque nœud");
    assert!(nodeport.1, "{nodeport:?}\n{out}");
    let node_ips: Vec<&str> = t.cluster.nodes.iter().map(|n| n.ip.as_str()).collect();
    // Source IP: kube-proxy SNATs a request to the node without the pod to that node's address.
    let (_, passed, reason) = named("IP source préservée");
    assert!(!passed, "{out}");
    assert!(
        reason.contains("a node SNATed the request")
            && node_ips.iter().any(|ip| reason.contains(ip)),
        "{reason}"
    );
    assert!(
        reason.contains(&format!("instead of {}", t.cluster.host_ip)),
        "the client is this host's address: {reason}"
    );
    // DSR: the capture in the pod's node (through its debug pod) saw the SYN come from the
    // called node.
    let (_, passed, reason) = named("DSR : SYN-ACK émis par le nœud du pod au nom du nœud appelé");
    assert!(!passed, "{out}");
    assert!(
        reason.contains("(the node the client called)") && reason.contains("SNATed"),
        "{reason}"
    );
    // Monitor: no agent, and what was looked for.
    let (_, passed, reason) =
        named("cilium monitor : trace world -> frontend (state new, orig-ip client) et réponse");
    assert!(!passed, "{out}");
    assert!(
        reason.contains("no Cilium agent found for node")
            && reason.contains("no pod labelled k8s-app=cilium in kube-system"),
        "{reason}"
    );
    assert_eq!(code, Some(1), "failed checks, not an error:\n{out}");
    assert!(
        out.contains("Bilan"),
        "the run reached its last step: {out}"
    );
    // The run's debug pods (made in the lab's namespace) are gone.
    let left = t.kubectl(&[
        "get",
        "pods",
        "-l",
        "app.kubernetes.io/managed-by=labsh,app.kubernetes.io/component=node-debug",
        "-o",
        "name",
    ]);
    assert!(left.trim().is_empty(), "{left}");
}

/// The monitor step's lookups take a node of `cluster::current()` as they take kind's.
#[test]
fn the_agent_of_a_node_of_any_cluster_is_looked_up_by_its_name() {
    let Some(mut t) = T::new("agent_of_any_cluster_node") else {
        return;
    };
    let err = t.err(r#"monitor::agent_pod(cluster::current().nodes()[0])"#);
    assert!(
        err.contains("Cilium is not installed on context `labsh-test`: no pod labelled k8s-app=cilium in kube-system"),
        "{err}"
    );
}
