//! `scripts/source-ip.rhai`, the "Using Source IP" lab, end to end on the two-node tier: the
//! real `labsh` binary, the real API server, kube-proxy's real iptables rules, real requests,
//! the frontend's real access log and real packets captured on the pod's veth through the
//! node debug pod. Its checks pass; with the expectation of step `cluster` flipped to
//! `Local` while `Cluster` is applied, that step's checks (log and capture) fail with the
//! SNAT reason and the run exits 1.

use std::process::Command;

use super::T;

/// Runs the lab in the test's namespace with `extra` options; (exit code, stdout+stderr, the
/// JSON report).
fn run_lab(t: &T, extra: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    run_script(t, "scripts/source-ip.rhai", extra)
}

/// Runs lab `script` (relative to the repository) with `--context` the tier's and
/// `--namespace` the test's, then `extra`; (exit code, stdout+stderr, the JSON report).
pub(super) fn run_script(
    t: &T,
    script: &str,
    extra: &[&str],
) -> (Option<i32>, String, serde_json::Value) {
    // The lab makes debug pods: not while a test kills a run or cleans.
    let _sweeps = super::any_cluster::shared();
    let report = std::env::temp_dir().join(format!("{}-report.json", t.ns));
    let script = t.file(script);
    let mut args = vec![
        "--no-color",
        "--report",
        report.to_str().unwrap(),
        "run",
        &script,
        "--",
        "--context",
        super::k8s::CONTEXT,
        "--namespace",
        &t.ns,
    ];
    args.extend_from_slice(extra);
    let out = Command::new(env!("CARGO_BIN_EXE_labsh"))
        .env("KUBECONFIG", &t.cluster.kubeconfig)
        .args(&args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report {} ({e}); output:\n{text}", report.display()));
    let _ = std::fs::remove_file(&report);
    (
        out.status.code(),
        text,
        serde_json::from_str(&json).unwrap(),
    )
}

/// (name, passed, reason) of every check in a JSON report.
pub(super) fn checks(report: &serde_json::Value) -> Vec<(String, bool, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["passed"].as_bool().unwrap(),
                c["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn namespace_gone(t: &T, ns: &str) -> bool {
    let (found, _, _) = t.cluster.kubectl(&["get", "namespace", ns]);
    !found
}

#[test]
fn the_source_ip_lab_passes_every_check_on_two_nodes() {
    let Some(t) = T::new("source_ip_lab_passes") else {
        return;
    };
    let (code, out, report) = run_lab(&t, &[]);
    let checks = checks(&report);
    let names: Vec<&str> = checks.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "deux nœuds Ready",
            "ClusterIP : le serveur voit l'IP du pod client",
            "NodePort (Cluster) : le serveur voit une adresse du nœud appelé (SNAT)",
            "NodePort (Cluster) : le SYN arrive du nœud appelé, le SYN-ACK y retourne (capture)",
            "NodePort (Local) : sur le nœud du pod, le serveur voit l'adresse du client",
            "NodePort (Local) : le SYN arrive du client, le SYN-ACK y retourne (capture)",
            "NodePort (Local) : le nœud sans pod ne répond pas",
        ],
        "{out}"
    );
    let failed: Vec<_> = checks.iter().filter(|c| !c.1).collect();
    assert!(failed.is_empty(), "failed: {failed:?}\n{out}");
    assert_eq!(code, Some(0), "{out}");
    // What the checks relied on is what the tier is: the called node's address under
    // Cluster, the host's under Local.
    let node_ips: Vec<&str> = t.cluster.nodes.iter().map(|n| n.ip.as_str()).collect();
    let snat = &checks[2].2;
    let called = *node_ips
        .iter()
        .find(|ip| snat.contains(&format!("voit {ip},")))
        .unwrap_or_else(|| panic!("no node address in {snat}"));
    let local = &checks[4].2;
    assert!(local.contains(&t.cluster.host_ip), "{local}");
    // The packets, captured on the pod's veth in its node through the debug pod: under
    // Cluster the SYN comes from the called node and the SYN-ACK goes back to it; under
    // Local both are the host's.
    assert!(out.contains("accès debug-pod"), "{out}");
    let evidence = |i: usize| -> Vec<String> {
        report["checks"][i]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_string())
            .collect()
    };
    for (i, peer) in [(3, called), (5, t.cluster.host_ip.as_str())] {
        let ev = evidence(i);
        assert_eq!(ev.len(), 2, "SYN and SYN-ACK: {ev:?}");
        assert!(
            ev[0].contains(&format!(" IP {peer}.")) && ev[0].contains(".80: Flags [S],"),
            "the SYN from {peer}: {ev:?}"
        );
        assert!(
            ev[1].contains(&format!(" > {peer}.")) && ev[1].contains("Flags [S.],"),
            "the SYN-ACK back to {peer}: {ev:?}"
        );
    }
    // The flows were drawn from those packets (not inferred), and the lab deleted its
    // namespace.
    let flow = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == "NodePort, externalTrafficPolicy: Cluster")
        .unwrap_or_else(|| panic!("no Cluster flow: {}", report["flows"]));
    let captured: Vec<(&str, &str, bool)> = flow["arrows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["note"]
                .as_str()
                .is_some_and(|n| n.starts_with("capturé sur "))
        })
        .map(|a| {
            (
                a["from"].as_str().unwrap(),
                a["to"].as_str().unwrap(),
                a["inferred"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        captured,
        [("called", "pod", false), ("pod", "called", false)],
        "{flow}"
    );
    assert!(
        out.contains("NodePort, externalTrafficPolicy: Local"),
        "{out}"
    );
    assert!(namespace_gone(&t, &t.ns), "namespace {} left", t.ns);
}

#[test]
fn expecting_local_while_cluster_is_applied_fails_with_the_snat_reason() {
    let Some(t) = T::new("source_ip_lab_flipped") else {
        return;
    };
    let (code, out, report) = run_lab(&t, &["--expect-policy", "Local"]);
    let checks = checks(&report);
    let cluster: Vec<_> = checks
        .iter()
        .filter(|c| c.0.starts_with("NodePort (Cluster)"))
        .collect();
    assert_eq!(cluster.len(), 2, "the log's and the capture's: {out}");
    for (_, passed, reason) in &cluster {
        assert!(!passed, "{out}");
        assert!(
            reason.contains("SNAT par kube-proxy")
                && reason.contains("externalTrafficPolicy: Cluster"),
            "{reason}"
        );
    }
    assert!(
        cluster[1].2.contains("le SYN arrive au pod depuis"),
        "{}",
        cluster[1].2
    );
    // Only those checks fail: the others observe what the cluster does.
    let failed = checks.iter().filter(|c| !c.1).count();
    assert_eq!(failed, 2, "{checks:?}\n{out}");
    assert_eq!(code, Some(1), "{out}");
}
