//! A tcpdump capture running in the background while a script goes on.
//!
//! [`Capture::start`] launches tcpdump (line-buffered, `-U`), waits until it says
//! "listening on" — so a bad filter or an unknown interface fails `start` with tcpdump's own
//! message — then hands the process to a background task that joins the lines into records
//! (`-v` and encapsulated packets take several lines) and parses each into a [`Packet`]
//! (stored compactly; maps are built on demand). The task ends tcpdump when
//! [`Capture::stop`] is called or the session ends (script error, Ctrl-C, end of run), so no
//! tcpdump is ever left behind.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::parse::{Packet, parse};
use super::record::Records;
use super::source::{Event, Source};
use crate::output::Output;

/// How long tcpdump gets to say "listening on" (or fail) before `start` returns anyway.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long tcpdump gets after SIGINT to flush and print its statistics.
pub const STOP_GRACE: Duration = Duration::from_secs(3);
/// A record still open this long after its last line is complete: tcpdump writes a packet's
/// lines together, so the quiet means no continuation line is coming.
pub const RECORD_IDLE: Duration = Duration::from_millis(100);

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

/// The capture's state, shared between the script and the background task.
#[derive(Debug, Default)]
pub struct State {
    /// Packets parsed so far.
    pub packets: Vec<Packet>,
    /// Packets parsed but not stored: `packets` reached the launch's `max_packets` or
    /// `max_bytes`.
    pub not_stored: u64,
    /// Bytes of the stored packets' lines.
    pub stored_bytes: usize,
    /// The background task is over (tcpdump exited).
    pub finished: bool,
    /// tcpdump failed on its own (not stopped by us): its message.
    pub error: Option<String>,
    /// Closing statistics, once tcpdump printed them.
    pub stats: Stats,
    /// Its last stderr lines, for messages.
    pub stderr_tail: Vec<String>,
    /// The record being assembled.
    records: Records,
}

struct Inner {
    state: Mutex<State>,
    progress: watch::Sender<u64>,
    stop: CancellationToken,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    command: String,
    print: bool,
    max_packets: usize,
    max_bytes: usize,
}

/// A running (or finished) capture. Clones share it.
#[derive(Clone)]
pub struct Capture(Arc<Inner>);

/// What [`Capture::start`] needs besides the running tcpdump.
pub struct Launch {
    /// The command line, for messages (`tcpdump -n …` or `docker exec node tcpdump …`).
    pub command: String,
    /// Echo packet lines as they arrive.
    pub print: bool,
    /// Where echoes go.
    pub output: Output,
    /// Cancelled when the session ends: the capture then stops.
    pub session: CancellationToken,
    /// The most packets stored (the sandbox array limit); later ones are only counted.
    pub max_packets: usize,
    /// The most line bytes stored (the sandbox string limit); later packets are only counted.
    pub max_bytes: usize,
}

impl Capture {
    /// Waits for tcpdump to start listening, then returns the capture and the background
    /// future that feeds it (spawn it with `ctx.spawn_background`). tcpdump's early exit
    /// (bad filter, unknown interface, no permission) is an error with its own message.
    pub async fn start(
        mut source: Source,
        launch: Launch,
    ) -> Result<(Capture, impl Future<Output = ()> + Send + 'static), String> {
        let mut header = Vec::new();
        let mut early_lines = Vec::new();
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
                Ok(Event::Stdout(l)) => early_lines.push(l),
                Ok(Event::End) => {
                    let code = source.exit_code().await;
                    return Err(failure_message(&launch.command, code, &header));
                }
            }
        }
        let (progress, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                stderr_tail: header,
                ..State::default()
            }),
            progress,
            stop: launch.session.child_token(),
            task: Mutex::new(None),
            command: launch.command.clone(),
            print: launch.print,
            max_packets: launch.max_packets,
            max_bytes: launch.max_bytes,
        });
        let capture = Capture(inner);
        for l in early_lines {
            capture.on_stdout(&l, launch.print.then_some(&launch.output));
        }
        let task = capture.clone().feed(source, launch);
        Ok((capture, task))
    }

    /// Keeps the background task's handle so [`Capture::finish`] can wait for it.
    pub fn set_task(&self, task: tokio::task::JoinHandle<()>) {
        *self.0.task.lock().expect("capture lock") = Some(task);
    }

    fn on_stdout(&self, line: &str, echo: Option<&Output>) {
        // tcpdump writes an empty line on SIGINT, before its statistics.
        if line.trim().is_empty() {
            return;
        }
        if let Some(out) = echo {
            out.println(line);
        }
        let done = self
            .0
            .state
            .lock()
            .expect("capture lock")
            .records
            .push(line);
        if let Some(record) = done {
            self.add_record(&record);
        }
    }

    /// Parses the open record, if any (the output went quiet or ended).
    fn flush_record(&self) {
        let done = self.0.state.lock().expect("capture lock").records.flush();
        if let Some(record) = done {
            self.add_record(&record);
        }
    }

    fn record_pending(&self) -> bool {
        self.0
            .state
            .lock()
            .expect("capture lock")
            .records
            .is_pending()
    }

    fn add_record(&self, record: &str) {
        if let Some(p) = parse(record) {
            let n = {
                let mut st = self.0.state.lock().expect("capture lock");
                let fits = st.packets.len() < self.0.max_packets
                    && st.stored_bytes + record.len() <= self.0.max_bytes;
                if fits {
                    st.stored_bytes += record.len();
                    st.packets.push(p);
                } else {
                    st.not_stored += 1;
                }
                st.packets.len() as u64 + st.not_stored
            };
            self.0.progress.send_replace(n);
        }
    }

    async fn feed(self, mut source: Source, launch: Launch) {
        let echo = launch.print.then_some(launch.output.clone());
        let mut stopping = false;
        let mut deadline = None;
        let mut killed = false;
        loop {
            let idle = self
                .record_pending()
                .then(|| tokio::time::Instant::now() + RECORD_IDLE);
            tokio::select! {
                biased;
                _ = self.0.stop.cancelled(), if !stopping => {
                    stopping = true;
                    source.interrupt().await;
                    deadline = Some(tokio::time::Instant::now() + STOP_GRACE);
                }
                _ = crate::docker::exec::sleep_until(deadline) => {
                    source.kill().await;
                    killed = true;
                    break;
                }
                _ = crate::docker::exec::sleep_until(idle) => self.flush_record(),
                ev = source.next() => match ev {
                    Event::Stdout(l) => self.on_stdout(&l, echo.as_ref()),
                    Event::Stderr(l) => {
                        let mut st = self.0.state.lock().expect("capture lock");
                        st.stats.record(&l);
                        st.stderr_tail.push(l);
                        let excess = st.stderr_tail.len().saturating_sub(20);
                        st.stderr_tail.drain(..excess);
                    }
                    Event::End => break,
                },
            }
        }
        let code = if killed {
            None
        } else {
            source.exit_code().await
        };
        if !killed {
            // Whatever happened, nothing of tcpdump survives its capture.
            source.kill().await;
        }
        self.flush_record();
        let mut st = self.0.state.lock().expect("capture lock");
        if !stopping && code.is_some_and(|c| c != 0) {
            st.error = Some(failure_message(&self.0.command, code, &st.stderr_tail));
        }
        st.finished = true;
        drop(st);
        self.0.progress.send_modify(|n| *n += 0);
    }

    /// Asks the background task to stop tcpdump (SIGINT, then SIGKILL after a grace).
    pub fn request_stop(&self) {
        self.0.stop.cancel();
    }

    /// Waits until the background task is over (after [`Capture::request_stop`] or tcpdump's
    /// own exit).
    pub async fn finish(&self) {
        let task = self.0.task.lock().expect("capture lock").take();
        match task {
            Some(t) => {
                let _ = t.await;
            }
            None => {
                let mut rx = self.0.progress.subscribe();
                while !self.is_finished() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            }
        }
    }

    /// Waits until `count` packets arrived or the capture ended (no deadline: wrap it).
    pub async fn wait_for(&self, count: usize) {
        let mut rx = self.0.progress.subscribe();
        loop {
            {
                let st = self.0.state.lock().expect("capture lock");
                if st.packets.len() + st.not_stored as usize >= count || st.finished {
                    return;
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Whether tcpdump has exited.
    pub fn is_finished(&self) -> bool {
        self.0.state.lock().expect("capture lock").finished
    }

    /// Runs `f` on the state (the packets so far, the statistics, the error).
    pub fn with_state<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.0.state.lock().expect("capture lock"))
    }

    /// The command line tcpdump runs as.
    pub fn command(&self) -> &str {
        &self.0.command
    }

    /// Whether packet lines are echoed as they arrive (`print: true`).
    pub fn prints(&self) -> bool {
        self.0.print
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
