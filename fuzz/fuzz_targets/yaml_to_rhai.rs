//! YAML text → Rhai values (`yaml::parse`): never panics; what parses converts back to YAML
//! and to JSON text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(v) = labsh::primitives::yaml::parse_yaml(&text) {
        let _ = labsh::primitives::yaml::to_yaml(&v);
        let _ = serde_json::to_string(&v);
    }
});
