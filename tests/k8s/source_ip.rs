//! `scripts/source-ip.rhai`, the "Using Source IP" lab, end to end on the two-node tier: the
//! real `labsh` binary, the real API server, kube-proxy's real iptables rules, real requests
//! and the frontend's real access log. Its checks pass; with the expectation of step
//! `cluster` flipped to `Local` while `Cluster` is applied, that check fails with the SNAT
//! reason and the run exits 1.

use std::process::Command;

use super::T;

/// Runs the lab in the test's namespace with `extra` options; (exit code, stdout+stderr, the
/// JSON report).
fn run_lab(t: &T, extra: &[&str]) -> (Option<i32>, String, serde_json::Value) {
    let report = std::env::temp_dir().join(format!("{}-report.json", t.ns));
    let script = t.file("scripts/source-ip.rhai");
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
fn checks(report: &serde_json::Value) -> Vec<(String, bool, String)> {
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
            "NodePort (Local) : sur le nœud du pod, le serveur voit l'adresse du client",
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
    assert!(
        node_ips
            .iter()
            .any(|ip| snat.contains(&format!("voit {ip},"))),
        "{snat}"
    );
    let local = &checks[3].2;
    assert!(local.contains(&t.cluster.host_ip), "{local}");
    // The flows were drawn, and the lab deleted its namespace.
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
    assert_eq!(cluster.len(), 1, "{out}");
    let (_, passed, reason) = cluster[0];
    assert!(!passed, "{out}");
    assert!(
        reason.contains("SNAT par kube-proxy") && reason.contains("externalTrafficPolicy: Cluster"),
        "{reason}"
    );
    // Only that check fails: the others observe what the cluster does.
    let failed = checks.iter().filter(|c| !c.1).count();
    assert_eq!(failed, 1, "{checks:?}\n{out}");
    assert_eq!(code, Some(1), "{out}");
}
