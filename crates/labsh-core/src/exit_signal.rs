//! The signal behind a `128 + N` exit status, as shells and container runtimes report a
//! process a signal ended (`139` is `SIGSEGV`, `143` is `SIGTERM`). Numbers are Linux's: pods
//! and kind nodes run Linux whatever the host.

const NAMES: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// The signal an exit status `128 + N` stands for (`None` for other statuses).
pub fn signal_of_exit(code: i64) -> Option<&'static str> {
    let n = code.checked_sub(129)?;
    NAMES.get(usize::try_from(n).ok()?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_above_128_name_their_signal() {
        assert_eq!(signal_of_exit(139), Some("SIGSEGV"));
        assert_eq!(signal_of_exit(143), Some("SIGTERM"));
        assert_eq!(signal_of_exit(137), Some("SIGKILL"));
        assert_eq!(signal_of_exit(129), Some("SIGHUP"));
    }

    #[test]
    fn ordinary_statuses_name_none() {
        for code in [0, 1, 2, 126, 127, 128, 160, -1] {
            assert_eq!(signal_of_exit(code), None, "{code}");
        }
    }
}
