//! SIGTERM and SIGHUP in the REPL (issue 23, item 7): each asks labsh to quit, the first time.
//!
//! The Ctrl-C handler treats every signal as "interrupt the evaluation": at an idle prompt
//! there is none, so the first SIGTERM did nothing and the second exited at once with the
//! terminal left in raw mode. Here SIGTERM and SIGHUP get a handler of their own that only
//! writes the signal's number on a pipe (async-signal-safe); a thread reading it asks the
//! REPL to quit. During an evaluation it interrupts it and the REPL quits once it has ended
//! (the normal cleanup); at the prompt, where the line editor blocks on the terminal, the
//! thread puts the terminal back as it was before the REPL, kills what labsh started and
//! exits with 128 + the signal.

use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use labsh_core::Ctx;

/// The pipe's writing end, for the signal handler.
static WRITER: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    let fd = WRITER.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = signal as u8;
        // SAFETY: write(2) of one byte from the stack: async-signal-safe.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// What the REPL loop and the signal thread share.
#[derive(Clone, Default)]
pub struct QuitState {
    /// An input is being evaluated.
    pub evaluating: Arc<AtomicBool>,
    /// The signal that asked to quit (0: none).
    pub signal: Arc<AtomicI32>,
}

impl QuitState {
    /// The exit code to quit with, if a signal asked to.
    pub fn exit_code(&self) -> Option<u8> {
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            s => Some((128 + s) as u8),
        }
    }
}

/// The terminal's settings on stdin, to put back (`None` when stdin is not a terminal).
fn terminal_settings() -> Option<libc::termios> {
    // SAFETY: tcgetattr(3) fills a termios we own.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut t) == 0).then_some(t)
    }
}

/// Installs the handlers; call before the line editor changes the terminal.
pub fn install(ctx: &Ctx) -> QuitState {
    let state = QuitState::default();
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2(2) fills the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return state;
    }
    let (reader, writer) = (fds[0], fds[1]);
    WRITER.store(writer, Ordering::SeqCst);
    let saved = terminal_settings();
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a handler that only calls write(2); SA_RESTART keeps the line editor's
        // reads going (the thread decides what happens).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
    let shared = state.clone();
    let ctx = ctx.clone();
    let _ = std::thread::Builder::new()
        .name("labsh-quit-signals".into())
        .spawn(move || {
            let mut byte = 0u8;
            loop {
                // SAFETY: read(2) of one byte into a local.
                let n = unsafe { libc::read(reader, (&mut byte as *mut u8).cast(), 1) };
                if n == 1 {
                    break;
                }
                if n == 0 {
                    return;
                }
            }
            shared.signal.store(byte as i32, Ordering::SeqCst);
            if shared.evaluating.load(Ordering::SeqCst) {
                // The REPL quits when the evaluation has ended.
                ctx.interrupt();
                return;
            }
            if let Some(t) = saved {
                // SAFETY: tcsetattr(3) with the settings read at the start.
                unsafe {
                    libc::tcsetattr(0, libc::TCSANOW, &t);
                }
            }
            labsh_core::stdio::err("\n");
            labsh_core::process::kill_all();
            std::process::exit(128 + byte as i32);
        });
    state
}
