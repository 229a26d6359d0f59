//! Where tcpdump runs: on this host (a child process, in its own process group) or inside a
//! node container (through a Docker exec that can be signalled by pid). Both give the same
//! line events, can be interrupted (SIGINT: tcpdump prints its statistics and exits) and
//! killed.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStderr, ChildStdout};

use crate::docker::exec::{Chunk, ExecProcess, LineSplitter};
use crate::process::{ProcessError, Running, Spec};

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

/// A running tcpdump.
pub enum Source {
    /// Local tcpdump.
    Host(HostSource),
    /// tcpdump inside a container.
    Node(NodeSource),
}

/// Local tcpdump and its pipes.
pub struct HostSource {
    running: Running,
    stdout: Option<Lines<BufReader<ChildStdout>>>,
    stderr: Option<Lines<BufReader<ChildStderr>>>,
}

/// tcpdump in a container.
pub struct NodeSource {
    process: ExecProcess,
    out: LineSplitter,
    err: LineSplitter,
    queue: VecDeque<Event>,
    done: bool,
}

impl Source {
    /// Starts local tcpdump from `spec`. A missing binary is [`ProcessError::NotFound`] with
    /// the install hint.
    pub fn host(spec: &Spec) -> Result<Source, ProcessError> {
        let mut running = crate::process::spawn(spec)?;
        let stdout = running
            .child
            .stdout
            .take()
            .map(|s| BufReader::new(s).lines());
        let stderr = running
            .child
            .stderr
            .take()
            .map(|s| BufReader::new(s).lines());
        Ok(Source::Host(HostSource {
            running,
            stdout,
            stderr,
        }))
    }

    /// Wraps a started exec.
    pub fn node(process: ExecProcess) -> Source {
        Source::Node(NodeSource {
            process,
            out: LineSplitter::default(),
            err: LineSplitter::default(),
            queue: VecDeque::new(),
            done: false,
        })
    }

    /// The next line; cancel-safe.
    pub async fn next(&mut self) -> Event {
        match self {
            Source::Host(h) => h.next().await,
            Source::Node(n) => n.next().await,
        }
    }

    /// SIGINT: tcpdump flushes, prints its statistics and exits.
    pub async fn interrupt(&mut self) {
        match self {
            Source::Host(h) => h.running.signal(libc::SIGINT),
            Source::Node(n) => {
                let _ = n.process.signal("INT").await;
            }
        }
    }

    /// Ends tcpdump for good.
    pub async fn kill(&mut self) {
        match self {
            Source::Host(h) => h.running.terminate().await,
            Source::Node(n) => {
                n.process.stop("KILL").await;
            }
        }
    }

    /// The exit code once the output ended (`None` if it cannot be known quickly).
    pub async fn exit_code(&mut self) -> Option<i64> {
        let fut = async {
            match self {
                Source::Host(h) => h.running.wait().await.ok().map(i64::from),
                Source::Node(n) => n.process.exit_code().await.ok(),
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

async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut Option<Lines<R>>,
) -> Option<String> {
    match lines {
        Some(l) => l.next_line().await.ok().flatten(),
        None => None,
    }
}

impl NodeSource {
    async fn next(&mut self) -> Event {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return e;
            }
            if self.done {
                return Event::End;
            }
            match self.process.next().await {
                Some(Ok(Chunk::Stdout(b))) => {
                    self.queue
                        .extend(self.out.push(&b).into_iter().map(Event::Stdout));
                }
                Some(Ok(Chunk::Stderr(b))) => {
                    self.queue
                        .extend(self.err.push(&b).into_iter().map(Event::Stderr));
                }
                Some(Err(e)) => {
                    self.queue.push_back(Event::Stderr(e.to_string()));
                    self.done = true;
                }
                None => {
                    self.queue.extend(self.out.finish().map(Event::Stdout));
                    self.queue.extend(self.err.finish().map(Event::Stderr));
                    self.done = true;
                }
            }
        }
    }
}
