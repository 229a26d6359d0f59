//! The text form of `cilium monitor` / `cilium-dbg monitor` lines, read into an event's
//! [`Fields`] ([`super::line`] builds the [`Event`](super::Event)). The shapes are the Go
//! format strings (lab-facts §7), old and new: `, identity` and ` identity`, `file bpf_lxc.c
//! line 2005` and `file bpf_lxc.c:2005`, policy verdicts with or without `auth:`, IPv6
//! `[addr]:port`, ICMP (`EchoRequest` and the newer `icmp EchoRequest`), the optional
//! `[ ip-trace-id = N ]`, overlay packets with their ` [tunnel …]` suffix, debug-capture
//! summaries, socket-LB traces, the `-v -v` dissection and hexdump lines, and the 1.0-era
//! verbose drop (`Packet dropped N (reason) …`). Parsing is keyword-driven rather than
//! positional, so a field the agent adds or drops between versions does not shift the others.
//!
//! Parsing never panics: every slice is cut at an ASCII delimiter it found, numbers go
//! through `str::parse`, and a line that does not fit its shape becomes `unknown` with its
//! `raw` text.

use std::iter::Peekable;

use super::event::{Fields, Kind, Value};

/// Reads a text line (its leading spaces trimmed) into `f`: its kind, or `None` when it has
/// none of the known shapes.
#[inline]
pub(crate) fn text_into(t: &str, f: &mut Fields) -> Option<Kind> {
    let first = t.as_bytes().first().copied();
    match first {
        Some(b'-') | Some(b'<') if t.starts_with("-> ") || t.starts_with("<- ") => {
            let rest = &t[3..];
            if rest.starts_with("Request ") || rest.starts_with("Response ") {
                return l7(t, f).map(|_| Kind::L7);
            }
            let (head, conn) = split_conn(t);
            // The usual trace header first: when it reads, the line is a trace (its
            // `flow` word is there) and the keyword search below is not needed.
            if let Some(has_endpoint) = trace_head_fast(head, f) {
                finish_conn(conn, f, Some(has_endpoint));
                return Some(Kind::Trace);
            }
            f.clear();
            if find(head, " flow ").is_some() {
                trace(head, conn, f).map(|_| Kind::Trace)
            } else {
                capture(t, f).map(|_| Kind::Capture)
            }
        }
        Some(b'=') if t.starts_with("== ") => capture(t, f).map(|_| Kind::Capture),
        Some(b'x') if t.starts_with("xx drop (") => drop(&t[9..], f).map(|_| Kind::Drop),
        Some(b'P') if t.starts_with("Policy verdict log: ") => {
            policy_verdict(&t[20..], f).map(|_| Kind::PolicyVerdict)
        }
        Some(b'>') if t.starts_with(">> ") => agent(&t[3..], f).map(|_| Kind::Agent),
        Some(b'C') if t.starts_with("CPU ") => cpu_line(&t[4..], f),
        _ => info(t, f).then_some(Kind::Info),
    }
}

/// Header lines, agent log lines, separators and the `-v -v` packet dissection: layer
/// lines (`Ethernet\t{…}`, or with the tab expanded to spaces), their trailers, and the
/// hexdump printed without `--hex` dissection (`00000000  33 33 00 00 …  |33.....|`).
fn info(t: &str, f: &mut Fields) -> bool {
    const PREFIXES: [&str; 9] = [
        "Listening for events",
        "Press Ctrl-C",
        "level=",
        "time=",
        "Defaulted container",
        "---",
        "Failed to decode layer",
        "Packet has been truncated",
        "Unknown layer",
    ];
    if t.is_empty() || PREFIXES.iter().any(|p| t.starts_with(p)) {
        f.text("message", t.trim_end());
        return true;
    }
    if let Some((layer, detail)) = dissection(t) {
        f.text("message", t.trim_end());
        f.text("layer", layer);
        f.text("detail", detail);
        return true;
    }
    hexdump(t, f)
}

/// `Layer<TAB or spaces>{Contents=[..14..] …}` → (layer, `{…}`).
fn dissection(t: &str) -> Option<(&str, &str)> {
    let end = t.bytes().position(|b| b == b'\t' || b == b' ')?;
    let layer = t.get(..end)?;
    if layer.is_empty() || !layer.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let detail = t.get(end..)?.trim_start_matches([' ', '\t']).trim_end();
    detail.starts_with('{').then_some((layer, detail))
}

/// A line of Go's `hex.Dump`: `%08x`, two spaces, up to 16 bytes, `  |ascii|`.
fn hexdump(t: &str, f: &mut Fields) -> bool {
    let b = t.as_bytes();
    if b.len() < 12 || !b[..8].iter().all(u8::is_ascii_hexdigit) || &b[8..10] != b"  " {
        return false;
    }
    let Some(bar) = find(t, "  |") else {
        return false;
    };
    let (Some(offset), Some(hex), Some(ascii)) = (t.get(..8), t.get(10..bar), t.get(bar + 3..))
    else {
        return false;
    };
    let Some(ascii) = ascii.trim_end_matches(['\r', '\n']).strip_suffix('|') else {
        return false;
    };
    let Ok(offset) = i64::from_str_radix(offset, 16) else {
        return false;
    };
    f.text("message", t.trim_end());
    f.int("offset", offset);
    f.text("hex", hex.trim_end());
    f.text("ascii", ascii);
    true
}

/// `head: conn`, cut at the first `": "` (IPv6 addresses hold `:` but never `": "`).
fn split_conn(s: &str) -> (&str, Option<&str>) {
    match cut(s, ": ") {
        Some((head, conn)) => (head, Some(conn)),
        None => (s, None),
    }
}

/// The first position of `needle` (which must start and end with an ASCII byte, so the
/// cut is on char boundaries). Faster than `str::find` for these short needles: no
/// two-way searcher to set up per call. The candidates are the places of the needle's first
/// byte that is not a space (a space is everywhere in a monitor line; `:`, `-`, `f` are
/// not), found with `memchr` in a long haystack and byte by byte in a short one, where a
/// call costs more than the scan.
fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() || n.len() > h.len() {
        return None;
    }
    let k = n.iter().position(|&b| b != b' ').unwrap_or(0);
    let key = n[k];
    let last_start = h.len() - n.len();
    let matches_at = |i: usize| h[i..i + n.len()].iter().zip(n).all(|(a, b)| a == b);
    if h.len() < 48 {
        return (0..=last_start).find(|&i| h[i + k] == key && matches_at(i));
    }
    // Candidate starts `i` (the key at `i + k`), from 0 to `last_start`.
    let mut i = 0;
    while i <= last_start {
        let p = memchr::memchr(key, &h[i + k..=last_start + k])?;
        i += p;
        if matches_at(i) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `hay` split around the first `needle` (ASCII at both ends).
fn cut<'a>(hay: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let i = find(hay, needle)?;
    Some((hay.get(..i)?, hay.get(i + needle.len()..)?))
}

/// `t` without leading and trailing commas.
fn trim_commas(t: &str) -> &str {
    let b = t.as_bytes();
    let (mut start, mut end) = (0, b.len());
    while start < end && b[start] == b',' {
        start += 1;
    }
    while end > start && b[end - 1] == b',' {
        end -= 1;
    }
    t.get(start..end).unwrap_or("")
}

/// The words of a header, without the commas the formats scatter around.
fn tokens(s: &str) -> Peekable<impl Iterator<Item = &str>> {
    s.split(' ')
        .map(trim_commas)
        .filter(|t| !t.is_empty())
        .peekable()
}

/// `-> endpoint 344 flow 0x… , identity a->b state s ifindex i orig-ip ip: conn`, the
/// header (`head`) cut from the connection (`conn`) at the first `": "`.
/// Any header [`trace_head_fast`] does not read.
fn trace(head: &str, conn: Option<&str>, f: &mut Fields) -> Option<()> {
    trace_head(head, f);
    finish_conn(conn, f, None);
    f.has("flow").then_some(())
}

/// The usual header, in the order the agent prints it (`dir point [N] flow F [,] identity
/// A->B state S ifindex I orig-ip O`), read in one pass. `None` on anything else (a proxy
/// port, `encrypted`, an ip-trace-id, doubled spaces, commas in a value): the keyword parser
/// then reads it, with the same fields for the lines both accept (see the tests). On success,
/// whether it set `endpoint`.
fn trace_head_fast(head: &str, f: &mut Fields) -> Option<bool> {
    /// The word up to the next space, and what follows it; `None` for an empty word or
    /// one holding a comma (one pass over the bytes).
    fn word(s: &str) -> Option<(&str, &str)> {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b' ' => break,
                b',' => return None,
                _ => i += 1,
            }
        }
        if i == 0 {
            return None;
        }
        Some((s.get(..i)?, s.get(i + 1..).unwrap_or("")))
    }
    let (dir, rest) = word(head)?;
    f.text("dir", dir);
    let (point, mut rest) = word(rest)?;
    f.text("point", point);
    let endpoint = point == "endpoint";
    if endpoint {
        let (n, r) = word(rest)?;
        let n: i64 = n.parse().ok()?;
        f.int("endpoint", n);
        rest = r;
    }
    let rest = rest.strip_prefix("flow ")?;
    let (flow, rest) = word(rest)?;
    f.text("flow", flow);
    let rest = rest
        .strip_prefix(", identity ")
        .or_else(|| rest.strip_prefix("identity "))?;
    let (ids, rest) = word(rest)?;
    let (src, dst) = cut(ids, "->")?;
    f.text("src_identity", src);
    f.text("dst_identity", dst);
    let (state, rest) = word(rest.strip_prefix("state ")?)?;
    f.text("state", state);
    let (ifindex, rest) = word(rest.strip_prefix("ifindex ")?)?;
    f.text("ifindex", ifindex);
    let (orig_ip, rest) = word(rest.strip_prefix("orig-ip ")?)?;
    f.text("orig_ip", orig_ip);
    rest.is_empty().then_some(endpoint)
}

/// Any trace header, keyword by keyword.
fn trace_head(head: &str, f: &mut Fields) -> Option<()> {
    let mut toks = tokens(head);
    let dir = toks.next()?;
    f.text("dir", dir);
    let point = toks.next()?;
    f.text("point", point);
    match point {
        "endpoint" => {
            if let Some(n) = toks.next_if(|t| t.parse::<i64>().is_ok()) {
                f.int_or_unit("endpoint", n);
            }
        }
        "proxy" => {
            if toks.next_if_eq(&"port").is_some()
                && let Some(n) = toks.next_if(|t| t.parse::<i64>().is_ok())
            {
                f.int_or_unit("proxy_port", n);
            }
        }
        _ => {}
    }
    keywords(&mut toks, f);
    Some(())
}

/// `xx drop (reason) flow 0x… to endpoint N, ifindex N, file F:N, , identity a->b: conn`
fn drop(rest: &str, f: &mut Fields) -> Option<()> {
    let close = find(rest, ") flow ")
        .or_else(|| find(rest, ") to endpoint"))
        .or_else(|| rest.find(')'))?;
    f.text("reason", &rest[..close]);
    let (head, conn) = split_conn(&rest[close + 1..]);
    keywords(&mut tokens(head), f);
    finish_conn(conn, f, None);
    Some(())
}

/// Parses the connection summary when there is one, and makes `endpoint` and `flags`
/// always present on traces and drops.
/// `has_endpoint`: whether the header set `endpoint`, when the caller knows it.
fn finish_conn(conn: Option<&str>, f: &mut Fields, has_endpoint: Option<bool>) {
    if !has_endpoint.unwrap_or_else(|| f.has("endpoint")) {
        f.push("endpoint", Value::Unit);
    }
    if !conn.is_some_and(|conn| connection(conn, f)) {
        f.no_flags();
    }
}

/// The `keyword value` pairs trace and drop headers share.
fn keywords<'a>(toks: &mut Peekable<impl Iterator<Item = &'a str>>, f: &mut Fields) {
    while let Some(tok) = toks.next() {
        match tok {
            "flow" => {
                if let Some(v) = toks.next() {
                    f.text("flow", v);
                }
            }
            "identity" => {
                if let Some((src, dst)) = toks.next().and_then(|v| cut(v, "->")) {
                    f.text("src_identity", src);
                    f.text("dst_identity", dst);
                }
            }
            "state" => {
                if let Some(v) = toks.next() {
                    f.text("state", v);
                }
            }
            "ifindex" => {
                if let Some(v) = toks.next() {
                    f.text("ifindex", v);
                }
            }
            "orig-ip" => {
                if let Some(v) = toks.next() {
                    f.text("orig_ip", v);
                }
            }
            "encrypted" => f.push("encrypted", Value::Bool(true)),
            // `[ ip-trace-id = N ]` (1.18+): a u64, kept as text (it may not fit an i64).
            "ip-trace-id" | "IP-TRACE-ID" => {
                toks.next_if_eq(&"=");
                if let Some(v) = toks.next() {
                    f.text("ip_trace_id", v);
                }
            }
            "endpoint" if !f.has("endpoint") => {
                if let Some(v) = toks.next() {
                    f.int_or_unit("endpoint", v);
                }
            }
            "file" => {
                if let Some(v) = toks.next() {
                    match v.rsplit_once(':') {
                        Some((file, line)) if line.parse::<i64>().is_ok() => {
                            f.text("file", file);
                            f.int_or_unit("line", line);
                        }
                        _ => f.text("file", v),
                    }
                }
            }
            "line" if !f.has("line") => {
                if let Some(v) = toks.next() {
                    f.int_or_unit("line", v);
                }
            }
            _ => {}
        }
    }
}

/// `ip:port -> ip:port tcp FLAGS`, `[v6]:port -> [v6]:port udp`, `ip -> ip EchoRequest`
/// (newer: `ip -> ip icmp EchoRequest`), `mac -> mac ARP`, `esp`; an overlay packet ends
/// with ` [tunnel outer-ip:port -> outer-ip:port vxlan]`. Whether it set `flags` (TCP).
fn connection(conn: &str, f: &mut Fields) -> bool {
    // Only an overlay packet ends with `]`: the search is skipped for the others.
    let tunnel_at = if conn.trim_end().ends_with(']') {
        find(conn, " [tunnel ")
    } else {
        None
    };
    let conn = match tunnel_at {
        Some(at) => {
            if let Some(outer) = conn.get(at + 9..) {
                tunnel(outer.trim_end().trim_end_matches(']'), f);
            }
            conn.get(..at).unwrap_or("")
        }
        None => conn,
    };
    if conn.trim_end() == "esp" {
        f.push("proto", Value::Static("esp"));
        return false;
    }
    let Some((src, rest)) = cut(conn, " -> ") else {
        return false;
    };
    let (dst, tail) = split_space(rest);
    if is_mac(src) && is_mac(dst) {
        f.text("src_mac", src);
        f.text("dst_mac", dst);
        f.text("ethertype", tail.trim_end());
        return false;
    }
    let (src_ip, sport) = host_port(src);
    let (dst_ip, dport) = host_port(dst);
    f.text("src", src_ip);
    if let Some(p) = sport {
        f.int("sport", p);
    }
    f.text("dst", dst_ip);
    if let Some(p) = dport {
        f.int("dport", p);
    }
    let (proto, after) = split_space(tail);
    match proto {
        "" => {}
        "tcp" => {
            f.text("proto", proto);
            f.flags(after);
            return true;
        }
        "udp" | "sctp" | "IPsecAH" | "IPsecESP" | "esp" => f.text("proto", proto),
        "icmp" => {
            f.text("proto", proto);
            f.text("icmp", after.trim_end());
        }
        // ICMP has no ports and prints the type/code (`EchoRequest`); older agents may
        // prefix it with `ICMPv4`/`ICMPv6`.
        _ if sport.is_none() && dport.is_none() => {
            f.push("proto", Value::Static("icmp"));
            let code = if proto.starts_with("ICMP") && !after.is_empty() {
                after
            } else {
                tail
            };
            f.text("icmp", code.trim_end());
        }
        _ => f.text("proto", tail.trim_end()),
    }
    false
}

/// `s` split at its first space (`(s, "")` without one).
fn split_space(s: &str) -> (&str, &str) {
    match s.as_bytes().iter().position(|&b| b == b' ') {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    }
}

/// The outer header of an overlay packet: `172.18.0.2:8472 -> 172.18.0.3:8472 vxlan`.
fn tunnel(outer: &str, f: &mut Fields) {
    let Some((src, rest)) = cut(outer, " -> ") else {
        return;
    };
    let (dst, proto) = split_space(rest);
    let (src_ip, sport) = host_port(src);
    let (dst_ip, dport) = host_port(dst);
    f.text("tunnel_src", src_ip);
    if let Some(p) = sport {
        f.int("tunnel_sport", p);
    }
    f.text("tunnel_dst", dst_ip);
    if let Some(p) = dport {
        f.int("tunnel_dport", p);
    }
    if !proto.trim().is_empty() {
        f.text("tunnel_proto", proto.trim());
    }
}

/// `16:f9:0b:3a:11:02`: six pairs of hex digits (never an IPv6 address, which has eight
/// groups or a `::`).
fn is_mac(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b':'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// A debug-capture summary (`cilium monitor -t capture`): `-> IFNAME: conn`,
/// `<- load-balancer IFNAME: conn`, `-> proxy port N: conn`, `== v4->v6 N: conn`.
fn capture(t: &str, f: &mut Fields) -> Option<()> {
    let (head, conn) = split_conn(t);
    capture_halves(head, conn?, f)
}

/// A debug capture given as the two halves of its text line, `PREFIX: SUMMARY` (JSON mode
/// carries them apart): the fields the text line has. Without a prefix (the capture points
/// the text form prints none for), the summary's connection fields only. `false` when the
/// text line would not be a capture (another shape, or a prefix of no known form).
pub(crate) fn capture_parts(prefix: Option<&str>, summary: &str, f: &mut Fields) -> bool {
    let Some(prefix) = prefix else {
        if !connection(summary, f) {
            f.no_flags();
        }
        return true;
    };
    let arrow = prefix
        .strip_prefix("-> ")
        .or_else(|| prefix.strip_prefix("<- "));
    // What `text_into` reads as an L7 record or a trace before trying a capture.
    let other = arrow.is_some_and(|rest| {
        rest.starts_with("Request ")
            || rest.starts_with("Response ")
            || find(prefix, " flow ").is_some()
    });
    if other || (arrow.is_none() && !prefix.starts_with("== ")) {
        return false;
    }
    capture_halves(prefix, summary, f).is_some()
}

fn capture_halves(head: &str, conn: &str, f: &mut Fields) -> Option<()> {
    let mut words = head.split(' ');
    let dir = words.next()?;
    let rest: [Option<&str>; 4] = [words.next(), words.next(), words.next(), words.next()];
    match (dir, rest) {
        ("->", [Some("proxy"), Some("port"), Some(port), None]) => {
            f.text("dir", dir);
            f.push("point", Value::Static("proxy"));
            f.int_or_unit("proxy_port", port);
        }
        ("->", [Some(ifname), None, _, _]) if !ifname.is_empty() => {
            f.text("dir", dir);
            f.text("ifindex", ifname);
        }
        ("<-", [Some(point @ "load-balancer"), Some(ifname), None, _]) => {
            f.text("dir", dir);
            f.text("point", point);
            f.text("ifindex", ifname);
        }
        ("==", [Some(point @ ("v4->v6" | "v6->v4")), Some(ifindex), None, _]) => {
            f.text("dir", dir);
            f.text("point", point);
            f.text("ifindex", ifindex);
        }
        _ => return None,
    }
    if !connection(conn, f) {
        f.no_flags();
    }
    Some(())
}

/// A port as `str::parse::<u16>` reads it (an optional `+`, ASCII digits, at most 65535),
/// without building an error on the way.
fn port_number(d: &[u8]) -> Option<i64> {
    let d = d.strip_prefix(b"+").unwrap_or(d);
    if d.is_empty() {
        return None;
    }
    let mut n: i64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(c - b'0');
        if n > 65535 {
            return None;
        }
    }
    Some(n)
}

/// `1.2.3.4:80` → (`1.2.3.4`, 80); `[f00d::1]:80` → (`f00d::1`, 80); anything else is an
/// address without a port.
fn host_port(s: &str) -> (&str, Option<i64>) {
    if let Some(inner) = s.strip_prefix('[') {
        if let Some((ip, port)) = cut(inner, "]:")
            && let Some(p) = port_number(port.as_bytes())
        {
            return (ip, Some(p));
        }
        return (inner.trim_end_matches(']'), None);
    }
    // One colon only (more is an IPv6 address without brackets).
    let b = s.as_bytes();
    let mut colon = None;
    for (i, &c) in b.iter().enumerate() {
        if c == b':' {
            if colon.is_some() {
                return (s, None);
            }
            colon = Some(i);
        }
    }
    match colon.and_then(|i| Some((i, port_number(&b[i + 1..])?))) {
        Some((i, p)) => (&s[..i], Some(p)),
        None => (s, None),
    }
}

/// `flow 0x… local EP ID 1890, remote ID 6623, proto 6, ingress, action allow,
/// [auth: disabled, ]match L3-L4, conn`
fn policy_verdict(mut rest: &str, f: &mut Fields) -> Option<()> {
    let mut conn = None;
    loop {
        let (seg, tail) = match cut(rest, ", ") {
            Some((seg, tail)) => (seg, Some(tail)),
            None => (rest, None),
        };
        if let Some(m) = seg.strip_prefix("match ") {
            f.text("matched", m);
            conn = tail;
            break;
        }
        if let Some(id) = seg.strip_prefix("remote ID ") {
            f.text("remote_identity", id);
        } else if let Some(p) = seg.strip_prefix("proto ") {
            f.int_or_unit("ip_proto", p);
        } else if let Some(a) = seg.strip_prefix("action ") {
            f.text("action", a);
        } else if let Some(a) = seg.strip_prefix("auth: ") {
            f.text("auth", a);
        } else if seg == "ingress" || seg == "egress" {
            f.text("direction", seg);
        } else if seg.starts_with("flow ") {
            let mut toks = tokens(seg);
            while let Some(tok) = toks.next() {
                match tok {
                    "flow" => {
                        if let Some(v) = toks.next() {
                            f.text("flow", v);
                        }
                    }
                    "ID" => {
                        if let Some(v) = toks.next() {
                            f.int_or_unit("endpoint", v);
                        }
                    }
                    _ => {}
                }
            }
        }
        match tail {
            Some(t) => rest = t,
            None => break,
        }
    }
    if !conn.is_some_and(|conn| connection(conn, f)) {
        f.no_flags();
    }
    f.has("flow").then_some(())
}

/// `IPCache entry upserted: {json}` (the `>> ` is already cut).
fn agent(rest: &str, f: &mut Fields) -> Option<()> {
    match cut(rest, ": ") {
        Some((subtype, payload)) => {
            f.text("subtype", subtype);
            let payload = payload.trim();
            let is_json = payload.starts_with(['{', '['])
                && serde_json::from_str::<serde::de::IgnoredAny>(payload).is_ok();
            if is_json {
                f.json("data", payload);
            } else {
                f.push("data", Value::Unit);
                f.text("message", payload);
            }
        }
        None => {
            f.text("subtype", rest.trim());
            f.push("data", Value::Unit);
        }
    }
    Some(())
}

/// `CPU 01: Lost N events`, and the `-v` lines `CPU 01: MARK 0x… FROM N <what>: …`.
fn cpu_line(rest: &str, f: &mut Fields) -> Option<Kind> {
    let (cpu, rest) = cut(rest, ": ")?;
    f.int_or_unit("cpu", cpu);
    if let Some(lost) = rest.strip_prefix("Lost ") {
        let (n, _) = lost.split_once(' ').unwrap_or((lost, ""));
        f.int_or_unit("count", n);
        return Some(Kind::Lost);
    }
    if let Some(sock) = rest.strip_prefix('[') {
        return trace_sock(sock, f).map(|_| Kind::TraceSock);
    }
    // `MARK %#x` is missing from the oldest agents' verbose drops.
    let rest = match rest.strip_prefix("MARK ") {
        Some(marked) => {
            let (mark, rest) = marked.split_once(' ')?;
            f.text("mark", mark);
            match rest.strip_prefix("[ IP-TRACE-ID = ") {
                Some(id) => {
                    let (id, rest) = cut(id, " ] ")?;
                    f.text("ip_trace_id", id);
                    rest
                }
                None => rest,
            }
        }
        None => rest,
    };
    let rest = rest.strip_prefix("FROM ")?;
    let (from, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    f.int_or_unit("from", from);
    if let Some(dropped) = rest.strip_prefix("Packet dropped ") {
        return old_drop(dropped, f).map(|_| Kind::Drop);
    }
    let (what, body) = cut(rest, ": ").unwrap_or((rest.trim_end_matches(':'), ""));
    if what.starts_with("DEBUG") {
        f.text("message", body);
        return Some(Kind::Debug);
    }
    if what == "DROP" {
        copy_mark_to_flow(f);
        segments(body, f);
        if !f.has("endpoint") {
            f.push("endpoint", Value::Unit);
        }
        return Some(Kind::Drop);
    }
    f.text("point", what);
    segments(body, f);
    if !f.has("endpoint") {
        f.push("endpoint", Value::Unit);
    }
    Some(Kind::TraceVerbose)
}

/// Verbose drops call the mark `flow`, like the summary drops.
fn copy_mark_to_flow(f: &mut Fields) {
    f.copy("mark", "flow");
}

/// The 1.0-era verbose drop, after `Packet dropped `:
/// `%d (%s) %d bytes ifindex=%d[ %d->%d][ to lxc %d]`.
fn old_drop(rest: &str, f: &mut Fields) -> Option<()> {
    let (code, rest) = rest.split_once(" (")?;
    f.int_or_unit("drop_code", code);
    // The reason may hold parentheses itself: it ends at the `) ` before the byte count.
    let close = rest
        .match_indices(") ")
        .map(|(i, _)| i)
        .find(|&i| rest[i + 2..].starts_with(|c: char| c.is_ascii_digit()))
        .or_else(|| rest.rfind(')'))?;
    let (reason, rest) = (rest.get(..close)?, rest.get(close + 1..)?);
    f.text("reason", reason);
    copy_mark_to_flow(f);
    let mut words = rest.split(' ').filter(|w| !w.is_empty()).peekable();
    while let Some(w) = words.next() {
        if let Some(ifindex) = w.strip_prefix("ifindex=") {
            f.text("ifindex", ifindex);
        } else if words.next_if_eq(&"bytes").is_some() {
            f.int_or_unit("bytes", w);
        } else if w == "to" && words.next_if_eq(&"lxc").is_some() {
            if let Some(n) = words.next() {
                f.int_or_unit("endpoint", n);
            }
        } else if let Some((src, dst)) = cut(w, "->") {
            f.text("src_identity", src);
            f.text("dst_identity", dst);
        }
    }
    if !f.has("endpoint") {
        f.push("endpoint", Value::Unit);
    }
    Some(())
}

/// A socket-LB translation, after `CPU NN: [`:
/// `pre-xlate-fwd] cgroup_id: %d sock_cookie: %d, dst [%s]:%d %s` (an older form prints
/// `dst [ip:port]`).
fn trace_sock(rest: &str, f: &mut Fields) -> Option<()> {
    let (point, rest) = cut(rest, "] ")?;
    f.text("xlate_point", point);
    let rest = rest.strip_prefix("cgroup_id: ")?;
    let (cgroup, rest) = rest.split_once(' ')?;
    f.int_or_unit("cgroup_id", cgroup);
    let rest = rest.strip_prefix("sock_cookie: ")?;
    let (cookie, rest) = cut(rest, ", ")?;
    f.int_or_unit("sock_cookie", cookie);
    let rest = rest.strip_prefix("dst ")?;
    let (addr, proto) = rest.split_once(' ').unwrap_or((rest, ""));
    let (ip, port) = match addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        Some(inner) => host_port(inner),
        None => host_port(addr),
    };
    f.text("dst", ip);
    if let Some(p) = port {
        f.int("dport", p);
    }
    let proto = proto.trim();
    if !proto.is_empty() {
        f.text("proto", proto);
    }
    Some(())
}

/// The `, `-separated body of verbose traces and drops.
fn segments(body: &str, f: &mut Fields) {
    for seg in body.split(", ").map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(v) = seg.strip_prefix("state ") {
            f.text("state", v);
        } else if let Some(v) = seg.strip_prefix("interface ") {
            f.text("ifindex", v);
        } else if let Some(v) = seg.strip_prefix("identity ") {
            if let Some((src, dst)) = cut(v, "->") {
                f.text("src_identity", src);
                f.text("dst_identity", dst);
            }
        } else if let Some(v) = seg.strip_prefix("orig-ip ") {
            f.text("orig_ip", v);
        } else if let Some(v) = seg.strip_prefix("to endpoint ") {
            f.int_or_unit("endpoint", v);
        } else if let Some(v) = seg.strip_prefix("to proxy-port ") {
            f.int_or_unit("proxy_port", v);
        } else if let Some(v) = seg.strip_prefix("reason ") {
            f.text("reason", v);
        } else if let Some((n, rest)) = cut(seg, " bytes") {
            f.int_or_unit("bytes", n);
            if let Some(c) = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(" captured)"))
            {
                f.int_or_unit("captured", c);
            }
        }
    }
}

/// `<- Request http from 1890 ([labels]) to 344 ([labels]), identity 6623->7777, verdict
/// Forwarded GET http://… => 200`; a response names the endpoints the other way round
/// (`to 1890 (…) from 344 (…)`). After the verdict: HTTP `METHOD URL => CODE`, DNS
/// `DNS source: query types[ TTL: n Answer: 'ips'[ CNAMEs: names]]`, Kafka
/// `api-key topic T => code`, other L7 `key:value … => status:S`.
fn l7(t: &str, f: &mut Fields) -> Option<()> {
    f.text("dir", &t[..2]);
    let rest = &t[3..];
    let (typ, rest) = rest.split_once(' ')?;
    f.text("type", typ);
    let (proto, rest) = rest.split_once(' ')?;
    f.text("protocol", proto);
    let rest = if let Some(rest) = rest.strip_prefix("from ") {
        let rest = l7_endpoint(rest, ") to ", "src_endpoint", "src_labels", f)?;
        l7_endpoint(rest, "), ", "dst_endpoint", "dst_labels", f)?
    } else {
        let rest = rest.strip_prefix("to ")?;
        let rest = l7_endpoint(rest, ") from ", "dst_endpoint", "dst_labels", f)?;
        l7_endpoint(rest, "), ", "src_endpoint", "src_labels", f)?
    };
    let rest = rest.strip_prefix("identity ")?;
    let (ids, rest) = cut(rest, ", ")?;
    if let Some((src, dst)) = cut(ids, "->") {
        f.text("src_identity", src);
        f.text("dst_identity", dst);
    }
    let rest = rest.strip_prefix("verdict ")?;
    let (verdict, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    f.text("verdict", verdict);
    let rest = rest.trim_end();
    match proto {
        "http" => {
            if let Some((method, rest)) = rest.split_once(' ')
                && let Some((url, code)) = rest.rsplit_once(" => ")
            {
                f.text("method", method);
                f.text("url", url);
                f.int_or_unit("code", code.trim());
            } else if !rest.is_empty() {
                f.text("detail", rest);
            }
        }
        "dns" => dns(rest, f),
        "kafka" => {
            if let Some((head, code)) = rest.rsplit_once(" => ")
                && let Some((api_key, topic)) = cut(head, " topic ")
            {
                f.text("api_key", api_key);
                f.text("topic", topic);
                f.int_or_unit("error_code", code.trim());
            } else if !rest.is_empty() {
                f.text("detail", rest);
            }
        }
        _ => {
            if let Some((_, status)) = rest.rsplit_once(" => status:") {
                f.text("status", status);
            }
            if !rest.is_empty() {
                f.text("detail", rest);
            }
        }
    }
    Some(())
}

/// `N (labels)` followed by `until`; the rest after it.
fn l7_endpoint<'a>(
    rest: &'a str,
    until: &str,
    id: &'static str,
    labels: &'static str,
    f: &mut Fields,
) -> Option<&'a str> {
    let (ep, rest) = rest.split_once(' ')?;
    f.int_or_unit(id, ep);
    let rest = rest.strip_prefix('(')?;
    let (l, rest) = cut(rest, until)?;
    f.text(labels, l);
    Some(rest)
}

/// `DNS proxy: example.com. A,AAAA TTL: 30 Answer: '1.2.3.4,5.6.7.8' CNAMEs: a.b.`
fn dns(rest: &str, f: &mut Fields) {
    let Some(rest) = rest.strip_prefix("DNS ") else {
        if !rest.is_empty() {
            f.text("detail", rest);
        }
        return;
    };
    let Some((source, rest)) = cut(rest, ": ") else {
        return;
    };
    f.text("dns_source", source);
    let (question, answer) = match cut(rest, " TTL: ") {
        Some((q, a)) => (q, Some(a)),
        None => (rest, None),
    };
    let (query, qtypes) = question.split_once(' ').unwrap_or((question, ""));
    f.text("query", query);
    f.text("qtypes", qtypes);
    let Some(answer) = answer else {
        return;
    };
    let (ttl, rest) = answer.split_once(' ').unwrap_or((answer, ""));
    f.int_or_unit("ttl", ttl);
    if let Some(ips) = rest.strip_prefix("Answer: '") {
        let (ips, rest) = cut(ips, "'").unwrap_or((ips, ""));
        f.text("answer", ips);
        if let Some(cnames) = rest.trim_start().strip_prefix("CNAMEs: ") {
            f.text("cnames", cnames);
        }
    }
}

#[cfg(test)]
mod tests;
