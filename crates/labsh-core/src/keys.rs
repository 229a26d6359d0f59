//! Single keys from a terminal: while a [`SingleKeys`] guard lives, stdin's terminal
//! delivers each key as it is pressed (no line editing, no echo), so a `--step` pause takes
//! `s` or `q` without Enter. Ctrl-C still interrupts (signals stay on). The terminal's
//! settings come back when the guard is dropped, however the wait ended.

use std::io::IsTerminal;

/// The terminal of stdin in single-key mode, until dropped.
pub struct SingleKeys {
    saved: libc::termios,
}

impl SingleKeys {
    /// Switches stdin's terminal to single keys; `None` when stdin is not a terminal (a pipe
    /// keeps reading lines) or its settings cannot be changed.
    pub fn enable() -> Option<SingleKeys> {
        if !std::io::stdin().is_terminal() {
            return None;
        }
        // SAFETY: termios is plain data; tcgetattr fills it for fd 0, which is a terminal.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        // SAFETY: fd 0 is open; `saved` is a valid termios to fill.
        if unsafe { libc::tcgetattr(0, &mut saved) } != 0 {
            return None;
        }
        let mut keys = saved;
        keys.c_lflag &= !(libc::ICANON | libc::ECHO);
        keys.c_cc[libc::VMIN] = 1;
        keys.c_cc[libc::VTIME] = 0;
        // SAFETY: fd 0 is a terminal and `keys` a valid termios derived from its own.
        if unsafe { libc::tcsetattr(0, libc::TCSANOW, &keys) } != 0 {
            return None;
        }
        Some(SingleKeys { saved })
    }
}

impl Drop for SingleKeys {
    fn drop(&mut self) {
        // SAFETY: restores the settings read from the same terminal in `enable`.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, &self.saved);
        }
    }
}
