//! `cluster::current`, `cluster::context` and the any-cluster `Cluster` and `Node` types:
//! the cluster of a kubeconfig context, whatever made it, with the same surface as kind's
//! (`nodes()`, `node(…)`, `control_plane()`, `node.exec(…)`, `node.host_veth(pod)`). kind's
//! nodes keep the Docker path; other nodes are reached through a debug pod
//! (`labsh_core::node`).

use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::errors::{Script, ScriptResult, error};
use crate::kube::typed::Pod;
use crate::node::cluster::{AccessMode, AnyCluster};
use crate::node::debug_pod::{DebugPodConfig, default_image};
use crate::node::veth::PodRef;
use crate::node::{ClusterNode, NodeAccess};
use crate::options::Opts;
use crate::primitives::{Family, Registry};

/// `cluster::current`, `cluster::context` and their types.
pub const FAMILY: Family = Family {
    name: "cluster",
    summary: "any context's cluster (cluster::current, context): nodes from the API, reached through Docker or a node debug pod",
    register,
};

/// `cluster::current`'s and `cluster::context`'s options (also `crate::checker::options`).
pub(crate) const OPTS: &[&str] = &["image", "namespace", "access"];

const CURRENT_DOC: &str = r#"The cluster of the context `kube::` uses (the kubeconfig's current context unless
`kube::use_context`/`cluster::context` chose another), whatever made it: kind, minikube, k3s,
a cloud, a real cluster. Its `nodes()` come from the API server. kind's nodes are reached
through Docker as `cluster::get` does; every other node through a **debug pod**: a
privileged pod with `hostNetwork` and `hostPID`, pinned to the node, made on first use,
reused by the run, deleted at its end (also on a script error or Ctrl-C). Options: `image`
(the debug pod's image, default `LABSH_NODE_IMAGE` or `docker.io/nicolaka/netshoot:v0.13`:
it needs `sh`, `kill`, `ip` and `tcpdump`), `namespace` (of the debug pods; the context's
default), `access` (`"auto"`, `"docker"`: kind's path or an error, `"pod"`: a debug pod even
for kind nodes).

```rhai
let c = cluster::current();
for n in c.nodes() {
    print(`${n.name} ${n.role} ${n.ip} ${n.pod_cidr} ready=${n.ready}`);
}
```"#;

const CONTEXT_DOC: &str = r#"The cluster of kubeconfig context `name`, which becomes the context `kube::` uses (as
`kube::use_context(name)`). Same options as `cluster::current`.

```rhai
let c = cluster::context("minikube");
print(c.nodes().len());
```"#;

const NODES_DOC: &str = r#"The cluster's nodes from its API server, control-plane first, then by name. Each `Node`
has `name`, `ip` (its InternalIP), `role` (`"control-plane"` or `"worker"`), `roles` (from its
`node-role.kubernetes.io/ROLE` labels, as `kubectl get nodes` shows them), `pod_cidr`, `ready`,
`cluster` (the context) and `access` (`"docker"` or `"debug-pod"`).

```rhai
for n in cluster::current().nodes() { print(n.name + " " + n.ip); }
```"#;

const EXEC_DOC: &str = r#"Runs a command on the node from an argument vector and returns `#{code, signal, stdout, stderr}`;
a non-zero exit is not an error. On a kind node it runs in the node container (`docker
exec`); on any other node in the node's debug pod: the node's network namespace and
processes, the debug image's programs (`ip`, `ss`, `tcpdump`, `ps`). Option `timeout`: the
command is killed in the node when it runs out (and on Ctrl-C), then this is an error.

```rhai
let n = cluster::current().nodes()[0];
print(n.exec(["ip", "-o", "link"]).stdout);
n.exec(["sleep", "60"], #{timeout: "2s"}); // error after 2s, nothing left running
```"#;

const EXEC_STREAM_DOC: &str = r#"Runs a command on the node (as `node.exec`) and calls `callback` with each line of its
standard output as it arrives; the callback returns `false` to stop the command. Stopping —
by the callback, `timeout`, an error or Ctrl-C — ends the process in the node. Returns
`#{code, stderr, stopped}` (`code` is `()` when a debug pod's command was stopped).

```rhai
let n = cluster::current().nodes()[0];
n.exec_stream(["ip", "monitor", "link"], #{timeout: "30s"}, |line| !line.contains("lxc"));
```"#;

const HOST_VETH_POD_DOC: &str = r#"The pod's interface on the node's side (the node must be the pod's): the `lxc…`/`cali…`
device its route goes through, else the peer of the pod's `eth0` (read from
`/sys/class/net/eth0/iflink` in the pod, so the pod needs `cat`). Captures on it see the
pod's own traffic.

```rhai
let pod = kube::pods(#{selector: "tier=frontend"})[0];
let node = cluster::current().node(pod.node);
print(node.host_veth(pod));   // e.g. veth3f2c1a9 or lxc1a2b3c
```"#;

const HOST_VETH_DOC: &str = r#"The host-side veth of a kind node's `eth0` (see `cluster::node`); other nodes have
no interface on this host: this is an error saying so (`host_veth(pod)` finds a pod's).

```rhai
let n = cluster::current().control_plane();
if n.access == "docker" { print(n.host_veth()); }
```"#;

fn debug_config(func: &str, o: &Opts) -> ScriptResult<(AccessMode, DebugPodConfig)> {
    let mode = match o.string("access")? {
        Some(a) => AccessMode::parse(&a).map_err(|e| error(format!("{func}: {e}")))?,
        None => AccessMode::Auto,
    };
    let image = match o.string("image")? {
        Some(i) if i.trim().is_empty() => {
            return Err(error(format!("{func}: option `image` is empty")));
        }
        Some(i) => i,
        None => default_image(),
    };
    Ok((
        mode,
        DebugPodConfig {
            image,
            namespace: o.string("namespace")?,
        },
    ))
}

fn current(ctx: &Ctx, func: &str, opts: Map) -> ScriptResult<AnyCluster> {
    let o = Opts::new(func, opts, OPTS)?;
    let (mode, config) = debug_config(func, &o)?;
    ctx.block_on(AnyCluster::current(ctx, mode, config))
        .script()?
        .script()
}

fn nodes(ctx: &Ctx, c: &AnyCluster) -> ScriptResult<Vec<ClusterNode>> {
    ctx.explain(&["kubectl", "get", "nodes", "-o", "wide"]);
    ctx.block_on(c.nodes(ctx)).script()?.script()
}

fn describe_node(n: &ClusterNode) -> String {
    format!(
        "Node({} {} {})",
        n.info.name,
        n.info.role(),
        n.info.internal_ip
    )
}

/// Registers `cluster::current`, `cluster::context` and the any-cluster types.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let m = "cluster";
    let c = ctx.clone();
    reg.func(m, "current", &["Cluster"], CURRENT_DOC, move || {
        current(&c, "cluster::current", Map::new())
    });
    let c = ctx.clone();
    reg.func(
        m,
        "current",
        &["opts: Map", "Cluster"],
        CURRENT_DOC,
        move |opts: Map| current(&c, "cluster::current", opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "context",
        &["name: String", "Cluster"],
        CONTEXT_DOC,
        move |name: &str| {
            crate::kube::use_context(&c, name);
            current(&c, "cluster::context", Map::new())
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "context",
        &["name: String", "opts: Map", "Cluster"],
        CONTEXT_DOC,
        move |name: &str, opts: Map| {
            crate::kube::use_context(&c, name);
            current(&c, "cluster::context", opts)
        },
    );
    register_cluster_type(reg, ctx);
    register_node_type(reg, ctx);
}

fn register_cluster_type(reg: &mut Registry, ctx: &Ctx) {
    reg.engine()
        .register_type_with_name::<AnyCluster>("Cluster")
        .register_get("name", |c: &mut AnyCluster| c.context.clone())
        .register_get("context", |c: &mut AnyCluster| c.context.clone())
        .register_get("server", |c: &mut AnyCluster| c.server.clone())
        .register_fn("to_string", |c: &mut AnyCluster| {
            format!("Cluster({} at {})", c.context, c.server)
        })
        .register_fn("to_debug", |c: &mut AnyCluster| {
            format!("Cluster({} at {})", c.context, c.server)
        });
    let c = ctx.clone();
    reg.method(
        "nodes",
        &["cluster: Cluster", "Array"],
        NODES_DOC,
        move |cl: &mut AnyCluster| -> ScriptResult<Array> {
            Ok(nodes(&c, cl)?.into_iter().map(Dynamic::from).collect())
        },
    );
    let c = ctx.clone();
    reg.method(
        "node",
        &["cluster: Cluster", "index: INT", "Node"],
        "The cluster's node number `index` (control-plane first, then by name).\n\n```rhai\nlet n = cluster::current().node(0);\n```",
        move |cl: &mut AnyCluster, index: i64| -> ScriptResult<ClusterNode> {
            let all = nodes(&c, cl)?;
            let len = all.len();
            usize::try_from(index)
                .ok()
                .and_then(|i| all.into_iter().nth(i))
                .ok_or_else(|| {
                    error(format!(
                        "context `{}` has {len} nodes: index {index} is out of range",
                        cl.context
                    ))
                })
        },
    );
    let c = ctx.clone();
    reg.method(
        "node",
        &["cluster: Cluster", "name: String", "Node"],
        "The cluster's node `name`; an unknown name is an error listing the nodes.\n\n```rhai\nlet n = cluster::current().node(\"worker-1\");\n```",
        move |cl: &mut AnyCluster, name: &str| -> ScriptResult<ClusterNode> {
            c.explain(&["kubectl", "get", "node", name, "-o", "wide"]);
            c.block_on(cl.node(&c, name)).script()?.script()
        },
    );
    let c = ctx.clone();
    reg.method(
        "control_plane",
        &["cluster: Cluster", "Node"],
        "The cluster's first control-plane node (a node with role `control-plane` or `master`).\n\n```rhai\nprint(cluster::current().control_plane().ip);\n```",
        move |cl: &mut AnyCluster| -> ScriptResult<ClusterNode> {
            nodes(&c, cl)?
                .into_iter()
                .find(|n| n.info.role() == "control-plane")
                .ok_or_else(|| {
                    error(format!(
                        "context `{}` has no node with a control-plane role label (node-role.kubernetes.io/control-plane or …/master); managed clusters often hide their control plane",
                        cl.context
                    ))
                })
        },
    );
}

fn register_node_type(reg: &mut Registry, ctx: &Ctx) {
    reg.engine()
        .register_type_with_name::<ClusterNode>("Node")
        .register_get("name", |n: &mut ClusterNode| n.info.name.clone())
        .register_get("ip", |n: &mut ClusterNode| n.info.internal_ip.clone())
        .register_get("role", |n: &mut ClusterNode| n.info.role().to_string())
        .register_get("roles", |n: &mut ClusterNode| -> Array {
            n.info.roles.iter().cloned().map(Dynamic::from).collect()
        })
        .register_get("pod_cidr", |n: &mut ClusterNode| n.info.pod_cidr.clone())
        .register_get("ready", |n: &mut ClusterNode| n.info.ready)
        .register_get("cluster", |n: &mut ClusterNode| n.context.clone())
        .register_get("access", |n: &mut ClusterNode| n.access.kind().to_string())
        .register_fn("to_string", |n: &mut ClusterNode| describe_node(n))
        .register_fn("to_debug", |n: &mut ClusterNode| describe_node(n))
        .register_fn("==", |a: &mut ClusterNode, b: ClusterNode| *a == b);
    super::exec::register::<ClusterNode>(
        reg,
        ctx,
        super::exec::ExecDocs {
            exec: EXEC_DOC,
            exec_stream: EXEC_STREAM_DOC,
        },
    );
    let c = ctx.clone();
    reg.method(
        "host_veth",
        &["node: Node", "pod: Pod", "String"],
        HOST_VETH_POD_DOC,
        move |node: &mut ClusterNode, pod: Pod| pod_veth(&c, node, &pod),
    );
    let c = ctx.clone();
    reg.method(
        "host_veth",
        &["node: Node", "String"],
        HOST_VETH_DOC,
        move |node: &mut ClusterNode| -> ScriptResult<String> {
            match &node.access {
                NodeAccess::Docker(d) => crate::primitives::cluster::nodes::host_veth(&c, d),
                NodeAccess::DebugPod(_) => Err(error(format!(
                    "node {} is not a container of this host: it has no host-side veth here; node.host_veth(pod) finds a pod's interface in the node, and tcpdump::start(node) captures in it",
                    node.info.name
                ))),
            }
        },
    );
    // kind's Docker-side nodes find a pod's interface the same way.
    let c = ctx.clone();
    reg.method(
        "host_veth",
        &["node: Node", "pod: Pod", "String"],
        HOST_VETH_POD_DOC,
        move |node: &mut crate::docker::Node, pod: Pod| {
            pod_veth(&c, &ClusterNode::of_kind(node), &pod)
        },
    );
}

/// `node.host_veth(pod)`.
fn pod_veth(ctx: &Ctx, node: &ClusterNode, pod: &Pod) -> ScriptResult<String> {
    // The lookup explains each of its commands (`kubectl debug node/…`, `kubectl exec`).
    let token = ctx.cancel_token();
    // Not `ctx.block_on`: on Ctrl-C the lookup stops its commands itself before returning.
    ctx.runtime()
        .block_on(crate::node::veth::pod_host_veth(
            ctx,
            node,
            &PodRef::of(pod),
            &token,
        ))
        .script()
}
