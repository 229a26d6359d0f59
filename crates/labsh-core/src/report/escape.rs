//! Escaping for the HTML and XML reports: every string that came from the cluster or the
//! script (pod names, log lines, packet text, titles) goes through [`escape`] before it is
//! written into markup, in text and in attribute values alike.

/// `text` safe inside an element or a quoted attribute: `& < > " '` become entities; control
/// characters other than newline, tab and carriage return (an ANSI escape's ESC) are dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            '\u{7f}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_become_entities_and_control_characters_go() {
        assert_eq!(
            escape("<script>\"'&\u{1b}[31m"),
            "&lt;script&gt;&quot;&#39;&amp;[31m"
        );
        assert_eq!(escape("a\nb\tc"), "a\nb\tc");
    }
}
