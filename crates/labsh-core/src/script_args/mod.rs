//! A script's own parameters (`labsh run tp12.rhai -- --cluster x --keep`): the script
//! describes its options in a spec ([`ArgSpec`]), [`parse`] reads `ARGS` against it with a
//! `clap::Command` built from the spec, and answers the values, the help text, or a usage
//! error worded for the script's user (exit code 2).

mod command;
mod spec;
mod usage;

pub use command::{Given, Outcome, Parsed, parse};
pub use spec::{ArgSpec, OptionSpec, SpecError};
pub use usage::usage;

/// A usage error: what was wrong with the arguments, and the usage to print after it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error: {script}: {problem}\n\n{usage}")]
pub struct UsageError {
    /// The script's name as its spec gives it (`scripts/tp12.rhai`), or `script`.
    pub script: String,
    /// `unknown option '--bogus' (did you mean '--cluster'?)`.
    pub problem: String,
    /// The usage text ([`usage`]).
    pub usage: String,
}

/// Why `args::parse` did not give the arguments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// The spec itself is wrong (a script bug): an ordinary error.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The arguments are wrong: print it and end with exit code 2.
    #[error(transparent)]
    Usage(#[from] UsageError),
}
