//! Where a follower's lines come from. A [`Source`] gives lines until it ends, is told when
//! the follower stops (and may ask for a grace to drain: tcpdump prints its statistics after
//! SIGINT), and is closed exactly once at the end, where it ends whatever it runs and says
//! whether it failed on its own (tcpdump's exit status, a lost API server).
//!
//! [`StreamSource`] adapts any stream of lines with a [`CloseHook`] (the monitor's exec,
//! scripted test sources).

use std::future::Future;
use std::time::Duration;

use futures::{Stream, StreamExt};

use super::close::CloseHook;

/// A source of lines for a [`super::Follower`].
pub trait Source: Send + 'static {
    /// One line (text, or text with where it came from).
    type Line: Send + 'static;

    /// The next line, or `None` once the source has no more. Must be cancel-safe: the
    /// follower drops it to look at its stop signal.
    fn next(&mut self) -> impl Future<Output = Option<Self::Line>> + Send;

    /// The follower was asked to stop (or the session ends). Returns how long to keep
    /// reading before closing (`None`: close now).
    fn stop(&mut self) -> impl Future<Output = Option<Duration>> + Send {
        async { None }
    }

    /// Called once at the end, however the follower ended (`stopped`: it was asked to).
    /// Ends whatever the source runs; returns its own failure, if it failed.
    fn close(&mut self, stopped: bool) -> impl Future<Output = Option<String>> + Send {
        let _ = stopped;
        async { None }
    }
}

/// Any stream of lines, closed by dropping it and running a [`CloseHook`].
pub struct StreamSource<S> {
    stream: Option<S>,
    close: Option<CloseHook>,
}

impl<S> StreamSource<S>
where
    S: Stream + Unpin + Send + 'static,
    S::Item: Send + 'static,
{
    /// A source reading `stream`; `close` runs once when the follower ends.
    pub fn new(stream: S, close: impl Into<CloseHook>) -> Self {
        StreamSource {
            stream: Some(stream),
            close: Some(close.into()),
        }
    }
}

impl<S> Source for StreamSource<S>
where
    S: Stream + Unpin + Send + 'static,
    S::Item: Send + 'static,
{
    type Line = S::Item;

    async fn next(&mut self) -> Option<S::Item> {
        match self.stream.as_mut() {
            Some(s) => s.next().await,
            None => None,
        }
    }

    async fn close(&mut self, _stopped: bool) -> Option<String> {
        // The stream first: a producer sees its channel closed.
        self.stream = None;
        if let Some(hook) = self.close.take() {
            hook.run();
        }
        None
    }
}
