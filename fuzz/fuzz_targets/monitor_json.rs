//! `monitor::parse` on `cilium monitor -j` lines: the input is made to start with `{` so the
//! fuzzer explores the JSON mode.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let line = if text.starts_with('{') {
        text.into_owned()
    } else {
        format!("{{{text}")
    };
    let e = labsh_core::monitor::parse(&line);
    let _ = serde_json::to_value(&e);
});
