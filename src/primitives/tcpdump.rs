//! `tcpdump::start`, `tcpdump::capture`, `tcpdump::parse` and the `Capture` type (`stop`,
//! `packets`, `wait`, `stats`, `running`).

use std::time::Duration;

use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::docker::exec::{ExecError, ExecProcess};
use crate::docker::{Node, client};
use crate::errors::{ScriptResult, error, interrupted};
use crate::options::Opts;
use crate::primitives::{Family, Registry};
use crate::process::Spec;
use crate::repl::shown::shown_if;
use crate::tcpdump::capture::{Capture, Launch};
use crate::tcpdump::source::Source;

/// `tcpdump::…` and `Capture`.
pub const FAMILY: Family = Family {
    name: "tcpdump",
    summary: "packet captures with tcpdump, on a node's host veth or inside the node",
    register,
};

const START_OPTS: &[&str] = &["filter", "side", "iface", "count", "snaplen", "print"];

const START_DOC: &str = r#"Starts tcpdump in the background and returns a `Capture`; the script goes on while it
records. `target` is a `Node` or an interface name. Options: `filter` (a tcpdump filter
expression), `side` (`"host"`, the default: local tcpdump on the node's host-side veth, as in
the handout; `"node"`: tcpdump inside the node container), `iface` (another interface:
`"any"`, or the node's `eth0` side), `count` (tcpdump exits after that many packets),
`snaplen`, `print` (echo packets as they arrive; quote the key: `#{"print": true}`). tcpdump's own error (bad filter, unknown
interface, missing binary, no permission) is the error. The capture ends with `cap.stop()`,
or with the session (script error, Ctrl-C, end of run).

```rhai
let w = cluster::node("lab", "lab-worker");
let cap = tcpdump::start(w, #{filter: "tcp port 80", "print": true}); // `print` is a Rhai keyword: quote it
http::get("http://" + w.ip + "/");
for p in cap.stop() { print(p.src + ":" + p.sport + " > " + p.dst + ":" + p.dport + " " + p.flags); }
```"#;

const CAPTURE_DOC: &str = r#"Captures until `count` packets or `timeout` (one of them is required), then returns the
packets: the blocking form of `tcpdump::start` + `cap.wait` + `cap.stop`. Same options as
`tcpdump::start`, plus `timeout`.

```rhai
let pkts = tcpdump::capture("lo", #{filter: "icmp", count: 2, timeout: "5s"});
print(pkts.len());
```"#;

const PARSE_DOC: &str = r#"Parses one line of `tcpdump -n` output into a packet map, or `()` when the line is not
an IP/IPv6 packet (headers, statistics, ARP, garbage). Fields: `time`, `family` (`"IP"`/
`"IP6"`), `src`, `sport`, `dst`, `dport` (ports as integers, `()` for ICMP), `proto`
(`"tcp"`/`"udp"`/`"icmp"`/`"other"`), `flags` (`"S"`, `"S."`, `"."`, `"P."`, `"F."`, `"R"`),
`syn`, `ack`, `fin`, `rst`, `psh`, `seq` (integer or `()`), `length`, `raw`.

```rhai
let p = tcpdump::parse("20:36:33.101612 IP 172.18.0.1.38138 > 10.244.4.66.80: Flags [S], seq 1, win 64240, length 0");
print(p.src + " -> " + p.dst + ":" + p.dport + " syn=" + p.syn);
```"#;

const STOP_DOC: &str = r#"Stops the capture (SIGINT: tcpdump prints its statistics; killed if it lingers) and
returns every packet as a map (see `tcpdump::parse`). Calling it again returns the same
packets.

```rhai
let cap = tcpdump::start("lo", #{filter: "tcp port 8080"});
let pkts = cap.stop();
```"#;

const PACKETS_DOC: &str = r#"The packets captured so far, while the capture goes on.

```rhai
let cap = tcpdump::start("lo");
sleep(1);
print(cap.packets().len());
```"#;

const WAIT_DOC: &str = r#"Blocks until the capture holds `count` packets, `timeout` runs out, or tcpdump exits;
returns how many packets it holds (not an error on timeout: compare with `count`). Without
`count` it waits for tcpdump to exit (e.g. started with `count`) or for the timeout.

```rhai
let cap = tcpdump::start("lo", #{filter: "icmp"});
if cap.wait(#{count: 2, timeout: "5s"}) < 2 { print("fewer than 2 packets"); }
let pkts = cap.stop();
```"#;

const STATS_DOC: &str = r#"tcpdump's closing statistics once it has exited: `#{captured, received, dropped}`
(`()` for a figure it did not print), plus `packets` (how many lines were parsed).

```rhai
let cap = tcpdump::start("lo");
cap.stop();
print(cap.stats().dropped);
```"#;

/// What to capture on.
enum Target {
    Node(Node),
    Iface(String),
}

/// Registers `tcpdump::…` and the `Capture` type.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let engine = reg.engine();
    engine.register_type_with_name::<Capture>("Capture");
    engine.register_get("running", |c: &mut Capture| !c.is_finished());
    engine.register_fn("to_string", |c: &mut Capture| describe(c));
    engine.register_fn("to_debug", |c: &mut Capture| describe(c));

    let m = "tcpdump";
    let c = ctx.clone();
    reg.func(
        m,
        "start",
        &["target: Node", "Capture"],
        START_DOC,
        move |n: Node| start(&c, Target::Node(n), Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "start",
        &["target: Node", "opts: Map", "Capture"],
        START_DOC,
        move |n: Node, opts: Map| start(&c, Target::Node(n), opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "start",
        &["iface: String", "Capture"],
        START_DOC,
        move |i: &str| start(&c, Target::Iface(i.to_string()), Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "start",
        &["iface: String", "opts: Map", "Capture"],
        START_DOC,
        move |i: &str, opts: Map| start(&c, Target::Iface(i.to_string()), opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "capture",
        &["target: Node", "opts: Map", "Array"],
        CAPTURE_DOC,
        move |n: Node, opts: Map| capture(&c, Target::Node(n), opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "capture",
        &["iface: String", "opts: Map", "Array"],
        CAPTURE_DOC,
        move |i: &str, opts: Map| capture(&c, Target::Iface(i.to_string()), opts),
    );
    reg.func(
        m,
        "parse",
        &["line: String", "Dynamic"],
        PARSE_DOC,
        |line: &str| {
            crate::tcpdump::parse(line)
                .map(|p| Dynamic::from_map(p.to_map()))
                .unwrap_or(Dynamic::UNIT)
        },
    );

    let c = ctx.clone();
    reg.method(
        "stop",
        &["cap: Capture", "Array"],
        STOP_DOC,
        move |cap: &mut Capture| stop(&c, cap),
    );
    reg.method(
        "packets",
        &["cap: Capture", "Array"],
        PACKETS_DOC,
        |cap: &mut Capture| packets(cap),
    );
    let c = ctx.clone();
    reg.method(
        "wait",
        &["cap: Capture", "opts: Map", "i64"],
        WAIT_DOC,
        move |cap: &mut Capture, opts: Map| -> ScriptResult<i64> {
            let o = Opts::new("cap.wait", opts, &["count", "timeout"])?;
            let count = o.int("count")?.map(|n| n.max(0) as usize);
            wait(&c, cap, count, o.duration("timeout")?)?;
            Ok(cap.with_state(|st| st.packets.len() as i64))
        },
    );
    reg.method(
        "stats",
        &["cap: Capture", "Map"],
        STATS_DOC,
        |cap: &mut Capture| {
            cap.with_state(|st| {
                let opt = |v: Option<u64>| {
                    v.map(|n| Dynamic::from_int(n as i64))
                        .unwrap_or(Dynamic::UNIT)
                };
                let mut m = Map::new();
                m.insert("captured".into(), opt(st.stats.captured));
                m.insert("received".into(), opt(st.stats.received));
                m.insert("dropped".into(), opt(st.stats.dropped));
                m.insert("packets".into(), Dynamic::from_int(st.packets.len() as i64));
                m
            })
        },
    );
}

fn describe(c: &Capture) -> String {
    let (n, finished) = c.with_state(|st| (st.packets.len(), st.finished));
    format!(
        "Capture({}, {n} packets, {})",
        c.command(),
        if finished { "finished" } else { "running" }
    )
}

fn packets(cap: &Capture) -> Array {
    cap.with_state(|st| {
        st.packets
            .iter()
            .map(|p| Dynamic::from_map(p.to_map()))
            .collect()
    })
}

fn start(ctx: &Ctx, target: Target, opts: Map) -> ScriptResult<Capture> {
    let o = Opts::new("tcpdump::start", opts, START_OPTS)?;
    start_with(ctx, target, &o)
}

fn start_with(ctx: &Ctx, target: Target, o: &Opts) -> ScriptResult<Capture> {
    let filter = o.string("filter")?;
    let side = o.string("side")?.unwrap_or_else(|| "host".to_string());
    let iface = o.string("iface")?;
    let count = match o.int("count")? {
        Some(n) if n <= 0 => {
            return Err(error(format!(
                "tcpdump::start: option `count` must be positive, got {n}"
            )));
        }
        n => n.map(|n| n as u64),
    };
    let snaplen = o
        .int("snaplen")?
        .map(|n| n.clamp(0, u32::MAX as i64) as u32);
    let print = o.bool("print")?.unwrap_or(false);
    let launch = |command: String| Launch {
        command,
        print,
        output: ctx.output().clone(),
        session: ctx.session_token(),
    };
    let (source, launch, node_name) = match (target, side.as_str()) {
        (Target::Node(node), "host") => {
            let iface = match iface {
                Some(i) => i,
                None => host_veth(ctx, &node)?,
            };
            let argv = crate::tcpdump::argv(&iface, filter.as_deref(), count, snaplen);
            host_source(ctx, argv, &launch)?
        }
        (Target::Iface(name), "host") => {
            if iface.is_some() {
                return Err(error(
                    "tcpdump::start: give the interface either as the target or as `iface`, not both",
                ));
            }
            let argv = crate::tcpdump::argv(&name, filter.as_deref(), count, snaplen);
            host_source(ctx, argv, &launch)?
        }
        (Target::Node(node), "node") => {
            let iface = iface.unwrap_or_else(|| "eth0".to_string());
            let argv = crate::tcpdump::argv(&iface, filter.as_deref(), count, snaplen);
            let command = crate::docker::exec::command_line(&node.name, &argv);
            ctx.explain(&shell_words(&node.name, &argv));
            let process = ctx
                .block_on(async {
                    let docker = client::client(ctx).await?;
                    ExecProcess::start(&docker, &node.container_id, &argv).await
                })?
                .map_err(|e| error(format!("{}: {e}", node.name)))?;
            (Source::node(process), launch(command), Some(node.name))
        }
        (Target::Iface(name), "node") => {
            return Err(error(format!(
                "tcpdump::start: side \"node\" needs a Node target, got the interface {name:?}"
            )));
        }
        (_, other) => {
            return Err(error(format!(
                "tcpdump::start: option `side` must be \"host\" or \"node\", got {other:?}"
            )));
        }
    };
    let started = ctx.block_on(Capture::start(source, launch))?;
    let (capture, feed) = started.map_err(|msg| match &node_name {
        Some(node) if msg.contains("not found") || msg.contains("exit status 127") => error(format!(
            "tcpdump is not installed in node {node}: {msg}\ninstall it in the node (e.g. `docker exec {node} apt-get install -y tcpdump`) or capture from the host side (side: \"host\")"
        )),
        _ => error(msg),
    })?;
    let handle = ctx.spawn_background(feed);
    capture.set_task(handle);
    Ok(capture)
}

fn shell_words(node: &str, argv: &[String]) -> Vec<String> {
    let mut v = vec!["docker".to_string(), "exec".to_string(), node.to_string()];
    v.extend(argv.iter().cloned());
    v
}

fn host_veth(ctx: &Ctx, node: &Node) -> ScriptResult<String> {
    ctx.explain(&[
        "docker",
        "exec",
        &node.name,
        "cat",
        "/sys/class/net/eth0/iflink",
    ]);
    let token = ctx.cancel_token();
    let r = ctx.block_on(async {
        let docker = client::client(ctx).await.map_err(ExecError::from)?;
        crate::docker::veth::host_veth(&docker, &node.container_id, &token).await
    })?;
    r.map_err(|e| match e {
        ExecError::Interrupted => interrupted(),
        other => error(format!(
            "{}: finding its host-side veth: {other}",
            node.name
        )),
    })
}

fn host_source(
    ctx: &Ctx,
    argv: Vec<String>,
    launch: &dyn Fn(String) -> Launch,
) -> ScriptResult<(Source, Launch, Option<String>)> {
    ctx.explain(&argv);
    let spec = Spec::new(argv);
    let source = Source::host(&spec).map_err(|e| e.into_script())?;
    Ok((source, launch(spec.command_line()), None))
}

fn wait(
    ctx: &Ctx,
    cap: &Capture,
    count: Option<usize>,
    timeout: Option<Duration>,
) -> ScriptResult<()> {
    let count = count.unwrap_or(usize::MAX);
    ctx.block_on(async {
        match timeout {
            Some(t) => {
                let _ = tokio::time::timeout(t, cap.wait_for(count)).await;
            }
            None => cap.wait_for(count).await,
        }
    })?;
    Ok(())
}

fn stop(ctx: &Ctx, cap: &Capture) -> ScriptResult<Dynamic> {
    cap.request_stop();
    // Not cancellable: stopping must finish (it is bounded by the stop grace).
    ctx.runtime().block_on(cap.finish());
    if let Some(msg) = cap.with_state(|st| st.error.clone()) {
        return Err(error(msg));
    }
    // With `print`, each packet was shown as it came: the REPL does not list them again.
    Ok(shown_if(ctx, cap.prints(), packets(cap).into()))
}

fn capture(ctx: &Ctx, target: Target, opts: Map) -> ScriptResult<Dynamic> {
    let mut known = START_OPTS.to_vec();
    known.push("timeout");
    let o = Opts::new("tcpdump::capture", opts, &known)?;
    let timeout = o.duration("timeout")?;
    let count = o.int("count")?;
    if timeout.is_none() && count.is_none() {
        return Err(error(
            "tcpdump::capture: give `count`, `timeout` or both (or use tcpdump::start)",
        ));
    }
    let cap = start_with(ctx, target, &o)?;
    let waited = wait(ctx, &cap, count.map(|n| n.max(0) as usize), timeout);
    let packets = stop(ctx, &cap);
    waited?;
    packets
}
