//! `json::parse`, `json::to_string`, `json::to_pretty`: JSON to and from Rhai values, through
//! serde_json.

use rhai::Dynamic;

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::primitives::{Family, Registry};

/// `json::…`
pub const FAMILY: Family = Family {
    name: "json",
    summary: "parse and write JSON",
    register,
};

/// Registers `json::parse`, `json::to_string`, `json::to_pretty`.
pub fn register(reg: &mut Registry, _ctx: &Ctx) {
    let m = "json";
    reg.func(
        m,
        "parse",
        &["text: String", "Dynamic"],
        "Parses JSON into a Rhai value.\n\n```rhai\nlet v = json::parse(`{\"id\": 1890}`);\nprint(v.id);\n```",
        |text: &str| -> ScriptResult<Dynamic> {
            serde_json::from_str::<Dynamic>(text).map_err(|e| error(format!("invalid JSON: {e}")))
        },
    );
    reg.func(
        m,
        "to_string",
        &["value: Dynamic", "String"],
        "Writes a value as compact JSON.\n\n```rhai\nprint(json::to_string(#{a: 1}));\n```",
        |value: Dynamic| -> ScriptResult<String> {
            let value = crate::records::plain(&value);
            serde_json::to_string(&value).map_err(|e| error(format!("cannot write JSON: {e}")))
        },
    );
    reg.func(
        m,
        "to_pretty",
        &["value: Dynamic", "String"],
        "Writes a value as indented JSON.\n\n```rhai\nprint(json::to_pretty(#{a: [1, 2]}));\n```",
        |value: Dynamic| -> ScriptResult<String> {
            serde_json::to_string_pretty(&crate::records::plain(&value))
                .map_err(|e| error(format!("cannot write JSON: {e}")))
        },
    );
}
