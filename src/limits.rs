//! The sandbox limits on the Rhai engine: the values and their messages are the core's
//! ([`labsh_core::limits`], re-exported here); this file sets them on an engine and measures
//! script values against them.

use rhai::Engine;

pub use labsh_core::limits::*;

use crate::errors::{ScriptResult, error};

/// Sets `limits` on `engine`, with the fixed ceilings on variables and functions.
pub fn apply(limits: &Limits, engine: &mut Engine) {
    engine.set_max_string_size(limits.max_string_size);
    engine.set_max_array_size(limits.max_array_size);
    engine.set_max_map_size(limits.max_map_size);
    engine.set_max_variables(MAX_VARIABLES);
    engine.set_max_functions(MAX_FUNCTIONS);
}

/// [`labsh_core::limits::check_len`] as a script error.
pub fn check_option_len(func: &str, option: &str, n: usize, limits: &Limits) -> ScriptResult<()> {
    check_len(func, option, n, limits).map_err(error)
}

/// The bytes of every string in `v` (inside arrays and maps too): what Rhai counts against
/// `--max-string-size` for one value.
pub fn string_bytes_of(v: &rhai::Dynamic) -> usize {
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return s.len();
    }
    if let Some(a) = v.read_lock::<rhai::Array>() {
        return a.iter().map(string_bytes_of).sum();
    }
    if let Some(m) = v.read_lock::<rhai::Map>() {
        return m.values().map(string_bytes_of).sum();
    }
    if let Some(r) = v.read_lock::<crate::records::Record>() {
        return r.to_map().values().map(string_bytes_of).sum();
    }
    0
}
