//! The script surface every background follower shares (`LogFollow` of `logs::start`,
//! `Monitor` of `monitor::start`, `Capture` of `tcpdump::start`, all over
//! `follow::Follower`): `.wait(#{count, timeout, "until"})` read and run one way, and the
//! option that says how many items are kept (`keep`, `capacity`).

use std::sync::Arc;

use rhai::{Dynamic, EvalAltResult, FnPtr, NativeCallContext};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error, interrupted};
use crate::follow::{Until, WaitError, WaitOutcome, WaitSpec};
use crate::options::Opts;

/// The option keys of `.wait(opts)`.
pub const WAIT_OPTS: &[&str] = &["count", "timeout", "until"];

/// Runs `.wait(o)` for `func` (`LogFollow.wait`): reads `count` (0 or more), `timeout` and
/// `until` (a closure `|ITEM| bool`, given each item as `view` shows it), then `waiter` (the
/// follower's `wait`). Returns the outcome and the item `until` accepted.
pub fn wait<T>(
    nctx: &NativeCallContext,
    func: &str,
    o: &Opts,
    item: &str,
    view: impl Fn(&Arc<T>) -> Dynamic,
    waiter: impl FnOnce(
        WaitSpec,
        Option<Until<'_, T, Box<EvalAltResult>>>,
    ) -> Result<WaitOutcome, WaitError<Box<EvalAltResult>>>,
) -> ScriptResult<(WaitOutcome, Option<Arc<T>>)> {
    let count = match o.int("count")? {
        Some(c) if c < 0 => {
            return Err(error(format!(
                "{func}: option `count` must be 0 or more, got {c}"
            )));
        }
        c => c.map(|c| c as u64),
    };
    let spec = WaitSpec {
        count,
        timeout: o.duration("timeout")?,
    };
    let until = match o.get("until") {
        None => None,
        Some(v) => Some(v.clone().try_cast::<FnPtr>().ok_or_else(|| {
            error(format!(
                "{func}: option `until` must be a closure `|{item}| bool`, got {} `{v}`",
                v.type_name()
            ))
        })?),
    };
    let mut matched = None;
    let outcome = match until {
        None => waiter(spec, None),
        Some(until) => {
            let mut check = |t: &Arc<T>| -> ScriptResult<bool> {
                let result: Dynamic = until.call_within_context(nctx, (view(t),))?;
                let done = result.as_bool().map_err(|_| {
                    error(format!(
                        "{func}: `until` must return true or false, got {} `{result}`",
                        result.type_name()
                    ))
                })?;
                if done {
                    matched = Some(t.clone());
                }
                Ok(done)
            };
            waiter(spec, Some(&mut check))
        }
    };
    let outcome = outcome.map_err(|e| match e {
        WaitError::Interrupted => interrupted(),
        WaitError::Until(e) => e,
    })?;
    Ok((outcome, matched))
}

/// Whether a wait's outcome met what it waited for (`count` or `until`).
pub fn met(outcome: WaitOutcome) -> bool {
    matches!(outcome, WaitOutcome::Matched | WaitOutcome::Count)
}

/// How many items a follower keeps: option `key` of `o` (1 or more, within the array limit,
/// since the items are handed to the script as one array), else `default`.
pub fn kept(ctx: &Ctx, func: &str, o: &Opts, key: &str, default: usize) -> ScriptResult<usize> {
    let n = match o.int(key)? {
        None => default,
        Some(n) if n >= 1 => n as usize,
        Some(n) => {
            return Err(error(format!(
                "{func}: option `{key}` must be 1 or more, got {n}"
            )));
        }
    };
    crate::limits::check_option_len(func, key, n, &ctx.settings().limits)?;
    Ok(n)
}
