//! `cilium monitor`: parsing its lines into structured events, and following a stream of
//! them in the background (a [`crate::follow::Follower`] of events). The Kubernetes side
//! (finding the agent pod) lives in `primitives::monitor::lookup`; [`kube_source`] pipes the
//! agent's exec into a [`Monitor`], which otherwise takes any source of lines.
//!
//! - [`parse`]: one line → one [`Event`] (never panics): [`line`] dispatches to the text
//!   parser ([`mod@parse`]) or the JSON one.
//! - [`Monitor`]: a background follower over an mpsc receiver or a stream of lines.
//! - [`MonitorArgs`]: the `cilium-dbg monitor` argument vector from script options.

pub mod argv;
pub mod event;
mod json;
pub mod kube_source;
pub mod line;
pub mod parse;
pub mod session;

pub use crate::follow::CloseHook;
pub use argv::{MONITOR_ARG_KEYS, MONITOR_TYPES, MonitorArgs};
pub use event::{Event, FieldRef, Kind};
pub use line::{parse, parse_owned};
pub use session::{
    DEFAULT_CAPACITY, EndReason, EventFilter, Monitor, MonitorOptions, Until, WaitError,
    WaitOutcome, WaitSpec, receiver_stream,
};
