//! A tcpdump capture running in the background while a script goes on: a
//! [`Follower`] of packets.
//!
//! [`Capture::listen`] waits until tcpdump (line-buffered, `-U`) says "listening on" — so a
//! bad filter or an unknown interface fails `start` with tcpdump's own message — then
//! [`Capture::spawn`] hands the process to a follower whose parser joins the lines into
//! records (`-v` and encapsulated packets take several lines) and parses each into a
//! [`Packet`]. The store keeps the first packets within the sandbox limits and counts the
//! rest. Stopping sends SIGINT (tcpdump prints its statistics), then kills it after a grace;
//! the follower stops it too when its last handle goes or the session ends (script error,
//! Ctrl-C, end of run), so no tcpdump is ever left behind.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::parse::{Packet, parse};
use super::record::Records;
use super::source::{Event, Source};
use crate::context::Ctx;
use crate::follow::{self, EndReason, Follower, Keep, Options, Parse, Store, WaitSpec};
use crate::interrupt::Interrupted;
use crate::output::Output;

/// How long tcpdump gets to say "listening on" (or fail) before `start` returns anyway.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long tcpdump gets after SIGINT to flush and print its statistics.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// A record still open this long after its last line is complete: tcpdump writes a packet's
/// lines together, so the quiet means no continuation line is coming.
pub const RECORD_IDLE: Duration = Duration::from_millis(100);
/// Stderr lines kept for messages.
const STDERR_TAIL: usize = 20;

/// tcpdump's closing statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// `N packets captured`.
    pub captured: Option<u64>,
    /// `N packets received by filter`.
    pub received: Option<u64>,
    /// `N packets dropped by kernel`.
    pub dropped: Option<u64>,
}

impl Stats {
    /// Records a statistics line; returns whether it was one.
    pub fn record(&mut self, line: &str) -> bool {
        let line = line.trim();
        let Some((n, rest)) = line.split_once(' ') else {
            return false;
        };
        let Ok(n) = n.parse::<u64>() else {
            return false;
        };
        let slot = match rest
            .trim_start_matches("packets ")
            .trim_start_matches("packet ")
        {
            "captured" => &mut self.captured,
            "received by filter" => &mut self.received,
            "dropped by kernel" => &mut self.dropped,
            _ => return false,
        };
        *slot = Some(n);
        true
    }
}

/// What tcpdump said on stderr: its statistics and its last lines.
#[derive(Debug, Default)]
struct Stderr {
    stats: Stats,
    tail: Vec<String>,
}

/// A running (or finished) capture. Clones share it.
#[derive(Clone)]
pub struct Capture {
    follower: Follower<Packet>,
    stderr: Arc<Mutex<Stderr>>,
    command: String,
    print: bool,
}

/// What [`Capture::spawn`] needs besides the listening tcpdump.
pub struct Launch {
    /// Echo packet lines as they arrive.
    pub print: bool,
    /// The most packets stored (the sandbox array limit); later ones are only counted.
    pub max_packets: usize,
    /// The most line bytes stored (the sandbox string limit); later packets are only counted.
    pub max_bytes: usize,
}

/// tcpdump once it said "listening on" (or [`START_TIMEOUT`] passed).
pub struct Listening {
    source: Source,
    command: String,
    header: Vec<String>,
    early: Vec<String>,
}

impl Capture {
    /// Waits for tcpdump to start listening. tcpdump's early exit (bad filter, unknown
    /// interface, no permission) is an error with its own message. `command` is the command
    /// line, for messages (`tcpdump -n …` or `nsenter … tcpdump …`).
    pub async fn listen(mut source: Source, command: String) -> Result<Listening, String> {
        let mut header = Vec::new();
        let mut early = Vec::new();
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            match tokio::time::timeout_at(deadline, source.next()).await {
                Err(_) => break,
                Ok(Event::Stderr(l)) => {
                    let listening = l.contains("listening on");
                    header.push(l);
                    if listening {
                        break;
                    }
                }
                Ok(Event::Stdout(l)) => early.push(l),
                Ok(Event::End) => {
                    let code = source.exit_code().await;
                    source.kill().await;
                    return Err(failure_message(&command, code, &header));
                }
            }
        }
        Ok(Listening {
            source,
            command,
            header,
            early,
        })
    }

    /// Follows the listening tcpdump in the background.
    pub fn spawn(ctx: &Ctx, listening: Listening, launch: Launch) -> Capture {
        let Listening {
            source,
            command,
            header,
            early,
        } = listening;
        let stderr = Arc::new(Mutex::new(Stderr {
            stats: Stats::default(),
            tail: header,
        }));
        let source = Tcpdump {
            source,
            early: early.into(),
            stderr: stderr.clone(),
            command: command.clone(),
            ended: false,
        };
        let parser = Packets {
            records: Records::default(),
            echo: launch.print.then(|| ctx.output().clone()),
        };
        let store = Store::weighed(
            Keep::First {
                items: launch.max_packets,
                bytes: launch.max_bytes,
            },
            |p: &Packet| p.raw().len(),
        );
        let follower = Follower::spawn(
            ctx,
            source,
            parser,
            store,
            Options {
                name: command.clone(),
                overflow_note: None,
            },
        );
        Capture {
            follower,
            stderr,
            command,
            print: launch.print,
        }
    }

    /// Stops tcpdump (SIGINT, then SIGKILL after [`STOP_GRACE`]) and waits until it is
    /// gone. Not interruptible, and bounded.
    pub fn stop(&self, ctx: &Ctx) -> Option<EndReason> {
        self.follower.stop(
            ctx,
            STOP_GRACE + crate::process::KILL_GRACE + Duration::from_secs(2),
        )
    }

    /// Waits until `count` packets arrived (stored or not), `timeout` passes or tcpdump
    /// exits. Ctrl-C interrupts it (the capture goes on).
    pub fn wait(
        &self,
        ctx: &Ctx,
        count: Option<u64>,
        timeout: Option<Duration>,
    ) -> Result<(), Interrupted> {
        self.follower
            .wait::<Interrupted>(ctx, WaitSpec { count, timeout }, None)
            .map(|_| ())
            .map_err(|_| Interrupted)
    }

    /// The follower behind it (waits with a condition on packets).
    pub fn follower(&self) -> &Follower<Packet> {
        &self.follower
    }

    /// Runs `f` on the stored packets (oldest first).
    pub fn with_packets<T>(&self, f: impl FnOnce(&Store<Packet>) -> T) -> T {
        self.follower.with_store(f)
    }

    /// Packets stored.
    pub fn len(&self) -> usize {
        self.follower.len()
    }

    /// Whether no packet is stored.
    pub fn is_empty(&self) -> bool {
        self.follower.is_empty()
    }

    /// Packets parsed but not stored: the store reached the launch's `max_packets` or
    /// `max_bytes`.
    pub fn not_stored(&self) -> u64 {
        self.follower.dropped()
    }

    /// Whether tcpdump has exited.
    pub fn is_finished(&self) -> bool {
        self.follower.ended().is_some()
    }

    /// tcpdump's failure when it exited on its own with an error (not stopped by us).
    pub fn error(&self) -> Option<String> {
        self.follower.error()
    }

    /// Its closing statistics, once it printed them.
    pub fn stats(&self) -> Stats {
        self.stderr.lock().unwrap_or_else(|e| e.into_inner()).stats
    }

    /// The command line tcpdump runs as.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Whether packet lines are echoed as they arrive (`print: true`).
    pub fn prints(&self) -> bool {
        self.print
    }
}

/// tcpdump as a follower's source: stdout lines are its lines; stderr feeds the statistics
/// and the tail kept for messages.
struct Tcpdump {
    source: Source,
    early: VecDeque<String>,
    stderr: Arc<Mutex<Stderr>>,
    command: String,
    ended: bool,
}

impl follow::Source for Tcpdump {
    type Line = String;

    async fn next(&mut self) -> Option<String> {
        if let Some(l) = self.early.pop_front() {
            return Some(l);
        }
        loop {
            match self.source.next().await {
                Event::Stdout(l) => return Some(l),
                Event::Stderr(l) => {
                    let mut st = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
                    st.stats.record(&l);
                    st.tail.push(l);
                    let excess = st.tail.len().saturating_sub(STDERR_TAIL);
                    st.tail.drain(..excess);
                }
                Event::End => {
                    self.ended = true;
                    return None;
                }
            }
        }
    }

    async fn stop(&mut self) -> Option<Duration> {
        self.source.interrupt().await;
        Some(STOP_GRACE)
    }

    async fn close(&mut self, stopped: bool) -> Option<String> {
        // Ended by itself: its exit status says how; still running after the grace: killed.
        let code = if self.ended {
            self.source.exit_code().await
        } else {
            None
        };
        // Whatever happened, nothing of tcpdump survives its capture.
        self.source.kill().await;
        if stopped || code.is_none_or(|c| c == 0) {
            return None;
        }
        let tail = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        Some(failure_message(&self.command, code, &tail.tail))
    }
}

/// tcpdump's lines joined into records and parsed into packets.
struct Packets {
    records: Records,
    echo: Option<Output>,
}

impl Packets {
    fn add(record: Option<String>, out: &mut Vec<Packet>) {
        if let Some(p) = record.as_deref().and_then(parse) {
            out.push(p);
        }
    }
}

impl Parse<String> for Packets {
    type Item = Packet;

    fn line(&mut self, line: String, out: &mut Vec<Packet>) {
        // tcpdump writes an empty line on SIGINT, before its statistics.
        if line.trim().is_empty() {
            return;
        }
        if let Some(echo) = &self.echo {
            echo.println(&line);
        }
        Self::add(self.records.push(&line), out);
    }

    fn idle(&self) -> Option<Duration> {
        self.records.is_pending().then_some(RECORD_IDLE)
    }

    fn flush(&mut self, out: &mut Vec<Packet>) {
        Self::add(self.records.flush(), out);
    }
}

/// tcpdump's own message when it exits early: its stderr without the banner lines.
pub fn failure_message(command: &str, code: Option<i64>, stderr: &[String]) -> String {
    let msg: Vec<&str> = stderr
        .iter()
        .map(String::as_str)
        .filter(|l| !l.contains("verbose output suppressed") && !l.trim().is_empty())
        .collect();
    let status = code
        .map(|c| format!(" (exit status {c})"))
        .unwrap_or_default();
    if msg.is_empty() {
        format!("`{command}` exited before capturing{status}")
    } else {
        format!("`{command}` failed{status}: {}", msg.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_lines_are_recorded() {
        let mut s = Stats::default();
        assert!(s.record("100000 packets captured"));
        assert!(s.record("100012 packets received by filter"));
        assert!(s.record("0 packets dropped by kernel"));
        assert!(!s.record("listening on lo, link-type EN10MB (Ethernet)"));
        assert!(!s.record("3 packets dropped by interface"));
        assert_eq!(
            s,
            Stats {
                captured: Some(100000),
                received: Some(100012),
                dropped: Some(0)
            }
        );
    }

    #[test]
    fn failure_message_keeps_tcpdumps_words() {
        let msg = failure_message(
            "tcpdump -n -i lo 'tcp prt 80'",
            Some(1),
            &["tcpdump: can't parse filter expression: syntax error".to_string()],
        );
        assert_eq!(
            msg,
            "`tcpdump -n -i lo 'tcp prt 80'` failed (exit status 1): tcpdump: can't parse filter expression: syntax error"
        );
    }
}
