//! YAML text → documents (`labsh_core::yaml::documents`, what `yaml::parse` and
//! `yaml::parse_all` read through): never panics, errors included; what parses writes back as
//! YAML and that text reads again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(docs) = labsh_core::yaml::documents::<Value>(&text) {
        if let Ok(back) = labsh_core::yaml::write(&docs) {
            let _ = labsh_core::yaml::documents::<Value>(&back);
        }
    }
});
