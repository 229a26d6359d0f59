//! Durations (`"5s"`, `"1m30s"`, `"250ms"`): parsing never panics, and what parses formats
//! and parses back to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match labsh_core::duration::parse(&text) {
        Ok(d) => {
            let printed = labsh_core::duration::format(d);
            let again = labsh_core::duration::parse(&printed)
                .unwrap_or_else(|e| panic!("{printed:?} (from {text:?}) does not parse: {e}"));
            assert_eq!(labsh_core::duration::format(again), printed);
        }
        Err(e) => assert!(!e.is_empty()),
    }
});
