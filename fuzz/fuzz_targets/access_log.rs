//! The nginx/Apache access-log parser (`logs::parse_access`) on arbitrary lines.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    if let Some(entry) = labsh_core::access_log::parse(&line) {
        let _ = format!("{entry:?}");
    }
});
