//! The rehearsal's world: the Docker stand-in kind cluster (real containers of the test image,
//! labelled like kind nodes), the loopback test API server (a test double of Kubernetes'), the
//! kind/helm stand-ins first on PATH, and a controller thread that plays what the cluster's
//! controllers would do when the script acts. `World::run` runs the real `labsh` binary on the
//! unmodified `scripts/tp12.rhai` in that world.
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

use crate::apiserver::{ExecRequest, TestApiServer};
use crate::cluster::StandInKindCluster;
use crate::cluster_state::{self, NodeInfo};
use crate::datapath;
use crate::env;
use crate::standins::Lab;

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

impl World {
    /// Four stand-in nodes (a control-plane and three workers) and an API server showing them
    /// NotReady, as right after `kind create cluster`. The frontend will run on `<name>-worker`.
    /// `None` when Docker is not here (after printing why; a failure with
    /// LABSH_REQUIRE_DOCKER=1).
    pub fn new(test: &str) -> Option<World> {
        let engine = env::engine(test)?;
        let cluster = StandInKindCluster::create(&engine.docker, &engine.image, 3)
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
        let pod_node = nodes[1].clone();
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
            let (pod_ip, client) = (pod_node.ip.clone(), gateway.clone());
            server.on_exec(move |req| {
                log.lock().unwrap().push(req.clone());
                let node_ip = by_pod
                    .iter()
                    .find(|(a, _)| *a == req.pod)
                    .map(|(_, ip)| ip.as_str())
                    .unwrap_or_default();
                cluster_state::agent_exec(req, node_ip, &pod_ip, &client)
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
        let shared = Arc::new(Shared {
            server: server.clone(),
            docker: engine.docker.clone(),
            nodes: nodes.clone(),
            pod_node,
            standin_dir: lab.standin_dir(),
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

    /// The node the frontend runs on, and the frontend pod's IP (the node's).
    pub fn pod_node(&self) -> &NodeInfo {
        &self.shared.pod_node
    }

    /// As if the lab had run up to `app` before: kind knows the cluster, the kubeconfig has
    /// its context, Cilium and the frontend run, the NodePort (the handout's 32150) is served.
    pub fn with_lab_up_to_app(self) -> World {
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

    /// Makes `node`'s NodePort answer one byte a second, so a request to it takes long
    /// enough to interrupt the step that sends it.
    pub fn stall_node_port(&self, node: &NodeInfo, node_port: i64) {
        env::runtime()
            .block_on(datapath::stall_node_port(
                &self.shared.docker,
                node,
                node_port,
            ))
            .unwrap_or_else(|e| panic!("{e}"));
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

/// Whether the helm stand-in recorded an `upgrade` (the chart "installed").
fn helm_upgraded(standin_dir: &Path) -> bool {
    std::fs::read(standin_dir.join("calls.log"))
        .map(|b| {
            let text = String::from_utf8_lossy(&b);
            text.contains("helm\0") && text.contains("\0upgrade\0")
        })
        .unwrap_or(false)
}

/// Programs the NodePort on the nodes, then runs the frontend pod (so a rollout that is
/// complete means the NodePort answers).
fn deploy_frontend(shared: &Shared, node_port: i64) -> Result<(), String> {
    env::runtime().block_on(datapath::program_node_port(
        &shared.docker,
        &shared.nodes,
        &shared.pod_node.name,
        &shared.pod_node.ip,
        node_port,
    ))?;
    cluster_state::run_frontend(&shared.server, &shared.pod_node, &shared.pod_node.ip);
    Ok(())
}

/// The controllers' part, every 200 ms: Cilium's pods once helm ran; the frontend pod and
/// the NodePort once the Deployment and Service exist; the pod's log (its node's nginx access
/// log) copied into the API server as it grows.
fn controllers(shared: &Shared) {
    let mut cilium = shared
        .server
        .get("apps/v1", "DaemonSet", Some("kube-system"), "cilium")
        .is_some();
    let mut forwarded = 0usize;
    let fail = |e: String| shared.errors.lock().unwrap().push(e);
    while !shared.stop.load(Ordering::SeqCst) {
        if !cilium && helm_upgraded(&shared.standin_dir) {
            cluster_state::install_cilium(&shared.server, &shared.nodes);
            cilium = true;
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
        let running = shared
            .server
            .get("v1", "Pod", Some("default"), cluster_state::FRONTEND_POD)
            .is_some();
        if running {
            match env::runtime()
                .block_on(datapath::access_log(&shared.docker, &shared.pod_node.name))
            {
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
        std::thread::sleep(Duration::from_millis(200));
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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsh"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(flags)
        .args(["run", "scripts/tp12.rhai", "--"])
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
