//! A running tcpdump: a child process of this host in its own process group (also for
//! captures in a node's network namespace, where the child is `nsenter … tcpdump`, which execs
//! tcpdump). It gives line events, can be interrupted (SIGINT: tcpdump prints its statistics
//! and exits) and killed.

use std::time::Duration;

use futures::StreamExt;
use tokio::process::{ChildStderr, ChildStdout};
use tokio_util::codec::FramedRead;

use crate::follow::{LineDecoder, lines};

use crate::process::{ProcessError, Running, Spec};

pub use super::source_event::Event;

/// A running tcpdump.
pub enum Source {
    /// tcpdump as a child process.
    Host(Box<HostSource>),
    /// tcpdump in a node's debug pod, its lines streamed back through the exec.
    Pod(super::pod_source::PodSource),
}

/// Local tcpdump and its pipes.
pub struct HostSource {
    running: Running,
    stdout: Option<FramedRead<ChildStdout, LineDecoder>>,
    stderr: Option<FramedRead<ChildStderr, LineDecoder>>,
}

impl Source {
    /// Starts local tcpdump from `spec`. A missing binary is [`ProcessError::NotFound`] with
    /// the install hint.
    pub fn host(spec: &Spec) -> Result<Source, ProcessError> {
        let mut running = crate::process::spawn(spec)?;
        let stdout = running.child.stdout.take().map(lines);
        let stderr = running.child.stderr.take().map(lines);
        Ok(Source::Host(Box::new(HostSource {
            running,
            stdout,
            stderr,
        })))
    }

    /// The next line; cancel-safe.
    pub async fn next(&mut self) -> Event {
        match self {
            Source::Host(h) => h.next().await,
            Source::Pod(p) => p.next().await,
        }
    }

    /// SIGINT: tcpdump flushes, prints its statistics and exits.
    pub async fn interrupt(&mut self) {
        match self {
            Source::Host(h) => h.running.signal(libc::SIGINT),
            Source::Pod(p) => p.interrupt().await,
        }
    }

    /// Ends tcpdump for good.
    pub async fn kill(&mut self) {
        match self {
            Source::Host(h) => h.running.terminate().await,
            Source::Pod(p) => p.kill().await,
        }
    }

    /// The exit code once the output ended (`None` if it cannot be known quickly).
    pub async fn exit_code(&mut self) -> Option<i64> {
        let fut = async {
            match self {
                Source::Host(h) => h.running.wait().await.ok().map(i64::from),
                Source::Pod(p) => p.exit_code().await,
            }
        };
        tokio::time::timeout(Duration::from_secs(3), fut)
            .await
            .ok()
            .flatten()
    }
}

impl HostSource {
    async fn next(&mut self) -> Event {
        loop {
            if self.stdout.is_none() && self.stderr.is_none() {
                return Event::End;
            }
            tokio::select! {
                line = next_line(&mut self.stdout), if self.stdout.is_some() => match line {
                    Some(l) => return Event::Stdout(l),
                    None => self.stdout = None,
                },
                line = next_line(&mut self.stderr), if self.stderr.is_some() => match line {
                    Some(l) => return Event::Stderr(l),
                    None => self.stderr = None,
                },
            }
        }
    }
}

async fn next_line<R: tokio::io::AsyncRead + Unpin>(
    lines: &mut Option<FramedRead<R, LineDecoder>>,
) -> Option<String> {
    match lines {
        Some(l) => l.next().await.and_then(Result::ok),
        None => None,
    }
}
