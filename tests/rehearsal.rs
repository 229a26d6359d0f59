//! Rehearsal of the TP12 lab with the REAL `labsh` binary on the unmodified
//! `scripts/tp12.rhai`, against the project's test doubles and real parts:
//!
//! - kind and helm: the stand-in executables (`tests/kind_helm/standins`, test doubles) first
//!   on PATH; they record their argv, so the tests assert the handout's exact commands;
//! - Kubernetes: the loopback test API server (`crates/labsh-testkit/src/apiserver`, a test double),
//!   reached through the kubeconfig the kind stand-in writes, showing what a live cluster
//!   shows at each step; a controller thread plays the cluster's controllers (Cilium's pods
//!   once helm ran, the frontend pod once it is applied, its log);
//! - Docker: the stand-in kind cluster of `tests/docker` (four real containers of the test
//!   image, labelled like kind nodes), so node discovery, the host-side veth, the host-side
//!   tcpdump capture and the HTTP probes all run for real;
//! - the datapath: there is no Cilium. A packet-level test double of its three
//!   `loadBalancer.mode`s (`rehearsal/datapath.rs`: the frontend pod in its own network
//!   namespace on an `lxc` veth, nftables and conntrack in the nodes) runs the mode the last
//!   `helm upgrade` asked for, so the checks judge real TCP packets on real veths.
//!
//! This proves the script's plumbing — steps in order with their French titles, parameters,
//! `--from`, `--step`, `--report`, the commands run, what reaches each verdict, the exit code,
//! and that nothing is left running or programmed — and that the checks tell the modes apart
//! on real packets: the full lab runs once per mode (`--lb-mode`), writing its JUnit report to
//! `target/rehearsal/<mode>.xml`; `tp12-matrix.rhai` compares the three. It is NOT Cilium: the
//! agent stand-in's `cilium monitor` plays the handout's lines (or their SNAT counterpart).
//!
//! Needs Docker (skips with a message without it; fails with LABSH_REQUIRE_DOCKER=1), root for
//! the host-side capture, and tcpdump.

mod capture;
mod cluster_state;
mod datapath;
// labsh's own captures in the nodes: `tcpdump::start(pod)`, `-i any -v` on the pod's node.
mod node_capture;
mod world;

use std::path::PathBuf;

use std::time::Duration;

// Shared with the other tiers: the Docker stand-in kind cluster (`tests/docker`), the kind
// and helm stand-ins (`tests/kind_helm`), in-process Rhai (`tests/lab`), the test API server
// (`crates/labsh-testkit/src/apiserver`) and the HTML report's checks in headless Chromium (issue 11).
use crate::docker::env;
use crate::kind_helm::support as standins;
use crate::lab::support as lab_support;
use crate::report::rehearsal_html as html_report;
use crate::support::apiserver;

use capture::{
    HostCapture, capture_scenario, fixture_header, fixture_path, handshake_shape, verdict_on,
};
use cluster_state::{ENDPOINT_ID, FRONTEND_POD};
use datapath::Mode;
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
const CHECK_SOURCE_IP_LOST: &str = "IP source perdue (SNAT, attendu)";
const CHECK_SNAT: &str = "SNAT : SYN du nœud appelé, réponse renvoyée par lui";
const CHECK_MONITOR_SNAT: &str = "cilium monitor : trace nœud appelé -> frontend (SNAT) et réponse";

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
/// tcpdump left on the capture's interface, no controller error; and once the world removes
/// its datapath, nothing of it is left in any node (nft tables, the pod's namespace, veth
/// and nginx).
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
    assert_eq!(
        world.remove_datapath(),
        Vec::<String>::new(),
        "left in the nodes"
    );
}

/// Where the per-mode rehearsal reports go: `target/rehearsal/` (in `CARGO_TARGET_DIR` when
/// it is set, as in CI).
fn report_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let dir = target.join("rehearsal");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One run of the whole lab in a mode, and where its reports are (JUnit and HTML).
struct ModeRun {
    world: World,
    run: Run,
    junit: PathBuf,
    /// The HTML report: `target/rehearsal/<mode>.html`.
    html: PathBuf,
    all: String,
}

/// Runs the whole of tp12.rhai with `--lb-mode MODE` in a fresh world, `extra` labsh flags
/// before `run` and `stdin` as its input, writing JUnit to `target/rehearsal/<mode>.xml` and
/// the HTML report to `target/rehearsal/<mode>.html`.
fn run_lab_in_mode(test: &str, mode: Mode, extra: &[&str], stdin: &str) -> Option<ModeRun> {
    let world = World::new(test)?;
    let junit = report_dir().join(format!("{}.xml", mode.as_str()));
    let _ = std::fs::remove_file(&junit);
    let html = report_dir().join(format!("{}.html", mode.as_str()));
    let _ = std::fs::remove_file(&html);
    let mut flags: Vec<&str> = extra.to_vec();
    let junit_arg = junit.display().to_string();
    let html_arg = html.display().to_string();
    flags.extend([
        "--report",
        junit_arg.as_str(),
        "--report",
        html_arg.as_str(),
    ]);
    let name = world.name().to_string();
    let run = world.run(
        &flags,
        &["--cluster", &name, "--lb-mode", mode.as_str()],
        stdin,
    );
    let all = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    if std::env::var_os("LABSH_REHEARSAL_SHOW").is_some() {
        eprintln!("{all}");
    }
    Some(ModeRun {
        world,
        run,
        junit,
        html,
        all,
    })
}

/// `[(name, passed)]` of a JUnit report's testcases.
fn junit_checks(path: &std::path::Path) -> Vec<(String, bool)> {
    let xml = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no report at {}: {e}", path.display()));
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    };
    xml.split("<testcase name=\"")
        .skip(1)
        .map(|case| {
            let name = case.split('"').next().unwrap();
            let body = case.split("</testcase>").next().unwrap();
            (
                unescape(name),
                !body.contains("<failure") && !body.contains("<error"),
            )
        })
        .collect()
}

fn checks(list: &[(&str, bool)]) -> Vec<(String, bool)> {
    list.iter().map(|(n, p)| (n.to_string(), *p)).collect()
}

/// The captured packets the `dsr` step printed (between the tcpdump line and the verdict).
fn printed_packets(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .skip_while(|l| !l.starts_with("# tcpdump "))
        .skip(1)
        .take_while(|l| !l.starts_with("  FAIL ") && !l.starts_with("  PASS "))
        .collect()
}

/// The reason of the first check printed `  VERDICT name: reason` whose reason starts with
/// `start` (`lab::check` prints the reason on the verdict line).
fn check_reason<'a>(run: &'a Run, verdict: &str, start: &str) -> Option<&'a str> {
    let head = format!("  {verdict} ");
    let needle = format!(": {start}");
    run.stdout
        .lines()
        .filter(|l| l.starts_with(&head))
        .find_map(|l| l.find(&needle).map(|i| &l[i + 2..]))
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

/// The handout's run (`--lb-mode dsr`, the default) on the DSR datapath: every step with the
/// handout's commands, and all four checks PASS on real packets.
#[test]
fn dsr_mode_runs_every_step_with_the_handouts_commands_and_all_four_checks_pass() {
    // --step: Enter at each of the ten pauses.
    let Some(ModeRun {
        world,
        run,
        junit,
        html,
        all,
    }) = run_lab_in_mode(
        "dsr_mode_runs_every_step_with_the_handouts_commands_and_all_four_checks_pass",
        Mode::Dsr,
        &["--explain", "--step"],
        &"\n".repeat(10),
    )
    else {
        return;
    };
    let name = world.name().to_string();

    // Exit 0: the script ran to the end, and every check passed.
    assert_eq!(run.code, Some(0), "{all}");
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
            "kind create cluster --name {name} --config {}/tp12/kind-config.yaml --image kindest/node:v1.24.17@sha256:bad10f9b98d54586cba05a7eaa1b61c6b90bfc4ee174fdc43a7b75ca75c95e51",
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
    assert_eq!(set["loadBalancer"]["mode"], "dsr");
    assert_eq!(world.mode(), Mode::Dsr, "the world programs what helm got");
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

    // nodeport: every node answered 200 for real (the pod's nginx, through the datapath).
    for n in &world.nodes {
        let prefix = format!("  {} (http://{}:30000/): HTTP 200 in ", n.name, n.ip);
        assert_eq!(run.lines_starting(&prefix).len(), 1, "{prefix}\n{all}");
    }
    assert!(
        check_reason(&run, "PASS", "all 4 nodes answered")
            == Some("all 4 nodes answered HTTP 200 on the NodePort"),
        "{all}"
    );

    // source-ip: the pod's log shows the client's own address for every node called.
    assert_eq!(
        check_reason(&run, "PASS", "all 4 requests were logged"),
        Some(
            format!(
                "all 4 requests were logged with the client's own address {}: source IP preserved",
                world.gateway
            )
            .as_str()
        ),
        "{all}"
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
        // Followed from before the requests until the lines arrive (no fixed sleep).
        "kubectl logs deployment/frontend -n default -f --since 2m --prefix".to_string(),
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
    // The handout's shape on the pod's node's veth: the SYN from the client itself to the pod,
    // the SYN-ACK as the called node's NodePort, straight to the client.
    let (gw, pod_ip) = (world.gateway.clone(), world.pod_ip());
    let packets = printed_packets(&run);
    assert!(packets.len() >= 3, "{all}");
    let syn = packets
        .iter()
        .find(|p| p.contains(&format!(" > {pod_ip}.80: Flags [S],")))
        .unwrap_or_else(|| panic!("no SYN to the pod printed:\n{all}"));
    assert!(syn.contains(&format!(" IP {gw}.")), "{syn}");
    let port = syn
        .split(&format!(" IP {gw}."))
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap();
    assert!(
        packets
            .iter()
            .any(|p| p.contains(&format!(" IP {}.30000 > {gw}.{port}: Flags [S.],", cp.ip))),
        "no SYN-ACK from {}:30000 to the client:\n{all}",
        cp.ip
    );
    // Only that connection crosses the veth: client -> pod, and called node -> client.
    for p in &packets {
        assert!(
            p.contains(&format!(" IP {gw}.{port} > {pod_ip}.80: "))
                || p.contains(&format!(" IP {}.30000 > {gw}.{port}: ", cp.ip)),
            "a packet the pod's node should not see: {p}\n{all}"
        );
    }
    assert_eq!(
        check_reason(&run, "PASS", &format!("SYN {gw}:{port} -> ")),
        Some(format!(
            "SYN {gw}:{port} -> {pod_ip}:80 arrived with the client's address, and the SYN-ACK left the pod's node as {}:30000 -> {gw}: Direct Server Return",
            cp.ip
        ).as_str()),
        "{all}"
    );

    // fin, and the report: one entry per check that ran.
    assert!(
        run.has(&format!("  kind delete cluster --name {name}")),
        "{all}"
    );
    assert_eq!(
        junit_checks(&junit),
        checks(&[
            (CHECK_NODEPORT, true),
            (CHECK_SOURCE_IP, true),
            (CHECK_DSR, true),
            (CHECK_MONITOR, true),
        ]),
        "{}",
        junit.display()
    );
    html_report::assert_shows_the_dsr_triangle(&html, 10);

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
    let world = world.with_lab_up_to_app(Mode::Dsr);
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
    assert_eq!(run.code, Some(0), "{all}");
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
            world.pod_ip(),
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
            (CHECK_DSR.to_string(), true),
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
    let world = world.with_lab_up_to_app(Mode::Dsr);
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
    assert_nothing_left_running(&world, None);
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

    // --clean deletes every cluster; --cilium 1.20.2 takes cilium-values.yaml, cilium-dbg and
    // kind's default node image.
    let run = world.run(
        &["--step"],
        &["--cluster", &name, "--clean", "--cilium", "1.20.2"],
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
            "helm upgrade --install --namespace kube-system --repo https://helm.cilium.io cilium cilium --version 1.20.2 --values {}/tp12/cilium-values.yaml --values ",
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
        run.has("Cilium 1.20.2 : valeurs tp12/cilium-values.yaml, CLI de l'agent « cilium-dbg »"),
        "{all}"
    );
    assert_nothing_left_running(&world, None);
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
    let world = world.with_lab_up_to_app(Mode::Dsr);
    // The dsr step curls the control-plane's NodePort while tcpdump runs: make that slow.
    world.stall_pod();
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

/// `--lb-mode snat` on the SNAT datapath: the lab explains that the source IP is expected to
/// be lost and checks that it is; every mode-aware check passes; the DSR verdict on the same
/// capture says why this is SNAT, not DSR.
#[test]
fn snat_mode_checks_that_the_source_ip_is_lost_and_the_dsr_verdict_fails_with_the_snat_reason() {
    let Some(ModeRun {
        world,
        run,
        junit,
        html,
        all,
    }) = run_lab_in_mode(
        "snat_mode_checks_that_the_source_ip_is_lost_and_the_dsr_verdict_fails_with_the_snat_reason",
        Mode::Snat,
        &[],
        "",
    )
    else {
        return;
    };
    assert_eq!(run.code, Some(0), "{all}");
    assert_eq!(world.mode(), Mode::Snat);
    assert!(
        run.has("== Step 4: Installer Cilium (CNI + remplacement de kube-proxy, SNAT) [cilium]"),
        "{all}"
    );
    assert!(
        run.has("  Le pod voit donc l'IP du nœud appelé, pas celle du visiteur : l'IP source est PERDUE, c'est attendu."),
        "{all}"
    );
    let set = world
        .lab
        .kept()
        .iter()
        .rev()
        .find(|(p, _)| p.display().to_string().contains("labsh-helm-set-"))
        .map(|(_, text)| standins::yaml(text))
        .expect("the helm stand-in kept the --set file");
    assert_eq!(set["loadBalancer"]["mode"], "snat");

    // source-ip: the three other nodes SNATed; the pod's own node delivered locally.
    let (gw, pod_ip, cp) = (
        world.gateway.clone(),
        world.pod_ip(),
        world.nodes[0].clone(),
    );
    let pod_node = world.pod_node().clone();
    let line = check_reason(&run, "PASS", "the pod saw node address(es) ")
        .unwrap_or_else(|| panic!("no source-ip PASS:\n{all}"))
        .to_string();
    for n in world.nodes.iter().filter(|n| n.name != pod_node.name) {
        assert!(line.contains(&n.ip), "{} not in {line}", n.ip);
    }
    assert!(!line.contains(&format!("{}, ", pod_node.ip)), "{line}");
    assert!(
        line.ends_with(&format!(
            "the source IP is lost, as expected in snat mode; 1 request(s) kept {gw}: the pod's own node delivers locally, without SNAT"
        )),
        "{line}"
    );

    // dsr step: the SYN comes from the called node, the pod answers it.
    let packets = printed_packets(&run);
    let syn = packets
        .iter()
        .find(|p| p.contains(&format!(" > {pod_ip}.80: Flags [S],")))
        .unwrap_or_else(|| panic!("no SYN to the pod:\n{all}"));
    assert!(syn.contains(&format!(" IP {}.", cp.ip)), "{syn}");
    assert!(
        packets
            .iter()
            .any(|p| p.contains(&format!(" IP {pod_ip}.80 > {}.", cp.ip)) && p.contains("[S.]")),
        "{all}"
    );
    assert!(
        packets.iter().all(|p| !p.contains(&format!(" {gw}."))),
        "the client never crosses the pod's node veth in snat mode:\n{all}"
    );
    let snat = check_reason(&run, "PASS", &format!("SYN {}:", cp.ip))
        .unwrap_or_else(|| panic!("no snat PASS:\n{all}"))
        .to_string();
    assert!(snat.ends_with("— SNAT, as expected in snat mode"), "{snat}");
    let dsr = run
        .lines_starting("  Pour comparaison, la vérification DSR sur cette capture : ✘ ")
        .first()
        .copied()
        .unwrap_or_else(|| panic!("no DSR comparison:\n{all}"))
        .to_string();
    assert!(
        dsr.contains(&format!(
            "the SYN reached the pod from {} (the node the client called), not from the client {gw}: that node SNATed the request (SNAT mode, source IP lost)",
            cp.ip
        )),
        "{dsr}"
    );
    assert!(dsr.ends_with("— SNAT, not DSR"), "{dsr}");

    assert_eq!(
        junit_checks(&junit),
        checks(&[
            (CHECK_NODEPORT, true),
            (CHECK_SOURCE_IP_LOST, true),
            (CHECK_SNAT, true),
            (CHECK_MONITOR_SNAT, true),
        ])
    );
    html_report::assert_shows_the_snat_round_trip(&html, 10);
    assert_nothing_left_running(&world, None);
}

/// `--lb-mode hybrid`: the frontend is TCP, so the lab sees DSR and the DSR checks pass.
#[test]
fn hybrid_mode_does_dsr_for_the_tcp_frontend_and_all_four_checks_pass() {
    let Some(ModeRun {
        world,
        run,
        junit,
        html,
        all,
    }) = run_lab_in_mode(
        "hybrid_mode_does_dsr_for_the_tcp_frontend_and_all_four_checks_pass",
        Mode::Hybrid,
        &[],
        "",
    )
    else {
        return;
    };
    assert_eq!(run.code, Some(0), "{all}");
    assert_eq!(world.mode(), Mode::Hybrid);
    assert!(
        run.has("== Step 4: Installer Cilium (CNI + remplacement de kube-proxy, hybride) [cilium]"),
        "{all}"
    );
    let (gw, cp) = (world.gateway.clone(), world.nodes[0].clone());
    assert!(
        printed_packets(&run)
            .iter()
            .any(|p| p.contains(&format!(" IP {}.30000 > {gw}.", cp.ip)) && p.contains("[S.]")),
        "{all}"
    );
    assert_eq!(
        junit_checks(&junit),
        checks(&[
            (CHECK_NODEPORT, true),
            (CHECK_SOURCE_IP, true),
            (CHECK_DSR, true),
            (CHECK_MONITOR, true),
        ])
    );
    html_report::assert_shows_the_dsr_triangle(&html, 10);
    assert_nothing_left_running(&world, None);
}

/// tp12-matrix.rhai on an existing lab: one helm upgrade per mode (the world programs each),
/// and one table row per mode built from real captured packets.
#[test]
fn matrix_upgrades_cilium_to_each_mode_and_prints_the_three_rows_from_real_packets() {
    let Some(world) = World::new(
        "matrix_upgrades_cilium_to_each_mode_and_prints_the_three_rows_from_real_packets",
    ) else {
        return;
    };
    let world = world.with_lab_up_to_app(Mode::Dsr);
    let name = world.name().to_string();
    let junit = report_dir().join("matrix.xml");
    let run = world.run_script(
        "scripts/tp12-matrix.rhai",
        &["--explain", "--report", junit.to_str().unwrap()],
        &["--cluster", &name],
    );
    let all = format!("--- stdout\n{}\n--- stderr\n{}", run.stdout, run.stderr);
    if std::env::var_os("LABSH_REHEARSAL_SHOW").is_some() {
        eprintln!("{all}");
    }
    assert_eq!(run.code, Some(0), "{all}");
    assert_eq!(
        run.steps_run(),
        ["snat", "hybrid", "dsr", "tableau"],
        "{all}"
    );
    // One helm upgrade per mode, each with its --set values; the last leaves the handout's dsr.
    let kept = world.lab.kept();
    let modes: Vec<String> = kept
        .iter()
        .filter(|(p, _)| p.display().to_string().contains("labsh-helm-set-"))
        .map(|(_, text)| {
            standins::yaml(text)["loadBalancer"]["mode"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(modes, ["snat", "hybrid", "dsr"], "{all}");
    assert_eq!(world.mode(), Mode::Dsr);
    let upgrades = world
        .lab
        .call_lines()
        .iter()
        .filter(|c| c.starts_with("helm upgrade --install"))
        .count();
    assert_eq!(upgrades, 3);
    // --explain shows the helm commands.
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("$ helm upgrade --install --namespace kube-system"))
            .count(),
        3,
        "{all}"
    );
    let (gw, pod_ip, cp) = (
        world.gateway.clone(),
        world.pod_ip(),
        world.nodes[0].clone(),
    );
    let row = |mode: &str| -> String {
        run.stdout
            .lines()
            .find(|l| {
                l.starts_with(&format!("{mode} "))
                    && (l.ends_with("PASS (attendu pour ce mode)") || l.ends_with("FAIL"))
            })
            .unwrap_or_else(|| panic!("no {mode} row:\n{all}"))
            .to_string()
    };
    let snat = row("snat");
    assert!(snat.contains(&cp.ip), "{snat}");
    assert!(snat.contains(&format!("{pod_ip}:80")), "{snat}");
    assert!(snat.contains("via le nœud appelé"), "{snat}");
    assert!(snat.contains(" non "), "{snat}");
    assert!(snat.ends_with("PASS (attendu pour ce mode)"), "{snat}");
    for mode in ["hybrid", "dsr"] {
        let r = row(mode);
        assert!(r.contains(&gw), "{r}");
        assert!(r.contains(&format!("{}:32150", cp.ip)), "{r}");
        assert!(r.contains("directe (nœud du pod -> client)"), "{r}");
        assert!(r.contains(" oui "), "{r}");
        assert!(r.ends_with("PASS (attendu pour ce mode)"), "{r}");
    }
    // The evidence: the real packets, per mode.
    assert!(
        run.has("Preuves (tcpdump sur le veth du nœud du pod) :"),
        "{all}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("    ") && l.contains(&format!(" IP {}.32150 > {gw}.", cp.ip))),
        "{all}"
    );
    let results = junit_checks(&junit);
    assert_eq!(results.len(), 9, "{results:?}");
    assert!(results.iter().all(|(_, passed)| *passed), "{results:?}");
    assert_nothing_left_running(&world, None);
}

// ─── Fixtures: packets captured from this world, for the verdicts' unit tests ─────────────

/// In each mode, a capture of the same scenario (noise, a retransmitted SYN, two connections)
/// has the handshake of the committed fixture and gets the same verdicts: the fixtures the
/// verdict unit tests use are what this datapath really puts on the wire.
#[test]
fn captures_in_each_mode_have_the_shape_of_the_committed_fixtures() {
    let Some(world) = World::new("captures_in_each_mode_have_the_shape_of_the_committed_fixtures")
    else {
        return;
    };
    let world = world.with_lab_up_to_app(Mode::Dsr);
    let node_port = 32150u16;
    let veth = env::runtime()
        .block_on(datapath::host_veth(world.docker(), &world.pod_node().name))
        .unwrap();
    let update = std::env::var_os("LABSH_UPDATE_FIXTURES").is_some();
    for mode in Mode::ALL {
        world.program(mode);
        let lines = capture_scenario(&world, &veth, node_port);
        let header = fixture_header(&world, mode, node_port);
        let fresh = handshake_shape(&header, &lines);
        // noise, 2 SYNs + SYN-ACK (retransmit), SYN + SYN-ACK
        assert_eq!(
            fresh.len(),
            7,
            "{}: {fresh:#?}\n{}",
            mode.as_str(),
            lines.join("\n")
        );
        let (gw, pod_ip) = (world.gateway.clone(), world.pod_ip());
        let (cp, w2) = (world.nodes[0].ip.clone(), world.nodes[2].ip.clone());
        let args = format!("pkts, \"{gw}\", \"{pod_ip}\", \"{cp}\", {node_port}");
        let args2 = format!("pkts, \"{gw}\", \"{pod_ip}\", \"{w2}\", {node_port}");
        let m = mode.as_str();
        for a in [&args, &args2] {
            let (passed, reason) =
                verdict_on(&lines, &format!("verdicts::reply_path_for(\"{m}\", {a})"));
            assert!(passed, "{m}: {reason}\n{}", lines.join("\n"));
            let (dsr, reason) = verdict_on(&lines, &format!("verdicts::dsr({a})"));
            assert_eq!(dsr, mode != Mode::Snat, "{m}: {reason}");
        }
        let path = fixture_path(mode);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, format!("{header}{}\n", lines.join("\n"))).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (LABSH_UPDATE_FIXTURES=1 captures it)",
                path.display()
            )
        });
        let (committed_header, committed_lines): (Vec<&str>, Vec<&str>) =
            committed.lines().partition(|l| l.starts_with('#'));
        let committed_lines: Vec<String> = committed_lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            handshake_shape(&committed_header.join("\n"), &committed_lines),
            fresh,
            "{m}: the datapath's packets no longer have the committed fixture's shape"
        );
    }
    assert_nothing_left_running(&world, Some(&veth));
}

/// The UDP half of the modes, on real packets: a datagram to the control-plane's NodePort
/// reaches the pod's node from the called node in `hybrid` (SNAT for UDP, Cilium's
/// definition) and `snat`, and from the client itself in `dsr`. Nothing listens on UDP in the
/// pod: its ICMP "port unreachable" answer shows where the reply goes — back to the called
/// node in `snat` and `hybrid`; in `dsr` straight to the client, rewritten by the pod's node's
/// conntrack as if the called node's NodePort had answered.
#[test]
fn hybrid_and_snat_modes_snat_udp_while_dsr_mode_keeps_the_clients_address() {
    let Some(world) =
        World::new("hybrid_and_snat_modes_snat_udp_while_dsr_mode_keeps_the_clients_address")
    else {
        return;
    };
    let world = world.with_lab_up_to_app(Mode::Dsr);
    let node_port = 32150u16;
    let veth = env::runtime()
        .block_on(datapath::host_veth(world.docker(), &world.pod_node().name))
        .unwrap();
    let (gw, pod_ip, cp) = (
        world.gateway.clone(),
        world.pod_ip(),
        world.nodes[0].ip.clone(),
    );
    let snat_reply = format!(" IP {pod_ip} > {cp}: ICMP {pod_ip} udp port 80 unreachable");
    let dsr_reply = format!(" IP {cp} > {gw}: ICMP {cp} udp port {node_port} unreachable");
    for (mode, source, reply) in [
        (Mode::Hybrid, cp.clone(), snat_reply.clone()),
        (Mode::Snat, cp.clone(), snat_reply),
        (Mode::Dsr, gw.clone(), dsr_reply),
    ] {
        world.program(mode);
        let capture = HostCapture::start(&veth, "udp or icmp");
        let socket = std::net::UdpSocket::bind((gw.as_str(), 0)).unwrap();
        socket
            .send_to(b"labsh udp probe", (cp.as_str(), node_port))
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let lines = capture.stop().join("\n");
        let m = mode.as_str();
        let datagram = lines
            .lines()
            .find(|l| l.contains(&format!(" > {pod_ip}.80: UDP")))
            .unwrap_or_else(|| panic!("{m}: no datagram to the pod:\n{lines}"));
        assert!(
            datagram.contains(&format!(" IP {source}.")),
            "{m}: the datagram should come from {source}: {datagram}"
        );
        assert!(
            lines.lines().any(|l| l.contains(&reply)),
            "{m}: expected the pod's answer as `{reply}`:\n{lines}"
        );
    }
    assert_nothing_left_running(&world, Some(&veth));
}
