//! What a capture's source yields: a line of tcpdump's stdout or stderr, or the end (its own
//! file so that every kind of source can produce it without importing the others).

/// A line tcpdump wrote, or the end of its output.
#[derive(Debug)]
pub enum Event {
    /// A line on stdout (a packet, normally).
    Stdout(String),
    /// A line on stderr (headers, errors, statistics).
    Stderr(String),
    /// Both outputs are closed.
    End,
}
