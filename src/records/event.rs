//! Monitor events as script values: `kind`, `raw` and each field of a core
//! [`Event`](crate::monitor::Event), converted when a script reads them (a [`Record`](super::Record)
//! over an event reads its fields through here).

use rhai::{Array, Dynamic, ImmutableString, Map};

use crate::monitor::event::flag_list;
use crate::monitor::{Event, FieldRef, Kind};

/// The kind's name as a shared Rhai string (no allocation per event).
pub fn kind_dynamic(kind: Kind) -> Dynamic {
    static NAMES: std::sync::OnceLock<Vec<ImmutableString>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| Kind::ALL.iter().map(|k| k.as_str().into()).collect());
    let i = Kind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(Kind::ALL.len() - 1);
    names
        .get(i)
        .cloned()
        .map(Dynamic::from)
        .unwrap_or(Dynamic::UNIT)
}

/// A field's value as a Rhai value. Flags become an array of strings; JSON payloads become
/// maps (`()` when the payload is not valid JSON).
pub fn field_value(v: FieldRef<'_>) -> Dynamic {
    match v {
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

/// One field of `e` as a Rhai value: `kind`, `raw`, or a parsed field; `()` when absent.
pub fn field_dynamic(e: &Event, name: &str) -> Dynamic {
    match name {
        "kind" => kind_dynamic(e.kind()),
        "raw" => e.raw().into(),
        _ => e.get(name).map(field_value).unwrap_or(Dynamic::UNIT),
    }
}

/// The event as a Rhai map: `kind`, `raw` and every field.
pub fn event_map(e: &Event) -> Map {
    let mut entries: Vec<(&'static str, Dynamic)> = Vec::with_capacity(20);
    entries.push(("kind", kind_dynamic(e.kind())));
    entries.push(("raw", e.raw().into()));
    for (name, v) in e.fields() {
        entries.push((name, field_value(v)));
    }
    // Sorted first, the map is bulk-built (appended) instead of searched per insert.
    entries.sort_by_key(|(name, _)| *name);
    entries
        .into_iter()
        .map(|(name, v)| (name.into(), v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::parse;

    const HANDOUT: &str =
        include_str!("../../crates/labsh-core/src/monitor/testdata/tp12_monitor.txt");

    #[test]
    fn the_map_matches_the_field_accessors() {
        for line in HANDOUT.lines() {
            let e = parse(line);
            let m = event_map(&e);
            for name in e.names() {
                let v: &Dynamic = &m[name];
                match e.get(name).unwrap() {
                    FieldRef::Str(s) => assert_eq!(v.clone().into_string().unwrap(), s),
                    FieldRef::Int(n) => assert_eq!(v.as_int().unwrap(), n),
                    FieldRef::Unit => assert!(v.is_unit()),
                    FieldRef::Flags(_) => {
                        let arr: Array = v.clone().into_array().unwrap();
                        assert_eq!(arr.len(), e.flags().len());
                    }
                    FieldRef::Json(_) | FieldRef::JsonValue(_) => assert!(v.is_map()),
                    FieldRef::Bool(b) => assert_eq!(v.as_bool().unwrap(), b),
                }
            }
        }
    }

    #[test]
    fn single_fields_convert_like_the_map() {
        for line in HANDOUT.lines() {
            let e = parse(line);
            let m = event_map(&e);
            for (k, v) in &m {
                assert_eq!(
                    field_dynamic(&e, k).to_string(),
                    v.to_string(),
                    "{k} of {line}"
                );
            }
            assert!(field_dynamic(&e, "no_such_field").is_unit());
        }
        for kind in Kind::ALL {
            assert_eq!(kind_dynamic(kind).into_string().unwrap(), kind.as_str());
        }
    }

    #[test]
    fn the_map_is_the_core_events_serialised_form() {
        for line in HANDOUT.lines() {
            let e = parse(line);
            let from_core: Dynamic = rhai::serde::to_dynamic(&e).unwrap();
            assert_eq!(
                from_core.to_string(),
                Dynamic::from_map(event_map(&e)).to_string(),
                "{line}"
            );
        }
    }
}
