//! The checks a lab recorded (`lab::check`, through `checks::record`), in order: the session's
//! [`CheckLog`], read by the summary and the `--report` writers at the end of `labsh run`.

use std::sync::Mutex;

/// One recorded check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`nodes-ready`).
    pub name: String,
    /// The step it was recorded in, if any.
    pub step: Option<String>,
    /// Whether it passed.
    pub passed: bool,
    /// What was seen (`4/4 nodes Ready`), as one line.
    pub evidence: String,
    /// Why it passed or failed, when the script said (`lab::check(name, passed, evidence,
    /// reason)`).
    pub reason: Option<String>,
    /// The evidence, one entry per line (an evidence array's items).
    pub lines: Vec<String>,
}

/// The checks recorded in a session, in order.
#[derive(Debug, Default)]
pub struct CheckLog {
    checks: Mutex<Vec<Check>>,
}

impl CheckLog {
    /// Adds a check.
    pub fn push(&self, check: Check) {
        self.checks.lock().expect("check log").push(check);
    }

    /// A copy of the checks recorded so far.
    pub fn all(&self) -> Vec<Check> {
        self.checks.lock().expect("check log").clone()
    }
}
