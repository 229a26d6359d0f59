//! How many bytes of a command's output labsh keeps (issue 23, item 1): one budget shared by
//! the command's stdout and stderr, taken from as the output arrives, so a command that
//! writes without end (`yes`) costs what the budget allows and no more. When a write does not
//! fit, what fits is kept, the budget is [full](OutputBudget::is_full), and the reader stops
//! the command. `proc::run` (through [`crate::process::run_bounded`]), `node.exec`,
//! `kube::exec` and the kind/helm calls of [`crate::tool`] all read through one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_util::sync::CancellationToken;

/// A byte budget shared by the readers of one command's output. Clones share it.
#[derive(Debug, Clone)]
pub struct OutputBudget {
    left: Arc<AtomicUsize>,
    full: CancellationToken,
}

impl OutputBudget {
    /// A budget of `max` bytes (`usize::MAX`: no bound).
    pub fn new(max: usize) -> Self {
        OutputBudget {
            left: Arc::new(AtomicUsize::new(max)),
            full: CancellationToken::new(),
        }
    }

    /// Takes up to `n` bytes and returns how many were granted; a shortfall makes the
    /// budget full.
    pub fn grant(&self, n: usize) -> usize {
        let granted = self
            .left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                Some(left.saturating_sub(n))
            })
            .map_or(0, |left| left.min(n));
        if granted < n {
            self.full.cancel();
        }
        granted
    }

    /// Appends what the budget grants of `bytes` to `buf`; `false` once it is full.
    pub fn keep(&self, buf: &mut Vec<u8>, bytes: &[u8]) -> bool {
        let granted = self.grant(bytes.len());
        buf.extend_from_slice(&bytes[..granted]);
        granted == bytes.len()
    }

    /// Appends `line` and a newline to `text`, cut at a character boundary to what the
    /// budget grants; `false` once it is full.
    pub fn keep_line(&self, text: &mut String, line: &str) -> bool {
        let want = line.len() + 1;
        let granted = self.grant(want);
        if granted == want {
            text.push_str(line);
            text.push('\n');
            return true;
        }
        let mut cut = granted.min(line.len());
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        text.push_str(&line[..cut]);
        false
    }

    /// Whether some output did not fit.
    pub fn is_full(&self) -> bool {
        self.full.is_cancelled()
    }

    /// Completes when some output did not fit (for a `select!` beside the command's end).
    pub async fn filled(&self) {
        self.full.cancelled().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_streams_share_the_budget_and_the_shortfall_is_cut() {
        let b = OutputBudget::new(10);
        let (mut out, mut err) = (Vec::new(), String::new());
        assert!(b.keep(&mut out, b"abcd"));
        assert!(b.keep_line(&mut err, "efg"));
        assert!(!b.is_full());
        assert!(!b.keep(&mut out, b"hijk"));
        assert!(b.is_full());
        assert_eq!(out, b"abcdhi");
        assert_eq!(err, "efg\n");
        assert!(!b.keep(&mut out, b"x"));
        assert_eq!(out, b"abcdhi");
    }

    #[test]
    fn a_cut_line_ends_at_a_character_boundary() {
        let b = OutputBudget::new(3);
        let mut text = String::new();
        assert!(!b.keep_line(&mut text, "aé€"));
        assert_eq!(text, "aé");
    }
}
