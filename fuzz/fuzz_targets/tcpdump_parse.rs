//! `tcpdump::parse` on arbitrary lines: never panics, and a parsed packet converts to a map.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    if let Some(p) = labsh::tcpdump::parse(&line) {
        let _ = p.to_map();
    }
});
