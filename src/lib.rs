//! labsh: a scripting workbench for hands-on Kubernetes networking labs.
//!
//! A Rhai engine with primitives for kind clusters, Helm, Kubernetes objects, pod logs, HTTP
//! probes, tcpdump captures and `cilium monitor`, each returning structured data. See
//! [`Workbench`] to embed it.

pub mod cli;
pub mod context;
pub mod diagnostics;
pub mod docker;
pub mod duration;
pub mod errors;
pub mod monitor;
pub mod options;
pub mod output;
pub mod primitives;
pub mod process;
pub mod selection;
pub mod shell;
pub mod stdlib;
pub mod workbench;

pub use context::{Ctx, Settings};
pub use workbench::{ScriptError, Session, Workbench};
