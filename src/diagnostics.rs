//! Script errors as people read them: `file:line:col`, the source line with a caret, the
//! message, and for errors inside stdlib or imported functions the chain of calls back to the
//! user's line. No Rust backtraces, no debug dumps of `EvalAltResult`.

use std::fmt;

use rhai::{EvalAltResult, ParseError, Position};

/// One place in a source file, with the line's text when it could be read.
#[derive(Debug, Clone)]
pub struct Location {
    /// Source name (a path, or `stdlib/lab.rhai`, or `<repl>`).
    pub source: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// The text of that line.
    pub text: Option<String>,
}

/// A rendered error.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The error message.
    pub message: String,
    /// Where it happened.
    pub location: Option<Location>,
    /// The calls that led there, innermost first (`in call to lab::check at file:3:5`).
    pub calls: Vec<(String, Location)>,
}

impl Diagnostic {
    /// A message with no location.
    pub fn plain(message: String) -> Self {
        Diagnostic {
            message,
            location: None,
            calls: Vec::new(),
        }
    }
}

fn source_text(source: &str, main_name: &str, main_text: &str) -> Option<String> {
    if source == main_name {
        return Some(main_text.to_string());
    }
    if let Some(text) = crate::stdlib::embedded_source(source) {
        return Some(text.to_string());
    }
    std::fs::read_to_string(source).ok()
}

fn locate(source: &str, pos: Position, main_name: &str, main_text: &str) -> Option<Location> {
    let line = pos.line()?;
    let text = source_text(source, main_name, main_text)
        .and_then(|t| t.lines().nth(line - 1).map(str::to_string));
    Some(Location {
        source: source.to_string(),
        line,
        column: pos.position().unwrap_or(0),
        text,
    })
}

/// A parse error in `source_name`.
pub fn from_parse(err: ParseError, source_name: &str, text: &str) -> Diagnostic {
    let pos = err.position();
    Diagnostic {
        message: err.err_type().to_string(),
        location: locate(source_name, pos, source_name, text),
        calls: Vec::new(),
    }
}

/// A runtime (or wrapped parse) error raised while running `main_name`.
pub fn render(err: &EvalAltResult, main_name: &str, main_text: &str) -> Diagnostic {
    let mut calls = Vec::new();
    let mut current_source = main_name.to_string();
    let mut err = err;
    loop {
        match err {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                if let Some(loc) = locate(&current_source, *pos, main_name, main_text) {
                    calls.push((format!("in call to `{name}`"), loc));
                }
                if !src.is_empty() {
                    current_source = src.clone();
                }
                err = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                if let Some(loc) = locate(&current_source, *pos, main_name, main_text) {
                    calls.push((format!("in module `{name}` imported"), loc));
                }
                current_source = name.clone();
                err = inner;
            }
            other => {
                let message = match other {
                    EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
                    EvalAltResult::ErrorParsing(t, _) => t.to_string(),
                    e => strip_position(&e.to_string()),
                };
                calls.reverse();
                return Diagnostic {
                    message,
                    location: locate(&current_source, other.position(), main_name, main_text),
                    calls,
                };
            }
        }
    }
}

/// Rhai's `Display` appends ` (line N, position M)`; the snippet shows that already.
fn strip_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(i) if message.ends_with(')') => message[..i].to_string(),
        _ => message.to_string(),
    }
}

fn write_snippet(f: &mut fmt::Formatter<'_>, loc: &Location) -> fmt::Result {
    writeln!(f, "  --> {}:{}:{}", loc.source, loc.line, loc.column)?;
    if let Some(text) = &loc.text {
        let gutter = loc.line.to_string().len();
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", loc.line, text)?;
        if loc.column > 0 {
            writeln!(f, "{:gutter$} | {}^", "", " ".repeat(loc.column - 1))?;
        }
    }
    Ok(())
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if let Some(loc) = &self.location {
            write_snippet(f, loc)?;
        }
        for (what, loc) in self.calls.iter().rev() {
            writeln!(f, "note: {what}")?;
            write_snippet(f, loc)?;
        }
        Ok(())
    }
}
