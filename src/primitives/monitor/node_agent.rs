//! `monitor::start`/`monitor::capture` on a Cilium agent that runs on the node itself, not as
//! a pod: the agent process is found from the node's debug pod (its network namespace, its
//! processes), and the monitor program runs in the agent's mount namespace
//! (`labsh_core::monitor::node_source`). Which program it is (`cilium-dbg`, `cilium`) is
//! probed once per agent process and cached for the session.

use std::collections::HashMap;
use std::sync::Mutex;

use rhai::Dynamic;

use super::feed::Feed;
use crate::context::Ctx;
use std::future::Future;

use crate::errors::Script;
use crate::monitor::MonitorArgs;
use crate::monitor::node_source::{self, NodeAgent};
use crate::node::cluster::AccessMode;
use crate::node::debug_pod::DebugPodConfig;
use crate::node::pod_process::PodProcess;
use crate::node::{AnyCluster, ClusterNode, NodeAccess};

/// The monitor program found for each agent process (`context/node/pid` → path).
#[derive(Default)]
struct ProgramCache(Mutex<HashMap<String, String>>);

/// Why the node's agent could not be followed.
pub enum NodeAgentError {
    /// The script was interrupted (Ctrl-C): passed on as it is.
    Interrupted(Box<rhai::EvalAltResult>),
    /// What was missing or failed, in words (no primitive name).
    Message(String),
}

type Found<T> = Result<T, NodeAgentError>;

/// A message error.
fn why(e: impl std::fmt::Display) -> NodeAgentError {
    NodeAgentError::Message(e.to_string())
}

/// Runs `fut` on the session's runtime; Ctrl-C is [`NodeAgentError::Interrupted`].
fn block<T, E: std::fmt::Display>(ctx: &Ctx, fut: impl Future<Output = Result<T, E>>) -> Found<T> {
    ctx.block_on(fut)
        .script()
        .map_err(NodeAgentError::Interrupted)?
        .map_err(why)
}

/// The node `target` names (`node` is its name), reached the way `cluster::current()`
/// reaches it: a `Node` of `cluster::current()` as it is, anything else looked up in the
/// context `kube::` uses.
fn cluster_node(ctx: &Ctx, target: &Dynamic, node: &str) -> Found<ClusterNode> {
    if let Some(n) = target.read_lock::<ClusterNode>() {
        return Ok(n.clone());
    }
    block(ctx, async {
        AnyCluster::current(ctx, AccessMode::Auto, DebugPodConfig::default())
            .await?
            .node(ctx, node)
            .await
    })
}

/// Finds the agent process on node `node` (`target` names it), its monitor program, and
/// starts `args`' monitor there, in the node's debug pod.
pub fn launch(ctx: &Ctx, target: &Dynamic, node: &str, args: &MonitorArgs) -> Found<Feed> {
    let node = cluster_node(ctx, target, node)?;
    if let NodeAccess::Docker(_) = node.access {
        return Err(why(format!(
            "no Cilium agent pod on kind node {}: on kind, Cilium's agents run as pods",
            node.name()
        )));
    }
    let pod = block(ctx, crate::node::exec::debug_pod_of(ctx, &node))?;
    let agent = find_agent(ctx, &node)?;
    let program = program_of(ctx, &node, &agent)?;
    let argv = node_source::monitor_argv(&agent, &program, args);
    ctx.explain(&crate::node::exec::explain(&node, &argv));
    let process = block(ctx, PodProcess::start(ctx, &pod, &argv))?;
    let name = format!(
        "{program} monitor on {} (cilium-agent pid {})",
        node.name(),
        agent.pid
    );
    Ok(Feed::start(ctx, process, name))
}

/// Runs `argv` on `node` to completion (bounded by the probe timeout).
fn run(ctx: &Ctx, node: &ClusterNode, argv: &[String]) -> Found<(i64, String)> {
    ctx.explain(&crate::node::exec::explain(node, argv));
    let cancel = ctx.session_token();
    let out = block(
        ctx,
        crate::node::exec::run(
            ctx,
            node,
            argv,
            Some(node_source::PROBE_TIMEOUT),
            &cancel,
            crate::docker::exec::SMALL_OUTPUT,
        ),
    )?;
    Ok((out.code, out.stdout))
}

/// The `cilium-agent` process of `node`'s network namespace.
fn find_agent(ctx: &Ctx, node: &ClusterNode) -> Found<NodeAgent> {
    let (_, stdout) = run(ctx, node, &node_source::find_argv())?;
    node_source::agent_from_find(node.name(), &stdout).map_err(why)
}

/// The monitor program of `agent`, probed once per agent process.
fn program_of(ctx: &Ctx, node: &ClusterNode, agent: &NodeAgent) -> Found<String> {
    let key = format!("{}/{}/{}", node.context, node.name(), agent.pid);
    let cache = ctx.ext::<ProgramCache>();
    if let Some(p) = cache.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(p.clone());
    }
    let (code, stdout) = run(ctx, node, &node_source::program_probe(agent))?;
    let program =
        node_source::program_from_probe(node.name(), agent, &stdout, code).map_err(why)?;
    cache
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, program.clone());
    Ok(program)
}
