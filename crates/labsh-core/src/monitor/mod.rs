//! `cilium monitor`: parsing its lines into structured events, and following a stream of
//! them in the background (a [`crate::follow::Follower`] of events). The Kubernetes side
//! (finding the agent pod) lives in `primitives::monitor::lookup`; [`kube_source`] finds the
//! monitor program of an agent pod, [`node_source`] the agent that runs on the node itself
//! (not as a pod) and its program, reached through the node's debug pod; [`pump`] pipes
//! either monitor command into a [`Monitor`], which otherwise takes any source of lines.
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
pub mod node_source;
pub mod parse;
pub mod pump;
pub mod session;

pub use crate::follow::CloseHook;
pub use argv::{MONITOR_ARG_KEYS, MONITOR_TYPES, MonitorArgs};
pub use event::{Event, FieldRef, Kind};
pub use line::{parse, parse_owned};
pub use session::{
    CONNECTING, DEFAULT_CAPACITY, EndReason, EventFilter, HEADERS, Idle, Monitor, MonitorOptions,
    SUBSCRIBED, Until, WaitError, WaitOutcome, WaitSpec, receiver_stream,
};
