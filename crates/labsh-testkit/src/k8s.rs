//! The real Kubernetes 1.20 cluster of the test tier (`tests/k8s/cluster.sh`): one per test
//! process, of two nodes (the handout's topology: a NodePort called on one node reaches a pod
//! on the other), started on first use, shared by every test of the binary (each test works
//! in a namespace of its own), and taken down by `cluster.sh`'s watcher when the process
//! exits, however it exits.
//!
//! Without the cluster's prerequisites (root, Debian's etcd/containerd/CNI plugins, the
//! binaries built by `tests/k8s/build.sh`) tests print `skipping …` with the reason and pass;
//! with `LABSH_REQUIRE_K8S=1` (CI) they fail instead.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The running cluster.
pub struct RealCluster {
    pub dir: PathBuf,
    pub kubeconfig: PathBuf,
    /// A kubeconfig whose token has no rights (RBAC tests).
    pub kubeconfig_nobody: PathBuf,
    /// Debian's kubectl 1.20, the oracle (unpacked, never installed).
    pub kubectl: PathBuf,
    /// The first node's address (NodePorts answer there).
    pub node_ip: String,
    /// Every node, the first one first.
    pub nodes: Vec<RealNode>,
    /// The host's address on the cluster network (what a pod sees when nothing SNATs).
    pub host_ip: String,
}

/// One node of the cluster: its name, its address, its network namespace on the host.
pub struct RealNode {
    pub name: String,
    pub ip: String,
    pub netns: String,
}

/// How many nodes the shared cluster has.
pub const NODES: usize = 2;

use super::session;

pub const CONTEXT: &str = "labsh-test";

/// The repository's root (this crate is `crates/labsh-testkit`).
fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn required() -> bool {
    std::env::var("LABSH_REQUIRE_K8S").is_ok_and(|v| v == "1")
}

/// Why the cluster cannot run here, if it cannot.
fn missing() -> Option<String> {
    if !nix_is_root() {
        return Some("not root (network namespace, containerd, kubelet)".into());
    }
    for (tool, package) in [
        ("etcd", "etcd-server"),
        ("containerd", "containerd"),
        ("iptables", "iptables"),
        ("openssl", "openssl"),
        ("docker", "docker.io"),
    ] {
        if !on_path(tool) {
            return Some(format!("no {tool} on PATH (apt-get install {package})"));
        }
    }
    let cached = Command::new(repo().join("tests/k8s/build.sh"))
        .arg("--cached")
        .output();
    match cached {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Some(format!("cannot run tests/k8s/build.sh: {e}")),
    }
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

static CLUSTER: OnceLock<Result<RealCluster, String>> = OnceLock::new();

/// The shared cluster, started on first use; `None` (after printing why) when it cannot
/// run here and `LABSH_REQUIRE_K8S` is not set.
pub fn cluster(test: &str) -> Option<&'static RealCluster> {
    let result = CLUSTER.get_or_init(|| match missing() {
        Some(why) => Err(why),
        None => start().map_err(|e| format!("the cluster did not start: {e}")),
    });
    match result {
        Ok(c) => Some(c),
        Err(why) if required() => panic!("{test}: the real Kubernetes tier is required: {why}"),
        Err(why) => {
            eprintln!("skipping {test}: {why}");
            None
        }
    }
}

fn start() -> Result<RealCluster, String> {
    up(PathBuf::from(format!(
        "/var/tmp/labsh-k8s-run-{}",
        std::process::id()
    )))
}

/// A cluster of its own for a test that breaks it (kills its API server): other folder,
/// names, ports and addresses than the shared one; owned by this process like it. `None`
/// (after printing why) when the tier cannot run here and is not required. Take it down
/// with [`RealCluster::down`].
pub fn throwaway(test: &str) -> Option<RealCluster> {
    // Only the prerequisites: the shared cluster is not started for it.
    if let Some(why) = missing() {
        assert!(
            !required(),
            "{test}: the real Kubernetes tier is required: {why}"
        );
        eprintln!("skipping {test}: {why}");
        return None;
    }
    let dir = PathBuf::from(format!(
        "/var/tmp/labsh-k8s-{}-{}",
        test.chars().take(20).collect::<String>(),
        std::process::id()
    ));
    match up(dir) {
        Ok(c) => Some(c),
        Err(e) => panic!("{test}: {e}"),
    }
}

fn up(dir: PathBuf) -> Result<RealCluster, String> {
    let out = Command::new(repo().join("tests/k8s/cluster.sh"))
        .arg("up")
        .arg(&dir)
        .arg("--nodes")
        .arg(NODES.to_string())
        .arg("--owner")
        .arg(std::process::id().to_string())
        .output()
        .map_err(|e| format!("cannot run tests/k8s/cluster.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tests/k8s/cluster.sh up failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let env = std::fs::read_to_string(dir.join("env")).map_err(|e| e.to_string())?;
    let var = |name: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_string)
            .ok_or_else(|| format!("{name} missing from {}/env", dir.display()))
    };
    let count: usize = var("LABSH_K8S_NODES")?
        .parse()
        .map_err(|e| format!("LABSH_K8S_NODES: {e}"))?;
    let mut nodes = vec![];
    for i in 1..=count {
        // Node 1's variables have no suffix (the one-node names), the others `_I`.
        let suffix = if i == 1 {
            String::new()
        } else {
            format!("_{i}")
        };
        nodes.push(RealNode {
            name: var(&format!("LABSH_K8S_NODE{suffix}"))?,
            ip: var(&format!("LABSH_K8S_NODE_IP{suffix}"))?,
            netns: var(&format!("LABSH_K8S_NETNS{suffix}"))?,
        });
    }
    Ok(RealCluster {
        kubeconfig: dir.join("kubeconfig"),
        kubeconfig_nobody: dir.join("kubeconfig-nobody"),
        kubectl: PathBuf::from(var("LABSH_K8S_KUBECTL")?),
        node_ip: var("LABSH_K8S_NODE_IP")?,
        host_ip: var("LABSH_K8S_HOST_IP")?,
        nodes,
        dir,
    })
}

impl RealCluster {
    /// Stops the cluster and removes everything it made (`cluster.sh down`).
    pub fn down(&self) {
        let out = Command::new(repo().join("tests/k8s/cluster.sh"))
            .arg("down")
            .arg(&self.dir)
            .output()
            .expect("run tests/k8s/cluster.sh down");
        assert!(
            out.status.success(),
            "cluster.sh down: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The pid of one of its processes (`kube-apiserver`, `etcd`, …).
    pub fn pid_of(&self, name: &str) -> i32 {
        let f = self.dir.join("pids").join(format!("{name}.pid"));
        std::fs::read_to_string(&f)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()))
    }

    /// A labsh session on the cluster as its admin.
    pub fn session(&self) -> labsh::Session {
        session::labsh_session(&self.kubeconfig, CONTEXT)
    }

    /// A labsh session whose token has no rights.
    pub fn nobody_session(&self) -> labsh::Session {
        session::labsh_session(&self.kubeconfig_nobody, CONTEXT)
    }

    /// A fresh namespace for one test (`t-NAME-N`), created with kubectl, returned once its
    /// `default` service account has its token: until then the API server refuses a bare pod
    /// ("No API token found for service account \"default\""), which a Deployment's
    /// controller would retry but a test's `kube::apply` of a Pod does not.
    pub fn namespace(&self, test: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let ns = format!(
            "t-{}-{}",
            test.replace('_', "-")
                .chars()
                .take(40)
                .collect::<String>()
                .trim_end_matches('-'),
            N.fetch_add(1, Ordering::Relaxed)
        );
        self.kubectl_ok(&["create", "namespace", &ns]);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (_, token, _) = self.kubectl(&[
                "-n",
                &ns,
                "get",
                "serviceaccount",
                "default",
                "-o",
                "jsonpath={.secrets[0].name}",
            ]);
            if !token.trim().is_empty() {
                return ns;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "namespace {ns}: the default service account has no token after 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Runs Debian's kubectl 1.20 against the cluster: (exit success, stdout, stderr).
    pub fn kubectl(&self, args: &[&str]) -> (bool, String, String) {
        // A discovery cache of its own: kubectl 1.20 trusts its cache for 10 minutes and
        // would not know a CRD another test just applied.
        let cache = tempfile::tempdir().expect("a kubectl cache dir");
        let out = Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(cache.path())
            .args(args)
            .output()
            .expect("run kubectl");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// kubectl that must succeed; its stdout.
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.kubectl(args);
        assert!(ok, "kubectl {args:?} failed:\n{err}");
        out
    }

    /// A file of the repository.
    pub fn repo_file(&self, rel: &str) -> PathBuf {
        repo().join(rel)
    }
}
