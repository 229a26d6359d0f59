//! The guardian: a small process forked from labsh the first time it starts a program, whose
//! only work is to kill what labsh started when labsh dies without cleaning up (SIGKILL, the
//! OOM killer; issue 23).
//!
//! Every program labsh runs sits in a process group of its own (so Ctrl-C and timeouts kill
//! it with its children), which also means nothing kills it when labsh itself dies: tcpdump,
//! `sh` and `sleep` went on under init. `PR_SET_PDEATHSIG` covers one process only (not its
//! children) and follows the *thread* that forked it, so instead each child tells the
//! guardian its group before it executes (a record on a pipe, from `pre_exec`), labsh tells
//! it when the group is gone, and the guardian holds the pipe's only reading end: when labsh
//! dies, the kernel closes the writing end, the guardian reads end-of-file and sends SIGKILL
//! to every group still listed. It ignores the terminal's signals (a closed terminal sends
//! SIGHUP to the whole foreground group) and holds none of labsh's files open.

use std::os::fd::RawFd;
use std::sync::OnceLock;

/// The writing end of the guardian's pipe (`None` when it could not start).
static WRITER: OnceLock<Option<RawFd>> = OnceLock::new();

const ADD: i32 = 1;
const REMOVE: i32 = 2;
/// Groups the guardian tracks at once; more are still killed by labsh's own cleanup.
const CAPACITY: usize = 4096;
/// One record: what (ADD/REMOVE) and the process group id, as two native-endian i32.
const RECORD: usize = 8;

/// The pipe to the guardian, started on first use.
pub fn writer() -> Option<RawFd> {
    *WRITER.get_or_init(start)
}

/// Tells the guardian that group `pgid` exists. Async-signal-safe: called in a forked child
/// before it executes.
pub fn add(fd: RawFd, pgid: i32) {
    send(fd, ADD, pgid);
}

/// Tells the guardian that group `pgid` is gone (killed and reaped by labsh).
pub fn remove(pgid: i32) {
    if let Some(Some(fd)) = WRITER.get() {
        send(*fd, REMOVE, pgid);
    }
}

fn send(fd: RawFd, op: i32, pgid: i32) {
    let mut record = [0u8; RECORD];
    record[..4].copy_from_slice(&op.to_ne_bytes());
    record[4..].copy_from_slice(&pgid.to_ne_bytes());
    // SAFETY: write(2) of a stack buffer; a record is far below PIPE_BUF, so it is atomic
    // among the threads and children writing to the pipe.
    unsafe {
        libc::write(fd, record.as_ptr().cast(), RECORD);
    }
}

fn start() -> Option<RawFd> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    let (rd, wr) = (fds[0], fds[1]);
    // SAFETY: open(2) of a constant C string.
    let devnull = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    // SAFETY: fork(2) in a process that may have threads: the child calls only
    // async-signal-safe functions (see `guard`) and never returns.
    match unsafe { libc::fork() } {
        0 => guard(rd, wr, devnull),
        -1 => {
            close(rd);
            close(wr);
            close(devnull);
            None
        }
        _ => {
            close(rd);
            close(devnull);
            Some(wr)
        }
    }
}

fn close(fd: RawFd) {
    if fd >= 0 {
        // SAFETY: closing a descriptor this function owns.
        unsafe {
            libc::close(fd);
        }
    }
}

/// The guardian's whole life, in the forked child: only async-signal-safe calls, no
/// allocation (labsh's other threads may have held the allocator's lock at the fork).
fn guard(rd: RawFd, wr: RawFd, devnull: RawFd) -> ! {
    // SAFETY: signal dispositions, descriptor juggling, read(2), kill(2) and _exit(2) are all
    // async-signal-safe; the buffers live on this stack.
    unsafe {
        libc::close(wr);
        for signal in [
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGQUIT,
            libc::SIGPIPE,
            libc::SIGTSTP,
            libc::SIGTTIN,
            libc::SIGTTOU,
        ] {
            libc::signal(signal, libc::SIG_IGN);
        }
        // Off the terminal's process group, so a job-control signal to it misses us.
        libc::setpgid(0, 0);
        if devnull >= 0 {
            for fd in 0..3 {
                libc::dup2(devnull, fd);
            }
        }
        libc::dup2(rd, 3);
        if libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) != 0 {
            for fd in 4..65536 {
                libc::close(fd);
            }
        }
        libc::prctl(libc::PR_SET_NAME, c"labsh-guardian".as_ptr());
        let mut live = [0i32; CAPACITY];
        let mut n = 0usize;
        let mut buf = [0u8; RECORD * 64];
        let mut have = 0usize;
        loop {
            let r = libc::read(3, buf[have..].as_mut_ptr().cast(), buf.len() - have);
            if r < 0 {
                if *libc::__errno_location() == libc::EINTR {
                    continue;
                }
                break;
            }
            if r == 0 {
                break;
            }
            have += r as usize;
            let whole = have - have % RECORD;
            let mut at = 0;
            while at < whole {
                let op = i32::from_ne_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
                let pgid = i32::from_ne_bytes([buf[at + 4], buf[at + 5], buf[at + 6], buf[at + 7]]);
                if op == ADD && pgid > 0 && n < CAPACITY {
                    live[n] = pgid;
                    n += 1;
                } else if op == REMOVE
                    && let Some(i) = live[..n].iter().position(|&p| p == pgid)
                {
                    n -= 1;
                    live[i] = live[n];
                }
                at += RECORD;
            }
            buf.copy_within(whole..have, 0);
            have -= whole;
        }
        for &pgid in &live[..n] {
            libc::kill(-pgid, libc::SIGKILL);
            libc::kill(pgid, libc::SIGKILL);
        }
        libc::_exit(0)
    }
}
