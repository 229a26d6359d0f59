//! The Kubernetes API server as the bindings reach it: a kube future run from the engine
//! thread, the connection of the selected context, a channel read with a deadline, and the
//! pod argument every family takes (a name or a `Pod`). Shared by `kube::`, `logs::` and
//! `monitor::`; the work itself is in `crate::kube`.

use std::future::Future;
use std::sync::Arc;

use rhai::{Dynamic, ImmutableString};
use serde_json::Value;

use crate::context::Ctx;
use crate::errors::{Script, ScriptResult, error};
use crate::kube::typed::Pod;
use crate::kube::{Conn, KubeError, connect};

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
