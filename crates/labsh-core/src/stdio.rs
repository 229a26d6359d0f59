//! Writing to labsh's own stdout and stderr without ever panicking (issue 23).
//!
//! `println!` and `eprintln!` panic when the write fails: a closed terminal (EIO), a reader
//! that went away (EPIPE) or a full disk (ENOSPC) then aborted labsh from inside the panic
//! hook, leaving its children running. Every line labsh prints goes through [`out`] or
//! [`err`] instead: the first failure is recorded, later writes to that stream are dropped,
//! and the hook set with [`on_failure`] (the binary interrupts the session) lets the script
//! end through the normal cleanup path, which kills what it started. The command line then
//! reports the failure ([`failure`]) and exits 1.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

/// One of labsh's two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "standard output",
            Stream::Stderr => "standard error",
        }
    }
}

/// The first write to stdout or stderr that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write to {}: {message}", stream.name())]
pub struct OutputFailure {
    /// Which stream.
    pub stream: Stream,
    /// The system's message (`Broken pipe (os error 32)`).
    pub message: String,
}

static FIRST: OnceLock<OutputFailure> = OnceLock::new();
static STDOUT_BROKEN: AtomicBool = AtomicBool::new(false);
static STDERR_BROKEN: AtomicBool = AtomicBool::new(false);
type Hook = Box<dyn Fn() + Send + Sync>;
static HOOK: Mutex<Option<Hook>> = Mutex::new(None);

fn broken(stream: Stream) -> &'static AtomicBool {
    match stream {
        Stream::Stdout => &STDOUT_BROKEN,
        Stream::Stderr => &STDERR_BROKEN,
    }
}

/// Writes `text` to stdout and flushes; a failure is recorded (see the module doc).
pub fn out(text: &str) {
    write(Stream::Stdout, text);
}

/// Writes `text` to stderr; a failure is recorded (see the module doc).
pub fn err(text: &str) {
    write(Stream::Stderr, text);
}

/// `text` and a newline on stdout.
pub fn outln(text: &str) {
    out(&format!("{text}\n"));
}

/// `text` and a newline on stderr.
pub fn errln(text: &str) {
    err(&format!("{text}\n"));
}

/// Writes `text` to `stream` unless it failed before; records the first failure.
pub fn write(stream: Stream, text: &str) {
    let result = match stream {
        Stream::Stdout => write_to(&mut std::io::stdout().lock(), stream, text),
        Stream::Stderr => write_to(&mut std::io::stderr().lock(), stream, text),
    };
    if let Err(e) = result {
        record(stream, &e);
    }
}

fn write_to(w: &mut dyn Write, stream: Stream, text: &str) -> std::io::Result<()> {
    if broken(stream).load(Ordering::Relaxed) {
        return Ok(());
    }
    w.write_all(text.as_bytes())?;
    w.flush()
}

/// Records that writing to `stream` failed with `error` (also for writers outside this
/// module, such as the line editor): the first failure is kept and runs the hook.
pub fn record(stream: Stream, error: &std::io::Error) {
    if broken(stream).swap(true, Ordering::SeqCst) {
        return;
    }
    let first = FIRST
        .set(OutputFailure {
            stream,
            message: error.to_string(),
        })
        .is_ok();
    if first
        && let Ok(hook) = HOOK.lock()
        && let Some(hook) = hook.as_ref()
    {
        hook();
    }
}

/// The first output failure, if any.
pub fn failure() -> Option<OutputFailure> {
    FIRST.get().cloned()
}

/// Whether writing to `stream` failed.
pub fn is_broken(stream: Stream) -> bool {
    broken(stream).load(Ordering::Relaxed)
}

/// Sets what runs at the first output failure (the binary interrupts its session there).
pub fn on_failure(hook: impl Fn() + Send + Sync + 'static) {
    if let Ok(mut slot) = HOOK.lock() {
        *slot = Some(Box::new(hook));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails like a full disk.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_is_an_error_naming_the_stream_and_the_cause() {
        let e = write_to(&mut Full, Stream::Stdout, "x").unwrap_err();
        let failure = OutputFailure {
            stream: Stream::Stdout,
            message: e.to_string(),
        };
        assert_eq!(
            failure.to_string(),
            "cannot write to standard output: No space left on device (os error 28)"
        );
    }
}
