//! `tcpdump::start`, `tcpdump::capture`, `tcpdump::parse`, `tcpdump::read` and the `Capture`
//! type (`stop`, `packets`, `wait`, `stats`, `running`).

use crate::errors::{IntoScript, Script};
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, ImmutableString, Map, NativeCallContext, Variant};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::options::Opts;
use crate::primitives::{Family, Registry, follower};
use crate::process::Spec;
use crate::records::{PACKET, Record};
use crate::shown::shown_if;
use crate::tcpdump::capture::{Capture, Launch};
use crate::tcpdump::open::open;
use crate::tcpdump::place::{Target, place};
use crate::tcpdump::read::{SavedKind, kind_of, read_pcap, read_text};
use crate::tcpdump::{Decode, Packet};

/// `tcpdump::…` and `Capture`.
pub const FAMILY: Family = Family {
    name: "tcpdump",
    summary: "packet captures with tcpdump, on a node's host veth, in the node's network namespace or through its debug pod; saved captures",
    register,
};

/// `tcpdump::start`'s options (also `crate::checker::options`).
pub(crate) const START_OPTS: &[&str] = &[
    "filter", "side", "iface", "count", "snaplen", "print", "verbose", "ether",
];

const START_DOC: &str = r#"Starts tcpdump in the background and returns a `Capture`; the script goes on while it
records. `target` is a `Node`, a `Pod` or an interface name of this host. Where it captures:
- a `Node`, by default: this host's tcpdump on the node's host-side veth, as in the handout;
- a `Node` with `iface` (`"eth0"`, `"any"`, a pod's `"lxc…"`) or `side: "node"` (default
  `eth0`): this host's tcpdump in the node's network namespace
  (`nsenter --net=/proc/PID/ns/net tcpdump …`; kind nodes ship no tcpdump);
- a `Pod`: the pod's `lxc…` interface, in its node's network namespace;
- a `Node` of `cluster::current()` that is not a kind node of this host, or a `Pod` on one:
  tcpdump runs in the node's debug pod (its network namespace; `iface` defaults to `"any"`,
  a pod's capture to its host-side veth), its lines streamed back through the exec
  (`--explain` prints `kubectl debug node/NAME -it --image=… -- tcpdump …`); stopping it
  signals tcpdump in the node, so nothing is left running there.
Options: `filter` (a tcpdump filter expression), `side` (`"host"` or `"node"`), `iface`,
`count` (tcpdump exits after that many packets), `snaplen`, `verbose` (`true` or 1–3: `-v`,
IP header fields such as `ttl`, `ip_options`, `tos`), `ether` (`-e`: MAC addresses),
`print` (echo packets as they arrive; quote the key: `#{"print": true}`). tcpdump's own
error (bad filter, unknown interface, missing binary, no permission) is the error. The
capture ends with `cap.stop()`, or with the session (script error, Ctrl-C, end of run).

```rhai
let w = cluster::node("lab", "lab-worker");
let cap = tcpdump::start(w, #{filter: "tcp port 80", "print": true}); // `print` is a Rhai keyword: quote it
http::get("http://" + w.ip + "/");
for p in cap.stop() { print(p.src + ":" + p.sport + " > " + p.dst + ":" + p.dport + " " + p.flags); }
let all = tcpdump::start(w, #{iface: "any", verbose: true}); // p.iface, p.dir, p.ttl, p.ip_options
let n = cluster::current().nodes()[0];                      // any cluster: through a debug pod
let syn = tcpdump::start(n, #{filter: "tcp[tcpflags] & tcp-syn != 0"});
```"#;

const CAPTURE_DOC: &str = r#"Captures until `count` packets or `timeout` (one of them is required), then returns the
packets: the blocking form of `tcpdump::start` + `cap.wait` + `cap.stop`. Same options as
`tcpdump::start`, plus `timeout`.

```rhai
let pkts = tcpdump::capture("lo", #{filter: "icmp", count: 2, timeout: "5s"});
print(pkts.len());
```"#;

const PARSE_DOC: &str = r#"Parses one tcpdump packet record into a packet map, or `()` when it is not an IP/IPv6
packet (headers, statistics, ARP, garbage). A record is a line, or the lines of one packet
joined with `\n` (`-v` prints the IP header, then the transport on an indented line).
Fields: `time`, `family` (`"IP"`/`"IP6"`), `src`, `sport`, `dst`, `dport` (ports as
integers; a port printed as a name without `-n` is its text, and `names` is true), `proto`
(`"tcp"`/`"udp"`/`"icmp"`/`"other"`), `flags` (`"S"`, `"S."`, `"."`, `"P."`, `"F."`,
`"R"`), `syn`, `ack`, `fin`, `rst`, `psh`, `seq`, `length`, `raw`; with `-i any`: `iface`,
`dir` (`"In"`, `"Out"`, `"M"`, `"B"`, `"P"`); with `-v`: `tos`, `ttl`, `id`, `ip_flags`,
`ip_options`, `ip_length`, `cksum_ok`, and `dsr_option` (true when the IP options hold
option 154, Cilium's DSR option, printed `unknown 154`); with `-e`: `src_mac`, `dst_mac`,
`ethertype`; `inner`: the encapsulated packet (IPIP, VXLAN, OTV, Geneve); `quoted` (`-v`):
the packet an ICMP error quotes. Missing values are `()`.

```rhai
let p = tcpdump::parse("20:36:33.101612 IP 172.18.0.1.38138 > 10.244.4.66.80: Flags [S], seq 1, win 64240, length 0");
print(p.src + " -> " + p.dst + ":" + p.dport + " syn=" + p.syn);
let v = tcpdump::parse("22:53:09.540087 IP (tos 0x0, ttl 63, id 0, offset 0, flags [DF], proto TCP (6), length 68, options (unknown 154))\n    172.18.0.1.52216 > 10.244.4.66.80: Flags [S], seq 1, win 64240, length 0");
print(v.ttl + " " + v.dsr_option);
```"#;

const READ_DOC: &str = r#"Reads a saved capture and returns its packets (maps as `tcpdump::parse` gives). A pcap
or pcapng file is decoded by tcpdump (`tcpdump -n -r FILE`, with `filter`, `verbose`,
`ether` and `count` as in `tcpdump::start`); any other file is tcpdump's text output in
any format `tcpdump::parse` reads (headers, statistics and non-IP lines are skipped). A
relative path is relative to the script.

```rhai
let pkts = tcpdump::read("dsr.pcap", #{filter: "tcp port 80", verbose: true});
let pasted = tcpdump::read("capture.txt");
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

const WAIT_DOC: &str = r#"Blocks until the capture holds `count` packets, a packet satisfies `until` (a closure
receiving the packet map, called on every stored packet from the first, then on each new
one), `timeout` runs out, or tcpdump exits; returns how many packets it holds (not an
error on timeout: compare with `count`). Without `count` nor `until` it waits for tcpdump
to exit (e.g. started with `count`) or for the timeout. Ctrl-C interrupts it (the capture
goes on until `stop`). `until` is a Rhai keyword: quote the key.

```rhai
let cap = tcpdump::start("lo", #{filter: "icmp"});
if cap.wait(#{count: 2, timeout: "5s"}) < 2 { print("fewer than 2 packets"); }
cap.wait(#{"until": |p| p.proto == "icmp" && p.dst == "127.0.0.1", timeout: "5s"});
let pkts = cap.stop();
```"#;

const WAIT_IDLE_DOC: &str = r#"Blocks until no packet arrived for `idle` (the capture has drained: the last packets
of an exchange are in), tcpdump exited, or `timeout` passed while packets kept coming.
Returns `true` when drained (or exited), `false` when the traffic never paused. The quiet
spell counts from the call or from the last packet. Ctrl-C interrupts it.

```rhai
let cap = tcpdump::start("lo", #{filter: "tcp port 8080"});
http::get("http://127.0.0.1:8080/", #{fail: false});
cap.wait_idle("300ms", "5s");
let pkts = cap.stop();
```"#;

const STATS_DOC: &str = r#"tcpdump's closing statistics once it has exited: `#{captured, received, dropped}`
(`()` for a figure it did not print), plus `packets` (how many lines were parsed).

```rhai
let cap = tcpdump::start("lo");
cap.stop();
print(cap.stats().dropped);
```"#;

/// Registers `tcpdump::…` and the `Capture` type.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let engine = reg.engine();
    engine.register_type_with_name::<Capture>("Capture");
    engine.register_get("running", |c: &mut Capture| !c.is_finished());
    engine.register_fn("to_string", |c: &mut Capture| describe(c));
    engine.register_fn("to_debug", |c: &mut Capture| describe(c));

    let m = "tcpdump";
    register_start(reg, ctx, "target: Node", Target::KindNode);
    register_start(reg, ctx, "target: Node", Target::node);
    register_start(reg, ctx, "target: Pod", Target::Pod);
    register_start(reg, ctx, "iface: String", |i: ImmutableString| {
        Target::Iface(i.to_string())
    });
    register_capture(reg, ctx, "target: Node", Target::KindNode);
    register_capture(reg, ctx, "target: Node", Target::node);
    register_capture(reg, ctx, "target: Pod", Target::Pod);
    register_capture(reg, ctx, "iface: String", |i: ImmutableString| {
        Target::Iface(i.to_string())
    });
    reg.func(
        m,
        "parse",
        &["line: String", "Dynamic"],
        PARSE_DOC,
        |line: &str| {
            crate::tcpdump::parse(line)
                .map(|p| Record::new(&PACKET, &p).into_dynamic())
                .unwrap_or(Dynamic::UNIT)
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "read",
        &["path: String", "Array"],
        READ_DOC,
        move |path: &str| read(&c, path, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "read",
        &["path: String", "opts: Map", "Array"],
        READ_DOC,
        move |path: &str, opts: Map| read(&c, path, opts),
    );

    let c = ctx.clone();
    reg.method(
        "stop",
        &["cap: Capture", "Array"],
        STOP_DOC,
        move |cap: &mut Capture| stop(&c, cap),
    );
    let c = ctx.clone();
    reg.method(
        "packets",
        &["cap: Capture", "Array"],
        PACKETS_DOC,
        move |cap: &mut Capture| packets(&c, cap),
    );
    let c = ctx.clone();
    reg.method(
        "wait",
        &["cap: Capture", "opts: Map", "i64"],
        WAIT_DOC,
        move |nctx: NativeCallContext, cap: &mut Capture, opts: Map| -> ScriptResult<i64> {
            const FUNC: &str = "cap.wait";
            let o = Opts::new(FUNC, opts, follower::WAIT_OPTS)?;
            follower::wait(
                &nctx,
                FUNC,
                &o,
                "packet",
                |p: &Arc<Packet>| crate::convert::to_dynamic(&**p),
                |spec, until| cap.follower().wait(&c, spec, until),
            )?;
            Ok(cap.len() as i64)
        },
    );
    let c = ctx.clone();
    reg.method(
        "wait_idle",
        &["cap: Capture", "idle: Dynamic", "timeout: Dynamic", "bool"],
        WAIT_IDLE_DOC,
        move |cap: &mut Capture, idle: Dynamic, timeout: Dynamic| -> ScriptResult<bool> {
            let (idle, timeout) =
                crate::options::idle_and_timeout("cap.wait_idle", &idle, &timeout)?;
            let idle = cap.follower().wait_idle(&c, idle, timeout).script()?;
            Ok(idle != crate::follow::Idle::Busy)
        },
    );
    reg.method(
        "stats",
        &["cap: Capture", "Map"],
        STATS_DOC,
        |cap: &mut Capture| {
            let stats = cap.stats();
            let opt = |v: Option<u64>| {
                v.map(|n| Dynamic::from_int(n as i64))
                    .unwrap_or(Dynamic::UNIT)
            };
            let mut m = Map::new();
            m.insert("captured".into(), opt(stats.captured));
            m.insert("received".into(), opt(stats.received));
            m.insert("dropped".into(), opt(stats.dropped));
            m.insert("packets".into(), Dynamic::from_int(cap.len() as i64));
            m.insert(
                "not_stored".into(),
                Dynamic::from_int(cap.not_stored() as i64),
            );
            m
        },
    );
}

/// `tcpdump::start(target)` and `tcpdump::start(target, opts)` for one kind of target
/// (`param` is how the docs name it: `"target: Node"`).
fn register_start<T: Variant + Clone>(
    reg: &mut Registry,
    ctx: &Ctx,
    param: &'static str,
    target: fn(T) -> Target,
) {
    let c = ctx.clone();
    reg.func(
        "tcpdump",
        "start",
        &[param, "Capture"],
        START_DOC,
        move |t: T| start(&c, target(t), Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        "tcpdump",
        "start",
        &[param, "opts: Map", "Capture"],
        START_DOC,
        move |t: T, opts: Map| start(&c, target(t), opts),
    );
}

/// `tcpdump::capture(target, opts)` for one kind of target.
fn register_capture<T: Variant + Clone>(
    reg: &mut Registry,
    ctx: &Ctx,
    param: &'static str,
    target: fn(T) -> Target,
) {
    let c = ctx.clone();
    reg.func(
        "tcpdump",
        "capture",
        &[param, "opts: Map", "Array"],
        CAPTURE_DOC,
        move |t: T, opts: Map| capture(&c, target(t), opts),
    );
}

fn describe(c: &Capture) -> String {
    let (n, finished) = (c.len(), c.is_finished());
    format!(
        "Capture({}, {n} packets, {})",
        c.command(),
        if finished { "finished" } else { "running" }
    )
}

/// The stored packets as maps, as many as fit the sandbox limits (the strings of all the
/// maps count together); says on stderr what was left out.
fn packets(ctx: &Ctx, cap: &Capture) -> Array {
    let limits = ctx.settings().limits;
    let not_stored = cap.not_stored();
    let (out, left_out) = cap.with_packets(|stored| {
        let mut out = Array::new();
        let mut bytes = 0usize;
        for p in stored.iter() {
            let m = Record::new(&PACKET, &**p).into_dynamic();
            bytes += crate::limits::string_bytes_of(&m);
            if out.len() >= limits.array_len() || bytes > limits.string_bytes() {
                break;
            }
            out.push(m);
        }
        let left_out = stored.len() - out.len();
        (out, left_out)
    });
    if left_out > 0 || not_stored > 0 {
        let (limit, flag) = if out.len() >= limits.array_len() {
            (
                format!(
                    "{} elements per array",
                    crate::limits::group(limits.max_array_size)
                ),
                crate::limits::ARRAY_FLAG,
            )
        } else {
            (
                format!(
                    "{} bytes of strings",
                    crate::limits::group(limits.max_string_size)
                ),
                crate::limits::STRING_FLAG,
            )
        };
        ctx.output()
            .eprintln(&crate::limits::Limits::truncated_note(
                "tcpdump",
                &format!(
                    "kept the first {} packets; {} later packets were left out",
                    out.len(),
                    left_out as u64 + not_stored
                ),
                &limit,
                flag,
            ));
    }
    out
}

fn start(ctx: &Ctx, target: Target, opts: Map) -> ScriptResult<Capture> {
    let o = Opts::new("tcpdump::start", opts, START_OPTS)?;
    start_with(ctx, target, &o)
}

/// `verbose`: `true` (`-v`), `false`, or a level 0–3.
fn verbosity(func: &str, o: &Opts) -> ScriptResult<u8> {
    let Some(v) = o.get("verbose") else {
        return Ok(0);
    };
    if let Ok(b) = v.as_bool() {
        return Ok(b as u8);
    }
    match v.as_int() {
        Ok(n @ 0..=3) => Ok(n as u8),
        _ => Err(error(format!(
            "{func}: option `verbose` must be true, false or 0–3 (-v, -vv, -vvv), got {} `{v}`",
            v.type_name()
        ))),
    }
}

/// The decoding options shared by live and saved captures.
fn decode_opts(func: &str, o: &Opts) -> ScriptResult<Decode> {
    let count = match o.int("count")? {
        Some(n) if n <= 0 => {
            return Err(error(format!(
                "{func}: option `count` must be positive, got {n}"
            )));
        }
        n => n.map(|n| n as u64),
    };
    Ok(Decode {
        filter: o.string("filter")?,
        count,
        verbose: verbosity(func, o)?,
        link_level: o.bool("ether")?.unwrap_or(false),
    })
}

fn start_with(ctx: &Ctx, target: Target, o: &Opts) -> ScriptResult<Capture> {
    let decode = decode_opts("tcpdump::start", o)?;
    let side = o.string("side")?;
    let iface = o.string("iface")?;
    let snaplen = o
        .int("snaplen")?
        .map(|n| n.clamp(0, u32::MAX as i64) as u32);
    let print = o.bool("print")?.unwrap_or(false);
    let launch = Launch {
        print,
        max_packets: ctx.settings().limits.array_len(),
        max_bytes: ctx.settings().limits.string_bytes(),
    };
    let placement =
        place(target, side.as_deref(), iface).map_err(|e| error(format!("tcpdump::start: {e}")))?;
    let token = ctx.cancel_token();
    // Not `ctx.block_on`: on Ctrl-C the placement's lookups stop their commands themselves.
    let opened = ctx
        .runtime()
        .block_on(open(
            ctx,
            placement,
            |iface| crate::tcpdump::argv(iface, &decode, snaplen),
            &token,
        ))
        .script()?;
    let listening = ctx
        .block_on(Capture::listen(opened.source, opened.command))
        .script()?
        .map_err(error)?;
    Ok(Capture::spawn(ctx, listening, launch))
}

fn read(ctx: &Ctx, path: &str, opts: Map) -> ScriptResult<Array> {
    const F: &str = "tcpdump::read";
    let o = Opts::new(F, opts, &["filter", "verbose", "ether", "count"])?;
    let decode = decode_opts(F, &o)?;
    let full = ctx.resolve_path(path);
    let cannot = |e: std::io::Error| error(format!("{F}: cannot read {}: {e}", full.display()));
    // Read as it goes (issue 23): only the first bytes to tell pcap from text, then one line
    // at a time, each packet converted as it comes, stopping at the sandbox limits.
    let file = std::fs::File::open(&full).map_err(cannot)?;
    let mut reader = std::io::BufReader::with_capacity(64 << 10, file);
    let kind = kind_of(std::io::BufRead::fill_buf(&mut reader).map_err(cannot)?);
    let mut kept = Kept::new(ctx);
    match kind {
        SavedKind::Text => {
            if decode != Decode::default() {
                return Err(error(format!(
                    "{F}: {} is text, not a pcap file: options `filter`, `verbose`, `ether` and `count` apply when tcpdump decodes a pcap",
                    full.display()
                )));
            }
            read_text(reader, |p| kept.keep(&p)).map_err(cannot)?;
        }
        SavedKind::Pcap => {
            drop(reader);
            let argv = crate::tcpdump::read_argv(&full.to_string_lossy(), &decode);
            ctx.explain(&argv);
            let spec = Spec::new(argv);
            let cut = ctx
                .block_on(read_pcap(&spec, |p| kept.keep(&p)))
                .script()?
                .map_err(IntoScript::into_script)?;
            if let Some(cut) = cut {
                // Issue 23, item 8: the packets before the cut are the capture's.
                ctx.output().eprintln(&format!(
                    "{F}: {} is truncated ({cut}): kept the {} packets before the cut",
                    full.display(),
                    kept.out.len()
                ));
            }
        }
    }
    Ok(kept.finish(F, &full.display().to_string()))
}

/// Packets of a saved capture as script values, kept while they fit the sandbox limits
/// (elements per array, bytes of strings in one array).
struct Kept<'a> {
    ctx: &'a Ctx,
    out: Array,
    bytes: usize,
    /// Why reading stopped before the end: the limit's text and flag.
    full: Option<(String, &'static str)>,
}

impl<'a> Kept<'a> {
    fn new(ctx: &'a Ctx) -> Self {
        Kept {
            ctx,
            out: Array::new(),
            bytes: 0,
            full: None,
        }
    }

    /// Keeps `p` if it fits; returns whether to go on reading.
    fn keep(&mut self, p: &crate::tcpdump::Packet) -> bool {
        let limits = &self.ctx.settings().limits;
        if self.out.len() >= limits.array_len() {
            self.full = Some((
                format!(
                    "{} elements per array",
                    crate::limits::group(limits.max_array_size)
                ),
                crate::limits::ARRAY_FLAG,
            ));
            return false;
        }
        let m = Record::new(&PACKET, p).into_dynamic();
        let bytes = self.bytes + crate::limits::string_bytes_of(&m);
        if bytes > limits.string_bytes() {
            self.full = Some((
                format!(
                    "{} bytes of strings",
                    crate::limits::group(limits.max_string_size)
                ),
                crate::limits::STRING_FLAG,
            ));
            return false;
        }
        self.bytes = bytes;
        self.out.push(m);
        true
    }

    /// The packets; a note on stderr when a limit stopped the reading.
    fn finish(self, func: &str, file: &str) -> Array {
        if let Some((limit, flag)) = &self.full {
            self.ctx
                .output()
                .eprintln(&crate::limits::Limits::truncated_note(
                    func,
                    &format!(
                        "kept the first {} packets of {file}; the rest of the file was not read",
                        self.out.len()
                    ),
                    limit,
                    flag,
                ));
        }
        self.out
    }
}

fn wait(
    ctx: &Ctx,
    cap: &Capture,
    count: Option<u64>,
    timeout: Option<Duration>,
) -> ScriptResult<()> {
    cap.wait(ctx, count, timeout).script()
}

fn stop(ctx: &Ctx, cap: &Capture) -> ScriptResult<Dynamic> {
    // Not cancellable: stopping must finish (it is bounded by the stop grace).
    cap.stop(ctx);
    if let Some(msg) = cap.error() {
        return Err(error(msg));
    }
    // With `print`, each packet was shown as it came: the REPL does not list them again.
    Ok(shown_if(ctx, cap.prints(), packets(ctx, cap).into()))
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
    let waited = wait(ctx, &cap, count.map(|n| n.max(0) as u64), timeout);
    let packets = stop(ctx, &cap);
    waited?;
    packets
}
