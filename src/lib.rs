//! labsh: a scripting workbench for hands-on Kubernetes networking labs.
//!
//! A Rhai engine with primitives for kind clusters, Helm, Kubernetes objects, pod logs, HTTP
//! probes, tcpdump captures and `cilium monitor`, each returning structured data. What labsh
//! knows about those lives in the Rhai-free [`labsh_core`] crate; this crate turns its typed
//! values into script values (`primitives`), and holds the engine, the REPL and the command
//! line. See [`Workbench`] to embed it.

pub mod api;
pub mod call_errors;
pub mod call_site;
pub mod catalog;
pub mod checker;
pub mod clean;
pub mod cli;
pub mod convert;
pub mod diagnostics;
pub mod errors;
pub mod limits;
pub mod options;
pub mod primitives;
pub mod records;
pub mod repl;
pub mod shown;
pub mod signatures;
pub mod stdlib;
pub mod suggest;
pub mod workbench;
pub mod yaml_quote;

pub use labsh_core::{Ctx, Settings};
pub use labsh_core::{
    access_log, bounded_file, context, docker, duration, exit_code, exit_signal, follow, helm,
    journal, kind, kube, monitor, node, output, output_budget, preflight, probe, process, report,
    selection, shell, stamp, startup_trace, stdio, tcpdump, temp_yaml, tool,
};
pub use workbench::{ScriptError, Session, Workbench};
