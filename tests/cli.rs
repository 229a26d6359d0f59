//! Integration tests of the `labsh` binary: the command line, diagnostics, lab steps and
//! checks, the piped REPL, Ctrl-C and `labsh api`. Each asserts exact output through the
//! fluent harness in `tests/cli/test.rs`.

pub(crate) mod test;

mod any_cluster;
mod api;
mod capture_options;
mod check;
mod dead_output;
mod diagnostics;
mod escapes;
mod http_get_all;
mod interrupt;
mod lab;
pub(crate) mod limits;
mod repl;
mod repl_signals;
mod run;
mod shipped;
mod tty;
