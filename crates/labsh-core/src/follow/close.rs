//! What ends a stream source when its follower stops: killing the `cilium monitor` exec,
//! cancelling a stream's producer. It runs exactly once, whichever comes first of `stop()`,
//! the last handle being dropped, the source ending and the session shutting down.

use tokio_util::sync::CancellationToken;

/// Closes a follower's stream source.
#[derive(Default)]
pub enum CloseHook {
    /// Nothing to close (the stream ends when it is dropped).
    #[default]
    Nothing,
    /// Runs a function (on a runtime worker, from the follower's task).
    Fn(Box<dyn FnOnce() + Send + 'static>),
    /// Cancels a token the source's producer watches.
    Token(CancellationToken),
}

impl CloseHook {
    /// A hook that runs `f`.
    pub fn new(f: impl FnOnce() + Send + 'static) -> Self {
        CloseHook::Fn(Box::new(f))
    }

    /// Runs the hook.
    pub fn run(self) {
        match self {
            CloseHook::Nothing => {}
            CloseHook::Fn(f) => f(),
            CloseHook::Token(t) => t.cancel(),
        }
    }
}

impl From<CancellationToken> for CloseHook {
    fn from(token: CancellationToken) -> Self {
        CloseHook::Token(token)
    }
}

impl From<Box<dyn FnOnce() + Send + 'static>> for CloseHook {
    fn from(f: Box<dyn FnOnce() + Send + 'static>) -> Self {
        CloseHook::Fn(f)
    }
}

impl std::fmt::Debug for CloseHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseHook::Nothing => write!(f, "CloseHook::Nothing"),
            CloseHook::Fn(_) => write!(f, "CloseHook::Fn"),
            CloseHook::Token(_) => write!(f, "CloseHook::Token"),
        }
    }
}
