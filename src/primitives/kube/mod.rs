//! `kube::…`: Kubernetes objects from scripts, one file per concern: [`context`] (selection,
//! discovery), [`apply`], [`objects`] (get/list/delete, kubectl-like tables, typed lookups),
//! [`waits`], [`exec`], [`probe`] (reachability from a pod), [`policy`] (NetworkPolicy
//! enforcement), the `Pod`/`Service` [`types`] and the shared list [`options`]. The
//! work is in `crate::kube`; these files read options, print `--explain` lines and convert
//! values. The API-server helpers they share with `logs::` and `monitor::` are in
//! `primitives/api_server.rs`.

use std::time::Duration;

use crate::context::Ctx;
use crate::primitives::{Family, Registry};

/// Registers `kube::NAME(params…)` and `kube::NAME(params…, opts)`, the pair every `kube::`
/// function with options has: both call `imp(&ctx, args…, opts)`, the short form with an
/// empty map. Each argument is `name: RustType = "name: RhaiType"` (the docs' spelling).
macro_rules! with_and_without_opts {
    ($reg:expr, $ctx:expr, $name:literal, $doc:expr,
     [$($arg:ident: $ty:ty = $param:literal),*] -> $ret:literal, $imp:path) => {{
        let c = $ctx.clone();
        $reg.func(
            "kube",
            $name,
            &[$($param,)* $ret],
            $doc,
            move |$($arg: $ty),*| $imp(&c, $($arg,)* rhai::Map::new()),
        );
        let c = $ctx.clone();
        $reg.func(
            "kube",
            $name,
            &[$($param,)* "opts: Map", $ret],
            $doc,
            move |$($arg: $ty,)* opts: rhai::Map| $imp(&c, $($arg,)* opts),
        );
    }};
}

pub mod apply;
pub mod context;
pub mod exec;
pub mod objects;
pub mod options;
pub mod policy;
pub mod probe;
pub mod types;
pub mod waits;

// The API-server helpers every binding shares, for this module's files (`super::block`).
use crate::primitives::api_server::{Recv, block, conn, ns_flag, pod_arg, recv, to_dynamic};

/// `kube::…`
pub const FAMILY: Family = Family {
    name: "kube",
    summary: "Kubernetes objects: apply, get, tables, waits, exec, probes from a pod (kube-rs)",
    register,
};

/// The default timeout of waits.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(120);

pub(super) fn explain(ctx: &Ctx, parts: Vec<String>) {
    let mut argv = vec!["kubectl".to_string()];
    argv.extend(parts);
    ctx.explain(&argv);
}

pub(super) fn s(v: &str) -> String {
    v.to_string()
}

/// Registers the `kube::` functions and the `Pod`/`Service` types.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    types::register(reg);
    context::register(reg, ctx);
    apply::register(reg, ctx);
    objects::register(reg, ctx);
    waits::register(reg, ctx);
    exec::register(reg, ctx);
    probe::register(reg, ctx);
    policy::register(reg, ctx);
}
