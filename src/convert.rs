//! Core values as script values, in one place: whatever the core serialises (typed records,
//! JSON from a tool) becomes a Rhai value — objects become maps, null becomes `()` — and a
//! script's map becomes JSON for the core.

use rhai::{Dynamic, Map};
use serde::Serialize;

use crate::errors::{ScriptResult, error};

/// `v` as a script value (`()` for null).
pub fn to_dynamic<T: Serialize + ?Sized>(v: &T) -> Dynamic {
    // The core's types serialise to maps, arrays, strings, booleans and i64-sized integers,
    // all of which Rhai represents: this cannot fail for them.
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

/// `v` as a script map (empty if `v` does not serialise to an object).
pub fn to_map<T: Serialize + ?Sized>(v: &T) -> Map {
    to_dynamic(v).try_cast::<Map>().unwrap_or_default()
}

/// A script value as JSON for the core; `what` names it in the error (`helm::upgrade_install:
/// option `set``).
pub fn to_json(what: &str, v: &Dynamic) -> ScriptResult<serde_json::Value> {
    serde_json::to_value(crate::records::plain(v)).map_err(|e| error(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_is_unit_and_objects_are_maps() {
        let v = serde_json::json!({"a": 1, "b": null, "c": [true, "x"]});
        let m = to_map(&v);
        assert_eq!(m["a"].as_int().unwrap(), 1);
        assert!(m["b"].is_unit());
        assert_eq!(m["c"].clone().into_array().unwrap().len(), 2);
        assert_eq!(
            to_json("t", &Dynamic::from_map(m)).unwrap(),
            serde_json::json!({"a": 1, "b": null, "c": [true, "x"]})
        );
    }
}
