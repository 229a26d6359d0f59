//! `LABSH_TRACE_STARTUP=1`: prints how long each startup phase took (argument parsing, the
//! engine, each primitive family, the script), to find where startup time goes without a
//! profiler. Off, a phase costs one cached flag check.

use std::sync::OnceLock;
use std::time::Duration;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("LABSH_TRACE_STARTUP").is_some())
}

/// Prints `startup: PHASE took D` on stderr when `LABSH_TRACE_STARTUP` is set.
pub fn phase(phase: &str, d: Duration) {
    if enabled() {
        crate::stdio::errln(&format!("startup: {phase} took {d:?}"));
    }
}

/// [`phase`] for one primitive family's registration.
pub fn family(name: &str, d: Duration) {
    if enabled() {
        crate::stdio::errln(&format!("startup: family {name} took {d:?}"));
    }
}
