//! Fitting a command's output into its result map. Rhai counts every string of a map against
//! the string limit, so `#{code, signal, stdout, stderr, …}` fits only if stdout and stderr
//! leave room for the map's other strings (the signal's name, a pod's name, an error). The
//! readers keep at most the limit; this cuts what they kept so that the whole map fits
//! (otherwise a command stopped at the limit, `SIGTERM`, fails as "a string grew past the
//! sandbox limit" instead of returning).

/// Cuts `text` to at most `max` bytes at a character boundary; whether it cut.
pub fn fit(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

/// Cuts `stdout`, then `stderr`, so that both fit in `limit` bytes beside `others` bytes of
/// the map's other strings; whether it cut.
pub fn fit_beside(stdout: &mut String, stderr: &mut String, others: usize, limit: usize) -> bool {
    let room = limit.saturating_sub(others);
    let cut_stderr = fit(stderr, room);
    let cut_stdout = fit(stdout, room.saturating_sub(stderr.len()));
    cut_stderr | cut_stdout
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_cut_at_a_character_to_leave_room_for_the_other_strings() {
        let (mut out, mut err) = ("aé".repeat(4), "e".repeat(3));
        assert!(fit_beside(&mut out, &mut err, 7, 15));
        assert_eq!((out.as_str(), err.as_str()), ("aéa", "eee"));
        let (mut out, mut err) = ("abc".to_string(), String::new());
        assert!(!fit_beside(&mut out, &mut err, 7, 10));
        assert_eq!(out, "abc");
        let (mut out, mut err) = ("abc".to_string(), "x".repeat(20));
        assert!(fit_beside(&mut out, &mut err, 7, 10));
        assert_eq!((out.as_str(), err.as_str()), ("", "xxx"));
    }
}
