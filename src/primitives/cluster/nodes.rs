//! `cluster::nodes`, `cluster::node`, `cluster::control_plane` and the `Node` type's methods
//! (`host_veth`; `exec` and `exec_stream` through [`super::exec`], shared with any
//! cluster's nodes): a kind cluster's nodes seen from Docker. (The kind
//! family, [`super::kind`], adds the lifecycle functions to the same `cluster` module.)

use crate::errors::Script;
use rhai::{Array, Dynamic};

use crate::context::Ctx;
use crate::docker::Node;
use crate::errors::{ScriptResult, error};
use crate::primitives::{Family, Registry};
use crate::records::{NODE, NODE_FIELDS};

/// `cluster::nodes` and `Node`.
pub const FAMILY: Family = Family {
    name: "cluster",
    summary: "kind nodes as Docker containers: discovery, exec, host-side veth",
    register,
};

const NODES_DOC: &str = r#"The nodes of kind cluster `name`, control-plane first, then by name. Each `Node` has
`name`, `role` (`"control-plane"`/`"worker"`), `ip` (its address on the cluster's Docker
network), `network`, `gateway` (the host's address on that network: the client address pods
see), `container_id` and `cluster`. An unknown cluster is an error listing the existing ones.

```rhai
for n in cluster::nodes("lab") {
    print(n.name + " " + n.role + " " + n.ip + " " + n.host_veth());
}
```"#;

const NODE_DOC: &str = r#"One node of kind cluster `name`, by its container name.

```rhai
let w = cluster::node("lab", "lab-worker2");
print(w.ip);
```"#;

const CONTROL_PLANE_DOC: &str = r#"The control-plane node of kind cluster `name`.

```rhai
let cp = cluster::control_plane("lab");
print(cp.ip + " via gateway " + cp.gateway);
```"#;

const EXEC_DOC: &str = r#"Runs a command inside the node container (`docker exec`) from an argument vector and
returns `#{code, signal, stdout, stderr}` (`signal`: `"SIGTERM"` for status 143, else `()`);
a non-zero exit is not an error. Option `timeout`: the
command is killed inside the container when it runs out (and on Ctrl-C), then this is an
error.

```rhai
let n = cluster::control_plane("lab");
let r = n.exec(["ip", "-4", "addr", "show", "eth0"]);
print(r.stdout);
let r = n.exec(["sleep", "60"], #{timeout: "2s"}); // error after 2s, nothing left running
```"#;

const EXEC_STREAM_DOC: &str = r#"Runs a command inside the node and calls `callback` with each line of its standard
output as it arrives; the callback returns `false` to stop the command (anything else goes
on). Stopping — by the callback, `timeout`, an error or Ctrl-C — ends the process inside the
container. Returns `#{code, stderr, stopped}`.

```rhai
let n = cluster::node("lab", "lab-worker");
let seen = [];
n.exec_stream(["sh", "-c", "for i in 1 2 3 4 5; do echo $i; sleep 1; done"], #{timeout: "30s"}, |line| {
    seen.push(line);
    line != "3"          // stop after the third line
});
```"#;

const HOST_VETH_DOC: &str = r#"The host-side veth of the node's `eth0` (its `iflink` inside the container is the
ifindex of that interface on the host): where the handout runs tcpdump.

```rhai
let n = cluster::node("lab", "lab-worker");
print(n.host_veth());   // e.g. veth3f2c1a9
```"#;

/// Registers the `cluster` node functions and the `Node` type.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let engine = reg.engine();
    engine.register_type_with_name::<Node>("Node");
    // `n.ip`, `n.name`, …: its serialised fields; another name is an error listing them.
    crate::records::register_fields::<Node>(engine, &NODE, NODE_FIELDS);
    engine.register_fn("to_string", |n: &mut Node| describe(n));
    engine.register_fn("to_debug", |n: &mut Node| describe(n));
    engine.register_fn("==", |a: &mut Node, b: Node| *a == b);

    let c = ctx.clone();
    reg.func(
        "cluster",
        "nodes",
        &["name: String", "Array"],
        NODES_DOC,
        move |name: &str| -> ScriptResult<Array> {
            Ok(crate::kind::cluster_nodes(&c, name)
                .script()?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        },
    );
    let c = ctx.clone();
    reg.func(
        "cluster",
        "node",
        &["name: String", "node_name: String", "Node"],
        NODE_DOC,
        move |name: &str, node_name: &str| -> ScriptResult<Node> {
            let nodes = crate::kind::cluster_nodes(&c, name).script()?;
            let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
            nodes
                .into_iter()
                .find(|n| n.name == node_name)
                .ok_or_else(|| {
                    error(format!(
                        "kind cluster {name:?} has no node {node_name:?}; its nodes: {}",
                        names.join(", ")
                    ))
                })
        },
    );
    let c = ctx.clone();
    reg.func(
        "cluster",
        "control_plane",
        &["name: String", "Node"],
        CONTROL_PLANE_DOC,
        move |name: &str| -> ScriptResult<Node> {
            crate::kind::cluster_nodes(&c, name)
                .script()?
                .into_iter()
                .find(|n| n.role == "control-plane")
                .ok_or_else(|| error(format!("kind cluster {name:?} has no control-plane node")))
        },
    );

    super::exec::register::<Node>(
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
        &["node: Node", "String"],
        HOST_VETH_DOC,
        move |node: &mut Node| -> ScriptResult<String> { host_veth(&c, node) },
    );
}

fn describe(n: &Node) -> String {
    format!("Node({} {} {})", n.name, n.role, n.ip)
}

/// The host-side veth of kind node `node`, for `Node.host_veth()` and a kind node's
/// `ClusterNode.host_veth()` (captures find it in the core): an error names the node.
pub(crate) fn host_veth(ctx: &Ctx, node: &Node) -> ScriptResult<String> {
    let token = ctx.cancel_token();
    ctx.block_on(crate::node::veth::kind_node_host_veth(ctx, node, &token))
        .script()?
        .script()
}
