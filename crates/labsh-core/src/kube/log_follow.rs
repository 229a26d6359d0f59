//! Pod logs followed in the background (`logs::start`): a [`Follower`] of [`LogLine`]s fed
//! by one log stream per pod of the target ([`logs::follow`]). Stopping it, dropping its last
//! handle or the session's end cancels the streams; a stream that ends because the API
//! server went away ends the follower with that error, not as a normal end.

use std::sync::Arc;

use kube::api::LogParams;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::Ctx;
use crate::follow::{Follower, Keep, Options, Source, Store};
use crate::kube::Conn;
use crate::kube::logs::{self, FollowItem, LogSource};

/// Lines kept by default (the oldest are dropped, and counted, beyond that).
pub const DEFAULT_KEEP: usize = 100_000;

/// A followed line and the pod it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The pod's name.
    pub pod: String,
    /// The text, without its line ending.
    pub line: String,
}

/// How a log follower keeps and shows its lines.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// The most lines kept (the newest).
    pub keep: usize,
    /// Print each line as it arrives (`[pod] line` when the target has several pods).
    pub print: bool,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            keep: DEFAULT_KEEP,
            print: false,
        }
    }
}

/// A target's logs followed in the background. Clones share it.
#[derive(Clone)]
pub struct LogFollow {
    follower: Follower<LogLine>,
    source: Arc<LogSource>,
    prints: bool,
}

impl LogFollow {
    /// Starts following every pod of `source` (`params.follow` is set here). Call it on the
    /// engine thread: it spawns on the context's runtime.
    pub fn start(
        ctx: &Ctx,
        conn: Arc<Conn>,
        source: LogSource,
        params: LogParams,
        options: LogOptions,
    ) -> LogFollow {
        let token = CancellationToken::new();
        let rx = {
            let _entered = ctx.runtime().enter();
            logs::follow(conn, &source, params, token.clone())
        };
        let prefix = source.pods.len() > 1;
        let echo = options.print.then(|| ctx.output().clone());
        let parser = move |line: LogLine| {
            if let Some(out) = &echo {
                if prefix {
                    out.println(&format!("[{}] {}", line.pod, line.line));
                } else {
                    out.println(&line.line);
                }
            }
            Some(line)
        };
        let follower = Follower::spawn(
            ctx,
            PodStreams {
                rx,
                token,
                error: None,
            },
            parser,
            Store::new(Keep::Newest(options.keep)),
            Options {
                name: format!("logs of {}", source.display),
                overflow_note: None,
            },
        );
        LogFollow {
            follower,
            source: Arc::new(source),
            prints: options.print,
        }
    }

    /// The follower (lines, waits, stop).
    pub fn follower(&self) -> &Follower<LogLine> {
        &self.follower
    }

    /// What is followed: the pods, and whether the target was a workload.
    pub fn source(&self) -> &LogSource {
        &self.source
    }

    /// Whether lines are printed as they arrive.
    pub fn prints(&self) -> bool {
        self.prints
    }
}

/// The per-pod streams' channel as a follower's source.
struct PodStreams {
    rx: mpsc::Receiver<FollowItem>,
    token: CancellationToken,
    error: Option<String>,
}

impl Source for PodStreams {
    type Line = LogLine;

    async fn next(&mut self) -> Option<LogLine> {
        match self.rx.recv().await? {
            Ok((pod, line)) => Some(LogLine { pod, line }),
            Err(e) => {
                self.error = Some(e.to_string());
                None
            }
        }
    }

    async fn close(&mut self, _stopped: bool) -> Option<String> {
        self.token.cancel();
        self.rx.close();
        self.error.take()
    }
}
