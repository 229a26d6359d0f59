//! How the test API server combines a write with the stored object.
//!
//! This is a double, not the real field-ownership machinery: server-side apply uses RFC 7386 JSON
//! merge semantics (maps merge recursively, `null` removes a key, arrays and scalars replace) and
//! records its field manager in `metadata.managedFields`. Fields a previous apply set but the new
//! one omits are kept (no ownership tracking), and `force` never matters (there are no
//! conflicts).

use serde_json::{Value, json};

use super::store::{metadata_mut, now_rfc3339};

/// RFC 7386: merges `patch` into `target`.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let target_map = target.as_object_mut().expect("made an object above");
    for (k, v) in patch_map {
        if v.is_null() {
            target_map.remove(k);
        } else {
            merge(target_map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// Records that `manager` applied the object.
pub fn record_manager(obj: &mut Value, manager: &str, api_version: &str) {
    let meta = metadata_mut(obj);
    let entries = meta.entry("managedFields").or_insert_with(|| json!([]));
    if !entries.is_array() {
        *entries = json!([]);
    }
    let list = entries.as_array_mut().expect("made an array above");
    list.retain(|e| !(e["manager"] == manager && e["operation"] == "Apply"));
    list.push(json!({
        "manager": manager,
        "operation": "Apply",
        "apiVersion": api_version,
        "time": now_rfc3339(),
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    }));
}
