//! The call-site wrapper every registered primitive goes through: Rhai leaves the position
//! empty on errors raised by namespace-qualified native functions, so a primitive's failure
//! would point nowhere. Below both the primitives (which register through it) and the
//! diagnostics (which print the position it fills in).

use rhai::{EvalAltResult, Position};

/// The native function type Rhai stores (`FnAny`, not exported by name).
type NativeFn = dyn Fn(
        Option<rhai::NativeCallContext>,
        &mut [&mut rhai::Dynamic],
    ) -> Result<rhai::Dynamic, Box<EvalAltResult>>
    + Send
    + Sync;

/// Rhai leaves the position empty on errors raised by namespace-qualified native functions
/// (`fs::read(…)`); this wrapper fills in the call site so the error points at the user's line.
pub fn with_call_position(func: rhai::RhaiFunc) -> rhai::RhaiFunc {
    use rhai::RhaiFunc;
    fn wrap(func: rhai::Shared<NativeFn>, wants_context: bool) -> rhai::Shared<NativeFn> {
        rhai::Shared::new(
            move |ctx: Option<rhai::NativeCallContext>, args: &mut [&mut rhai::Dynamic]| {
                let pos = ctx
                    .as_ref()
                    .map(|c| c.call_position())
                    .unwrap_or(Position::NONE);
                func(if wants_context { ctx } else { None }, args).map_err(|mut err| {
                    if err.position().is_none() {
                        err.set_position(pos);
                    }
                    err
                })
            },
        )
    }
    match func {
        RhaiFunc::Pure {
            func,
            has_context,
            is_pure,
            is_volatile,
        } => RhaiFunc::Pure {
            func: wrap(func, has_context),
            has_context: true,
            is_pure,
            is_volatile,
        },
        RhaiFunc::Method {
            func,
            has_context,
            is_pure,
            is_volatile,
        } => RhaiFunc::Method {
            func: wrap(func, has_context),
            has_context: true,
            is_pure,
            is_volatile,
        },
        other => other,
    }
}
