//! `node.exec(…)` and `node.exec_stream(…)` for every node type a script holds: kind's `Node`
//! (from `cluster::nodes`/`node`/`control_plane`) and any cluster's `Node` (from
//! `cluster::current().nodes()`). One registration ([`register`]) over [`ExecNode`]; a kind
//! node runs as any cluster's node reached through Docker ([`ClusterNode::of_kind`]), so
//! both go through one `exec` and one `exec_stream`, which pick the way in: `docker exec`
//! for a container node, an exec in the node's debug pod otherwise.

use std::borrow::Cow;

use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use crate::context::Ctx;
use crate::docker::exec::{Chunk, ExecProcess, LineSplitter};
use crate::errors::{IntoScript, Script, ScriptErr, ScriptResult, error, interrupted};
use crate::kube::exec::ExecLine;
use crate::node::{ClusterNode, NodeAccess, NodeError, exec};
use crate::options::Opts;
use crate::output_budget::OutputBudget;
use crate::primitives::Registry;
use crate::primitives::proc::argv_from;

/// A node type scripts run commands on.
pub(crate) trait ExecNode: Clone + Send + Sync + 'static {
    /// The node as any cluster's node (kind's: reached through Docker).
    fn cluster_node(&self) -> Cow<'_, ClusterNode>;
}

impl ExecNode for ClusterNode {
    fn cluster_node(&self) -> Cow<'_, ClusterNode> {
        Cow::Borrowed(self)
    }
}

impl ExecNode for crate::docker::Node {
    fn cluster_node(&self) -> Cow<'_, ClusterNode> {
        Cow::Owned(ClusterNode::of_kind(self))
    }
}

/// The doc comments of one node type's `exec` and `exec_stream`.
pub(crate) struct ExecDocs {
    pub exec: &'static str,
    pub exec_stream: &'static str,
}

/// Registers `exec(argv[, opts])` and `exec_stream(argv[, opts], callback)` on node type `N`.
pub(crate) fn register<N: ExecNode>(reg: &mut Registry, ctx: &Ctx, docs: ExecDocs) {
    let c = ctx.clone();
    reg.method(
        "exec",
        &["node: Node", "argv: Array", "Map"],
        docs.exec,
        move |node: &mut N, argv: Array| run(&c, &node.cluster_node(), argv, Map::new()),
    );
    let c = ctx.clone();
    reg.method(
        "exec",
        &["node: Node", "argv: Array", "opts: Map", "Map"],
        docs.exec,
        move |node: &mut N, argv: Array, opts: Map| run(&c, &node.cluster_node(), argv, opts),
    );
    let c = ctx.clone();
    reg.method(
        "exec_stream",
        &["node: Node", "argv: Array", "callback: FnPtr", "Map"],
        docs.exec_stream,
        move |call: NativeCallContext, node: &mut N, argv: Array, callback: FnPtr| {
            stream(&c, &call, &node.cluster_node(), argv, Map::new(), callback)
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
        docs.exec_stream,
        move |call: NativeCallContext, node: &mut N, argv: Array, opts: Map, callback: FnPtr| {
            stream(&c, &call, &node.cluster_node(), argv, opts, callback)
        },
    );
}

/// The options of `node.exec` and `node.exec_stream`.
pub(crate) const EXEC_OPTS: &[&str] = &["timeout"];

/// `node.exec(argv, opts)`: `#{code, signal, stdout, stderr}`.
fn run(ctx: &Ctx, node: &ClusterNode, argv: Array, opts: Map) -> ScriptResult<Map> {
    let o = Opts::new("node.exec", opts, EXEC_OPTS)?;
    let argv = argv_from("node.exec", &argv)?;
    let timeout = o.duration("timeout")?;
    ctx.explain(&exec::explain(node, &argv));
    let token = ctx.cancel_token();
    // stdout and stderr count together against the string limit (they share one map).
    let limits = ctx.settings().limits;
    // Not `ctx.block_on`: on Ctrl-C, `exec::run` itself stops the command before returning.
    let mut out = ctx
        .runtime()
        .block_on(exec::run(
            ctx,
            node,
            &argv,
            timeout,
            &token,
            limits.string_bytes(),
        ))
        .map_err(|e| match e {
            // Docker's own words do not say which node.
            NodeError::Docker(d) => error(format!("node {}: {d}", node.name())),
            other => other.into_script(),
        })?;
    // The map's signal counts against the limit too.
    let signal = crate::exit_signal::signal_of_exit(out.code);
    let cut = crate::primitives::output_fit::fit_beside(
        &mut out.stdout,
        &mut out.stderr,
        signal.map_or(0, str::len),
        limits.string_bytes(),
    );
    if out.truncated || cut {
        ctx.output().eprintln(&limits.string_note(
            "node.exec",
            &format!(
                "kept the first {} bytes of the output of `{}` on node {}{}",
                out.stdout.len() + out.stderr.len(),
                crate::shell::join(&argv),
                node.name(),
                if out.truncated {
                    ", then stopped it"
                } else {
                    ""
                }
            ),
        ));
    }
    let mut m = Map::new();
    m.insert("code".into(), Dynamic::from_int(out.code));
    m.insert("signal".into(), signal.map_or(Dynamic::UNIT, Dynamic::from));
    m.insert("stdout".into(), out.stdout.into());
    m.insert("stderr".into(), out.stderr.into());
    Ok(m)
}

/// `node.exec_stream(argv, opts, callback)`: `#{code, stderr, stopped}`.
fn stream(
    ctx: &Ctx,
    call: &NativeCallContext,
    node: &ClusterNode,
    argv: Array,
    opts: Map,
    callback: FnPtr,
) -> ScriptResult<Map> {
    let o = Opts::new("node.exec_stream", opts, EXEC_OPTS)?;
    let argv = argv_from("node.exec_stream", &argv)?;
    let timeout = o.duration("timeout")?;
    ctx.explain(&exec::explain(node, &argv));
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let timed_out = |command: &str| {
        error(format!(
            "node {}: `{command}` timed out after {} and was stopped",
            node.name(),
            crate::duration::format(timeout.unwrap_or_default())
        ))
    };
    let on_line = |line: String| -> ScriptResult<bool> {
        let v = callback.call_within_context::<Dynamic>(call, (line,))?;
        Ok(v.as_bool().ok() != Some(false))
    };
    // The lines go to the callback as they come; stderr is kept, up to the string limit.
    let limits = ctx.settings().limits;
    let kept = OutputBudget::new(limits.string_bytes());
    let (code, stderr, stopped) = match &node.access {
        NodeAccess::Docker(d) => docker_stream(ctx, d, &argv, deadline, &kept, timed_out, on_line)?,
        NodeAccess::DebugPod(_) => {
            pod_stream(ctx, node, &argv, deadline, &kept, timed_out, on_line)?
        }
    };
    if kept.is_full() {
        ctx.output()
            .eprintln(&limits.string_note("node.exec_stream", &format!(
                    "kept the first {} bytes of the standard error of `{}` on node {}; the rest was left out",
                    stderr.len(),
                    crate::shell::join(&argv),
                    node.name()
                )));
    }
    let mut m = Map::new();
    m.insert("code".into(), code);
    m.insert("stderr".into(), stderr.into());
    m.insert("stopped".into(), stopped.into());
    Ok(m)
}

enum DockerStep {
    Chunk(Option<Result<Chunk, crate::docker::client::DockerError>>),
    TimedOut,
}

/// A kind node's command through `docker exec`: its exit code (also when stopped), stderr,
/// and whether the callback stopped it.
fn docker_stream(
    ctx: &Ctx,
    node: &crate::docker::Node,
    argv: &[String],
    deadline: Option<tokio::time::Instant>,
    kept: &OutputBudget,
    timed_out: impl Fn(&str) -> Box<rhai::EvalAltResult>,
    mut on_line: impl FnMut(String) -> ScriptResult<bool>,
) -> ScriptResult<(Dynamic, String, bool)> {
    let rt = ctx.runtime().clone();
    let mut process: ExecProcess = ctx
        .block_on(async {
            let docker = crate::docker::client::client(ctx).await?;
            ExecProcess::start(&docker, &node.container_id, argv).await
        })
        .script()?
        .script_context(|| node.name.clone())?;
    let mut lines = LineSplitter::default();
    let mut stderr = Vec::new();
    let mut stopped = false;
    let stop_with = |process: &mut ExecProcess, e: Box<rhai::EvalAltResult>| {
        rt.block_on(process.stop("TERM"));
        Err(e)
    };
    'outer: loop {
        let step = ctx.block_on(async {
            tokio::select! {
                _ = crate::docker::exec::sleep_until(deadline) => DockerStep::TimedOut,
                n = process.next() => DockerStep::Chunk(n),
            }
        });
        let Ok(step) = step else {
            return stop_with(&mut process, interrupted());
        };
        let new_lines = match step {
            DockerStep::TimedOut => {
                let e = timed_out(process.command());
                return stop_with(&mut process, e);
            }
            DockerStep::Chunk(Some(Ok(Chunk::Stdout(b)))) => lines.push(&b),
            DockerStep::Chunk(Some(Ok(Chunk::Stderr(b)))) => {
                kept.keep(&mut stderr, &b);
                continue;
            }
            DockerStep::Chunk(Some(Err(e))) => {
                return stop_with(&mut process, error(format!("{}: {e}", node.name)));
            }
            DockerStep::Chunk(None) => lines.finish().into_iter().collect(),
        };
        let ended = process.ended();
        for line in new_lines {
            match on_line(line) {
                Ok(true) => {}
                Ok(false) => {
                    stopped = true;
                    rt.block_on(process.stop("TERM"));
                    break 'outer;
                }
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
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    Ok((Dynamic::from_int(code), stderr, stopped))
}

enum PodStep {
    Line(Option<ExecLine>),
    TimedOut,
}

/// Another node's command through its debug pod: its exit code (`()` when stopped), stderr,
/// and whether the callback stopped it.
fn pod_stream(
    ctx: &Ctx,
    node: &ClusterNode,
    argv: &[String],
    deadline: Option<tokio::time::Instant>,
    kept: &OutputBudget,
    timed_out: impl Fn(&str) -> Box<rhai::EvalAltResult>,
    mut on_line: impl FnMut(String) -> ScriptResult<bool>,
) -> ScriptResult<(Dynamic, String, bool)> {
    let rt = ctx.runtime().clone();
    let mut process = ctx
        .block_on(async {
            let pod = exec::debug_pod_of(ctx, node).await?;
            crate::node::pod_process::PodProcess::start(ctx, &pod, argv).await
        })
        .script()?
        .script()?;
    let mut stderr = String::new();
    let mut stopped = false;
    loop {
        let step = ctx.block_on(async {
            tokio::select! {
                _ = crate::docker::exec::sleep_until(deadline) => PodStep::TimedOut,
                l = process.next() => PodStep::Line(l),
            }
        });
        let Ok(step) = step else {
            rt.block_on(process.stop("TERM"));
            return Err(interrupted());
        };
        match step {
            PodStep::TimedOut => {
                let e = timed_out(process.command());
                rt.block_on(process.stop("TERM"));
                return Err(e);
            }
            PodStep::Line(Some(ExecLine::Stderr(l))) => {
                kept.keep_line(&mut stderr, &l);
            }
            PodStep::Line(Some(ExecLine::Stdout(l))) => match on_line(l) {
                Ok(true) => {}
                Ok(false) => {
                    stopped = true;
                    rt.block_on(process.stop("TERM"));
                    break;
                }
                Err(e) => {
                    rt.block_on(process.stop("TERM"));
                    return Err(e);
                }
            },
            PodStep::Line(None) => break,
        }
    }
    let code = if stopped {
        None
    } else {
        rt.block_on(process.exit_info()).code
    };
    let code = code.map_or(Dynamic::UNIT, |c| Dynamic::from_int(i64::from(c)));
    Ok((code, stderr, stopped))
}
