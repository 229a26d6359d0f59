//! Deciding whether REPL input is complete: by compiling it. Input is incomplete when the
//! parse fails at the very end (an unclosed brace, bracket, parenthesis or backtick string),
//! so Enter continues on a new line instead of reporting an error.

use rhai::{Engine, LexError, ParseErrorType};

/// Whether `text` is the beginning of a longer input rather than a mistake.
pub fn is_incomplete(engine: &Engine, text: &str) -> bool {
    let Err(err) = engine.compile(text) else {
        return false;
    };
    match err.err_type() {
        ParseErrorType::UnexpectedEOF => true,
        ParseErrorType::BadInput(LexError::UnterminatedString) => {
            // A backtick string may span lines; a "…" string may not.
            text.matches('`').count() % 2 == 1
        }
        _ => at_end(text, err.position()),
    }
}

/// Whether `pos` lies past the last non-blank character of `text` (or is unknown).
fn at_end(text: &str, pos: rhai::Position) -> bool {
    let (Some(line), Some(col)) = (pos.line(), pos.position()) else {
        return pos.is_none();
    };
    let trimmed = text.trim_end();
    let last_line = trimmed.lines().count().max(1);
    let last_len = trimmed.lines().last().map_or(0, |l| l.chars().count());
    line > last_line || (line == last_line && col > last_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclosed_blocks_and_lists_are_incomplete() {
        let e = Engine::new_raw();
        assert!(is_incomplete(&e, "fn f(x) {"));
        assert!(is_incomplete(&e, "fn f(x) {\n  let y = x;\n"));
        assert!(is_incomplete(&e, "let a = [1,"));
        assert!(is_incomplete(&e, "print(1,"));
        assert!(is_incomplete(&e, "let s = `two\nlines"));
        assert!(is_incomplete(&e, "if x {"));
    }

    #[test]
    fn complete_input_and_real_mistakes_are_not_incomplete() {
        let e = Engine::new_raw();
        assert!(!is_incomplete(&e, "1 + 2"));
        assert!(!is_incomplete(&e, "fn f(x) { x }"));
        assert!(!is_incomplete(&e, "let = 3;"));
        assert!(!is_incomplete(&e, "let x = (1 + ;"));
        assert!(!is_incomplete(&e, "let s = \"abc"));
    }
}
