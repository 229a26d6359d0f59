//! The `monitor::…` Rhai module. This file holds `monitor::parse` and the `Monitor` type's
//! methods (`mon.stop()`, `mon.events()`, `mon.dropped()`, `mon.wait(#{…})`); starting a
//! monitor on a node (`monitor::start`, `monitor::capture`) is in [`start`], the Kubernetes
//! lookups (`monitor::agent_pod`, `monitor::endpoint_id`) in [`lookup`].

use crate::records::event::event_map;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, Map, NativeCallContext};

use crate::context::Ctx;
use crate::errors::{Script, ScriptResult, error};
use crate::monitor::{Event, Monitor, WaitOutcome, parse};
use crate::options::Opts;
use crate::primitives::{Family, Registry, follower};
use crate::records::{EVENT, Record};

pub mod args;
pub mod feed;
pub mod lookup;
pub mod node_agent;
pub mod start;

/// `monitor::parse` and the `Monitor` methods.
pub const FAMILY: Family = Family {
    name: "monitor",
    summary: "parse and follow `cilium monitor` events",
    register,
};

/// How long `mon.stop()` waits for the source to close.
const STOP_GRACE: Duration = Duration::from_secs(5);

const PARSE_DOC: &str = r#"Parses one line of `cilium monitor` (or `cilium-dbg monitor`, text or `-j` JSON)
into an event (a record: reading a field no event has is an error naming the event's
fields; a field of another kind, like `dport` on an ICMP trace, is `()`). Never fails: a line it does not recognise gives `kind: "unknown"`.
Every event has `kind` and `raw`. Kinds and their fields:
- `"trace"`: `dir` ("->"/"<-"), `point` ("endpoint", "stack", "network", …), `endpoint`
  (integer or `()`), `flow` ("0x…"), `src_identity`, `dst_identity` ("world", "6623"),
  `state`, `ifindex` (as printed), `orig_ip`, `src`, `sport`, `dst`, `dport`, `proto`,
  `flags` (array: ["SYN", "ACK"]); ICMP has `icmp` ("EchoRequest") and no ports; a frame
  without IP has `src_mac`, `dst_mac`, `ethertype` ("ARP"); `ip_trace_id` (text) when
  printed; an overlay packet adds `tunnel_src`, `tunnel_sport`, `tunnel_dst`,
  `tunnel_dport`, `tunnel_proto` ("vxlan", "geneve").
- `"drop"`: `reason`, `flow`, `endpoint`, `ifindex`, `file`, `line`, identities, connection
  (the verbose forms: `cpu`, `mark`, `from`, `bytes`; the oldest also `drop_code`).
- `"capture"` (`-t capture`): `dir`, `ifindex` or `point` ("load-balancer", "proxy" with
  `proxy_port`, "v4->v6"), and the connection fields.
- `"trace-sock"`: `cpu`, `xlate_point` ("pre-xlate-fwd"), `cgroup_id`, `sock_cookie`, `dst`,
  `dport`, `proto`.
- `"policy-verdict"`: `flow`, `endpoint` (local EP ID), `remote_identity`, `ip_proto`,
  `direction`, `action`, `auth` (1.14+), `matched`, connection.
- `"debug"`: `cpu`, `mark`, `from`, `message`; `"trace-verbose"`: `cpu`, `mark`, `from`,
  `point` ("to-endpoint"), `bytes`, `captured`, `state`, `ifindex`, identities, `orig_ip`,
  `endpoint`.
- `"l7"`: `dir`, `type` ("Request"/"Response"), `protocol`, `src_endpoint`, `dst_endpoint`,
  labels, identities, `verdict`; HTTP `method`, `url`, `code`; DNS `dns_source`, `query`,
  `qtypes`, `ttl`, `answer`, `cnames`; Kafka `api_key`, `topic`, `error_code`.
- `"agent"`: `subtype`, `data` (the JSON payload as a map); `"lost"`: `cpu`, `count`;
  `"info"`: `message` (headers, log lines); dissection lines add `layer`, `detail`;
  hexdump lines `offset`, `hex`, `ascii`.

```rhai
let e = monitor::parse("-> endpoint 1890 flow 0xe0d23007 , identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN");
print(`${e.kind} ${e.src}:${e.sport} -> ${e.dst}:${e.dport} ${e.flags}`);
```"#;

const STOP_DOC: &str = r#"Stops the monitor: ends the `cilium monitor` process (or whatever feeds it) and
returns the events it kept, oldest first. Prints how many were dropped if its buffer
overflowed.

```rhai
let mon = monitor::start("kind-worker", #{related_to: 1890});
http::get(url);
let events = mon.stop();
print(events.filter(|e| e.kind == "trace").len());
```"#;

const EVENTS_DOC: &str = r#"The events the monitor has kept so far, oldest first (it keeps running).

```rhai
for e in mon.events() { if e.kind == "drop" { print(e.reason); } }
```"#;

const DROPPED_DOC: &str = r#"How many events were dropped because the monitor's buffer was full (the oldest
go first).

```rhai
if mon.dropped() > 0 { print(`lost ${mon.dropped()} events`); }
```"#;

const WAIT_DOC: &str = r#"Waits until an event satisfies `until` (a closure `|event| bool`, called on every
kept event from the oldest, then on each new one; the event reads like the maps of
`mon.events()`: `e.kind`, `e.dport`, `e.flags`, and `e.to_map()` gives the map), or `count` events were received, or
the monitor ends — whichever comes first. Returns `true` when `until` or `count` was
met, `false` on `timeout` or when the monitor ended first. Ctrl-C interrupts it.
Without `count` nor `until`, waits for the monitor to end.
`until` is a Rhai keyword: quote it in the map, `#{"until": |e| …}`.

```rhai
let mon = monitor::start("kind-worker", #{related_to: 1890});
http::get(url);
let seen = mon.wait(#{"until": |e| e.kind == "trace" && e.dport == 80 && "SYN" in e.flags, timeout: "10s"});
if !seen { print("no SYN reached the endpoint"); }
```"#;

const WAIT_READY_DOC: &str = r#"Waits until the monitor has subscribed to the agent's events (its "Listening for
events" header arrived, or, from an agent whose node monitor was idle — Cilium 1.14 then
prints no such header —, its "Press Ctrl-C to quit", printed as it connects to the agent's
socket, and then one more second, as Cilium shows nothing when the subscription is done):
traffic sent before that is not seen. `timeout` defaults to 30s.
An error when the monitor ended first (the agent's message) or on the timeout.

```rhai
let mon = monitor::start("kind-worker", #{related_to: 1890});
mon.wait_ready();
http::get(url);
```"#;

const WAIT_IDLE_DOC: &str = r#"Waits until no event arrived for `idle` (the events of an exchange are in), the
monitor ended, or `timeout` passed while events kept coming. Returns `true` when quiet (or
ended), `false` when the events never paused. Ctrl-C interrupts it.

```rhai
let mon = monitor::start("kind-worker", #{related_to: 1890});
mon.wait_ready("30s");
http::get(url);
mon.wait_idle("1s", "10s");
let events = mon.stop();
```"#;

/// How long `mon.wait_ready()` waits by default.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Registers `monitor::parse` and the `Monitor` type.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    reg.func(
        "monitor",
        "parse",
        &["line: String", "Record"],
        PARSE_DOC,
        |line: &str| -> Dynamic { Record::new(&EVENT, &parse(line)).into_dynamic() },
    );
    reg.engine()
        .register_type_with_name::<Monitor>("Monitor")
        .register_fn("to_string", describe)
        .register_fn("to_debug", describe)
        .register_get("running", |m: &mut Monitor| m.ended().is_none())
        .register_get("received", |m: &mut Monitor| m.received() as i64);

    let c = ctx.clone();
    reg.method(
        "stop",
        &["mon: Monitor", "Array"],
        STOP_DOC,
        move |mon: &mut Monitor| -> ScriptResult<Dynamic> {
            mon.stop(&c, STOP_GRACE);
            // With `print`, each event was shown as it came: the REPL does not list them again.
            let events = event_maps(mon).into();
            Ok(crate::shown::shown_if(&c, mon.prints(), events))
        },
    );
    reg.method(
        "events",
        &["mon: Monitor", "Array"],
        EVENTS_DOC,
        |mon: &mut Monitor| -> Array { event_maps(mon) },
    );
    reg.method(
        "dropped",
        &["mon: Monitor", "i64"],
        DROPPED_DOC,
        |mon: &mut Monitor| -> i64 { mon.dropped() as i64 },
    );
    let c = ctx.clone();
    reg.method(
        "wait_ready",
        &["mon: Monitor", "()"],
        WAIT_READY_DOC,
        move |mon: &mut Monitor| wait_ready(&c, mon, READY_TIMEOUT),
    );
    let c = ctx.clone();
    reg.method(
        "wait_ready",
        &["mon: Monitor", "timeout: Dynamic", "()"],
        WAIT_READY_DOC,
        move |mon: &mut Monitor, timeout: Dynamic| -> ScriptResult<()> {
            let timeout = crate::options::duration_of(&timeout)
                .map_err(|e| error(format!("mon.wait_ready: {e}")))?;
            wait_ready(&c, mon, timeout)
        },
    );
    let c = ctx.clone();
    reg.method(
        "wait_idle",
        &["mon: Monitor", "idle: Dynamic", "timeout: Dynamic", "bool"],
        WAIT_IDLE_DOC,
        move |mon: &mut Monitor, idle: Dynamic, timeout: Dynamic| -> ScriptResult<bool> {
            let (idle, timeout) =
                crate::options::idle_and_timeout("mon.wait_idle", &idle, &timeout)?;
            let idle = mon.wait_idle(&c, idle, timeout).script()?;
            Ok(idle != crate::monitor::Idle::Busy)
        },
    );
    let c = ctx.clone();
    reg.method(
        "wait",
        &["mon: Monitor", "opts: Map", "bool"],
        WAIT_DOC,
        move |nctx: NativeCallContext, mon: &mut Monitor, opts: Map| -> ScriptResult<bool> {
            wait(&c, &nctx, mon, opts)
        },
    );
    let c = ctx.clone();
    reg.method(
        "wait",
        &["mon: Monitor", "bool"],
        WAIT_DOC,
        move |nctx: NativeCallContext, mon: &mut Monitor| -> ScriptResult<bool> {
            wait(&c, &nctx, mon, Map::new())
        },
    );
}

/// How long `mon.wait_ready()` waits after `Press Ctrl-C to quit` when no `Listening for
/// events` came: Cilium gives no sign of the subscription then, and on the real tier a
/// request sent at once was missed (entirely or in part) once in five tries.
const CONNECT_SETTLE: Duration = Duration::from_secs(1);

fn wait_ready(ctx: &Ctx, mon: &Monitor, timeout: Duration) -> ScriptResult<()> {
    match mon.wait_ready(ctx, timeout).script()? {
        WaitOutcome::Matched | WaitOutcome::Count => {
            let mut subscribed = false;
            mon.for_each_event(|e| {
                subscribed |= e.raw().starts_with(crate::monitor::SUBSCRIBED);
            });
            if !subscribed {
                ctx.block_on(tokio::time::sleep(CONNECT_SETTLE)).script()?;
            }
            Ok(())
        }
        WaitOutcome::Ended => Err(error(format!(
            "mon.wait_ready: {} ended before subscribing to events{}",
            mon.name(),
            mon.error().map(|e| format!(": {e}")).unwrap_or_default()
        ))),
        WaitOutcome::TimedOut => Err(error(format!(
            "mon.wait_ready: {} printed no \"{}\" line (nor \"{}\") within {}",
            mon.name(),
            crate::monitor::SUBSCRIBED,
            crate::monitor::CONNECTING,
            crate::kube::error::human(timeout)
        ))),
    }
}

fn describe(mon: &mut Monitor) -> String {
    let state = match mon.ended() {
        None => "running".to_string(),
        Some(reason) => format!("ended: {reason:?}"),
    };
    format!(
        "Monitor({}, {} events, {} dropped, {state})",
        mon.name(),
        mon.received(),
        mon.dropped()
    )
}

/// The events held, as records.
pub fn event_maps(mon: &Monitor) -> Array {
    let mut out = Array::new();
    mon.for_each_event(|e| out.push(Record::from_map(&EVENT, event_map(e)).into_dynamic()));
    out
}

fn wait(ctx: &Ctx, nctx: &NativeCallContext, mon: &Monitor, opts: Map) -> ScriptResult<bool> {
    const FUNC: &str = "Monitor.wait";
    let o = Opts::new(FUNC, opts, follower::WAIT_OPTS)?;
    // Read as it is held: a closure that looks at two fields costs two lookups.
    let (outcome, _) = follower::wait(
        nctx,
        FUNC,
        &o,
        "event",
        |e: &Arc<Event>| Record::event(e.clone()).into_dynamic(),
        |spec, until| mon.wait(ctx, spec, until),
    )?;
    Ok(follower::met(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_example_gives_what_it_claims() {
        let mut engine = rhai::Engine::new();
        engine.register_fn("parse_line", |l: &str| event_map(&parse(l)));
        let out: String = engine
            .eval(
                r#"let e = parse_line("-> endpoint 1890 flow 0xe0d23007 , identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN");
                   `${e.kind} ${e.src}:${e.sport} -> ${e.dst}:${e.dport} ${e.flags}`"#,
            )
            .unwrap();
        assert_eq!(out, r#"trace 172.18.0.1:59700 -> 10.244.4.66:80 ["SYN"]"#);
    }
}
