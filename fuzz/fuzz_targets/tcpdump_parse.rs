//! `tcpdump::parse` on arbitrary lines: never panics, and a parsed packet converts to a map.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    if let Some(p) = labsh_core::tcpdump::parse(&line) {
        let _ = serde_json::to_value(&p);
    }
});
