//! Turning Rust errors into Rhai errors, in one place: a primitive's failure is a runtime
//! error whose message carries its context (command line, URL, cluster, context name); Rhai
//! fills in the call site's position, and the diagnostics layer prints file:line:col with the
//! source line. The core's errors ([`labsh_core::errors`]) become script errors through
//! [`IntoScript`] (`.script()?` on their results); an interruption stays uncatchable.

use rhai::{Dynamic, EvalAltResult, Position};

use labsh_core::docker::client::DockerError;
pub use labsh_core::errors::{INTERRUPTED, Interrupted};
use labsh_core::kube::error::KubeError;
use labsh_core::process::ProcessError;

/// What fallible primitives return.
pub type ScriptResult<T> = Result<T, Box<EvalAltResult>>;

/// A runtime error with `message` (the position is filled in at the call site).
pub fn error(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(message.into()),
        Position::NONE,
    ))
}

/// The error that ends an evaluation on Ctrl-C; scripts cannot catch it.
pub fn interrupted() -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(
        Dynamic::from(INTERRUPTED),
        Position::NONE,
    ))
}

/// A core error as a script error.
pub trait IntoScript {
    /// The script error: [`interrupted`] for an interruption, else a runtime error with the
    /// error's message.
    fn into_script(self) -> Box<EvalAltResult>;
}

impl IntoScript for labsh_core::errors::Error {
    fn into_script(self) -> Box<EvalAltResult> {
        if self.is_interrupted() {
            interrupted()
        } else {
            error(self.to_string())
        }
    }
}

impl IntoScript for Interrupted {
    fn into_script(self) -> Box<EvalAltResult> {
        interrupted()
    }
}

impl IntoScript for ProcessError {
    fn into_script(self) -> Box<EvalAltResult> {
        match self {
            ProcessError::Interrupted => interrupted(),
            other => error(other.to_string()),
        }
    }
}

impl IntoScript for KubeError {
    fn into_script(self) -> Box<EvalAltResult> {
        error(self.to_string())
    }
}

impl IntoScript for labsh_core::node::NodeError {
    fn into_script(self) -> Box<EvalAltResult> {
        if self.is_interrupted() {
            interrupted()
        } else {
            error(self.to_string())
        }
    }
}

impl IntoScript for DockerError {
    fn into_script(self) -> Box<EvalAltResult> {
        error(self.to_string())
    }
}

/// `.script()` on a core result: its error as a script error (see [`IntoScript`]).
pub trait Script<T> {
    /// The result with its error turned into a script error.
    fn script(self) -> ScriptResult<T>;
}

impl<T, E: IntoScript> Script<T> for Result<T, E> {
    fn script(self) -> ScriptResult<T> {
        self.map_err(IntoScript::into_script)
    }
}

/// A deliberate end of the script with an exit code, raised by `exit_with(code, message)`
/// (e.g. 2 for a usage error). Like Ctrl-C it cannot be caught by `try`/`catch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitRequest {
    /// The process exit code.
    pub code: u8,
    /// What to print on stderr (may be empty).
    pub message: String,
}

/// The error that ends the script with `code` after printing `message`.
pub fn exit_with(code: u8, message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(
        Dynamic::from(ExitRequest {
            code,
            message: message.into(),
        }),
        Position::NONE,
    ))
}

/// The exit request `err` carries (possibly wrapped in function calls), if any.
pub fn exit_request(err: &EvalAltResult) -> Option<ExitRequest> {
    match err {
        EvalAltResult::ErrorTerminated(v, _) => v.read_lock::<ExitRequest>().map(|r| r.clone()),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => exit_request(inner),
        _ => None,
    }
}

/// Whether `err` (or an error it wraps) is an interruption.
pub fn is_interrupted(err: &EvalAltResult) -> bool {
    match err {
        EvalAltResult::ErrorTerminated(v, _) => !v.is::<ExitRequest>(),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => is_interrupted(inner),
        _ => false,
    }
}

/// `.script_err()` on any `Result<T, E: Display>` maps the error to a runtime error,
/// optionally with a prefix giving context.
pub trait ScriptErr<T> {
    /// Maps the error to a runtime error with its `Display` text.
    fn script_err(self) -> ScriptResult<T>;
    /// Maps the error to a runtime error `"{context}: {error}"`.
    fn script_context(self, context: impl FnOnce() -> String) -> ScriptResult<T>;
}

impl<T, E: std::fmt::Display> ScriptErr<T> for Result<T, E> {
    fn script_err(self) -> ScriptResult<T> {
        self.map_err(|e| error(e.to_string()))
    }
    fn script_context(self, context: impl FnOnce() -> String) -> ScriptResult<T> {
        self.map_err(|e| error(format!("{}: {e}", context())))
    }
}
