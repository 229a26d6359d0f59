//! `cluster::nodes`, `cluster::node`, `cluster::control_plane` and the `Node` type's methods
//! (`exec`, `exec_stream`, `host_veth`): a kind cluster's nodes seen from Docker. (The kind
//! family, [`super::kind`], adds the lifecycle functions to the same `cluster` module.)

use crate::errors::Script;
use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use crate::context::Ctx;
use crate::docker::exec::{self, Chunk, ExecError, ExecProcess, LineSplitter};
use crate::docker::{Node, client};
use crate::errors::{ScriptErr, ScriptResult, error, interrupted};
use crate::options::Opts;
use crate::primitives::proc::argv_from;
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
returns `#{code, stdout, stderr}`; a non-zero exit is not an error. Option `timeout`: the
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

    let c = ctx.clone();
    reg.method(
        "exec",
        &["node: Node", "argv: Array", "Map"],
        EXEC_DOC,
        move |node: &mut Node, argv: Array| run_exec(&c, node, argv, Map::new()),
    );
    let c = ctx.clone();
    reg.method(
        "exec",
        &["node: Node", "argv: Array", "opts: Map", "Map"],
        EXEC_DOC,
        move |node: &mut Node, argv: Array, opts: Map| run_exec(&c, node, argv, opts),
    );
    let c = ctx.clone();
    reg.method(
        "exec_stream",
        &["node: Node", "argv: Array", "callback: FnPtr", "Map"],
        EXEC_STREAM_DOC,
        move |call: NativeCallContext, node: &mut Node, argv: Array, callback: FnPtr| {
            exec_stream(&c, &call, node, argv, Map::new(), callback)
        },
    );
    let c = ctx.clone();
    reg.method(
        "exec_stream",
        &[
            "node: Node",
            "argv: Array",
            "opts: Map",
            "callback: FnPtr",
            "Map",
        ],
        EXEC_STREAM_DOC,
        move |call: NativeCallContext, node: &mut Node, argv: Array, opts: Map, callback: FnPtr| {
            exec_stream(&c, &call, node, argv, opts, callback)
        },
    );
    let c = ctx.clone();
    reg.method(
        "host_veth",
        &["node: Node", "String"],
        HOST_VETH_DOC,
        move |node: &mut Node| -> ScriptResult<String> {
            read_host_veth(&c, node)?.map_err(exec_error)
        },
    );
}

fn describe(n: &Node) -> String {
    format!("Node({} {} {})", n.name, n.role, n.ip)
}

fn exec_error(e: ExecError) -> Box<rhai::EvalAltResult> {
    match e {
        ExecError::Interrupted => interrupted(),
        other => error(other.to_string()),
    }
}

fn run_exec(ctx: &Ctx, node: &Node, argv: Array, opts: Map) -> ScriptResult<Map> {
    let o = Opts::new("node.exec", opts, &["timeout"])?;
    let argv = argv_from("node.exec", &argv)?;
    let timeout = o.duration("timeout")?;
    let mut explain = vec!["docker".to_string(), "exec".to_string(), node.name.clone()];
    explain.extend(argv.iter().cloned());
    ctx.explain(&explain);
    let token = ctx.cancel_token();
    // Not `ctx.block_on`: on Ctrl-C, `exec::run` itself kills the command before returning.
    let out = ctx
        .runtime()
        .block_on(async {
            let docker = client::client(ctx).await?;
            exec::run(&docker, &node.container_id, &argv, timeout, &token).await
        })
        .map_err(|e| match e {
            ExecError::Interrupted => interrupted(),
            other => error(format!("{}: {other}", node.name)),
        })?;
    let mut m = Map::new();
    m.insert("code".into(), Dynamic::from_int(out.code));
    m.insert("stdout".into(), out.stdout.into());
    m.insert("stderr".into(), out.stderr.into());
    Ok(m)
}

enum Step {
    Chunk(Option<Result<Chunk, crate::docker::client::DockerError>>),
    TimedOut,
}

/// `node.exec_stream(…)` on a kind node (also for kind nodes found by `cluster::current`).
pub(crate) fn exec_stream(
    ctx: &Ctx,
    call: &NativeCallContext,
    node: &Node,
    argv: Array,
    opts: Map,
    callback: FnPtr,
) -> ScriptResult<Map> {
    let o = Opts::new("node.exec_stream", opts, &["timeout"])?;
    let argv = argv_from("node.exec_stream", &argv)?;
    let timeout = o.duration("timeout")?;
    let mut explain = vec!["docker".to_string(), "exec".to_string(), node.name.clone()];
    explain.extend(argv.iter().cloned());
    ctx.explain(&explain);
    let rt = ctx.runtime().clone();
    let mut process: ExecProcess = ctx
        .block_on(async {
            let docker = client::client(ctx).await?;
            ExecProcess::start(&docker, &node.container_id, &argv).await
        })
        .script()?
        .script_context(|| node.name.clone())?;
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut lines = LineSplitter::default();
    let mut stderr = Vec::new();
    let mut stopped = false;
    'outer: loop {
        let step = ctx.block_on(async {
            tokio::select! {
                _ = exec::sleep_until(deadline) => Step::TimedOut,
                n = process.next() => Step::Chunk(n),
            }
        });
        let stop_with = |process: &mut ExecProcess, e: Box<rhai::EvalAltResult>| {
            rt.block_on(process.stop("TERM"));
            Err(e)
        };
        let step = match step {
            Ok(s) => s,
            Err(_) => return stop_with(&mut process, interrupted()),
        };
        let new_lines = match step {
            Step::TimedOut => {
                let msg = format!(
                    "{}: `{}` timed out after {} and was stopped",
                    node.name,
                    process.command(),
                    crate::duration::format(timeout.unwrap_or_default())
                );
                return stop_with(&mut process, error(msg));
            }
            Step::Chunk(Some(Ok(Chunk::Stdout(b)))) => lines.push(&b),
            Step::Chunk(Some(Ok(Chunk::Stderr(b)))) => {
                stderr.extend_from_slice(&b);
                continue;
            }
            Step::Chunk(Some(Err(e))) => {
                return stop_with(&mut process, error(format!("{}: {e}", node.name)));
            }
            Step::Chunk(None) => lines.finish().into_iter().collect(),
        };
        let ended = process.ended();
        for line in new_lines {
            match callback.call_within_context::<Dynamic>(call, (line,)) {
                Ok(v) if v.as_bool().ok() == Some(false) => {
                    stopped = true;
                    rt.block_on(process.stop("TERM"));
                    break 'outer;
                }
                Ok(_) => {}
                Err(e) => return stop_with(&mut process, e),
            }
        }
        if ended {
            break;
        }
    }
    let code = rt
        .block_on(process.exit_code())
        .script_context(|| node.name.clone())?;
    let mut m = Map::new();
    m.insert("code".into(), Dynamic::from_int(code));
    m.insert(
        "stderr".into(),
        String::from_utf8_lossy(&stderr).into_owned().into(),
    );
    m.insert("stopped".into(), stopped.into());
    Ok(m)
}

/// The host-side veth of kind node `node`, read through Docker (the `docker exec` line is
/// explained); the outer error is the script's (Ctrl-C), the inner one Docker's.
fn read_host_veth(ctx: &Ctx, node: &Node) -> ScriptResult<Result<String, ExecError>> {
    ctx.explain(&[
        "docker",
        "exec",
        &node.name,
        "cat",
        "/sys/class/net/eth0/iflink",
    ]);
    let token = ctx.cancel_token();
    ctx.block_on(async {
        let docker = client::client(ctx).await.map_err(ExecError::from)?;
        crate::docker::veth::host_veth(&docker, &node.container_id, &token).await
    })
    .script()
}

/// The host-side veth of kind node `node`, for captures and `Node.host_veth(pod)`: an error
/// names the node.
pub(crate) fn host_veth(ctx: &Ctx, node: &Node) -> ScriptResult<String> {
    read_host_veth(ctx, node)?.map_err(|e| match e {
        ExecError::Interrupted => interrupted(),
        other => error(format!(
            "{}: finding its host-side veth: {other}",
            node.name
        )),
    })
}
