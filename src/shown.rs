//! Values a primitive has already shown: a table it printed, a check's `PASS` line, packets
//! it echoed as they arrived. The REPL does not echo such a value again when it is the
//! result of the input, so each thing appears once at the prompt; scripts get the value
//! itself, unchanged (a table stays a string, a check's verdict a bool).
//!
//! The mark is the value's Rhai tag, set to a stamp from a per-session counter. The REPL
//! notes the counter before each input and skips the echo only for a stamp issued during
//! that input: `let t = kube::table("ns");` shows the table once, and `t` typed on the next
//! line shows it again, as asked. A value built from a shown one (`t + ""`, `t.len()`) is a
//! new value without the stamp, and is echoed.

use std::sync::atomic::{AtomicI32, Ordering};

use rhai::Dynamic;

use crate::context::Ctx;

/// The first stamp: far from the small tags a script may set by hand (`x.tag = 1`).
const FIRST: i32 = 0x4C00_0000;

/// The session's stamp counter (a [`Ctx`] extension).
#[derive(Debug)]
pub struct Shown {
    last: AtomicI32,
}

impl Default for Shown {
    fn default() -> Self {
        Shown {
            last: AtomicI32::new(FIRST),
        }
    }
}

/// Where the stamps stood before an input (see [`Shown::since`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark(i32);

impl Shown {
    /// The stamps issued so far: take it before evaluating an input.
    pub fn mark(&self) -> Mark {
        Mark(self.last.load(Ordering::SeqCst))
    }

    /// Whether `value` was shown by a primitive after `mark` (during the input).
    pub fn since(&self, mark: Mark, value: &Dynamic) -> bool {
        let tag = value.tag();
        tag > mark.0 && tag <= self.last.load(Ordering::SeqCst)
    }

    fn stamp(&self) -> i32 {
        // Past i32::MAX (two billion shown values) stamps stop matching: values are then
        // echoed, which repeats them but loses nothing.
        self.last
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_add(1))
            .map_or(i32::MIN, |n| n + 1)
    }
}

/// `value`, marked as already shown by the primitive returning it.
pub fn shown(ctx: &Ctx, mut value: Dynamic) -> Dynamic {
    let stamp = ctx.ext::<Shown>().stamp();
    value.set_tag(stamp);
    value
}

/// `value`, marked as shown when `printed` (a primitive that printed only in some cases:
/// `kube::delete` prints nothing when the object did not exist).
pub fn shown_if(ctx: &Ctx, printed: bool, value: Dynamic) -> Dynamic {
    if printed { shown(ctx, value) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_counts_only_for_the_input_that_issued_it() {
        let shown = Shown::default();
        let before = shown.mark();
        let mut v = Dynamic::from("NAME   STATUS");
        v.set_tag(shown.stamp());
        assert!(shown.since(before, &v));
        let next_input = shown.mark();
        assert!(!shown.since(next_input, &v));
    }

    #[test]
    fn untagged_and_hand_tagged_values_are_not_shown() {
        let shown = Shown::default();
        let before = shown.mark();
        shown.stamp();
        let mut v = Dynamic::from(42_i64);
        assert!(!shown.since(before, &v));
        v.set_tag(7);
        assert!(!shown.since(before, &v));
    }
}
