//! The core's errors. Each family has its own typed error where it has several ways to fail
//! (`ProcessError`, `KubeError`, `DockerError`), and Ctrl-C is [`Interrupted`]; [`Error`] is
//! what a function returns when it can fail in more than one family's way (kind, Helm). The
//! families below it never return it, so the modules form no circle. The `labsh` crate turns them into script
//! errors in one place (`labsh::errors`).

use crate::docker::client::DockerError;
use crate::kube::error::KubeError;
use crate::process::ProcessError;

pub use crate::interrupt::{INTERRUPTED, Interrupted};

/// A failure of a core function.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Ctrl-C ended the operation.
    #[error("interrupted")]
    Interrupted,
    /// A failure whose message already carries its context (the command, the cluster, the
    /// file).
    #[error("{0}")]
    Message(String),
    /// A program labsh ran could not start, or failed.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// The Kubernetes API refused or failed.
    #[error(transparent)]
    Kube(#[from] KubeError),
    /// The Docker engine refused or failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
}

impl Error {
    /// A failure described by `message` (with its context in it).
    pub fn msg(message: impl Into<String>) -> Self {
        Error::Message(message.into())
    }

    /// Whether this is an interruption (here or in the process or API call it wraps).
    pub fn is_interrupted(&self) -> bool {
        matches!(
            self,
            Error::Interrupted | Error::Process(ProcessError::Interrupted)
        )
    }

    /// `"{context}: {self}"`, keeping an interruption an interruption.
    pub fn context(self, context: impl FnOnce() -> String) -> Self {
        if self.is_interrupted() {
            self
        } else {
            Error::Message(format!("{}: {self}", context()))
        }
    }
}

impl From<Interrupted> for Error {
    fn from(_: Interrupted) -> Self {
        Error::Interrupted
    }
}

/// What core functions return.
pub type Result<T, E = Error> = std::result::Result<T, E>;
