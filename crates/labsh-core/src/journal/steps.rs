//! The session's step state: how many steps were entered, whether `--from ID` was reached,
//! and the step running now (so checks can name it). `steps::enter` (`primitives::steps`)
//! keeps it; the checks and the end of `labsh run` read it.

use std::sync::Mutex;

/// The session's step state.
#[derive(Debug, Default)]
pub struct StepState {
    pub inner: Mutex<Inner>,
}

/// The counters `steps::enter` keeps (`primitives::steps`).
#[derive(Debug, Default)]
pub struct Inner {
    pub count: usize,
    pub from_reached: bool,
    pub current: Option<String>,
}

impl StepState {
    /// The id of the step running now.
    pub fn current(&self) -> Option<String> {
        self.inner.lock().expect("step state").current.clone()
    }

    /// Whether `--from ID` named a step that was reached.
    pub fn from_reached(&self) -> bool {
        self.inner.lock().expect("step state").from_reached
    }
}
