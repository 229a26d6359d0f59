//! `monitor::parse` on arbitrary text lines: never panics, keeps the raw line, converts to a
//! map and field by field.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    let e = labsh::monitor::parse(&line);
    assert_eq!(e.raw(), line.trim_end_matches(['\r', '\n']));
    let m = e.to_map();
    for name in e.names() {
        let _ = e.field_dynamic(name);
    }
    assert!(m.contains_key("kind"));
});
