//! Turning a source's lines into the items a follower stores. Most parsers are a function
//! of one line ([`Parse`] is implemented for `FnMut(Line) -> Option<Item>`); tcpdump's
//! records span several lines, so a parser may hold a partial item, asking to be flushed
//! after a quiet spell ([`Parse::idle`]) and at the end.

use std::time::Duration;

/// Lines in, items out.
pub trait Parse<L>: Send + 'static {
    /// What the follower stores.
    type Item: Send + Sync + 'static;

    /// Parses one line; pushes the items it completes onto `out`.
    fn line(&mut self, line: L, out: &mut Vec<Self::Item>);

    /// When a partial item waits for more lines: how long a quiet source means it is
    /// complete.
    fn idle(&self) -> Option<Duration> {
        None
    }

    /// Completes the partial item, if any (the source went quiet or ended).
    fn flush(&mut self, out: &mut Vec<Self::Item>) {
        let _ = out;
    }
}

impl<L, T, F> Parse<L> for F
where
    F: FnMut(L) -> Option<T> + Send + 'static,
    T: Send + Sync + 'static,
{
    type Item = T;

    fn line(&mut self, line: L, out: &mut Vec<T>) {
        out.extend(self(line));
    }
}
