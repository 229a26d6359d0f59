//! How much of a long value the prompt shows. A map or array whose rendering is taller than
//! the terminal (a Pod from `kube::get` is several screens) shows its first lines and
//! `… 84 more lines: print(x) to see all`, so the prompt and the start of the value stay on
//! the screen, with no pager. `print` shows everything; scripts are never cut.
//!
//! The height is the terminal's when stdout is one (read at each value: the window may have
//! been resized). When stdout is not a terminal (piped into a program or a file), values are
//! shown in full: nobody reads that output a screen at a time. `LINES` set to a number
//! gives the height instead, for a piped REPL that should cut as a terminal would.

use std::io::IsTerminal;

use rhai::Dynamic;

/// Fewer lines than this are always shown, however small the terminal.
const MIN_SHOWN: usize = 3;

/// The height used when the terminal does not say (a serial console reports 0 rows).
const DEFAULT_ROWS: usize = 24;

/// The rows a value may take at the prompt: `None` for no limit.
pub fn rows() -> Option<usize> {
    if std::io::stdout().is_terminal() {
        return Some(terminal_rows().unwrap_or(DEFAULT_ROWS));
    }
    std::env::var("LINES")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
}

/// The height of the terminal on stdout.
fn terminal_rows() -> Option<usize> {
    // SAFETY: TIOCGWINSZ only writes a `winsize` into the struct we pass; fd 1 stays ours.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_row > 0).then_some(size.ws_row as usize)
}

/// `text` (the rendering of `value`) cut to fit `rows` with the prompt below it: a map or
/// array taller than `rows - 1` lines keeps its first `rows - 2` and a last line saying how
/// many more there are and how to see them. `input` is what was typed, for that hint.
pub fn fit(value: &Dynamic, text: String, rows: Option<usize>, input: &str) -> String {
    let Some(rows) = rows else {
        return text;
    };
    if !(value.is_map() || value.is_array()) {
        return text;
    }
    let total = text.lines().count();
    if total < rows {
        return text;
    }
    let keep = rows.saturating_sub(2).max(MIN_SHOWN);
    if keep >= total {
        return text;
    }
    let mut out: Vec<&str> = text.lines().take(keep).collect();
    let more = format!(
        "… {} more lines: {} to see all",
        total - keep,
        print_hint(input)
    );
    out.push(&more);
    out.join("\n")
}

/// `print(INPUT)` when the input is one short expression, else the general form.
fn print_hint(input: &str) -> String {
    let expr = input.trim().trim_end_matches(';').trim_end();
    let simple = !expr.is_empty()
        && expr.chars().count() <= 60
        && !expr.contains(['\n', ';', '{'])
        && !expr.starts_with("let ")
        && !expr.starts_with("const ");
    if simple {
        format!("print({expr})")
    } else {
        "let x = …; print(x)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn array(n: i64) -> (Dynamic, String) {
        let v: Dynamic = (0..n).map(Dynamic::from).collect::<rhai::Array>().into();
        let text = std::iter::once("[".to_string())
            .chain((0..n).map(|i| format!("    {i},")))
            .chain(std::iter::once("]".to_string()))
            .collect::<Vec<_>>()
            .join("\n");
        (v, text)
    }

    #[test]
    fn a_value_taller_than_the_screen_keeps_its_first_lines_and_says_how_many_more() {
        let (v, text) = array(20); // 22 lines
        assert_eq!(
            fit(&v, text, Some(10), "kube::list(\"pods\")"),
            "[\n    0,\n    1,\n    2,\n    3,\n    4,\n    5,\n    6,\n… 14 more lines: print(kube::list(\"pods\")) to see all"
        );
    }

    #[test]
    fn a_value_that_fits_above_the_prompt_is_shown_whole() {
        let (v, text) = array(7); // 9 lines: fits in 10 rows with the prompt
        assert_eq!(fit(&v, text.clone(), Some(10), "x"), text);
        let (v, text) = array(8); // 10 lines: the prompt would push the first off
        assert!(fit(&v, text, Some(10), "x").ends_with("… 2 more lines: print(x) to see all"));
    }

    #[test]
    fn strings_and_unlimited_output_are_never_cut() {
        let (v, text) = array(50);
        assert_eq!(fit(&v, text.clone(), None, "x"), text);
        let long = (0..50)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            fit(&Dynamic::from(long.clone()), long.clone(), Some(10), "x"),
            long
        );
    }

    #[test]
    fn the_hint_names_a_short_input_and_otherwise_says_how() {
        assert_eq!(print_hint("pods;"), "print(pods)");
        assert_eq!(print_hint("let p = 1; p"), "let x = …; print(x)");
        assert_eq!(print_hint("if true {\n  [1]\n}"), "let x = …; print(x)");
    }
}
