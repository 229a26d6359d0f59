//! The `Record` type's methods (packets, monitor events, access-log entries, verdicts: see
//! [`crate::records`]): `to_map`, `keys`, `values`, `len`, `contains` (`name in record`),
//! `to_json`. Every engine registers this family, whatever primitives it has: records come
//! from several families.

use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::primitives::{Family, Registry};
use crate::records::Record;

/// The `Record` type's functions (global: records come from several families).
pub const FAMILY: Family = Family {
    name: "",
    summary: "fields of packets, events, log entries and verdicts (records)",
    register,
};

const TO_MAP_DOC: &str = r#"The record's fields as a map (a packet, a monitor event, an access-log entry,
a verdict). Reading a field the record does not have is an error; on the map it is `()`.

```rhai
let p = tcpdump::parse("12:00:00.000000 IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, length 0");
let m = p.to_map();
print(m.keys());
```"#;

const KEYS_DOC: &str = r#"The names of the record's fields.

```rhai
let e = monitor::parse("CPU 01: Lost 3 events");
print(e.keys());
```"#;

const VALUES_DOC: &str = r#"The values of the record's fields, in the order of `keys()`.

```rhai
let e = logs::parse_access(`10.0.0.1 - - [14/Sep/2022:20:36:33 +0000] "GET / HTTP/1.1" 200 12 "-" "curl/8"`);
print(e.values());
```"#;

const LEN_DOC: &str = r#"How many fields the record has.

```rhai
let e = monitor::parse("CPU 01: Lost 3 events");
print(e.len());
```"#;

const CONTAINS_DOC: &str = r#"Whether the record has the field `name` (what `name in record` asks).

```rhai
let e = monitor::parse("CPU 01: Lost 3 events");
if "count" in e { print(e.count); }
```"#;

const TO_JSON_DOC: &str = r#"The record as a JSON object.

```rhai
let e = monitor::parse("CPU 01: Lost 3 events");
print(e.to_json());
```"#;

/// Registers the `Record` type and its map-like methods.
pub fn register(reg: &mut Registry, _ctx: &Ctx) {
    crate::records::register_type(reg.engine());
    reg.method(
        "to_map",
        &["record: Record", "Map"],
        TO_MAP_DOC,
        |r: &mut Record| -> Map { r.to_map() },
    );
    reg.method(
        "keys",
        &["record: Record", "Array"],
        KEYS_DOC,
        |r: &mut Record| -> Array { r.names().into_iter().map(Dynamic::from).collect() },
    );
    reg.method(
        "values",
        &["record: Record", "Array"],
        VALUES_DOC,
        |r: &mut Record| -> Array { r.to_map().into_values().collect() },
    );
    reg.method(
        "len",
        &["record: Record", "i64"],
        LEN_DOC,
        |r: &mut Record| -> i64 { r.names().len() as i64 },
    );
    reg.method(
        "contains",
        &["record: Record", "name: String", "bool"],
        CONTAINS_DOC,
        |r: &mut Record, name: &str| -> bool { r.get(name).is_some() },
    );
    reg.method(
        "to_json",
        &["record: Record", "String"],
        TO_JSON_DOC,
        |r: &mut Record| -> ScriptResult<String> {
            let v = crate::records::plain(&Dynamic::from(r.clone()));
            serde_json::to_string(&v).map_err(|e| error(format!("cannot write JSON: {e}")))
        },
    );
}
