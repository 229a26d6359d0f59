//! labsh: a scripting workbench for hands-on Kubernetes networking labs.
//!
//! A Rhai engine with primitives for kind clusters, Helm, Kubernetes objects, pod logs, HTTP
//! probes, tcpdump captures and `cilium monitor`, each returning structured data. See
//! [`Workbench`] to embed it.

pub mod access_log;
pub mod api;
pub mod call_site;
pub mod catalog;
pub mod cli;
pub mod context;
pub mod diagnostics;
pub mod docker;
pub mod duration;
pub mod errors;
pub mod exit_code;
pub mod helm;
pub mod journal;
pub mod kind;
pub mod kube;
pub mod limits;
pub mod monitor;
pub mod options;
pub mod output;
pub mod preflight;
pub mod primitives;
pub mod probe;
pub mod process;
pub mod repl;
pub mod report;
pub mod selection;
pub mod shell;
pub mod shown;
pub mod startup_trace;
pub mod stdlib;
pub mod tcpdump;
pub mod temp_yaml;
pub mod tool;
pub mod workbench;

pub use context::{Ctx, Settings};
pub use workbench::{ScriptError, Session, Workbench};
