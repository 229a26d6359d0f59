//! The process exit codes labsh documents (README, "Exit codes"): a concept of their own, at
//! the bottom of the module graph so the command line, the REPL, `labsh api` and the report
//! all name the same numbers without importing each other.

/// Exit code: success.
pub const EXIT_SUCCESS: u8 = 0;
/// Exit code: a script error or a failed check.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: bad command line.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: interrupted by Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;
