//! A started `cilium monitor`, wherever it runs (an exec in the agent pod, or a process in
//! the node's debug pod): its lines on a channel, the token that stops it, how it failed.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::Ctx;
use crate::monitor::pump::{Failure, MonitorCommand, pump};

/// Lines waiting between the monitor command and the monitor's task.
pub const CHANNEL: usize = 1024;

/// A monitor command started and piped into a channel.
pub struct Feed {
    /// The monitor's lines.
    pub lines: mpsc::Receiver<String>,
    /// Cancelled to stop it.
    pub close: CancellationToken,
    /// How it failed, when it ended by itself with an error.
    pub failure: Failure,
    /// Names it in messages (`cilium monitor on labsh-node (cilium-x7k2p)`).
    pub name: String,
}

impl Feed {
    /// Pipes `command`'s output into a new feed named `name`, in the background; the feed's
    /// `close`, the monitor dropping it, or the session's end stop the command.
    pub fn start(ctx: &Ctx, command: impl MonitorCommand + 'static, name: String) -> Feed {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let feed = Feed {
            lines: rx,
            close: CancellationToken::new(),
            failure: Failure::default(),
            name,
        };
        ctx.spawn_background(pump(
            command,
            tx,
            feed.close.clone(),
            ctx.session_token(),
            feed.failure.clone(),
            ctx.output().clone(),
            feed.name.clone(),
        ));
        feed
    }
}
