//! One parsed `cilium monitor` line: its kind, the raw text, and its fields. Text fields are
//! kept as byte spans into the raw line (no copy per field), so an event costs the line
//! itself plus a small vector; it becomes a map only when asked (its `Serialize` form).

/// What a monitor line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A datapath trace summary (`-> endpoint 344 flow 0x… , identity …`).
    Trace,
    /// A packet drop (`xx drop (…)`, or the verbose `DROP:` form).
    Drop,
    /// `Policy verdict log: …`.
    PolicyVerdict,
    /// A datapath debug message (`-v`: `CPU 01: MARK 0x… FROM N DEBUG: …`).
    Debug,
    /// A verbose trace (`-v`: `CPU 01: MARK 0x… FROM N to-endpoint: …`).
    TraceVerbose,
    /// An L7 proxy access-log record (`<- Request http from …`).
    L7,
    /// An agent notification (`>> IPCache entry upserted: {…}`).
    Agent,
    /// `CPU 01: Lost N events`.
    Lost,
    /// Headers, log lines, separators, packet dissection.
    Info,
    /// A debug-capture summary (`-> lxc_health: 10.0.0.1:80 -> 10.0.0.2:4000 tcp ACK`).
    Capture,
    /// A socket-LB translation (`CPU 03: [pre-xlate-fwd] cgroup_id: … sock_cookie: …, dst …`).
    TraceSock,
    /// Anything else; only `raw` is set.
    Unknown,
}

impl Kind {
    /// The name scripts see in `event.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Trace => "trace",
            Kind::Drop => "drop",
            Kind::PolicyVerdict => "policy-verdict",
            Kind::Debug => "debug",
            Kind::TraceVerbose => "trace-verbose",
            Kind::L7 => "l7",
            Kind::Agent => "agent",
            Kind::Lost => "lost",
            Kind::Info => "info",
            Kind::Capture => "capture",
            Kind::TraceSock => "trace-sock",
            Kind::Unknown => "unknown",
        }
    }

    /// Every kind, in the order of the list.
    pub const ALL: [Kind; 12] = [
        Kind::Trace,
        Kind::Drop,
        Kind::PolicyVerdict,
        Kind::Debug,
        Kind::TraceVerbose,
        Kind::L7,
        Kind::Agent,
        Kind::Lost,
        Kind::Info,
        Kind::Capture,
        Kind::TraceSock,
        Kind::Unknown,
    ];
}

/// Every field name an event of some kind may carry, besides `kind` and `raw` (see
/// [`Event::FIELDS`]): an event has the ones its kind prints. A script reading one of these
/// on an event that lacks it gets `()`; reading any other name is a mistake it is told about.
/// The parser records no name outside this list (checked in debug builds, so by every test
/// and fuzz run).
pub const FIELD_NAMES: [&str; 75] = [
    "action",
    "answer",
    "api_key",
    "ascii",
    "auth",
    "bytes",
    "captured",
    "cgroup_id",
    "cnames",
    "code",
    "count",
    "cpu",
    "data",
    "detail",
    "dir",
    "direction",
    "dns_source",
    "dport",
    "drop_code",
    "dst",
    "dst_endpoint",
    "dst_identity",
    "dst_labels",
    "dst_mac",
    "encrypted",
    "endpoint",
    "error_code",
    "ethertype",
    "file",
    "flags",
    "flow",
    "from",
    "hex",
    "icmp",
    "ifindex",
    "ip_proto",
    "ip_trace_id",
    "layer",
    "line",
    "mark",
    "matched",
    "message",
    "method",
    "observation_point",
    "offset",
    "orig_ip",
    "point",
    "proto",
    "protocol",
    "proxy_port",
    "qtypes",
    "query",
    "reason",
    "remote_identity",
    "sock_cookie",
    "sport",
    "src",
    "src_endpoint",
    "src_identity",
    "src_labels",
    "src_mac",
    "state",
    "status",
    "subtype",
    "topic",
    "ttl",
    "tunnel_dport",
    "tunnel_dst",
    "tunnel_proto",
    "tunnel_sport",
    "tunnel_src",
    "type",
    "url",
    "verdict",
    "xlate_point",
];

/// A byte range of the raw line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    start: u32,
    end: u32,
}

/// A field's stored value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text that is a slice of the raw line.
    Text(Span),
    /// Text that is not in the raw line as such (from JSON mode, with escapes decoded).
    Owned(Box<str>),
    /// A fixed word (`"icmp"`).
    Static(&'static str),
    /// A number.
    Int(i64),
    /// A flag.
    Bool(bool),
    /// Explicitly absent (`endpoint` of a trace that has none).
    Unit,
    /// TCP flags as printed (`SYN, ACK`): an array of strings in scripts.
    Flags(Span),
    /// TCP flags as printed, decoded from JSON mode.
    OwnedFlags(Box<str>),
    /// A JSON document that is a slice of the raw line (an agent payload), decoded on demand.
    Json(Span),
    /// A JSON value taken from a JSON-mode line.
    JsonValue(Box<serde_json::Value>),
}

/// A field as stored: its name and its value packed in one word ([`packed`]), so that
/// recording a field is two plain stores (an enum assembled on the stack and copied cost a
/// store-forwarding stall per field, a fifth of the parse time). Values that do not fit a
/// word (owned text, JSON values, static words, wide integers) are kept beside the list and
/// the word holds their index.
type Slot = (&'static str, u64);

/// The one-word encoding of a [`Value`]: a 4-bit tag in the top bits; spans as two 30-bit
/// offsets (a line up to 1 GiB: longer is far beyond the sandbox's string limit); integers
/// in 60 bits, sign-extended; the index of a value kept aside.
mod packed {
    pub(super) const TEXT: u64 = 0;
    pub(super) const FLAGS: u64 = 1;
    pub(super) const JSON: u64 = 2;
    pub(super) const INT: u64 = 3;
    pub(super) const BOOL: u64 = 4;
    pub(super) const UNIT: u64 = 5;
    pub(super) const EXTRA: u64 = 6;
    const SHIFT: u32 = 60;
    const LOW: u64 = (1 << SHIFT) - 1;
    const OFFSET: u64 = (1 << 30) - 1;
    /// The largest integer stored in the word itself.
    const INT_MAX: i64 = (1 << 59) - 1;

    pub(super) fn tag(w: u64) -> u64 {
        w >> SHIFT
    }

    pub(super) fn word(tag: u64, low: u64) -> u64 {
        (tag << SHIFT) | (low & LOW)
    }

    /// A span's word, or the empty span's when an offset does not fit.
    pub(super) fn span(tag: u64, start: u32, end: u32) -> u64 {
        let (start, end) = (u64::from(start), u64::from(end));
        if start > OFFSET || end > OFFSET {
            return word(tag, 0);
        }
        word(tag, (start << 30) | end)
    }

    pub(super) fn span_of(w: u64) -> (usize, usize) {
        (((w >> 30) & OFFSET) as usize, (w & OFFSET) as usize)
    }

    pub(super) fn int(v: i64) -> Option<u64> {
        (-INT_MAX - 1..=INT_MAX)
            .contains(&v)
            .then(|| word(INT, v as u64))
    }

    pub(super) fn int_of(w: u64) -> i64 {
        ((w << (64 - SHIFT)) as i64) >> (64 - SHIFT)
    }

    pub(super) fn low(w: u64) -> u64 {
        w & LOW
    }
}

/// A borrowed view of a field's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    Str(&'a str),
    Int(i64),
    Bool(bool),
    Unit,
    /// TCP flags as printed: iterate with [`flag_list`].
    Flags(&'a str),
    /// JSON text.
    Json(&'a str),
    JsonValue(&'a serde_json::Value),
}

/// Splits printed TCP flags (`"SYN, ACK"`, `"ACK "`) into names.
pub fn flag_list(printed: &str) -> impl Iterator<Item = &str> {
    printed.split([',', ' ']).filter(|f| !f.is_empty())
}

/// A parsed monitor line.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    kind: Kind,
    raw: String,
    fields: Vec<Slot>,
    /// The values that do not fit a word, by index.
    extra: Vec<Value>,
}

impl Event {
    /// The fields every event has: `kind` and `raw`; the others are in [`FIELD_NAMES`].
    pub const FIELDS: [&'static str; 2] = ["kind", "raw"];

    /// Whether `name` is a field some event may have (`kind`, `raw` or one of
    /// [`FIELD_NAMES`]), whether or not this one has it.
    pub fn knows(name: &str) -> bool {
        Event::FIELDS.contains(&name) || FIELD_NAMES.contains(&name)
    }

    pub(crate) fn with_fields(kind: Kind, raw: String, (fields, extra): FieldParts) -> Self {
        Event {
            kind,
            raw,
            fields,
            extra,
        }
    }

    /// Which kind of line this is.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The line as received (without its line terminator).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The field names, in the order they were parsed.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.fields.iter().map(|(n, _)| *n)
    }

    /// Every field with its value, in the order they were parsed.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, FieldRef<'_>)> + '_ {
        self.fields.iter().map(|(n, w)| (*n, self.view(*w)))
    }

    /// A field by name.
    pub fn get(&self, name: &str) -> Option<FieldRef<'_>> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, w)| self.view(*w))
    }

    /// A text field (also the text of JSON-mode strings).
    pub fn str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            FieldRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A numeric field.
    pub fn int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            FieldRef::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The TCP flags (`["SYN", "ACK"]`), empty when there are none.
    pub fn flags(&self) -> Vec<&str> {
        match self.get("flags") {
            Some(FieldRef::Flags(s)) => flag_list(s).collect(),
            _ => Vec::new(),
        }
    }

    fn text(&self, span: Span) -> &str {
        self.raw
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    fn span_text(&self, w: u64) -> &str {
        let (start, end) = packed::span_of(w);
        self.raw.get(start..end).unwrap_or("")
    }

    fn view(&self, w: u64) -> FieldRef<'_> {
        match packed::tag(w) {
            packed::TEXT => FieldRef::Str(self.span_text(w)),
            packed::FLAGS => FieldRef::Flags(self.span_text(w)),
            packed::JSON => FieldRef::Json(self.span_text(w)),
            packed::INT => FieldRef::Int(packed::int_of(w)),
            packed::BOOL => FieldRef::Bool(packed::low(w) != 0),
            packed::EXTRA => match self.extra.get(packed::low(w) as usize) {
                Some(v) => self.view_value(v),
                None => FieldRef::Unit,
            },
            _ => FieldRef::Unit,
        }
    }

    fn view_value<'a>(&'a self, v: &'a Value) -> FieldRef<'a> {
        match v {
            Value::Text(s) => FieldRef::Str(self.text(*s)),
            Value::Owned(s) => FieldRef::Str(s),
            Value::Static(s) => FieldRef::Str(s),
            Value::Int(i) => FieldRef::Int(*i),
            Value::Bool(b) => FieldRef::Bool(*b),
            Value::Unit => FieldRef::Unit,
            Value::Flags(s) => FieldRef::Flags(self.text(*s)),
            Value::OwnedFlags(s) => FieldRef::Flags(s),
            Value::Json(s) => FieldRef::Json(self.text(*s)),
            Value::JsonValue(v) => FieldRef::JsonValue(v),
        }
    }
}

impl serde::Serialize for FieldRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            FieldRef::Str(s) => serializer.serialize_str(s),
            FieldRef::Int(i) => serializer.serialize_i64(i),
            FieldRef::Bool(b) => serializer.serialize_bool(b),
            FieldRef::Unit => serializer.serialize_unit(),
            FieldRef::Flags(s) => serializer.collect_seq(flag_list(s)),
            // A payload that is not valid JSON is no value rather than text.
            FieldRef::Json(text) => serde_json::from_str::<serde_json::Value>(text)
                .unwrap_or(serde_json::Value::Null)
                .serialize(serializer),
            FieldRef::JsonValue(v) => v.serialize(serializer),
        }
    }
}

/// The event as scripts and reports see it: `kind`, `raw` and every field. Flags are an
/// array of strings; JSON payloads are objects (null when the payload is not valid JSON).
impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(Some(self.fields.len() + 2))?;
        m.serialize_entry("kind", self.kind.as_str())?;
        m.serialize_entry("raw", self.raw())?;
        for (name, w) in &self.fields {
            m.serialize_entry(name, &self.view(*w))?;
        }
        m.end()
    }
}

/// What [`Fields`] collected: the slots, and the values kept aside.
pub(crate) type FieldParts = (Vec<Slot>, Vec<Value>);

/// Collects fields while a line is parsed, turning subslices of the line into spans.
pub(crate) struct Fields<'a> {
    line: &'a str,
    base: usize,
    pub(crate) list: Vec<Slot>,
    extra: Vec<Value>,
}

impl<'a> Fields<'a> {
    #[inline]
    pub(crate) fn new(line: &'a str) -> Self {
        Fields {
            line,
            base: line.as_ptr() as usize,
            list: Vec::with_capacity(18),
            extra: Vec::new(),
        }
    }

    /// Forgets every field.
    pub(crate) fn clear(&mut self) {
        self.list.clear();
        self.extra.clear();
    }

    pub(crate) fn into_parts(self) -> FieldParts {
        (self.list, self.extra)
    }

    /// Records the value of field `from` (when there is one) again as `to`.
    pub(crate) fn copy(&mut self, from: &str, to: &'static str) {
        if let Some(&(_, w)) = self.list.iter().find(|(n, _)| *n == from) {
            self.put_word(to, w);
        }
    }

    /// Appends a field. With room left (the usual case: the list starts with room for
    /// every field of a trace), the field is written straight into the list's spare slot.
    /// `Vec::push` was not inlined in the big parse functions: each field was assembled on
    /// the stack and copied by the out-of-line push, a store-forwarding stall per field that
    /// cost a fifth of the parse time.
    #[inline(always)]
    fn put(&mut self, name: &'static str, value: Value) {
        let w = match value {
            Value::Text(s) => packed::span(packed::TEXT, s.start, s.end),
            Value::Flags(s) => packed::span(packed::FLAGS, s.start, s.end),
            Value::Json(s) => packed::span(packed::JSON, s.start, s.end),
            Value::Bool(b) => packed::word(packed::BOOL, u64::from(b)),
            Value::Unit => packed::word(packed::UNIT, 0),
            Value::Int(v) => match packed::int(v) {
                Some(w) => w,
                None => self.aside(Value::Int(v)),
            },
            other => self.aside(other),
        };
        self.put_word(name, w);
    }

    /// Keeps a value that does not fit a word; the word that refers to it.
    #[cold]
    #[inline(never)]
    fn aside(&mut self, value: Value) -> u64 {
        self.extra.push(value);
        packed::word(packed::EXTRA, (self.extra.len() - 1) as u64)
    }

    /// Appends a slot. `Vec::push` is not inlined into the big parse functions; its
    /// out-of-line call takes the slot through memory. Growing first (out of line, rare: the
    /// list starts with room for a trace's fields) keeps the slot in registers.
    #[inline(always)]
    fn put_word(&mut self, name: &'static str, w: u64) {
        debug_assert!(
            FIELD_NAMES.contains(&name),
            "monitor field `{name}` is missing from FIELD_NAMES"
        );
        if self.list.len() == self.list.capacity() {
            self.grow();
        }
        let len = self.list.len();
        if let Some(slot) = self.list.spare_capacity_mut().first_mut() {
            slot.write((name, w));
            // SAFETY: the slot at `len` (the first of the spare capacity) was just
            // initialised, and `len + 1` is within the capacity.
            unsafe { self.list.set_len(len + 1) };
        }
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        self.list.reserve(8);
    }

    /// The span of `sub` when it is a subslice of the line; `None` for text from elsewhere
    /// (a JSON-mode line's decoded strings), which is then kept as an owned copy.
    #[inline]
    fn span(&self, sub: &str) -> Option<Span> {
        let start = (sub.as_ptr() as usize).wrapping_sub(self.base);
        let end = start.wrapping_add(sub.len());
        (start <= self.line.len() && end <= self.line.len() && end <= u32::MAX as usize).then_some(
            Span {
                start: start as u32,
                end: end as u32,
            },
        )
    }

    #[inline]
    pub(crate) fn text(&mut self, name: &'static str, sub: &str) {
        match self.span(sub) {
            Some(span) => self.put(name, Value::Text(span)),
            None => self.owned(name, Value::Owned(sub.into())),
        }
    }

    #[inline]
    pub(crate) fn flags(&mut self, sub: &str) {
        match self.span(sub) {
            Some(span) => self.put("flags", Value::Flags(span)),
            None => self.owned("flags", Value::OwnedFlags(sub.into())),
        }
    }

    /// Records a value copied from text outside the line (rare: out of the hot path).
    #[cold]
    #[inline(never)]
    fn owned(&mut self, name: &'static str, value: Value) {
        self.put(name, value);
    }

    /// An empty flag list (a connection without TCP flags).
    #[inline]
    pub(crate) fn no_flags(&mut self) {
        self.put("flags", Value::Flags(Span { start: 0, end: 0 }));
    }

    #[inline]
    pub(crate) fn json(&mut self, name: &'static str, sub: &str) {
        match self.span(sub) {
            Some(span) => self.put(name, Value::Json(span)),
            None => {
                let v = serde_json::from_str(sub).unwrap_or(serde_json::Value::Null);
                self.owned(name, Value::JsonValue(Box::new(v)));
            }
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, name: &'static str, value: Value) {
        self.put(name, value);
    }

    #[inline]
    pub(crate) fn int(&mut self, name: &'static str, v: i64) {
        self.put(name, Value::Int(v));
    }

    /// `sub` as an integer when it is one, `()` otherwise.
    #[inline]
    pub(crate) fn int_or_unit(&mut self, name: &'static str, sub: &str) {
        let v = sub.parse::<i64>().map(Value::Int).unwrap_or(Value::Unit);
        self.put(name, v);
    }

    #[inline]
    pub(crate) fn has(&self, name: &str) -> bool {
        self.list.iter().any(|(n, _)| *n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event with the fields `record` puts in, over `line`.
    fn event(line: &str, record: impl FnOnce(&mut Fields)) -> Event {
        let mut f = Fields::new(line);
        record(&mut f);
        let parts = f.into_parts();
        Event::with_fields(Kind::Info, line.to_string(), parts)
    }

    #[test]
    fn integers_beyond_a_words_sixty_bits_keep_their_value() {
        let e = event("x", |f| {
            for (name, v) in [
                ("count", i64::MAX),
                ("cpu", i64::MIN),
                ("line", (1 << 59) - 1),
                ("bytes", -(1 << 59)),
                ("offset", 1 << 59),
                ("ttl", -1),
                ("code", 0),
            ] {
                f.int(name, v);
            }
        });
        assert_eq!(e.int("count"), Some(i64::MAX));
        assert_eq!(e.int("cpu"), Some(i64::MIN));
        assert_eq!(e.int("line"), Some((1 << 59) - 1));
        assert_eq!(e.int("bytes"), Some(-(1 << 59)));
        assert_eq!(e.int("offset"), Some(1 << 59));
        assert_eq!(e.int("ttl"), Some(-1));
        assert_eq!(e.int("code"), Some(0));
        // Only the two that do not fit were kept aside.
        assert_eq!(e.extra.len(), 3);
    }

    #[test]
    fn every_kind_of_value_reads_back_as_recorded() {
        let line = "tcp SYN, ACK {\"a\":1}";
        let e = event(line, |f| {
            f.text("proto", &line[..3]);
            f.flags(&line[4..12]);
            f.json("data", &line[13..]);
            f.push("encrypted", Value::Bool(true));
            f.push("matched", Value::Bool(false));
            f.push("endpoint", Value::Unit);
            f.push("icmp", Value::Static("icmp"));
            f.push("message", Value::Owned("décodé".into()));
            f.push("qtypes", Value::OwnedFlags("FIN".into()));
            f.push(
                "answer",
                Value::JsonValue(Box::new(serde_json::json!({"b": 2}))),
            );
            f.copy("proto", "protocol");
            f.copy("absent", "query");
        });
        assert_eq!(e.str("proto"), Some("tcp"));
        assert_eq!(e.flags(), vec!["SYN", "ACK"]);
        assert_eq!(e.get("data"), Some(FieldRef::Json("{\"a\":1}")));
        assert_eq!(e.get("encrypted"), Some(FieldRef::Bool(true)));
        assert_eq!(e.get("matched"), Some(FieldRef::Bool(false)));
        assert_eq!(e.get("endpoint"), Some(FieldRef::Unit));
        assert_eq!(e.str("icmp"), Some("icmp"));
        assert_eq!(e.str("message"), Some("décodé"));
        assert_eq!(e.get("qtypes"), Some(FieldRef::Flags("FIN")));
        let jv = serde_json::json!({"b": 2});
        assert_eq!(e.get("answer"), Some(FieldRef::JsonValue(&jv)));
        assert_eq!(e.str("protocol"), Some("tcp"));
        assert_eq!(e.get("query"), None);
        let names: Vec<_> = e.names().collect();
        assert_eq!(names.len(), 11);
        assert_eq!(names[0], "proto");
        assert_eq!(names[10], "protocol");
    }

    #[test]
    fn a_span_past_a_gibibyte_is_empty_not_wrong() {
        assert_eq!(
            packed::span_of(packed::span(packed::TEXT, 1 << 30, 1 << 30)),
            (0, 0)
        );
        assert_eq!(
            packed::span_of(packed::span(packed::TEXT, 3, 1 << 30)),
            (0, 0)
        );
        let w = packed::span(packed::FLAGS, (1 << 30) - 2, (1 << 30) - 1);
        assert_eq!(packed::tag(w), packed::FLAGS);
        assert_eq!(packed::span_of(w), ((1 << 30) - 2, (1 << 30) - 1));
    }

    #[test]
    fn fields_grow_past_their_first_room() {
        let line = "a b c d e f g h i j k l m n o p q r s t u v w x y z";
        let names = &FIELD_NAMES[..26];
        let e = event(line, |f| {
            for (k, name) in names.iter().enumerate() {
                f.text(name, &line[2 * k..2 * k + 1]);
            }
        });
        for (k, name) in names.iter().enumerate() {
            assert_eq!(e.str(name), Some(&line[2 * k..2 * k + 1]));
        }
    }
}
