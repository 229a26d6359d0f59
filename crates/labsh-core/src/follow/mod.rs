//! One follower for every stream of parsed lines — tcpdump's packets, `cilium monitor`'s
//! events, pod logs: a [`Source`] of lines ([`lines`] splits bytes into them), a [`Parse`]
//! turning lines into items, a bounded [`Store`], waits for a count, a condition or a
//! timeout ([`Follower::wait`]), and a stop that leaves nothing running
//! ([`Follower::stop`], the last handle dropped, or the session's end).

pub mod close;
pub mod follower;
pub mod lines;
pub mod parse;
pub mod source;
pub mod store;
#[cfg(test)]
mod tests;
pub mod wait;

pub use close::CloseHook;
pub use follower::{EndReason, Follower, Options};
pub use lines::{LineDecoder, LineSplitter, WholeLines, lines, read_sync};
pub use parse::Parse;
pub use source::{Source, StreamSource};
pub use store::{Keep, Store};
pub use wait::{Idle, Until, WaitError, WaitOutcome, WaitSpec};
