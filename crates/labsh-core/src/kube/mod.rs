//! Kubernetes through kube-rs: the connection to the selected context, kubectl's kind names,
//! server-side apply, get/list/delete, kubectl-like tables, typed pods and services,
//! watch-based waits, exec and pod logs. The Rhai side lives in `primitives::kube`,
//! `primitives::logs::pods` and `primitives::monitor::lookup` (the monitor's exec pump is
//! `monitor::kube_source`); this module is plain async Rust
//! plus the few engine-thread loops that call script closures.

pub mod apply;
pub mod blockers;
pub mod connection;
pub mod error;
pub mod exec;
pub mod kinds;
pub mod log_follow;
pub mod logs;
pub mod lookup;
pub mod objects;
pub mod policy;
pub mod reach;
pub mod table;
pub mod target;
pub mod target_pods;
pub mod typed;
pub mod wait;

pub use connection::{Conn, connect};
pub use error::KubeError;

use crate::context::Ctx;

/// Selects the kubeconfig context the `kube::` primitives use from now on (the client is
/// rebuilt on next use). The kubeconfig file stays the one already selected.
pub fn use_context(ctx: &Ctx, name: &str) {
    let current = crate::selection::current(ctx);
    crate::selection::select(ctx, Some(name.to_string()), current.kubeconfig);
}
