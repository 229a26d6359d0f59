//! `cilium monitor -j` lines: one JSON object per line, with `"type"` saying which event it
//! is. They map onto the same kinds and field names as the text lines, as far as the JSON
//! carries them (e.g. `mark` is the text form's `flow`, `srcLabel` its `src_identity`).
//! Go's encoder escapes `<`/`>` (`-\u003e endpoint 1890`), so these fields are decoded
//! strings, not slices of the raw line.

use serde_json::{Map, Value as Json};

use super::event::{Fields, Kind, Value};

/// Parses a JSON-mode line into `f`; `Unknown` when it is not a monitor object.
pub(crate) fn parse_into(line: &str, f: &mut Fields) -> Kind {
    let Ok(Json::Object(obj)) = serde_json::from_str::<Json>(line) else {
        return Kind::Unknown;
    };
    match obj.get("type").and_then(Json::as_str) {
        Some("trace") => {
            trace_or_drop(&obj, f, Kind::Trace);
            Kind::Trace
        }
        Some("drop") => {
            trace_or_drop(&obj, f, Kind::Drop);
            Kind::Drop
        }
        Some("debug") => {
            common(&obj, f);
            if let Some(m) = obj.get("message").and_then(Json::as_str) {
                owned(f, "message", m);
            }
            Kind::Debug
        }
        Some("capture") => {
            common(&obj, f);
            if let Some(m) = obj.get("message").and_then(Json::as_str) {
                owned(f, "message", m);
            }
            capture(&obj, f);
            Kind::Capture
        }
        Some("agent") => {
            if let Some(s) = obj.get("subtype").and_then(Json::as_str) {
                owned(f, "subtype", s);
            }
            match obj.get("message") {
                Some(v) => f.push("data", Value::JsonValue(Box::new(v.clone()))),
                None => f.push("data", Value::Unit),
            }
            Kind::Agent
        }
        Some("l7") | Some("logRecord") => {
            l7(&obj, f);
            Kind::L7
        }
        _ => Kind::Unknown,
    }
}

fn owned(f: &mut Fields, name: &'static str, s: &str) {
    f.push(name, Value::Owned(s.into()));
}

fn int_of(v: &Json) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// `"CPU 01:"` → 1.
fn cpu_of(s: &str) -> Option<i64> {
    let digits = s.trim_start_matches("CPU").trim().trim_end_matches(':');
    digits.trim().parse().ok()
}

/// Fields debug, trace and drop objects share: `cpu`, `mark`, `from`, `bytes`.
fn common(obj: &Map<String, Json>, f: &mut Fields) {
    if let Some(cpu) = obj.get("cpu").and_then(Json::as_str).and_then(cpu_of) {
        f.int("cpu", cpu);
    }
    if let Some(mark) = obj.get("mark").and_then(Json::as_str) {
        owned(f, "mark", mark);
    }
    if let Some(src) = obj.get("source").and_then(int_of) {
        f.int("from", src);
    }
    if let Some(b) = obj.get("bytes").and_then(int_of) {
        f.int("bytes", b);
    }
}

/// A debug capture (Cilium's `DebugCaptureVerbose`: `prefix` and `summary` are the two
/// halves of the text line `PREFIX: SUMMARY` that `-t capture` prints): the text form's
/// fields, which the text parser records straight into this event (as owned text: they are
/// not slices of the JSON line). Without a text-form `prefix` (the capture points the text
/// form does not print, e.g. `Packet to proxy port 15001 (Pre)`), only the connection
/// fields of the summary.
fn capture(obj: &Map<String, Json>, f: &mut Fields) {
    let summary = obj.get("summary").and_then(Json::as_str).unwrap_or("");
    let prefix = obj.get("prefix").and_then(Json::as_str).unwrap_or("");
    let text_prefix = ["-> ", "<- ", "== "].iter().any(|p| prefix.starts_with(p));
    let read = super::parse::capture_parts(text_prefix.then_some(prefix), summary, f);
    if !read && !f.has("flags") {
        f.push("flags", Value::OwnedFlags("".into()));
    }
}

fn trace_or_drop(obj: &Map<String, Json>, f: &mut Fields, kind: Kind) {
    common(obj, f);
    if let Some(mark) = obj.get("mark").and_then(Json::as_str) {
        owned(f, "flow", mark);
    }
    if let Some(summary) = obj.get("traceSummary").and_then(Json::as_str) {
        // `-> endpoint 1890`, `<- stack`, `-> proxy port 15001`
        let mut words = summary.split_whitespace();
        if let Some(dir) = words.next() {
            owned(f, "dir", dir);
        }
        if let Some(point) = words.next() {
            owned(f, "point", point);
            if point == "endpoint"
                && let Some(n) = words.next().and_then(|w| w.parse::<i64>().ok())
            {
                f.int("endpoint", n);
            }
        }
    }
    if let Some(op) = obj.get("observationPoint").and_then(Json::as_str) {
        owned(f, "observation_point", op);
    }
    if let Some(reason) = obj.get("reason").and_then(Json::as_str) {
        owned(f, "reason", reason);
    }
    for (key, name) in [("srcLabel", "src_identity"), ("dstLabel", "dst_identity")] {
        match obj.get(key) {
            Some(Json::Number(n)) => owned(f, name, &n.to_string()),
            Some(Json::String(s)) => owned(f, name, s),
            _ => {}
        }
    }
    if let Some(state) = obj.get("state").and_then(Json::as_str) {
        owned(f, "state", state);
    }
    match obj.get("ifindex").or_else(|| obj.get("Ifindex")) {
        Some(Json::String(s)) => owned(f, "ifindex", s),
        Some(Json::Number(n)) => owned(f, "ifindex", &n.to_string()),
        _ => {}
    }
    if kind == Kind::Drop {
        if let Some(file) = obj.get("File") {
            match file {
                Json::String(s) => owned(f, "file", s),
                other => owned(f, "file", &other.to_string()),
            }
        }
        if let Some(line) = obj.get("Line").and_then(int_of) {
            f.int("line", line);
        }
    }
    if !f.has("endpoint") {
        match obj.get("dstID").and_then(int_of) {
            Some(id) if id != 0 => f.int("endpoint", id),
            _ => f.push("endpoint", Value::Unit),
        }
    }
    if let Some(Json::Object(summary)) = obj.get("summary") {
        connection(summary, f);
    }
    if !f.has("flags") {
        f.push("flags", Value::OwnedFlags("".into()));
    }
}

/// `summary{l3{src,dst}, l4{src,dst}, tcp|udp|icmpv4|icmpv6}` → the connection fields.
fn connection(summary: &Map<String, Json>, f: &mut Fields) {
    let pair = |key: &str| -> Option<(String, String)> {
        let flow = summary.get(key)?.as_object()?;
        let s = flow.get("src")?.as_str()?.to_string();
        let d = flow.get("dst")?.as_str()?.to_string();
        Some((s, d))
    };
    if let Some((src, dst)) = pair("l3") {
        owned(f, "src", &src);
        owned(f, "dst", &dst);
    }
    if let Some((sport, dport)) = pair("l4") {
        if let Ok(p) = sport.parse::<i64>() {
            f.int("sport", p);
        }
        if let Ok(p) = dport.parse::<i64>() {
            f.int("dport", p);
        }
    }
    if let Some(tcp) = summary.get("tcp").and_then(Json::as_str) {
        f.push("proto", Value::Static("tcp"));
        // gopacket prints each flag as `SYN=true`.
        let flags: Vec<&str> = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "NS"]
            .into_iter()
            .filter(|flag| tcp.contains(&format!(" {flag}=true")))
            .collect();
        f.push("flags", Value::OwnedFlags(flags.join(", ").into()));
    } else if summary.contains_key("udp") {
        f.push("proto", Value::Static("udp"));
    } else if summary.contains_key("icmpv4") || summary.contains_key("icmpv6") {
        f.push("proto", Value::Static("icmp"));
    }
}

/// The access-log record of an L7 event (Cilium's `LogRecord`).
fn l7(obj: &Map<String, Json>, f: &mut Fields) {
    let get = |keys: &[&str]| keys.iter().find_map(|k| obj.get(*k));
    if let Some(t) = get(&["Type", "type_"]).and_then(Json::as_str) {
        owned(f, "type", t);
    }
    if let Some(v) = get(&["Verdict", "verdict"]).and_then(Json::as_str) {
        owned(f, "verdict", v);
    }
    for (key, ep, id, labels) in [
        (
            &["SourceEndpoint", "source"][..],
            "src_endpoint",
            "src_identity",
            "src_labels",
        ),
        (
            &["DestinationEndpoint", "destination"][..],
            "dst_endpoint",
            "dst_identity",
            "dst_labels",
        ),
    ] {
        if let Some(Json::Object(e)) = get(key) {
            if let Some(n) = e.get("ID").and_then(int_of) {
                f.int(ep, n);
            }
            if let Some(n) = e.get("Identity").and_then(int_of) {
                owned(f, id, &n.to_string());
            }
            if let Some(l) = e.get("Labels") {
                owned(f, labels, &l.to_string());
            }
        }
    }
    if let Some(Json::Object(http)) = get(&["HTTP", "http"]) {
        owned(f, "protocol", "http");
        if let Some(m) = http.get("Method").and_then(Json::as_str) {
            owned(f, "method", m);
        }
        if let Some(u) = http.get("URL") {
            match u {
                Json::String(s) => owned(f, "url", s),
                other => owned(f, "url", &other.to_string()),
            }
        }
        if let Some(c) = http.get("Code").and_then(int_of) {
            f.int("code", c);
        }
    }
}
