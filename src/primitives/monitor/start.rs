//! `monitor::start` and `monitor::capture`: `cilium-dbg monitor` (or `cilium monitor` on
//! agents that predate the rename) in the Cilium agent of a node, followed in the background
//! by a [`Monitor`] (the `monitor` module's other functions and the `Monitor` methods are
//! registered by `primitives::monitor` and `primitives::monitor::lookup`).
//!
//! Which program the agent has is found once per agent pod with one exec of
//! `sh -c 'command -v cilium-dbg || command -v cilium'` in its `cilium-agent` container, then
//! cached for the session. An agent that is not a pod (it runs on the node itself) is
//! reached through the node's debug pod: [`super::node_agent`].

use crate::errors::Script;
use std::collections::HashMap;
use std::sync::Mutex;

use rhai::{Array, Dynamic, ImmutableString, Map};

use super::feed::Feed;
use super::node_agent::NodeAgentError;
use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::exec::exec_lines;
use crate::kube::lookup::AGENT_CONTAINER;
use crate::kube::lookup::{CILIUM_NAMESPACE, CILIUM_SELECTOR};
use crate::kube::typed::Pod;
use crate::monitor::kube_source;
use crate::monitor::{
    CloseHook, DEFAULT_CAPACITY, MONITOR_ARG_KEYS, Monitor, MonitorOptions, WaitSpec,
};
use crate::options::Opts;
use crate::primitives::api_server::{block, conn};
use crate::primitives::monitor::lookup::{agent_pod_if_any, agent_pod_of, endpoint_id, node_name};
use crate::primitives::{Family, Registry, follower};
use crate::records::Record;

/// `monitor::start`, `monitor::capture`.
pub const FAMILY: Family = Family {
    name: "monitor",
    summary: "run `cilium monitor` in a node's Cilium agent and follow its events",
    register,
};

/// The keys of `monitor::start`'s options besides the monitor's own.
const START_KEYS: [&str; 3] = ["print", "capacity", "agent"];

const START_DOC: &str = r#"Starts `cilium-dbg monitor` (or `cilium monitor` on agents older than Cilium 1.15:
found by itself) in the Cilium agent pod of a node, and follows its events in the
background. Returns a `Monitor`: `mon.stop()` ends the exec and returns the events (maps
as from `monitor::parse`), `mon.events()`, `mon.wait(#{count, timeout, "until"})`,
`mon.dropped()`.
`target` is a node name, a `Node` or a `Pod` (the node it runs on). Options:
- `related_to`, `from`, `to`: endpoint ids or `Pod`s / pod names (resolved to their
  CiliumEndpoint's id), one or an array (`--related-to`, `--from`, `--to`);
- `types`: event types for `-t` ("drop", "trace", "policy-verdict", "debug", "l7", …);
- `verbose`: 0–2 (`-v`, `-v -v`); `json`: `-j`;
- `"print"`: print each line as it arrives (quote the key: `print` is a Rhai keyword);
- `capacity`: the most events kept (default 10000; the oldest are dropped and counted);
- `agent`: where the node's agent runs: `"pod"` (Cilium installed as a DaemonSet: an exec
  in its `cilium-agent` container), `"node"` (a `cilium-agent` process of the node itself,
  started by a system service or by hand: found from the node's debug pod, which shares the
  node's network namespace and processes, and the monitor runs in the agent's mount
  namespace, `nsenter -t PID -m -- cilium monitor …`, with the `cilium`/`cilium-dbg` beside
  the agent's executable or on its `PATH`), or `"auto"` (default): the agent pod, or the
  agent on the node when the cluster has no agent pod at all.
The exec ends with `mon.stop()`, when the last variable holding the monitor goes (a
function left with an error, for instance), and when the session ends (the end of
`labsh run`, after an error or Ctrl-C too). In the REPL, Ctrl-C interrupts `mon.wait` but
the monitor keeps running until `mon.stop()`. `--explain` prints the
`kubectl exec … -- cilium-dbg monitor …` command.

```rhai
let web = kube::pods(#{selector: "tier=frontend"})[0];
let mon = monitor::start(web, #{related_to: web, verbose: 1});
http::get(`http://172.18.0.3:32150/`);
let events = mon.stop();
for e in events.filter(|e| e.kind == "trace") { print(`${e.point} ${e.src} -> ${e.dst} ${e.flags}`); }
```"#;

const START_BARE_DOC: &str = r#"Starts `cilium-dbg monitor` on a node (a node name, a `Node` or a `Pod`) with no
filter: every event of the node. See `monitor::start(target, opts)`.

```rhai
let mon = monitor::start("lab-worker");
sleep("2s");
print(mon.stop().len());
```"#;

const CAPTURE_DOC: &str = r#"The blocking form of `monitor::start`: runs the monitor until `count` events were
received or `timeout` passed (at least one of them is required: `cilium monitor` never
ends by itself), then ends the exec and returns the events. Reaching the timeout is not
an error. Takes the options of `monitor::start` plus `count` and `timeout`. An error when
the monitor command failed (its exit code and last stderr lines).

```rhai
let events = monitor::capture("lab-worker", #{related_to: 1890, types: "trace", count: 6, timeout: "10s"});
print(events.filter(|e| e.kind == "trace" && "SYN" in e.flags).len());
```"#;

/// The monitor program found in each agent pod (`context/namespace/pod` → program).
#[derive(Default)]
struct ProgramCache(Mutex<HashMap<String, String>>);

/// Registers `monitor::start` and `monitor::capture` into the `monitor` module.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "monitor",
        "start",
        &["target: Dynamic", "Monitor"],
        START_BARE_DOC,
        move |target: Dynamic| start(&c, target, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        "monitor",
        "start",
        &["target: Dynamic", "opts: Map", "Monitor"],
        START_DOC,
        move |target: Dynamic, opts: Map| start(&c, target, opts),
    );
    let c = ctx.clone();
    reg.func(
        "monitor",
        "capture",
        &["target: Dynamic", "opts: Map", "Array"],
        CAPTURE_DOC,
        move |target: Dynamic, opts: Map| capture(&c, target, opts),
    );
}

/// A monitor command, started and piped into a channel, and how to follow it.
struct Started {
    feed: Feed,
    options: MonitorOptions,
}

fn start(ctx: &Ctx, target: Dynamic, opts: Map) -> ScriptResult<Monitor> {
    const FUNC: &str = "monitor::start";
    let mut keys = MONITOR_ARG_KEYS.to_vec();
    keys.extend(START_KEYS);
    let o = Opts::new(FUNC, opts, &keys)?;
    let s = launch(ctx, FUNC, &target, &o)?;
    Ok(Monitor::spawn(ctx, s.feed.lines, s.feed.close, s.options).with_failure(s.feed.failure))
}

fn capture(ctx: &Ctx, target: Dynamic, opts: Map) -> ScriptResult<Dynamic> {
    const FUNC: &str = "monitor::capture";
    let mut keys = MONITOR_ARG_KEYS.to_vec();
    keys.extend(START_KEYS);
    keys.extend(["count", "timeout"]);
    let o = Opts::new(FUNC, opts, &keys)?;
    let count = match o.int("count")? {
        Some(c) if c < 1 => {
            return Err(error(format!(
                "{FUNC}: option `count` must be 1 or more, got {c}"
            )));
        }
        c => c.map(|c| c as u64),
    };
    let timeout = o.duration("timeout")?;
    if count.is_none() && timeout.is_none() {
        return Err(error(format!(
            "{FUNC}: give `count` or `timeout` (or both): `cilium monitor` never ends by itself"
        )));
    }
    let s = launch(ctx, FUNC, &target, &o)?;
    let printed = s.options.print;
    let events = Monitor::capture(
        ctx,
        s.feed.lines,
        CloseHook::Token(s.feed.close),
        s.options,
        WaitSpec { count, timeout },
    )
    .script()?;
    if let Some(failure) = s
        .feed
        .failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        return Err(error(format!("{FUNC}: {failure}")));
    }
    let events: Array = events
        .iter()
        .map(|e| Record::event(e.clone()).into_dynamic())
        .collect();
    // With `print`, each event was shown as it came: the REPL does not list them again.
    Ok(crate::shown::shown_if(ctx, printed, events.into()))
}

/// Resolves the target and the endpoints, finds the agent and its program, starts the exec
/// and the task piping its stdout into a channel.
fn launch(ctx: &Ctx, func: &str, target: &Dynamic, o: &Opts) -> ScriptResult<Started> {
    let node = node_name(func, target)?;
    // The buffer is handed to the script as one array (`mon.events()`): it must fit.
    let capacity = follower::kept(ctx, func, o, "capacity", DEFAULT_CAPACITY)?;
    let args = super::args::monitor_args(func, o, |key, v| resolve_endpoint(ctx, func, key, v))?;
    let print = o.bool("print")?.unwrap_or(false);
    let feed = match find_agent(ctx, func, &node, o)? {
        Agent::Pod(agent) => launch_in_pod(ctx, &node, &agent, &args)?,
        Agent::Node { auto } => match super::node_agent::launch(ctx, target, &node, &args) {
            Ok(feed) => feed,
            Err(NodeAgentError::Interrupted(e)) => return Err(e),
            Err(NodeAgentError::Message(why)) if auto => {
                return Err(error(format!(
                    "{func}: Cilium is not installed on context `{}`: no pod labelled {CILIUM_SELECTOR} in {CILIUM_NAMESPACE}, and {why}",
                    conn(ctx)?.context
                )));
            }
            Err(NodeAgentError::Message(why)) => return Err(error(format!("{func}: {why}"))),
        },
    };
    let options = MonitorOptions {
        capacity,
        print,
        filter: None,
        name: feed.name.clone(),
    };
    Ok(Started { feed, options })
}

/// Where the node's Cilium agent runs.
enum Agent {
    /// A pod (Cilium installed as a DaemonSet): the monitor is an exec in its container.
    Pod(Pod),
    /// The node itself (a system service, a binary started by hand): reached through the
    /// node's debug pod. `auto`: chosen because the cluster has no agent pod.
    Node { auto: bool },
}

/// Option `agent`: `"pod"`, `"node"`, or `"auto"` (default): the agent pod on the node, or,
/// when the cluster has no agent pod at all, the agent process on the node.
fn find_agent(ctx: &Ctx, func: &str, node: &str, o: &Opts) -> ScriptResult<Agent> {
    let mode = o.string("agent")?.unwrap_or_else(|| "auto".to_string());
    match mode.as_str() {
        "pod" => Ok(Agent::Pod(agent_pod_of(ctx, node)?)),
        "node" => Ok(Agent::Node { auto: false }),
        "auto" => Ok(match agent_pod_if_any(ctx, node)? {
            Some(pod) => Agent::Pod(pod),
            None => Agent::Node { auto: true },
        }),
        other => Err(error(format!(
            "{func}: option `agent` must be \"auto\", \"pod\" or \"node\", got {other:?}"
        ))),
    }
}

/// The monitor as an exec in the agent pod's container.
fn launch_in_pod(
    ctx: &Ctx,
    node: &str,
    agent: &Pod,
    args: &crate::monitor::MonitorArgs,
) -> ScriptResult<Feed> {
    let program = program_of(ctx, agent)?;
    let argv = args.argv(&program);
    let mut explained = vec![
        "kubectl".to_string(),
        "exec".into(),
        "-n".into(),
        agent.namespace.clone(),
        agent.name.clone(),
        "-c".into(),
        AGENT_CONTAINER.into(),
        "--".into(),
    ];
    explained.extend(argv.iter().cloned());
    ctx.explain(&explained);
    let stream = block(
        ctx,
        exec_lines(
            ctx,
            &agent.namespace,
            &agent.name,
            Some(AGENT_CONTAINER),
            &argv,
        ),
    )?;
    let name = format!("{program} monitor on {node} ({})", agent.name);
    Ok(Feed::start(ctx, stream, name))
}

/// An endpoint option's value: an id, a `Pod` or a pod name (its CiliumEndpoint's id).
fn resolve_endpoint(ctx: &Ctx, func: &str, key: &str, v: &Dynamic) -> ScriptResult<i64> {
    if let Ok(id) = v.as_int() {
        return Ok(id);
    }
    if v.read_lock::<Pod>().is_some() || v.read_lock::<ImmutableString>().is_some() {
        return endpoint_id(ctx, v.clone(), Map::new());
    }
    Err(error(format!(
        "{func}: option `{key}` takes endpoint ids (integers), Pods or pod names, got {} `{v}`",
        v.type_name()
    )))
}

/// `cilium-dbg` or `cilium`, probed once per agent pod.
fn program_of(ctx: &Ctx, agent: &Pod) -> ScriptResult<String> {
    let context = conn(ctx)?.context.clone();
    let key = format!("{context}/{}/{}", agent.namespace, agent.name);
    let cache = ctx.ext::<ProgramCache>();
    if let Some(p) = cache.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(p.clone());
    }
    let program = block(
        ctx,
        kube_source::detect_program(ctx, &agent.namespace, &agent.name, AGENT_CONTAINER),
    )?;
    cache
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, program.clone());
    Ok(program)
}
