//! `cilium monitor` / `cilium-dbg monitor` lines into [`Event`]s. The shapes are the Go
//! format strings (lab-facts §7), old and new: `, identity` and ` identity`, `file bpf_lxc.c
//! line 2005` and `file bpf_lxc.c:2005`, policy verdicts with or without `auth:`, IPv6
//! `[addr]:port`, ICMP. Parsing is keyword-driven rather than positional, so a field the
//! agent adds or drops between versions does not shift the others.
//!
//! [`parse`] never panics: every slice is cut at an ASCII delimiter it found, numbers go
//! through `str::parse`, and a line that does not fit its shape becomes `unknown` with its
//! `raw` text.

use std::iter::Peekable;

use super::event::{Event, Fields, Kind, Value};

/// Parses one line (a trailing `\n` / `\r\n` is removed; the event owns a copy).
pub fn parse(line: &str) -> Event {
    parse_owned(line.to_string())
}

/// Parses one line, taking ownership of it (no copy).
pub fn parse_owned(mut line: String) -> Event {
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    let (kind, fields) = {
        let mut f = Fields::new(&line);
        let kind = match classify(&line, &mut f) {
            Some(kind) => kind,
            None => {
                f.list.clear();
                Kind::Unknown
            }
        };
        if kind == Kind::Unknown {
            f.list.clear();
        }
        (kind, f.list)
    };
    Event::with_fields(kind, line, fields)
}

fn classify(line: &str, f: &mut Fields) -> Option<Kind> {
    let t = line.trim_start();
    let first = t.as_bytes().first().copied();
    match first {
        Some(b'{') => Some(super::json::parse_into(t, f)),
        Some(b'-') | Some(b'<') if t.starts_with("-> ") || t.starts_with("<- ") => {
            let rest = &t[3..];
            if rest.starts_with("Request ") || rest.starts_with("Response ") {
                l7(t, f).map(|_| Kind::L7)
            } else {
                trace(t, f).map(|_| Kind::Trace)
            }
        }
        Some(b'x') if t.starts_with("xx drop (") => drop(&t[9..], f).map(|_| Kind::Drop),
        Some(b'P') if t.starts_with("Policy verdict log: ") => {
            policy_verdict(&t[20..], f).map(|_| Kind::PolicyVerdict)
        }
        Some(b'>') if t.starts_with(">> ") => agent(&t[3..], f).map(|_| Kind::Agent),
        Some(b'C') if t.starts_with("CPU ") => cpu_line(&t[4..], f),
        _ => info(t, f).then_some(Kind::Info),
    }
}

/// Header lines, agent log lines, separators and `-v -v` packet dissection.
fn info(t: &str, f: &mut Fields) -> bool {
    const PREFIXES: [&str; 6] = [
        "Listening for events",
        "Press Ctrl-C",
        "level=",
        "time=",
        "Defaulted container",
        "---",
    ];
    let dissection = t
        .split_once('\t')
        .is_some_and(|(layer, rest)| !layer.contains(' ') && rest.starts_with('{'));
    if t.is_empty() || dissection || PREFIXES.iter().any(|p| t.starts_with(p)) {
        f.text("message", t.trim_end());
        true
    } else {
        false
    }
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
/// two-way searcher to set up per call.
fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let first = *n.first()?;
    if n.len() > h.len() {
        return None;
    }
    let last_start = h.len() - n.len();
    let mut i = 0;
    while i <= last_start {
        let p = h[i..=last_start].iter().position(|&b| b == first)?;
        i += p;
        if h[i..].starts_with(n) {
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

/// `-> endpoint 344 flow 0x… , identity a->b state s ifindex i orig-ip ip: conn`
fn trace(t: &str, f: &mut Fields) -> Option<()> {
    let (head, conn) = split_conn(t);
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
    finish_conn(conn, f);
    f.has("flow").then_some(())
}

/// `xx drop (reason) flow 0x… to endpoint N, ifindex N, file F:N, , identity a->b: conn`
fn drop(rest: &str, f: &mut Fields) -> Option<()> {
    let close = find(rest, ") flow ")
        .or_else(|| find(rest, ") to endpoint"))
        .or_else(|| rest.find(')'))?;
    f.text("reason", &rest[..close]);
    let (head, conn) = split_conn(&rest[close + 1..]);
    keywords(&mut tokens(head), f);
    finish_conn(conn, f);
    Some(())
}

/// Parses the connection summary when there is one, and makes `endpoint` and `flags`
/// always present on traces and drops.
fn finish_conn(conn: Option<&str>, f: &mut Fields) {
    if !f.has("endpoint") {
        f.push("endpoint", Value::Unit);
    }
    if let Some(conn) = conn {
        connection(conn, f);
    }
    if !f.has("flags") {
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

/// `ip:port -> ip:port tcp FLAGS`, `[v6]:port -> [v6]:port udp`, `ip -> ip EchoRequest`.
fn connection(conn: &str, f: &mut Fields) {
    let Some((src, rest)) = cut(conn, " -> ") else {
        return;
    };
    let (dst, tail) = rest.split_once(' ').unwrap_or((rest, ""));
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
    let (proto, after) = tail.split_once(' ').unwrap_or((tail, ""));
    match proto {
        "" => {}
        "tcp" => {
            f.text("proto", proto);
            f.flags(after);
        }
        "udp" | "sctp" | "IPsecAH" | "IPsecESP" | "esp" => f.text("proto", proto),
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
}

/// `1.2.3.4:80` → (`1.2.3.4`, 80); `[f00d::1]:80` → (`f00d::1`, 80); anything else is an
/// address without a port.
fn host_port(s: &str) -> (&str, Option<i64>) {
    if let Some(inner) = s.strip_prefix('[') {
        if let Some((ip, port)) = cut(inner, "]:")
            && let Ok(p) = port.parse::<u16>()
        {
            return (ip, Some(p.into()));
        }
        return (inner.trim_end_matches(']'), None);
    }
    match s.split_once(':') {
        Some((ip, port)) if !port.contains(':') => match port.parse::<u16>() {
            Ok(p) => (ip, Some(p.into())),
            Err(_) => (s, None),
        },
        _ => (s, None),
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
    if let Some(conn) = conn {
        connection(conn, f);
    }
    if !f.has("flags") {
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
    let rest = rest.strip_prefix("MARK ")?;
    let (mark, rest) = rest.split_once(' ')?;
    f.text("mark", mark);
    let rest = rest.strip_prefix("FROM ")?;
    let (from, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    f.int_or_unit("from", from);
    let (what, body) = cut(rest, ": ").unwrap_or((rest.trim_end_matches(':'), ""));
    if what.starts_with("DEBUG") {
        f.text("message", body);
        return Some(Kind::Debug);
    }
    if what == "DROP" {
        f.text("flow", mark);
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
/// Forwarded GET http://… => 200`
fn l7(t: &str, f: &mut Fields) -> Option<()> {
    f.text("dir", &t[..2]);
    let rest = &t[3..];
    let (typ, rest) = rest.split_once(' ')?;
    f.text("type", typ);
    let (proto, rest) = rest.split_once(' ')?;
    f.text("protocol", proto);
    let rest = rest.strip_prefix("from ")?;
    let (src_ep, rest) = rest.split_once(' ')?;
    f.int_or_unit("src_endpoint", src_ep);
    let rest = rest.strip_prefix('(')?;
    let (src_labels, rest) = cut(rest, ") to ")?;
    f.text("src_labels", src_labels);
    let (dst_ep, rest) = rest.split_once(' ')?;
    f.int_or_unit("dst_endpoint", dst_ep);
    let rest = rest.strip_prefix('(')?;
    let (dst_labels, rest) = cut(rest, "), ")?;
    f.text("dst_labels", dst_labels);
    let rest = rest.strip_prefix("identity ")?;
    let (ids, rest) = cut(rest, ", ")?;
    if let Some((src, dst)) = cut(ids, "->") {
        f.text("src_identity", src);
        f.text("dst_identity", dst);
    }
    let rest = rest.strip_prefix("verdict ")?;
    let (verdict, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    f.text("verdict", verdict);
    if proto == "http"
        && let Some((method, rest)) = rest.split_once(' ')
        && let Some((url, code)) = rest.rsplit_once(" => ")
    {
        f.text("method", method);
        f.text("url", url);
        f.int_or_unit("code", code.trim());
    } else if !rest.is_empty() {
        f.text("detail", rest);
    }
    Some(())
}

#[cfg(test)]
mod tests;
