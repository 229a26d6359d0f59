//! `kube::…`: Kubernetes objects from scripts, one file per concern: [`context`] (selection,
//! discovery), [`apply`], [`objects`] (get/list/delete, kubectl-like tables, typed lookups),
//! [`waits`], [`exec`], [`probe`] (reachability from a pod), [`policy`] (NetworkPolicy
//! enforcement), the `Pod`/`Service` [`types`] and the shared list [`options`]. The
//! work is in `crate::kube`; these files read options, print `--explain` lines and convert
//! values. This one holds the helpers they share (also used by `logs::` and `monitor::`).

use crate::errors::Script;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, ImmutableString};
use serde_json::Value;

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::typed::Pod;
use crate::kube::{Conn, KubeError, connect};
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


/// `kube::…`
pub const FAMILY: Family = Family {
    name: "kube",
    summary: "Kubernetes objects: apply, get, tables, waits, exec, probes from a pod (kube-rs)",
    register,
};

/// The default timeout of waits.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(120);

/// Runs a kube future from the engine thread (Ctrl-C ends it).
pub fn block<T>(ctx: &Ctx, fut: impl Future<Output = Result<T, KubeError>>) -> ScriptResult<T> {
    ctx.block_on(fut).script()?.script()
}

/// The connection to the selected context.
pub fn conn(ctx: &Ctx) -> ScriptResult<Arc<Conn>> {
    block(ctx, connect(ctx))
}

/// What [`recv`] got.
pub enum Recv<T> {
    /// An item.
    Item(T),
    /// The channel closed.
    Closed,
    /// The deadline passed.
    TimedOut,
}

/// The next item of a channel, received on the engine thread: straight from the queue when
/// one is waiting (no runtime round-trip per line), otherwise waiting up to `deadline`;
/// Ctrl-C ends it either way.
pub fn recv<T>(
    ctx: &Ctx,
    rx: &mut tokio::sync::mpsc::Receiver<T>,
    deadline: Option<tokio::time::Instant>,
) -> ScriptResult<Recv<T>> {
    use tokio::sync::mpsc::error::TryRecvError;
    if ctx.cancel_token().is_cancelled() {
        return Err(crate::errors::interrupted());
    }
    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
        return Ok(Recv::TimedOut);
    }
    match rx.try_recv() {
        Ok(v) => return Ok(Recv::Item(v)),
        Err(TryRecvError::Disconnected) => return Ok(Recv::Closed),
        Err(TryRecvError::Empty) => {}
    }
    let got = match deadline {
        Some(d) => match ctx
            .block_on(tokio::time::timeout_at(d, rx.recv()))
            .script()?
        {
            Ok(v) => v,
            Err(_) => return Ok(Recv::TimedOut),
        },
        None => ctx.block_on(rx.recv()).script()?,
    };
    Ok(got.map_or(Recv::Closed, Recv::Item))
}

/// A JSON value as a Rhai value.
pub fn to_dynamic(v: &Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

/// A pod given as a name or a `Pod`: `(namespace, name)`; the namespace falls back to
/// `namespace` (an option) and then to the context's.
pub fn pod_arg(
    func: &str,
    pod: &Dynamic,
    namespace: Option<String>,
) -> ScriptResult<(Option<String>, String)> {
    if let Some(p) = pod.read_lock::<Pod>() {
        return Ok((
            Some(namespace.unwrap_or_else(|| p.namespace.clone())),
            p.name.clone(),
        ));
    }
    if let Some(s) = pod.read_lock::<ImmutableString>() {
        return Ok((namespace, s.to_string()));
    }
    Err(error(format!(
        "{func}: expected a pod name or a Pod, got {} `{pod}`",
        pod.type_name()
    )))
}

/// `["-n", ns]` when a namespace was given.
pub fn ns_flag(namespace: &Option<String>) -> Vec<String> {
    namespace
        .as_ref()
        .map(|n| vec!["-n".to_string(), n.clone()])
        .unwrap_or_default()
}

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
