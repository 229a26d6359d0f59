//! The verdicts of `scripts/source-ip.rhai` (`scripts/source-ip/checks.rhai`) on access-log
//! lines and tcpdump lines shaped like the real tier's (the run in `tests/k8s/source_ip.rs` produces them for
//! real): which address means SNAT, which means preserved, and what each failure says.

use super::support::{eval_in, labsh, texts};

const CALLED: &str = r#"#{name: "labsh-node", ip: "10.250.46.2", addresses: ["10.250.46.2"], pod_cidr: "10.85.0.0/24"}"#;

/// Evaluates `call` with the lab's checks imported as `srcip` and `entry(client)`, an access
/// entry from `client` with its raw line; returns (passed, reason).
fn judge(call: &str) -> (bool, String) {
    let code = format!(
        r#"import "source-ip/checks" as srcip;
           fn entry(client) {{
               let line = `${{client}} - - [05/Dec/2026:05:14:36 +0000] "GET / HTTP/1.1" 200 130 "-" "lab/1"`;
               let e = logs::parse_access(line);
               e.line = line;
               e
           }}
           let v = {{ {call} }};
           [v.passed, v.reason]"#
    );
    let v = eval_in("scripts", &code).unwrap_or_else(|e| panic!("{call}:\n{e}"));
    let a = v.into_array().unwrap();
    (a[0].as_bool().unwrap(), a[1].clone().into_string().unwrap())
}

#[test]
fn cluster_passes_on_the_called_nodes_address_or_one_of_its_pod_cidr() {
    for client in ["10.250.46.2", "10.85.0.1"] {
        let (passed, reason) = judge(&format!(
            r#"srcip::nodeport_cluster([entry("{client}")], "Cluster", "10.250.46.1", {CALLED})"#
        ));
        assert!(passed, "{client}: {reason}");
        assert!(reason.contains("kube-proxy a SNATé la requête"), "{reason}");
    }
}

#[test]
fn cluster_fails_when_the_server_sees_the_host_saying_there_was_no_snat() {
    let (passed, reason) = judge(&format!(
        r#"srcip::nodeport_cluster([entry("10.250.46.1")], "Cluster", "10.250.46.1", {CALLED})"#
    ));
    assert!(!passed);
    assert_eq!(
        reason,
        "le serveur voit l'adresse du client 10.250.46.1 : pas de SNAT, alors que kube-proxy SNATe en externalTrafficPolicy: Cluster (le Service est-il en Local ? le datapath est-il kube-proxy ?)"
    );
}

#[test]
fn expecting_local_under_cluster_fails_with_the_snat_reason() {
    let (passed, reason) = judge(&format!(
        r#"srcip::nodeport_cluster([entry("10.250.46.2")], "Local", "10.250.46.1", {CALLED})"#
    ));
    assert!(!passed);
    assert_eq!(
        reason,
        "le serveur voit 10.250.46.2, l'adresse du nœud appelé labsh-node, pas celle du client 10.250.46.1 : SNAT par kube-proxy, le Service est en externalTrafficPolicy: Cluster"
    );
}

#[test]
fn a_request_missing_from_the_log_fails_every_log_check() {
    for call in [
        format!(r#"srcip::nodeport_cluster([], "Cluster", "10.250.46.1", {CALLED})"#),
        r#"srcip::clusterip([], #{name: "client", ip: "10.85.1.2"})"#.to_string(),
        r#"srcip::local_preserved([], "10.250.46.1", [])"#.to_string(),
    ] {
        let (passed, reason) = judge(&call);
        assert!(!passed, "{call}");
        assert!(
            reason.starts_with("aucune requête marquée dans le log du frontend"),
            "{reason}"
        );
    }
}

#[test]
fn clusterip_fails_when_the_client_pods_address_was_rewritten() {
    let (passed, reason) =
        judge(r#"srcip::clusterip([entry("10.250.46.3")], #{name: "client", ip: "10.85.1.2"})"#);
    assert!(!passed);
    assert_eq!(
        reason,
        r#"le serveur a vu ["10.250.46.3"] au lieu de l'IP du pod client 10.85.1.2 : la requête a été SNATée en chemin"#
    );
}

#[test]
fn local_fails_on_a_node_address_and_when_the_node_without_pod_answers() {
    let (passed, reason) = judge(&format!(
        r#"srcip::local_preserved([entry("10.250.46.2")], "10.250.46.1", [{CALLED}])"#
    ));
    assert!(!passed);
    assert!(
        reason.contains("une adresse du nœud labsh-node : SNAT"),
        "{reason}"
    );
    let (passed, reason) = judge(
        r#"let silent = #{url: "http://10.250.46.2:30702/", error: "no response within 2s"};
           srcip::local_silent([silent, silent, #{url: "http://10.250.46.2:30702/", status: 200}], #{name: "labsh-node"})"#,
    );
    assert!(!passed);
    assert!(reason.contains("a répondu ([200])"), "{reason}");
}

#[test]
fn local_silence_counts_the_last_three_attempts_and_says_how_many_answered_before() {
    let (passed, reason) = judge(
        r#"let silent = #{url: "http://10.250.46.2:30702/", error: "no response within 2s"};
           let ok = #{url: "http://10.250.46.2:30702/", status: 200};
           srcip::local_silent([ok, ok, silent, silent, silent], #{name: "labsh-node"})"#,
    );
    assert!(passed, "{reason}");
    assert!(
        reason.starts_with("labsh-node, sans pod du Service, ne répond pas (après 2 réponse(s), le temps que kube-proxy applique le changement)"),
        "{reason}"
    );
    let (passed, reason) = judge(
        r#"let silent = #{url: "http://10.250.46.2:30702/", error: "no response within 2s"};
           srcip::local_silent([silent, silent], #{name: "labsh-node"})"#,
    );
    assert!(!passed);
    assert!(
        reason.starts_with("trop peu d'essais vers labsh-node (2,"),
        "{reason}"
    );
}

/// A SYN from `src`:40000 to the server 10.85.0.5:80, parsed as a capture gives it (Rhai).
fn syn(src: &str) -> String {
    format!(
        r#"tcpdump::parse("10:00:00.000001 IP {src}.40000 > 10.85.0.5.80: Flags [S], seq 1, win 64240, length 0")"#
    )
}

/// The server's SYN-ACK back to `dst`:40000 (Rhai).
fn synack(dst: &str) -> String {
    format!(
        r#"tcpdump::parse("10:00:00.000002 IP 10.85.0.5.80 > {dst}.40000: Flags [S.], seq 9, ack 2, win 65160, length 0")"#
    )
}

#[test]
fn the_capture_under_cluster_passes_on_a_syn_from_the_called_node_answered_to_it() {
    let (syn2, ack2) = (syn("10.250.46.2"), synack("10.250.46.2"));
    let (passed, reason) = judge(&format!(
        r#"srcip::packets_cluster([{syn2}, {ack2}], "Cluster", "10.250.46.1", {CALLED}, "10.85.0.5")"#
    ));
    assert!(passed, "{reason}");
    assert_eq!(
        reason,
        "capturé sur le veth du pod : le SYN arrive depuis le nœud appelé labsh-node 10.250.46.2 (10.250.46.2:40000 → 10.85.0.5:80) et le SYN-ACK repart vers lui (→ 10.250.46.2:40000)"
    );
}

#[test]
fn the_capture_fails_on_the_wrong_source_a_missing_reply_or_no_syn_and_says_which() {
    let (syn1, ack1) = (syn("10.250.46.1"), synack("10.250.46.1"));
    let (syn2, ack2) = (syn("10.250.46.2"), synack("10.250.46.2"));
    // The host's own address under Cluster: no SNAT.
    let (passed, reason) = judge(&format!(
        r#"srcip::packets_cluster([{syn1}, {ack1}], "Cluster", "10.250.46.1", {CALLED}, "10.85.0.5")"#
    ));
    assert!(!passed);
    assert_eq!(
        reason,
        "le SYN arrive au pod depuis 10.250.46.1:40000, pas depuis le nœud appelé labsh-node 10.250.46.2 : pas de SNAT, alors que kube-proxy SNATe en externalTrafficPolicy: Cluster"
    );
    // Local expected, the called node's address seen: the SNAT reason.
    let (passed, reason) = judge(&format!(
        r#"srcip::packets_cluster([{syn2}, {ack2}], "Local", "10.250.46.1", {CALLED}, "10.85.0.5")"#
    ));
    assert!(!passed);
    assert!(
        reason.ends_with("c'est une adresse du nœud appelé labsh-node, SNAT par kube-proxy, le Service est en externalTrafficPolicy: Cluster"),
        "{reason}"
    );
    // Local on the pod's node: the host's SYN without a reply; a node's address; no SYN.
    let (passed, reason) = judge(&format!(
        r#"srcip::packets_local([{syn1}], "10.250.46.1", [], "10.85.0.5")"#
    ));
    assert!(!passed);
    assert!(
        reason.contains("aucun SYN-ACK du pod vers 10.250.46.1:40000"),
        "{reason}"
    );
    let (passed, reason) = judge(&format!(
        r#"srcip::packets_local([{syn2}, {ack2}], "10.250.46.1", [{CALLED}], "10.85.0.5")"#
    ));
    assert!(!passed);
    assert!(
        reason.contains("une adresse du nœud labsh-node, SNAT"),
        "{reason}"
    );
    let (passed, reason) = judge(&format!(
        r#"srcip::packets_local([{ack1}], "10.250.46.1", [], "10.85.0.5")"#
    ));
    assert!(!passed);
    assert!(
        reason.starts_with("aucun SYN vers le pod 10.85.0.5:80 parmi les 1 paquets"),
        "{reason}"
    );
}

#[test]
fn addresses_and_cidrs_are_compared_as_numbers() {
    let v = eval_in(
        "scripts",
        r#"import "source-ip/checks" as srcip;
           [srcip::in_cidr("10.85.1.7", "10.85.1.0/24"), srcip::in_cidr("10.85.10.7", "10.85.1.0/24"),
            srcip::in_cidr("10.85.1.7", "10.85.0.0/16"), srcip::in_cidr("10.85.1.7", ()),
            srcip::in_cidr("x.85.1.7", "10.85.1.0/24"), srcip::in_cidr("10.85.1.256", "10.85.1.0/24"),
            srcip::in_cidr("10.85.1.7", "10.85.1.0/33")]"#,
    )
    .unwrap();
    assert_eq!(
        format!("{v:?}"),
        "[true, false, true, false, false, false, false]"
    );
}

#[test]
fn the_lab_prints_its_usage_and_rejects_an_unknown_policy() {
    let out = labsh(&["run", "scripts/source-ip.rhai", "--", "--help"], &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for needle in [
        "Usage: labsh run scripts/source-ip.rhai -- [OPTIONS]",
        "--context NAME",
        "--namespace NS",
        "(one of: Cluster, Local) [default: Cluster]",
        "Steps: prerequis app clusterip cluster local fin",
    ] {
        assert!(stdout.contains(needle), "{needle:?} missing:\n{stdout}");
    }
    let out = labsh(
        &[
            "run",
            "scripts/source-ip.rhai",
            "--",
            "--expect-policy",
            "cluster",
        ],
        &[],
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("'cluster' is not one of Cluster, Local"),
        "{stderr}"
    );
}
