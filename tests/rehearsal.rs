//! Rehearsal of the TP12 lab with the REAL `labsh` binary on the unmodified
//! `scripts/tp12.rhai`, against the project's test doubles and real parts:
//!
//! - kind and helm: the stand-in executables (`tests/kind_helm/standins`, test doubles) first
//!   on PATH; they record their argv, so the tests assert the handout's exact commands;
//! - Kubernetes: the loopback test API server (`tests/support/apiserver`, a test double),
//!   reached through the kubeconfig the kind stand-in writes, showing what a live cluster
//!   shows at each step; a controller thread plays the cluster's controllers (Cilium's pods
//!   once helm ran, the frontend pod once it is applied, its log);
//! - Docker: the stand-in kind cluster of `tests/docker` (four real containers of the test
//!   image, labelled like kind nodes), so node discovery, the host-side veth, the host-side
//!   tcpdump capture and the HTTP probes all run for real;
//! - the datapath: there is no Cilium. Each node's nginx serves the NodePort, proxying to the
//!   frontend "pod" (the nginx of the worker it runs on, port 80) — a real SNAT datapath (see
//!   `rehearsal/datapath.rs`).
//!
//! This proves the script's plumbing — steps in order with their French titles, parameters,
//! `--from`, `--step`, `--report`, the commands run, what reaches each verdict, the exit code,
//! and that nothing is left running — NOT Cilium's behaviour: on this SNAT datapath the
//! source-IP and DSR checks FAIL, saying why, as they must. The full run skips the `monitor`
//! step at its `--step` pause; `--from monitor` runs it on its own against the stand-in agent,
//! whose exec plays the handout's lines.
//!
//! Needs Docker (skips with a message without it; fails with LABSH_REQUIRE_DOCKER=1), root for
//! the host-side capture, and tcpdump.

#[path = "support/apiserver/mod.rs"]
mod apiserver;

// The Docker stand-in kind cluster and the test image, shared with tests/docker.rs (they
// refer to each other as `super::env`, `super::image`).
#[path = "docker/cluster.rs"]
#[allow(dead_code)]
mod cluster;
#[path = "docker/env.rs"]
#[allow(dead_code)]
mod env;
#[path = "docker/image.rs"]
#[allow(dead_code)]
mod image;

#[path = "kind_helm/support.rs"]
#[allow(dead_code)]
mod standins;

#[path = "rehearsal/cluster_state.rs"]
mod cluster_state;
#[path = "rehearsal/datapath.rs"]
mod datapath;
#[path = "rehearsal/world.rs"]
mod world;

// The HTML report of a run, checked in headless Chromium (issue 11).
#[path = "report/browser.rs"]
mod browser;
#[path = "report/rehearsal_html.rs"]
mod html_report;

use std::time::Duration;

use cluster_state::{ENDPOINT_ID, FRONTEND_POD};
use serde_json::Value;
use world::{Run, World};

const TITLES: [(&str, &str); 10] = [
    ("prerequis", "Vérifier la machine avant de commencer"),
    ("nettoyage", "Nettoyer les clusters kind existants"),
    ("cluster", "Créer le cluster kind sans CNI ni kube-proxy"),
    (
        "cilium",
        "Installer Cilium (CNI + remplacement de kube-proxy, DSR)",
    ),
    (
        "app",
        "Déployer le frontend Guestbook (1 replica, Service NodePort)",
    ),
    ("nodeport", "Requêter le NodePort sur tous les nœuds"),
    (
        "source-ip",
        "Lire les logs : l'IP du visiteur est-elle préservée ?",
    ),
    (
        "dsr",
        "Sniffer le veth du nœud du pod pendant un appel à un AUTRE nœud",
    ),
    ("monitor", "Suivre le datapath avec cilium monitor"),
    ("fin", "Bilan"),
];

const CHECK_NODEPORT: &str = "NodePort joignable sur chaque nœud";
const CHECK_SOURCE_IP: &str = "IP source préservée";
const CHECK_DSR: &str = "DSR : SYN-ACK émis par le nœud du pod au nom du nœud appelé";
const CHECK_MONITOR: &str =
    "cilium monitor : trace world -> frontend (state new, orig-ip client) et réponse";

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Processes whose command line has every one of `words` (to find a stray tcpdump).
fn processes_with(words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(bytes) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = bytes
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if words.iter().all(|w| args.iter().any(|a| a == w)) {
            found.push(args.join(" "));
        }
    }
    found
}

/// The host-side veth the `dsr` step printed (`…, veth hôte vethXXXX`).
fn captured_veth(run: &Run) -> String {
    let line = run
        .lines_starting("Pod ")
        .into_iter()
        .find(|l| l.contains("veth hôte "))
        .unwrap_or_else(|| panic!("no veth line:\n{}", run.stdout));
    line.rsplit_once("veth hôte ").unwrap().1.to_string()
}

/// What must hold after any run: no exec session or log stream open on the API server, no
/// tcpdump left on the capture's interface, no controller error.
fn assert_nothing_left_running(world: &World, veth: Option<&str>) {
    let start = std::time::Instant::now();
    while world.server.open_exec_sessions() + world.server.open_log_streams() > 0
        && start.elapsed() < Duration::from_secs(3)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(world.server.open_exec_sessions(), 0, "exec sessions open");
    assert_eq!(world.server.open_log_streams(), 0, "log streams open");
    if let Some(veth) = veth {
        let stray = processes_with(&["-i", veth]);
        assert!(
            stray.iter().all(|p| !p.contains("tcpdump")),
            "tcpdump still running: {stray:?}"
        );
    }
    assert_eq!(world.controller_errors(), Vec::<String>::new());
}

/// Removing the world removes its containers and network (the stand-in cluster's guard).
fn assert_removed(names: Vec<String>, network: String) {
    let Some(engine) = env::engine("assert_removed") else {
        return;
    };
    env::runtime().block_on(async {
        for name in names {
            assert!(
                engine.docker.inspect_container(&name, None).await.is_err(),
                "container {name} is still there"
            );
        }
        assert!(
            engine.docker.inspect_network(&network, None).await.is_err(),
            "network {network} is still there"
        );
    });
}

fn report(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// `[(name, passed)]` of the report's checks.
fn report_checks(report: &Value) -> Vec<(String, bool)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["passed"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_real_binary_runs_every_step_with_the_handouts_commands_and_reports_the_checks() {
    let Some(world) = World::new(
        "the_real_binary_runs_every_step_with_the_handouts_commands_and_reports_the_checks",
    ) else {
        return;
    };
    let name = world.name().to_string();
    let out_json = world.lab.tmp.path().join("out.json");
    let out_html = html_report::path("tp12");
    // --step: Enter at each of the ten pauses.
    let answers = "\n".repeat(10);
    let run = world.run(
        &[
            "--explain",
            "--step",
            "--report",
            out_json.to_str().unwrap(),
            "--report",
            out_html.to_str().unwrap(),
        ],
        &["--cluster", &name],
        &answers,
    );
    let all = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    if std::env::var_os("LABSH_REHEARSAL_SHOW").is_some() {
        eprintln!("{all}");
    }

    // Exit 1: the script ran to the end, and checks failed (the SNAT datapath).
    assert_eq!(run.code, Some(1), "{all}");
    let headers: Vec<String> = TITLES
        .iter()
        .enumerate()
        .map(|(i, (id, title))| format!("== Step {}: {title} [{id}]", i + 1))
        .collect();
    assert_eq!(run.headers(), headers, "{all}");

    // The stand-ins recorded the handout's kind and helm commands, in order.
    let calls = world.lab.call_lines();
    let set_file = calls
        .iter()
        .find(|c| c.starts_with("helm upgrade"))
        .and_then(|c| c.split(" --values ").nth(2))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no helm upgrade with a --set values file: {calls:#?}"))
        .to_string();
    let scripts = root().join("scripts");
    let get = "kind get clusters".to_string();
    let expected = [
        "kind version".to_string(),
        "helm version --short".to_string(),
        get.clone(), // nettoyage: is there a cluster to delete?
        get.clone(), // cluster::create: reuse it if it exists
        format!(
            "kind create cluster --name {name} --config {}/tp12/kind-config.yaml",
            scripts.display()
        ),
        get.clone(), // cilium: cluster::get
        format!(
            "helm upgrade --install --namespace kube-system --repo https://helm.cilium.io cilium cilium --version 1.12.1 --values {}/tp12/ebpf-values.yaml --values {set_file} --timeout 10m0s",
            scripts.display()
        ),
        "helm status cilium --namespace kube-system -o json".to_string(),
        get.clone(), // app
        get.clone(), // nodeport
        get.clone(), // source-ip
        get.clone(), // dsr
        get.clone(), // monitor
    ];
    // The preflight asks kind and helm for their versions concurrently: either order.
    let mut preflight = calls.get(..2).unwrap_or_default().to_vec();
    preflight.sort();
    assert_eq!(preflight, ["helm version --short", "kind version"], "{all}");
    assert_eq!(calls.get(2..).unwrap_or_default(), &expected[2..], "{all}");
    // The --set values helm got: the control-plane's address, port 6443.
    let kept = world.lab.kept();
    let set = kept
        .iter()
        .find(|(p, _)| p.display().to_string() == set_file)
        .map(|(_, text)| standins::yaml(text))
        .expect("the helm stand-in kept the --set file");
    assert_eq!(set["k8sServiceHost"], world.nodes[0].ip.as_str());
    assert_eq!(set["k8sServicePort"], 6443);
    // cluster: the nodes read from Docker, NotReady in the API before Cilium.
    for n in &world.nodes {
        let role = if n.control_plane {
            "control-plane"
        } else {
            "worker"
        };
        let mut nm = n.name.clone();
        while nm.chars().count() < 28 {
            nm.push(' ');
        }
        let mut r = role.to_string();
        while r.chars().count() < 15 {
            r.push(' ');
        }
        assert!(
            run.has(&format!("  {nm}{r}{}", n.ip)),
            "{} missing:\n{all}",
            n.name
        );
    }
    assert!(run.stdout.contains("NotReady"), "{all}");
    // cilium: the agent's status lines, filtered by the script.
    assert!(
        run.has(&format!(
            "  KubeProxyReplacement:    Strict   [eth0 {} (Direct Routing)]",
            world.nodes[0].ip
        )),
        "{all}"
    );
    // app: the NodePort the API server allocated.
    assert!(
        run.has("L'appli est publiée en NodePort sur le port TCP/30000."),
        "{all}"
    );

    // nodeport: every node answered 200 for real (nginx, through the proxy on 3 of them).
    for n in &world.nodes {
        let prefix = format!("  {} (http://{}:30000/): HTTP 200 in ", n.name, n.ip);
        assert_eq!(run.lines_starting(&prefix).len(), 1, "{prefix}\n{all}");
    }
    assert!(
        run.has("  ✔ all 4 nodes answered HTTP 200 on the NodePort"),
        "{all}"
    );

    // source-ip: the pod's log (its node's nginx) shows the 3 proxying nodes as clients.
    let pod = world.pod_node().clone();
    let mut others: Vec<&str> = world
        .nodes
        .iter()
        .filter(|n| n.name != pod.name)
        .map(|n| n.ip.as_str())
        .collect();
    others.sort();
    let seen = run
        .lines_starting("  ✘ the pod saw node address(es) ")
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no source-ip failure:\n{all}"))
        .to_string();
    for ip in &others {
        assert!(seen.contains(ip), "{ip} not in {seen}");
    }
    assert!(
        seen.ends_with(&format!(
            "as the client instead of {}: a node SNATed the request, the source IP was not preserved",
            world.gateway
        )),
        "{seen}"
    );

    // dsr: the capture on the pod's node's host-side veth saw the request proxied by the
    // called node (the control-plane): SNAT, not DSR.
    let veth = captured_veth(&run);
    // --explain printed the command behind each action: the handout's kind, helm, kubectl and
    // tcpdump lines.
    let explained = [
        expected[4].clone(),
        expected[6].clone(),
        "kubectl exec -n kube-system cilium-d54wb -c cilium-agent -- cilium status".to_string(),
        "kubectl apply --server-side -f tp12/frontend-deployment.yaml -f tp12/frontend-svc.yaml"
            .to_string(),
        "kubectl rollout status deployment/frontend -n default --timeout=5m".to_string(),
        "kubectl logs deployment/frontend --since 2m".to_string(),
        format!("tcpdump -n -l -U -i {veth} 'tcp port 80 or tcp port 30000'"),
    ];
    for command in &explained {
        assert!(
            run.stderr.lines().any(|l| l == format!("$ {command}")),
            "{command} not explained:\n{all}"
        );
    }
    assert!(
        run.has(&format!(
            "# tcpdump -n -i {veth} tcp port 80 or tcp port 30000"
        )),
        "{all}"
    );
    let cp = &world.nodes[0];
    assert!(
        run.has(&format!(
            "Le client {} appelle le NodePort de {} ({}:30000)",
            world.gateway, cp.name, cp.ip
        )),
        "{all}"
    );
    let syn = format!(" IP {}.", cp.ip);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.contains(&syn) && l.contains(&format!(" > {}.80: Flags [S]", pod.ip))),
        "no SYN from {} to {}:80 printed:\n{all}",
        cp.ip,
        pod.ip
    );
    // Only the proxied connection crosses the pod's node's veth: the client's own connection
    // ends at the called node, so no captured packet involves the client's address.
    let packets: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("# tcpdump "))
        .skip(1)
        .take_while(|l| !l.starts_with("  ✘ ") && !l.starts_with("  ✔ "))
        .collect();
    assert!(packets.len() >= 3, "{all}");
    let between = [
        format!("IP {}.", cp.ip),
        format!("IP {}.80 > {}.", pod.ip, cp.ip),
    ];
    for p in &packets {
        assert!(
            between.iter().any(|b| p.contains(b.as_str())) && p.contains(&pod.ip),
            "a packet the pod's node should not see: {p}\n{all}"
        );
        assert!(!p.contains(&format!(" {}.", world.gateway)), "{p}");
    }
    let dsr = run
        .lines_starting("  ✘ the SYN reached the pod from ")
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no DSR failure:\n{all}"))
        .to_string();
    assert!(
        dsr.starts_with(&format!(
            "  ✘ the SYN reached the pod from {} (the node the client called), not from the client {}: that node SNATed the request",
            cp.ip, world.gateway
        )),
        "{dsr}"
    );
    assert!(dsr.ends_with("— SNAT, not DSR"), "{dsr}");

    // fin, and the report: one entry per check that ran.
    assert!(
        run.has(&format!("  kind delete cluster --name {name}")),
        "{all}"
    );
    let report = report(&out_json);
    assert_eq!(
        report_checks(&report),
        vec![
            (CHECK_NODEPORT.to_string(), true),
            (CHECK_SOURCE_IP.to_string(), false),
            (CHECK_DSR.to_string(), false),
            (CHECK_MONITOR.to_string(), true),
        ]
    );
    assert_eq!(report["passed"], 2);
    assert_eq!(report["failed"], 2);
    assert_eq!(report["error"], Value::Null);
    assert_eq!(report["checks"][2]["step"], "dsr");
    html_report::assert_shows_the_snat_round_trip(&out_html, 10);

    assert_nothing_left_running(&world, Some(&veth));
    let (names, network) = (world.cluster.nodes.clone(), world.cluster.network.clone());
    drop(world);
    assert_removed(names, network);
}

#[test]
fn from_dsr_reruns_the_capture_on_an_existing_cluster_without_recreating_it() {
    let Some(world) =
        World::new("from_dsr_reruns_the_capture_on_an_existing_cluster_without_recreating_it")
    else {
        return;
    };
    let world = world.with_lab_up_to_app();
    let name = world.name().to_string();
    let out_json = world.lab.tmp.path().join("out.json");
    // --from dsr: no pause for the skipped steps; Enter at dsr, at monitor and at fin.
    let run = world.run(
        &[
            "--from",
            "dsr",
            "--step",
            "--report",
            out_json.to_str().unwrap(),
        ],
        &["--cluster", &name, "--keep"],
        "\n\n\n",
    );
    let all = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(1), "{all}");
    assert_eq!(run.steps_run(), ["dsr", "monitor", "fin"], "{all}");
    assert_eq!(
        run.lines_starting("-- Step ").len(),
        7,
        "seven steps skipped:\n{all}"
    );
    assert!(run.has("-- Step 3: Créer le cluster kind sans CNI ni kube-proxy [cluster]: skipped (--from dsr)"), "{all}");
    // Only lookups: nothing created, installed or deleted.
    assert_eq!(
        world.lab.call_lines(),
        vec!["kind get clusters".to_string(); 2], // dsr, monitor: cluster::get
        "{all}"
    );
    let pod = world.pod_node();
    assert!(
        run.has(&format!(
            "Pod {FRONTEND_POD} ({}) sur {} ({}), veth hôte {}",
            pod.ip,
            pod.name,
            pod.ip,
            captured_veth(&run)
        )),
        "{all}"
    );
    assert!(
        run.has(&format!(
            "# tcpdump -n -i {} tcp port 80 or tcp port 32150",
            captured_veth(&run)
        )),
        "{all}"
    );
    assert_eq!(
        report_checks(&report(&out_json)),
        vec![
            (CHECK_DSR.to_string(), false),
            (CHECK_MONITOR.to_string(), true)
        ]
    );
    // --keep: how to explore it in the REPL.
    assert!(
        run.has(&format!("  let c = cluster::get(\"{name}\");  c.nodes()")),
        "{all}"
    );
    assert_nothing_left_running(&world, Some(&captured_veth(&run)));
}

#[test]
fn help_runs_nothing_and_exits_0() {
    // No Docker needed: --help must print the usage before anything runs.
    let lab = standins::Lab::new();
    let server = apiserver::TestApiServer::start_blocking();
    let kubeconfig = lab.tmp.path().join("kubeconfig");
    let out = world::command(&lab, &server, &kubeconfig, &[], &["--help"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("Usage: labsh run scripts/tp12.rhai -- [OPTIONS]"),
        "{stdout}"
    );
    assert!(!stdout.contains("== Step"), "{stdout}");
    assert_eq!(stderr, "");
    assert_eq!(lab.call_lines(), Vec::<String>::new());
    assert_eq!(server.requests(), vec![]);
    assert!(!kubeconfig.exists());
}

/// `--from monitor` on an existing cluster: `monitor::start` finds the agent of the pod's node,
/// runs `cilium monitor -v --related-to <endpoint>` there, and the exec is closed at the end.
#[test]
fn from_monitor_follows_the_agent_of_the_pods_node_and_closes_the_exec_session() {
    let Some(world) =
        World::new("from_monitor_follows_the_agent_of_the_pods_node_and_closes_the_exec_session")
    else {
        return;
    };
    let world = world.with_lab_up_to_app();
    let name = world.name().to_string();
    let out_json = world.lab.tmp.path().join("out.json");
    let run = world.run(
        &["--from", "monitor", "--report", out_json.to_str().unwrap()],
        &["--cluster", &name],
        "",
    );
    let all = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, Some(0), "{all}");
    assert_eq!(run.steps_run(), ["monitor", "fin"], "{all}");
    assert!(
        run.has(&format!(
            "# kubectl exec -ti pod/cilium-x7k2p -n kube-system -- cilium monitor -v --related-to {ENDPOINT_ID}"
        )),
        "{all}"
    );
    let monitors: Vec<Vec<String>> = world
        .exec_requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.command.get(1).map(String::as_str) == Some("monitor"))
        .map(|r| {
            let mut v = vec![r.pod.clone()];
            v.extend(r.command.iter().cloned());
            v
        })
        .collect();
    assert_eq!(
        monitors,
        vec![vec![
            "cilium-x7k2p".to_string(),
            "cilium".into(),
            "monitor".into(),
            "-v".into(),
            "--related-to".into(),
            ENDPOINT_ID.to_string(),
        ]]
    );
    assert_eq!(
        report_checks(&report(&out_json)),
        vec![(CHECK_MONITOR.to_string(), true)]
    );
    let start = std::time::Instant::now();
    while world.server.open_exec_sessions() > 0 && start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(world.server.open_exec_sessions(), 0);
}

#[test]
fn nettoyage_deletes_only_the_labs_cluster_unless_clean_and_cilium_version_picks_values_and_cli() {
    let Some(world) = World::new(
        "nettoyage_deletes_only_the_labs_cluster_unless_clean_and_cilium_version_picks_values_and_cli",
    ) else {
        return;
    };
    let name = world.name().to_string();
    std::fs::write(
        world.lab.standin_dir().join("kind-clusters"),
        format!("trainee-lab\n{name}\n"),
    )
    .unwrap();

    // Default: the lab's own cluster only. `q` at the `cluster` pause ends the lab there.
    let run = world.run(&["--step"], &["--cluster", &name], "\n\nq\n");
    let all = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.steps_run(),
        ["prerequis", "nettoyage", "cluster"],
        "{all}"
    );
    assert!(run.stdout.ends_with("   stopped (q)\n"), "{all}");
    assert_eq!(run.code, Some(0), "q ends the lab without an error:\n{all}");
    let calls = world.lab.call_lines();
    assert_eq!(
        calls[2..],
        [
            "kind get clusters".to_string(),
            format!("kind delete cluster --name {name}"),
        ],
        "{all}"
    );
    assert_eq!(
        std::fs::read_to_string(world.lab.standin_dir().join("kind-clusters")).unwrap(),
        "trainee-lab\n"
    );

    // --clean deletes every cluster; --cilium 1.16.5 takes cilium-values.yaml and cilium-dbg.
    let run = world.run(
        &["--step"],
        &["--cluster", &name, "--clean", "--cilium", "1.16.5"],
        "\n\n\n\nq\n",
    );
    let all = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.steps_run(),
        ["prerequis", "nettoyage", "cluster", "cilium", "app"],
        "{all}"
    );
    assert!(
        run.has("--clean : suppression de tous les clusters kind (kind delete clusters --all)"),
        "{all}"
    );
    let calls: Vec<String> = world.lab.call_lines()[calls.len() + 2..].to_vec();
    let scripts = root().join("scripts");
    assert_eq!(calls[0], "kind delete clusters --all", "{all}");
    assert_eq!(
        calls[2],
        format!(
            "kind create cluster --name {name} --config {}/tp12/kind-config.yaml",
            scripts.display()
        ),
        "{all}"
    );
    assert!(
        calls[4].starts_with(&format!(
            "helm upgrade --install --namespace kube-system --repo https://helm.cilium.io cilium cilium --version 1.16.5 --values {}/tp12/cilium-values.yaml --values ",
            scripts.display()
        )),
        "{all}"
    );
    let status: Vec<(String, Vec<String>)> = world
        .exec_requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.pod.clone(), r.command.clone()))
        .collect();
    assert_eq!(
        status,
        vec![(
            "cilium-d54wb".to_string(),
            vec!["cilium-dbg".to_string(), "status".into()]
        )]
    );
    assert!(
        run.has("Cilium 1.16.5 : valeurs tp12/cilium-values.yaml, CLI de l'agent « cilium-dbg »"),
        "{all}"
    );
}

/// The children of `pid` whose program is `name` (their pids).
fn children_named(pid: u32, name: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == pid && comm == name {
            found.push(child);
        }
    }
    found
}

#[test]
fn ctrl_c_during_the_capture_exits_130_and_leaves_no_tcpdump() {
    let Some(world) = World::new("ctrl_c_during_the_capture_exits_130_and_leaves_no_tcpdump")
    else {
        return;
    };
    let world = world.with_lab_up_to_app();
    // The dsr step curls the control-plane's NodePort while tcpdump runs: make that slow.
    world.stall_node_port(&world.nodes[0], 32150);
    let name = world.name().to_string();
    let mut child = world
        .command(&["--from", "dsr"], &["--cluster", &name])
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let start = std::time::Instant::now();
    let tcpdump = loop {
        if let Some(pid) = children_named(child.id(), "tcpdump").first() {
            break *pid;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no tcpdump started by labsh"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on the labsh child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stderr.ends_with("labsh: interrupted\n"), "{stderr}");
    assert!(
        standins::all_gone(&[tcpdump], Duration::from_secs(3)),
        "tcpdump {tcpdump} still running after Ctrl-C"
    );
    assert!(
        !stdout.contains("DSR :"),
        "no check after Ctrl-C:\n{stdout}"
    );
    assert_nothing_left_running(&world, None);
}
