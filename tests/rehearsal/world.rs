//! The rehearsal's world: the Docker stand-in kind cluster (real containers of the test image,
//! labelled like kind nodes), the loopback test API server (a test double of Kubernetes'), the
//! kind/helm stand-ins first on PATH, and a controller thread that plays what the cluster's
//! controllers would do when the script acts. `World::run` runs the real `labsh` binary on the
//! unmodified `scripts/tp12.rhai` in that world. The nodes carry the packet-level datapath of
//! `datapath.rs`, in the `loadBalancer.mode` the last `helm upgrade` asked for.
//!
//! Fields drop in order: the controller thread stops first, then the API server, then the
//! stand-in cluster's guard removes the containers and their network.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use bollard::Docker;

use super::cluster_state::{self, NodeInfo};
use super::datapath::{self, Mode, Pod};
use super::env;
use super::standins::Lab;
use crate::docker::cluster::StandInKindCluster;
use crate::support::apiserver::{ExecRequest, TestApiServer};

/// What a run of labsh left.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `[id]` of every step that ran (`== Step N: title [id]`), in order.
    pub fn steps_run(&self) -> Vec<String> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("== Step "))
            .map(|l| {
                l.rsplit_once('[')
                    .unwrap()
                    .1
                    .trim_end_matches(']')
                    .to_string()
            })
            .collect()
    }

    /// The step header lines (`== Step N: title [id]`).
    pub fn headers(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("== Step ") || l.starts_with("-- Step "))
            .collect()
    }

    pub fn has(&self, line: &str) -> bool {
        self.stdout.lines().any(|l| l == line)
    }

    pub fn lines_starting(&self, prefix: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(prefix))
            .collect()
    }
}

/// The controller thread's shared view.
struct Shared {
    server: Arc<TestApiServer>,
    docker: Docker,
    nodes: Vec<NodeInfo>,
    pod_node: NodeInfo,
    standin_dir: PathBuf,
    /// The mode the datapath runs (what the last helm upgrade asked for).
    mode: Arc<Mutex<Mode>>,
    /// The frontend pod and its NodePort, once deployed.
    pod: Mutex<Option<(Pod, i64)>>,
    /// Errors the controllers met (a failed nginx reload…): the test reports them.
    errors: Mutex<Vec<String>>,
    /// Set by whoever deploys the frontend (the controller thread, or a test setting up an
    /// existing lab), so it is deployed once.
    frontend: AtomicBool,
    stop: AtomicBool,
}

pub struct World {
    controllers: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    pub server: Arc<TestApiServer>,
    pub exec_requests: Arc<Mutex<Vec<ExecRequest>>>,
    pub lab: Lab,
    pub kubeconfig: PathBuf,
    pub nodes: Vec<NodeInfo>,
    pub gateway: String,
    pub cluster: StandInKindCluster,
}

/// The programs labsh and the script run besides the stand-ins (the preflight's and the
/// capture's tcpdump, `date` for the request marker).
const HOST_TOOLS: &[&str] = &["tcpdump", "date"];

/// The node the frontend pod runs on (an index: `<name>-worker`).
const POD_NODE: usize = 1;

/// What the datapath needs from the node containers: veths, routes and nft tables
/// (NET_ADMIN), a network namespace for the pod (SYS_ADMIN, for its mount), and these sysctls.
const NODE_CAPS: &[&str] = &["NET_ADMIN", "SYS_ADMIN"];
const NODE_SYSCTLS: &[(&str, &str)] = &[
    ("net.ipv4.ip_forward", "1"),
    ("net.ipv4.conf.all.rp_filter", "0"),
    ("net.ipv4.conf.default.rp_filter", "0"),
    ("net.ipv4.conf.eth0.rp_filter", "0"),
    ("net.ipv4.conf.all.send_redirects", "0"),
    ("net.ipv4.conf.eth0.send_redirects", "0"),
];

impl World {
    /// Four stand-in nodes (a control-plane and three workers) and an API server showing them
    /// NotReady, as right after `kind create cluster`. The frontend will run on `<name>-worker`.
    /// `None` when Docker is not here (after printing why; a failure with
    /// LABSH_REQUIRE_DOCKER=1).
    pub fn new(test: &str) -> Option<World> {
        let engine = env::engine(test)?;
        let cluster = StandInKindCluster::create_with(
            &engine.docker,
            &engine.image,
            3,
            NODE_CAPS,
            NODE_SYSCTLS,
        )
        .unwrap_or_else(|e| panic!("creating the stand-in kind cluster: {e}"));
        let (ips, gateway) = cluster.addresses();
        let nodes: Vec<NodeInfo> = cluster
            .nodes
            .iter()
            .map(|name| NodeInfo {
                name: name.clone(),
                ip: ips[name].clone(),
                control_plane: name.ends_with("-control-plane"),
            })
            .collect();
        let pod_node = nodes[POD_NODE].clone();
        env::runtime()
            .block_on(datapath::route_pod_cidrs(&engine.docker, &nodes))
            .unwrap_or_else(|e| panic!("{e}"));
        let mode = Arc::new(Mutex::new(Mode::Snat));
        let server = Arc::new(TestApiServer::start_blocking());
        cluster_state::insert_nodes(&server, &nodes);
        let exec_requests = Arc::new(Mutex::new(Vec::new()));
        {
            let log = exec_requests.clone();
            let by_pod: Vec<(String, String)> = nodes
                .iter()
                .zip(cluster_state::AGENTS)
                .map(|(n, a)| (a.to_string(), n.ip.clone()))
                .collect();
            let pod_ip = datapath::pod_ip(POD_NODE);
            let (client, called) = (gateway.clone(), nodes[0].ip.clone());
            let mode = mode.clone();
            server.on_exec(move |req| {
                log.lock().unwrap().push(req.clone());
                let node_ip = by_pod
                    .iter()
                    .find(|(a, _)| *a == req.pod)
                    .map(|(_, ip)| ip.as_str())
                    .unwrap_or_default();
                let mode = *mode.lock().unwrap();
                cluster_state::agent_exec(req, node_ip, &pod_ip, &client, &called, mode)
            });
        }
        let lab = Lab::new();
        for tool in HOST_TOOLS {
            let real = ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]
                .iter()
                .map(|d| Path::new(d).join(tool))
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("the rehearsal needs `{tool}` on this machine"));
            std::os::unix::fs::symlink(real, lab.tmp.path().join("tools").join(tool)).unwrap();
        }
        let kubeconfig = lab.tmp.path().join("kubeconfig");
        // The helm stand-in waits for this world to apply each upgrade.
        std::fs::write(lab.standin_dir().join("helm-controller"), "").unwrap();
        let shared = Arc::new(Shared {
            server: server.clone(),
            docker: engine.docker.clone(),
            nodes: nodes.clone(),
            pod_node,
            standin_dir: lab.standin_dir(),
            mode,
            pod: Mutex::new(None),
            errors: Mutex::new(Vec::new()),
            frontend: AtomicBool::new(false),
            stop: AtomicBool::new(false),
        });
        let thread_shared = shared.clone();
        let controllers = std::thread::Builder::new()
            .name("rehearsal-controllers".into())
            .spawn(move || controllers(&thread_shared))
            .unwrap();
        Some(World {
            controllers: Some(controllers),
            shared,
            server,
            exec_requests,
            lab,
            kubeconfig,
            nodes,
            gateway,
            cluster,
        })
    }

    /// The cluster name (random: `lt-…`), given to the script with `--cluster`.
    pub fn name(&self) -> &str {
        &self.cluster.name
    }

    /// The node the frontend runs on.
    pub fn pod_node(&self) -> &NodeInfo {
        &self.shared.pod_node
    }

    /// The frontend pod's address (on its node's pod CIDR).
    pub fn pod_ip(&self) -> String {
        datapath::pod_ip(POD_NODE)
    }

    /// The mode the datapath runs now.
    pub fn mode(&self) -> Mode {
        *self.shared.mode.lock().unwrap()
    }

    /// The frontend pod, once deployed.
    pub fn pod(&self) -> Option<Pod> {
        self.shared
            .pod
            .lock()
            .unwrap()
            .as_ref()
            .map(|(p, _)| p.clone())
    }

    /// Docker, for tests that act on the nodes.
    pub fn docker(&self) -> &Docker {
        &self.shared.docker
    }

    /// As if the lab had run up to `app` before, with Cilium in `mode`: kind knows the
    /// cluster, the kubeconfig has its context, Cilium and the frontend run, the NodePort (the
    /// handout's 32150) is served.
    pub fn with_lab_up_to_app(self, mode: Mode) -> World {
        *self.shared.mode.lock().unwrap() = mode;
        std::fs::write(
            self.lab.standin_dir().join("kind-clusters"),
            format!("{}\n", self.name()),
        )
        .unwrap();
        self.server
            .write_kubeconfig(&self.kubeconfig, &format!("kind-{}", self.name()));
        self.shared.frontend.store(true, Ordering::SeqCst);
        cluster_state::install_cilium(&self.server, &self.nodes);
        cluster_state::insert_frontend_objects(&self.server, 32150);
        deploy_frontend(&self.shared, 32150).unwrap_or_else(|e| panic!("{e}"));
        self
    }

    /// Runs `labsh FLAGS run scripts/tp12.rhai -- ARGS` from the repository root, with the
    /// stand-ins and host tools only on PATH, `stdin` as its standard input (answers to
    /// `--step`).
    pub fn run(&self, flags: &[&str], args: &[&str], stdin: &str) -> Run {
        let mut child = self.command(flags, args).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The command [`World::run`] runs, with piped stdin, stdout and stderr.
    pub fn command(&self, flags: &[&str], args: &[&str]) -> Command {
        command(&self.lab, &self.server, &self.kubeconfig, flags, args)
    }

    /// Runs `labsh FLAGS run SCRIPT -- ARGS` (another shipped script) as [`World::run`] does,
    /// with no standard input.
    pub fn run_script(&self, script: &str, flags: &[&str], args: &[&str]) -> Run {
        let out = command_for(
            script,
            &self.lab,
            &self.server,
            &self.kubeconfig,
            flags,
            args,
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Makes the pod answer one byte a second, so a request to the NodePort takes long
    /// enough to interrupt the step that sends it.
    pub fn stall_pod(&self) {
        let pod = self.pod().expect("the frontend pod runs");
        env::runtime()
            .block_on(datapath::stall_pod(&self.shared.docker, &pod))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Programs `mode` on the nodes now (as a helm upgrade would), once the frontend runs.
    pub fn program(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
        let (pod, node_port) = self
            .shared
            .pod
            .lock()
            .unwrap()
            .clone()
            .expect("the frontend pod runs");
        env::runtime()
            .block_on(datapath::program(
                &self.shared.docker,
                &self.nodes,
                &pod,
                node_port,
                mode,
            ))
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// Removes the datapath (nft tables, the pod's nginx, veth and namespace), then returns
    /// what is still there on any node: empty when the removal left nothing behind.
    pub fn remove_datapath(&self) -> Vec<String> {
        let pod = self.pod();
        env::runtime().block_on(async {
            let docker = &self.shared.docker;
            datapath::remove(docker, &self.nodes, pod.as_ref())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let mut left = Vec::new();
            for n in &self.nodes {
                for l in datapath::leftovers(docker, &n.name)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"))
                {
                    left.push(format!("{}: {l}", n.name));
                }
            }
            left
        })
    }

    /// What the controllers could not do (empty when all went well).
    pub fn controller_errors(&self) -> Vec<String> {
        self.shared.errors.lock().unwrap().clone()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.controllers.take() {
            let _ = t.join();
        }
    }
}

/// The helm stand-in's revision of the cilium release, once it ran an upgrade.
fn cilium_revision(standin_dir: &Path) -> Option<u64> {
    std::fs::read_to_string(standin_dir.join("helm-values-kube-system-cilium.rev"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Merges `over` into `base` (maps key by key, anything else replaced), as helm merges values.
fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (b, o) => *b = o,
    }
}

/// The `loadBalancer.mode` of the cilium release's values as the helm stand-in recorded them
/// (values files in order, then `--set`); Cilium's default `snat` when none sets it.
fn release_mode(standin_dir: &Path) -> Result<Mode, String> {
    let path = standin_dir.join("helm-values-kube-system-cilium");
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut values = serde_json::json!({});
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (kind, arg) = line
            .split_once('\t')
            .ok_or_else(|| format!("{}: bad line {line:?}", path.display()))?;
        if kind == "values" {
            let yaml = std::fs::read_to_string(arg).map_err(|e| format!("{arg}: {e}"))?;
            let v: serde_json::Value =
                serde_saphyr::from_str(&yaml).map_err(|e| format!("{arg}: {e}"))?;
            if !v.is_null() {
                merge(&mut values, v);
            }
        } else {
            let (key, value) = arg
                .split_once('=')
                .ok_or_else(|| format!("helm --set {arg:?}: no `=`"))?;
            let mut over = serde_json::Value::String(value.to_string());
            for part in key.rsplit('.') {
                over = serde_json::json!({ part: over });
            }
            merge(&mut values, over);
        }
    }
    match values["loadBalancer"]["mode"].as_str() {
        Some(m) => Mode::parse(m),
        None => Ok(Mode::Snat),
    }
}

/// Runs the frontend pod in its namespace, programs the NodePort in the current mode, then
/// shows the pod Running (so a rollout that is complete means the NodePort answers).
fn deploy_frontend(shared: &Shared, node_port: i64) -> Result<(), String> {
    let mode = *shared.mode.lock().unwrap();
    let pod = env::runtime().block_on(async {
        let pod = datapath::run_pod(&shared.docker, &shared.nodes, POD_NODE).await?;
        datapath::program(&shared.docker, &shared.nodes, &pod, node_port, mode).await?;
        Ok::<Pod, String>(pod)
    })?;
    cluster_state::run_frontend(&shared.server, &shared.pod_node, &pod.ip);
    *shared.pod.lock().unwrap() = Some((pod, node_port));
    Ok(())
}

/// What the cluster does when helm upgraded Cilium to `revision`: the agents roll out with the
/// release's `loadBalancer.mode`, which the datapath then programs; the helm stand-in returns
/// once this is done.
fn apply_cilium_revision(shared: &Shared, revision: u64) -> Result<(), String> {
    let result = release_mode(&shared.standin_dir).and_then(|mode| {
        *shared.mode.lock().unwrap() = mode;
        if shared
            .server
            .get("apps/v1", "DaemonSet", Some("kube-system"), "cilium")
            .is_none()
        {
            cluster_state::install_cilium(&shared.server, &shared.nodes);
        } else {
            cluster_state::roll_cilium(&shared.server);
        }
        let deployed = shared.pod.lock().unwrap().clone();
        if let Some((pod, node_port)) = deployed {
            env::runtime().block_on(datapath::program(
                &shared.docker,
                &shared.nodes,
                &pod,
                node_port,
                mode,
            ))?;
        }
        Ok(())
    });
    let applied = shared
        .standin_dir
        .join(format!("helm-applied-kube-system-cilium-{revision}"));
    std::fs::write(&applied, "").map_err(|e| format!("{}: {e}", applied.display()))?;
    result
}

/// The controllers' part, every 100 ms: Cilium's pods and the datapath's mode at each helm
/// upgrade; the frontend pod and the NodePort once the Deployment and Service exist; the pod's
/// access log copied into the API server as it grows.
fn controllers(shared: &Shared) {
    let mut applied = 0u64;
    let mut forwarded = 0usize;
    let fail = |e: String| shared.errors.lock().unwrap().push(e);
    while !shared.stop.load(Ordering::SeqCst) {
        if let Some(rev) = cilium_revision(&shared.standin_dir)
            && rev > applied
        {
            applied = rev;
            if let Err(e) = apply_cilium_revision(shared, rev) {
                fail(e);
            }
        }
        if !shared.frontend.load(Ordering::SeqCst)
            && shared
                .server
                .get("apps/v1", "Deployment", Some("default"), "frontend")
                .is_some()
            && let Some(port) = cluster_state::node_port(&shared.server)
            && !shared.frontend.swap(true, Ordering::SeqCst)
            && let Err(e) = deploy_frontend(shared, port)
        {
            fail(e);
        }
        let pod = shared.pod.lock().unwrap().clone();
        if let Some((pod, _)) = pod {
            match env::runtime().block_on(datapath::access_log(&shared.docker, &pod)) {
                Ok(lines) => {
                    for line in lines.iter().skip(forwarded) {
                        shared
                            .server
                            .push_log("default", cluster_state::FRONTEND_POD, None, line);
                    }
                    forwarded = forwarded.max(lines.len());
                }
                Err(e) if !shared.stop.load(Ordering::SeqCst) => fail(e),
                Err(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `labsh FLAGS run scripts/tp12.rhai -- ARGS` from the repository root, with only `lab`'s
/// stand-ins and tools on PATH, `server` as the API server the kind stand-in writes into
/// `kubeconfig` (KUBECONFIG), and piped stdin, stdout and stderr.
pub fn command(
    lab: &Lab,
    server: &TestApiServer,
    kubeconfig: &Path,
    flags: &[&str],
    args: &[&str],
) -> Command {
    command_for("scripts/tp12.rhai", lab, server, kubeconfig, flags, args)
}

/// As [`command`], for another script of the repository.
pub fn command_for(
    script: &str,
    lab: &Lab,
    server: &TestApiServer,
    kubeconfig: &Path,
    flags: &[&str],
    args: &[&str],
) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsh"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(flags)
        .args(["run", script, "--"])
        .args(args)
        .env_clear()
        .env(
            "PATH",
            format!(
                "{}:{}",
                lab.bin().display(),
                lab.tmp.path().join("tools").display()
            ),
        )
        .env("HOME", lab.home())
        .env("STANDIN_DIR", lab.standin_dir())
        .env("STANDIN_KIND_SERVER", server.url())
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        cmd.env("DOCKER_HOST", host);
    }
    cmd
}
