//! `monitor::parse` on arbitrary text lines: never panics, keeps the raw line, serialises to
//! an object with its kind, and reads back field by field.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let e = labsh_core::monitor::parse(&line);
    assert_eq!(e.raw(), line.trim_end_matches(['\r', '\n']));
    let m = serde_json::to_value(&e).expect("an event serialises");
    for name in e.names() {
        let _ = e.get(name);
    }
    assert!(m.get("kind").is_some());
});
