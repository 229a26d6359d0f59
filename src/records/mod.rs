//! Typed values as scripts see them: packets, monitor events, access-log entries, check
//! verdicts, Helm releases, and the `Node`, `Cluster`, `Pod` and `Service` handles. Reading a field that
//! does not exist is an error naming the fields that do (``packet has no field `scr`; did you
//! mean `src`? its fields: ack, dport, …``), raised at the script's line; a field that another
//! value of the same kind may carry (`e.dport` on an ICMP trace) is `()`.
//!
//! One mechanism for all of them: **a value is read through its serialised form**. The core's
//! types are `Serialize`; what a script reads is that form's fields, and a field outside
//! them goes through [`no_field`]. Two shapes carry it:
//!
//! - data (packets, events, entries, verdicts) is a [`Record`]: a type holding the
//!   serialised map (or, for a monitor event handed to a `wait` closure, the event itself,
//!   read field by field). Its indexer serves `p.src` (Rhai falls back to the indexer for a
//!   property without a getter), so a missing name reaches our error instead of Rhai's `()`;
//!   it otherwise behaves as the map it used to be: fields can be added (`a.from = "pod"`),
//!   `in`, `keys()`, `to_map()`, `to_json()`, `==`, and `print` shows the map.
//! - handles scripts pass back to primitives (`tcpdump::start(node)`) keep their own types;
//!   [`register_fields`] generates one getter per field of their serialised form and the
//!   same indexer error.
//!
//! Why a registered type and not plain maps with Rhai's missing-property callback: that
//! callback also runs when a script *adds* a key to any map (`m.x = 1`) and cannot tell a
//! read from a write, nor a packet's map from a user's. Serialising keeps the field names
//! where they are defined (the core's types: `Packet::FIELDS`, the monitor's `FIELD_NAMES`);
//! the handles' getter lists below are checked against their serialised fields by a test.
//! Anything that leaves the engine as data (JSON, YAML, the REPL's display, a check's
//! evidence, a `report::flow` arrow) goes through [`plain`], which turns records and handles
//! back into maps. [`register_type`] installs the type in every engine (whatever families it has);
//! its documented methods are the `records` family (`primitives/records.rs`); [`event`] reads
//! a monitor event's fields as script values.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};
use serde::Serialize;

use crate::docker::Node;
use crate::errors::{ScriptResult, error};
use crate::kind::cluster::Cluster;
use crate::kube::typed::{Pod, Service};
use crate::monitor::Event;

pub mod event;

use self::event::{event_map, field_dynamic};

/// What a kind of record is called in messages, and the fields a value of that kind may
/// lack (its own are always allowed).
#[derive(Debug)]
pub struct Schema {
    /// `packet`, `event`, …
    pub what: &'static str,
    /// Fields other values of the kind carry: reading one that this value lacks gives `()`.
    pub optional: &'static [&'static str],
}

/// A tcpdump packet (`tcpdump::parse`, `cap.packets()`): every field is always there.
pub static PACKET: Schema = Schema {
    what: "packet",
    optional: &[],
};
/// A `cilium monitor` event: `kind`, `raw`, and the fields of its kind.
pub static EVENT: Schema = Schema {
    what: "event",
    optional: &crate::monitor::event::FIELD_NAMES,
};
/// An access-log entry (`logs::parse_access`).
pub static ACCESS_ENTRY: Schema = Schema {
    what: "access-log entry",
    optional: &[],
};
/// A verdict of the `verdicts` module: `passed`, `evidence`, `reason`.
pub static VERDICT: Schema = Schema {
    what: "verdict",
    optional: &[],
};
/// A recorded check (`checks::list()`).
pub static CHECK: Schema = Schema {
    what: "check",
    optional: &[],
};
/// A kind node (`Node`).
pub static NODE: Schema = Schema {
    what: "node",
    optional: &[],
};
/// A kind cluster (`Cluster`).
pub static CLUSTER: Schema = Schema {
    what: "cluster",
    optional: &[],
};
/// A pod (`Pod`).
pub static POD: Schema = Schema {
    what: "pod",
    optional: &[],
};
/// A Service (`Service`).
pub static SERVICE: Schema = Schema {
    what: "service",
    optional: &[],
};
/// A Helm release (`helm::list`).
pub static RELEASE: Schema = Schema {
    what: "release",
    optional: &[],
};

/// A node's fields (its getters), as `Node` serialises.
pub const NODE_FIELDS: &[&str] = &[
    "cluster",
    "name",
    "role",
    "ip",
    "network",
    "gateway",
    "container_id",
];
/// A cluster's fields, as `Cluster` serialises.
pub const CLUSTER_FIELDS: &[&str] = &["name", "context", "kubeconfig", "reused"];
/// A pod's fields, as `Pod` serialises.
pub const POD_FIELDS: &[&str] = &[
    "name",
    "namespace",
    "node",
    "ip",
    "phase",
    "ready",
    "containers",
    "labels",
];
/// A Service's fields, as `Service` serialises.
pub const SERVICE_FIELDS: &[&str] = &[
    "name",
    "namespace",
    "type",
    "cluster_ip",
    "ports",
    "selector",
];

/// A typed value as a script value: its fields, read by name.
#[derive(Clone)]
pub struct Record {
    schema: &'static Schema,
    body: Body,
}

#[derive(Clone)]
enum Body {
    /// The serialised form.
    Map(Map),
    /// A monitor event read as it is held (a `wait` closure looks at a field or two of each
    /// event: building seventeen values first would be most of the cost).
    Event(Arc<Event>),
}

impl Record {
    /// `value`'s serialised form as a record of kind `schema`.
    pub fn new<T: Serialize + ?Sized>(schema: &'static Schema, value: &T) -> Self {
        Record::from_map(schema, to_map(value))
    }

    /// A record over a map already built from a typed value.
    pub fn from_map(schema: &'static Schema, map: Map) -> Self {
        Record {
            schema,
            body: Body::Map(map),
        }
    }

    /// A monitor event, read field by field.
    pub fn event(e: Arc<Event>) -> Self {
        Record {
            schema: &EVENT,
            body: Body::Event(e),
        }
    }

    /// The record as a script value.
    pub fn into_dynamic(self) -> Dynamic {
        Dynamic::from(self)
    }

    /// What kind of record it is.
    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    /// Its fields as a map (with the fields a script added).
    pub fn to_map(&self) -> Map {
        match &self.body {
            Body::Map(m) => m.clone(),
            Body::Event(e) => event_map(e),
        }
    }

    /// The field `name` when the record has it.
    pub fn get(&self, name: &str) -> Option<Dynamic> {
        match &self.body {
            Body::Map(m) => m.get(name).cloned(),
            Body::Event(e) => {
                let has = matches!(name, "kind" | "raw") || e.get(name).is_some();
                has.then(|| field_dynamic(e, name))
            }
        }
    }

    /// The names of its fields, in the map's (alphabetical) order.
    pub fn names(&self) -> Vec<String> {
        match &self.body {
            Body::Map(m) => m.keys().map(|k| k.to_string()).collect(),
            Body::Event(e) => {
                let mut names: Vec<String> = ["kind", "raw"]
                    .into_iter()
                    .chain(e.names())
                    .map(str::to_string)
                    .collect();
                names.sort();
                names.dedup();
                names
            }
        }
    }

    /// The field `name`: its value, `()` when another value of the kind may have it, or the
    /// error naming the fields there are.
    pub fn field(&self, name: &str) -> ScriptResult<Dynamic> {
        if let Some(v) = self.get(name) {
            return Ok(v);
        }
        if self.schema.optional.contains(&name) {
            return Ok(Dynamic::UNIT);
        }
        let names = self.names();
        Err(no_field(
            self.schema,
            name,
            names.iter().map(String::as_str),
        ))
    }

    /// Whether two records hold the same data.
    pub fn same(&self, other: &Record) -> bool {
        let json = |r: &Record| serde_json::to_value(plain(&Dynamic::from(r.clone()))).ok();
        json(self) == json(other)
    }

    /// Whether the record holds the data of `map`.
    pub fn same_as_map(&self, map: Map) -> bool {
        self.same(&Record::from_map(self.schema, map))
    }

    /// Sets (or adds) the field `name`, as on a map.
    pub fn set(&mut self, name: &str, value: Dynamic) {
        if let Body::Event(e) = &self.body {
            self.body = Body::Map(event_map(e));
        }
        if let Body::Map(m) = &mut self.body {
            m.insert(name.into(), value);
        }
    }
}

/// The error for reading `name` on a value of kind `schema` whose fields are `fields`:
/// `packet has no field `scr`; did you mean `src`? its fields: ack, dport, …`.
pub fn no_field<'a>(
    schema: &Schema,
    name: &str,
    fields: impl Iterator<Item = &'a str> + Clone,
) -> Box<EvalAltResult> {
    let known = fields.clone().chain(schema.optional.iter().copied());
    let hint = match labsh_core::spelling::closest(name, known) {
        Some(close) => format!(" did you mean `{close}`?"),
        None => String::new(),
    };
    let list: Vec<&str> = fields.collect();
    error(format!(
        "{} has no field `{name}`;{hint} its fields: {}",
        schema.what,
        list.join(", ")
    ))
}

/// Registers, for the handle type `T` (a registered type whose value is `Serialize`), one
/// getter per name of `fields` (its serialised form's fields: `node.ip`) and the indexer
/// that names them when a script reads another (`node.ipp`).
pub fn register_fields<T: Serialize + rhai::Variant + Clone>(
    engine: &mut Engine,
    schema: &'static Schema,
    fields: &'static [&'static str],
) {
    for &name in fields {
        engine.register_get(name, move |x: &mut T| -> Dynamic {
            to_map(x).remove(name).unwrap_or(Dynamic::UNIT)
        });
    }
    engine.register_indexer_get(move |x: &mut T, name: &str| -> ScriptResult<Dynamic> {
        Record::new(schema, x).field(name)
    });
}

/// Installs the `Record` type: its field indexer (the error naming the fields), field
/// assignment, `print` as the map it holds, and `==`. Every engine has it.
pub fn register_type(engine: &mut Engine) {
    engine
        .register_type_with_name::<Record>("Record")
        .register_indexer_get(|r: &mut Record, name: &str| r.field(name))
        .register_indexer_set(|r: &mut Record, name: &str, v: Dynamic| r.set(name, v))
        .register_fn("to_string", display)
        .register_fn("to_debug", display)
        .register_fn("==", |a: &mut Record, b: Record| a.same(&b))
        .register_fn("!=", |a: &mut Record, b: Record| !a.same(&b))
        // A record equals the map of the same data (`e.to_map() == e`).
        .register_fn("==", |a: &mut Record, b: Map| a.same_as_map(b))
        .register_fn("!=", |a: &mut Record, b: Map| !a.same_as_map(b))
        .register_fn("==", |a: &mut Map, b: Record| b.same_as_map(a.clone()))
        .register_fn("!=", |a: &mut Map, b: Record| !b.same_as_map(a.clone()));
}

/// The record as its map prints (`#{"dport": 80, …}`), through the engine's own formatting.
fn display(ctx: rhai::NativeCallContext, r: &mut Record) -> rhai::ImmutableString {
    let map = Dynamic::from_map(r.to_map());
    ctx.call_native_fn::<rhai::ImmutableString>("to_string", (map.clone(),))
        .unwrap_or_else(|_| map.to_string().into())
}

/// `value` as plain data: records and handles become maps, inside arrays and maps too.
/// What leaves the engine as data (JSON, YAML, a check's evidence) goes through it.
pub fn plain(value: &Dynamic) -> Dynamic {
    unwrap(value, true)
}

/// `value` with its records turned into maps (handles stay: a `Node` is still one). What
/// [`crate::Session::eval`] returns to Rust, and what the REPL displays.
pub fn records_to_maps(value: &Dynamic) -> Dynamic {
    unwrap(value, false)
}

fn unwrap(value: &Dynamic, handles: bool) -> Dynamic {
    let map = |m: &Map| -> Map {
        m.iter()
            .map(|(k, v)| (k.clone(), unwrap(v, handles)))
            .collect()
    };
    let mut out = if let Some(r) = value.read_lock::<Record>() {
        Dynamic::from_map(map(&r.to_map()))
    } else if let Some(m) = handles.then(|| handle_map(value)).flatten() {
        Dynamic::from_map(map(&m))
    } else if let Some(a) = value.read_lock::<Array>() {
        Dynamic::from_array(a.iter().map(|v| unwrap(v, handles)).collect())
    } else if let Some(m) = value.read_lock::<Map>() {
        Dynamic::from_map(map(&m))
    } else {
        return value.clone();
    };
    // The tag says whether a primitive already showed the value (`crate::shown`).
    out.set_tag(value.tag());
    out
}

/// A record's or a plain map's fields (what `report::flow` takes as an arrow or lifeline).
pub fn as_map(value: &Dynamic) -> Option<Map> {
    if let Some(r) = value.read_lock::<Record>() {
        return Some(r.to_map());
    }
    value.read_lock::<Map>().map(|m| m.clone())
}

/// `v`'s serialised form as a map (empty if it is not an object; the core's types
/// serialise to what Rhai represents, so this does not fail for them).
fn to_map<T: Serialize + ?Sized>(v: &T) -> Map {
    rhai::serde::to_dynamic(v)
        .ok()
        .and_then(|d| d.try_cast::<Map>())
        .unwrap_or_default()
}

/// A handle's serialised form.
fn handle_map(value: &Dynamic) -> Option<Map> {
    if let Some(n) = value.read_lock::<Node>() {
        return Some(to_map(&*n));
    }
    if let Some(c) = value.read_lock::<Cluster>() {
        return Some(to_map(&*c));
    }
    if let Some(p) = value.read_lock::<Pod>() {
        return Some(to_map(&*p));
    }
    value.read_lock::<Service>().map(|s| to_map(&*s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_field(r: &Record, name: &str) -> Result<String, String> {
        r.field(name)
            .map(|v| v.to_string())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_missing_field_is_an_error_naming_the_fields_and_the_closest() {
        let p = crate::tcpdump::parse(
            "12:00:00.000000 IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 1, length 0",
        )
        .unwrap();
        let r = Record::new(&PACKET, &p);
        assert_eq!(record_field(&r, "src").unwrap(), "10.0.0.1");
        let err = record_field(&r, "scr").unwrap_err();
        assert!(
            err.contains("packet has no field `scr`; did you mean `src`? its fields: ack, "),
            "{err}"
        );
        for f in crate::tcpdump::Packet::FIELDS {
            assert!(err.contains(f), "{f} missing from {err}");
        }
        let err = record_field(&r, "bandwidth").unwrap_err();
        assert!(err.contains("no field `bandwidth`; its fields:"), "{err}");
    }

    #[test]
    fn an_event_field_of_another_kind_is_unit_and_a_misspelt_one_an_error() {
        let e = crate::monitor::parse("CPU 01: Lost 3 events");
        let r = Record::event(Arc::new(e.clone()));
        assert_eq!(r.field("count").unwrap().as_int().unwrap(), 3);
        assert!(r.field("dport").unwrap().is_unit());
        let err = record_field(&r, "src_identiy").unwrap_err();
        assert!(
            err.contains("event has no field `src_identiy`; did you mean `src_identity`? its fields: count, cpu, kind, raw"),
            "{err}"
        );
        // The map-backed event reads the same.
        let m = Record::new(&EVENT, &e);
        assert_eq!(
            record_field(&m, "src_identiy"),
            record_field(&r, "src_identiy")
        );
        assert_eq!(r.names(), m.names());
    }

    #[test]
    fn setting_a_field_adds_it_like_on_a_map() {
        let mut r = Record::event(Arc::new(crate::monitor::parse("CPU 01: Lost 3 events")));
        r.set("highlight", true.into());
        assert!(r.field("highlight").unwrap().as_bool().unwrap());
        assert_eq!(r.field("count").unwrap().as_int().unwrap(), 3);
    }

    fn sample_node() -> Node {
        Node {
            cluster: "lab".into(),
            name: "lab-worker".into(),
            role: "worker".into(),
            ip: "172.18.0.3".into(),
            network: "kind".into(),
            gateway: "172.18.0.1".into(),
            container_id: "abc".into(),
        }
    }

    /// The getters `register_fields` generates are exactly the handle's serialised fields.
    #[test]
    fn handle_field_lists_are_their_serialised_fields() {
        fn keys<T: Serialize>(v: &T) -> Vec<String> {
            let mut k: Vec<String> = to_map(v).keys().map(|k| k.to_string()).collect();
            k.sort();
            k
        }
        fn sorted(l: &[&str]) -> Vec<String> {
            let mut v: Vec<String> = l.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        }
        let pod = Pod {
            name: "p".into(),
            namespace: "default".into(),
            node: "n".into(),
            ip: "10.0.0.1".into(),
            phase: "Running".into(),
            ready: true,
            containers: Vec::new(),
            labels: Default::default(),
        };
        let svc = Service {
            name: "s".into(),
            namespace: "default".into(),
            type_: "NodePort".into(),
            cluster_ip: "10.96.0.1".into(),
            ports: Vec::new(),
            selector: Default::default(),
        };
        assert_eq!(keys(&sample_node()), sorted(NODE_FIELDS));
        assert_eq!(keys(&Cluster::new("lab", false)), sorted(CLUSTER_FIELDS));
        assert_eq!(keys(&pod), sorted(POD_FIELDS));
        assert_eq!(keys(&svc), sorted(SERVICE_FIELDS));
    }

    #[test]
    fn plain_turns_records_and_handles_into_maps_at_any_depth() {
        let node = sample_node();
        let entry = crate::access_log::parse(
            r#"10.0.0.1 - - [14/Sep/2022:20:36:33 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8""#,
        )
        .unwrap();
        let mut outer = Map::new();
        outer.insert(
            "items".into(),
            Dynamic::from_array(vec![
                Record::new(&ACCESS_ENTRY, &entry).into_dynamic(),
                Dynamic::from(node),
            ]),
        );
        let json = serde_json::to_value(plain(&Dynamic::from_map(outer))).unwrap();
        assert_eq!(json["items"][0]["client"], "10.0.0.1");
        assert_eq!(json["items"][0]["bytes"], 12);
        assert_eq!(json["items"][1]["ip"], "172.18.0.3");
    }
}
