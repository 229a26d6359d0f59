//! How an error about YAML from a script's string quotes the bad line, so that the
//! diagnostics (`crate::diagnostics`) can point at the script's line; shared by the primitives
//! that parse YAML and the diagnostics that read the quote, without either importing the other.

/// What follows a YAML error's message when the YAML came from a script's string: the bad
/// line, quoted (`\n  7 |     name: a: b`), so that `diagnostics::render` can find it in the script.
pub fn quote_yaml_line(text: &str, line: u64) -> String {
    match text.lines().nth((line as usize).saturating_sub(1)) {
        Some(l) if !l.trim().is_empty() => format!("\n{QUOTE}{line} | {l}"),
        _ => String::new(),
    }
}

/// How [`quote_yaml_line`] starts its line.
pub(crate) const QUOTE: &str = "  yaml line ";
