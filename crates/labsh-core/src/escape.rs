//! Control characters from outside shown, not obeyed (issue 23, item 5).
//!
//! A pod that logs `\e]0;PWNED\a\e[2J` would set the window title and clear the screen if
//! labsh printed its line as it came; `\e[1A\e[2K` would erase the line above (a FAIL line
//! can be hidden). Text from outside (logs, captures, monitor lines, exec output, server
//! messages, file contents, script strings, error messages) is shown with its control
//! characters escaped as Rhai shows them in arrays (`\u{1b}`); newlines and tabs stay. The
//! output layer does it for every line unless labsh styled the line itself (see
//! `Output::println_styled`), whose outside parts it escapes with [`control`].

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character except newline and tab written as `\u{…}`.
pub fn control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_escaped(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`control`], but the exact styles labsh paints with ([`STYLE_CODES`]: bold,
/// dim, red, green, yellow, cyan, reset) stay: for script strings built from labsh's own
/// painted text (`report::flow` draws in bold) when colours are on. Such a style can only
/// colour text, never move the cursor, hide text or talk to the terminal.
pub fn control_keeping_styles(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_escaped) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b'
            && let Some(style) = STYLE_CODES
                .iter()
                .map(|code| format!("\x1b[{code}m"))
                .find(|style| rest.starts_with(style.as_str()))
        {
            out.push_str(&style);
            rest = &rest[style.len()..];
            continue;
        }
        if is_escaped(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

/// The SGR codes labsh paints with (`output::Style`: bold, dim, red, green, yellow, cyan)
/// and the reset after them; the output layer's styles are these.
pub const STYLE_CODES: [&str; 7] = ["0", "1", "2", "31", "32", "33", "36"];

/// C0 controls but newline and tab, DEL and the C1 controls (U+009B is a one-character CSI
/// on some terminals).
fn is_escaped(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc_and_csi_sequences_are_shown_escaped() {
        assert_eq!(
            control("\x1b]0;PWNED\x07\x1b[2J\x1b[H"),
            "\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J\\u{1b}[H"
        );
        assert_eq!(
            control("up\x1b[1A\x1b[2K\r"),
            "up\\u{1b}[1A\\u{1b}[2K\\u{d}"
        );
        assert_eq!(
            control("c1 \u{9b}31m del \x7f"),
            "c1 \\u{9b}31m del \\u{7f}"
        );
    }

    #[test]
    fn labsh_styles_stay_and_every_other_sequence_is_escaped() {
        assert_eq!(
            control_keeping_styles("\x1b[1mnode\x1b[0m \x1b[8mhidden\x1b[2J\x1b[32"),
            "\x1b[1mnode\x1b[0m \\u{1b}[8mhidden\\u{1b}[2J\\u{1b}[32"
        );
    }

    #[test]
    fn plain_text_newlines_tabs_and_unicode_pass_unchanged() {
        let text = "GET / 200\n\tcafé → ok";
        assert!(matches!(control(text), Cow::Borrowed(t) if t == text));
    }
}
