//! labsh's core: what it knows about Kubernetes, kind, Helm, Docker, packets and Cilium,
//! with typed values and errors of its own. It does not depend on Rhai: the `labsh` crate
//! turns these values into script values, in one place per primitive family.

pub mod access_log;
pub mod bounded_file;
pub mod context;
pub mod docker;
pub mod duration;
pub mod errors;
pub mod escape;
pub mod exit_code;
pub mod exit_signal;
pub mod follow;
pub mod guardian;
pub mod helm;
pub mod interrupt;
pub mod journal;
pub mod keys;
pub mod kind;
pub mod kube;
pub mod limits;
pub mod monitor;
pub mod node;
pub mod output;
pub mod output_budget;
pub mod preflight;
pub mod probe;
pub mod process;
pub mod report;
pub mod script_args;
pub mod selection;
pub mod shell;
pub mod spelling;
pub mod stamp;
pub mod startup_trace;
pub mod stdio;
pub mod tcpdump;
pub mod temp_yaml;
pub mod tool;
pub mod version;
pub mod yaml;
pub mod yaml_budget;

pub use context::{Ctx, Settings};
