//! Integration tests of the `labsh` binary: the command line, diagnostics, lab steps and
//! checks, the piped REPL, Ctrl-C and `labsh api`. Each asserts exact output through the
//! fluent harness in `tests/cli/test.rs`.

#[path = "cli/test.rs"]
mod test;

#[path = "cli/any_cluster.rs"]
mod any_cluster;
#[path = "cli/api.rs"]
mod api;
#[path = "cli/check.rs"]
mod check;
#[path = "cli/dead_output.rs"]
mod dead_output;
#[path = "cli/diagnostics.rs"]
mod diagnostics;
#[path = "cli/escapes.rs"]
mod escapes;
#[path = "cli/http_get_all.rs"]
mod http_get_all;
#[path = "cli/interrupt.rs"]
mod interrupt;
#[path = "cli/lab.rs"]
mod lab;
#[path = "cli/limits.rs"]
mod limits;
#[path = "cli/repl.rs"]
mod repl;
#[path = "cli/repl_signals.rs"]
mod repl_signals;
#[path = "cli/run.rs"]
mod run;
#[path = "cli/shipped.rs"]
mod shipped;
#[path = "cli/tty.rs"]
mod tty;
