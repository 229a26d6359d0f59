//! One parsed `cilium monitor` line: its kind, the raw text, and its fields. Text fields are
//! kept as byte spans into the raw line (no copy per field), so an event costs the line
//! itself plus a small vector; it becomes a Rhai map only when a script asks
//! ([`Event::to_map`]).

use rhai::{Array, Dynamic, ImmutableString, Map};

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

    /// The kind's name as a shared Rhai string (no allocation per event).
    pub fn dynamic(self) -> Dynamic {
        static NAMES: std::sync::OnceLock<Vec<ImmutableString>> = std::sync::OnceLock::new();
        let names = NAMES.get_or_init(|| Kind::ALL.iter().map(|k| k.as_str().into()).collect());
        let i = Kind::ALL
            .iter()
            .position(|k| *k == self)
            .unwrap_or(Kind::ALL.len() - 1);
        names
            .get(i)
            .cloned()
            .map(Dynamic::from)
            .unwrap_or(Dynamic::UNIT)
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
    fields: Vec<(&'static str, Value)>,
}

impl Event {
    pub(crate) fn with_fields(kind: Kind, raw: String, fields: Vec<(&'static str, Value)>) -> Self {
        Event { kind, raw, fields }
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

    /// A field by name.
    pub fn get(&self, name: &str) -> Option<FieldRef<'_>> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| self.view(v))
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

    fn view<'a>(&'a self, v: &'a Value) -> FieldRef<'a> {
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

    /// One field as a Rhai value: `kind`, `raw`, or a parsed field; `()` when absent.
    pub fn field_dynamic(&self, name: &str) -> Dynamic {
        match name {
            "kind" => self.kind.dynamic(),
            "raw" => self.raw.as_str().into(),
            _ => self
                .fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| self.value_dynamic(v))
                .unwrap_or(Dynamic::UNIT),
        }
    }

    fn value_dynamic(&self, value: &Value) -> Dynamic {
        match self.view(value) {
            FieldRef::Str(s) => Dynamic::from(ImmutableString::from(s)),
            FieldRef::Int(i) => Dynamic::from_int(i),
            FieldRef::Bool(b) => Dynamic::from_bool(b),
            FieldRef::Unit => Dynamic::UNIT,
            FieldRef::Flags(s) => Dynamic::from_array(
                flag_list(s)
                    .map(|f| Dynamic::from(ImmutableString::from(f)))
                    .collect::<Array>(),
            ),
            FieldRef::Json(text) => serde_json::from_str::<Dynamic>(text).unwrap_or(Dynamic::UNIT),
            FieldRef::JsonValue(v) => {
                serde_json::from_value::<Dynamic>(v.clone()).unwrap_or(Dynamic::UNIT)
            }
        }
    }

    /// The event as a Rhai map: `kind`, `raw` and every field. Flags become an array of
    /// strings; JSON payloads become maps (`()` when the payload is not valid JSON).
    pub fn to_map(&self) -> Map {
        let mut entries: Vec<(&'static str, Dynamic)> = Vec::with_capacity(self.fields.len() + 2);
        entries.push(("kind", self.kind.dynamic()));
        entries.push(("raw", self.raw.as_str().into()));
        for (name, value) in &self.fields {
            entries.push((name, self.value_dynamic(value)));
        }
        // Sorted first, the map is bulk-built (appended) instead of searched per insert.
        entries.sort_by_key(|(name, _)| *name);
        entries
            .into_iter()
            .map(|(name, v)| (name.into(), v))
            .collect()
    }
}

/// Collects fields while a line is parsed, turning subslices of the line into spans.
pub(crate) struct Fields<'a> {
    line: &'a str,
    base: usize,
    pub(crate) list: Vec<(&'static str, Value)>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(line: &'a str) -> Self {
        Fields {
            line,
            base: line.as_ptr() as usize,
            list: Vec::with_capacity(18),
        }
    }

    /// The span of `sub`, which must be a subslice of the line (checked; a foreign slice
    /// gives an empty span rather than a wrong one).
    fn span(&self, sub: &str) -> Span {
        let start = (sub.as_ptr() as usize).wrapping_sub(self.base);
        let end = start.wrapping_add(sub.len());
        if start <= self.line.len() && end <= self.line.len() && end <= u32::MAX as usize {
            Span {
                start: start as u32,
                end: end as u32,
            }
        } else {
            Span { start: 0, end: 0 }
        }
    }

    pub(crate) fn text(&mut self, name: &'static str, sub: &str) {
        let span = self.span(sub);
        self.list.push((name, Value::Text(span)));
    }

    pub(crate) fn flags(&mut self, sub: &str) {
        let span = self.span(sub);
        self.list.push(("flags", Value::Flags(span)));
    }

    /// An empty flag list (a connection without TCP flags).
    pub(crate) fn no_flags(&mut self) {
        self.list
            .push(("flags", Value::Flags(Span { start: 0, end: 0 })));
    }

    pub(crate) fn json(&mut self, name: &'static str, sub: &str) {
        let span = self.span(sub);
        self.list.push((name, Value::Json(span)));
    }

    pub(crate) fn push(&mut self, name: &'static str, value: Value) {
        self.list.push((name, value));
    }

    pub(crate) fn int(&mut self, name: &'static str, v: i64) {
        self.list.push((name, Value::Int(v)));
    }

    /// `sub` as an integer when it is one, `()` otherwise.
    pub(crate) fn int_or_unit(&mut self, name: &'static str, sub: &str) {
        let v = sub.parse::<i64>().map(Value::Int).unwrap_or(Value::Unit);
        self.list.push((name, v));
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.list.iter().any(|(n, _)| *n == name)
    }
}
