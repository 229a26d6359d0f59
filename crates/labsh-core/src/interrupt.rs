//! Ctrl-C: the one error every blocking core function may end with.

/// The evaluation was interrupted (Ctrl-C).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// The message script authors see when Ctrl-C ends an evaluation.
pub const INTERRUPTED: &str = "interrupted";
