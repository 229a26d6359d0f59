//! Script errors as people read them: `file:line:col`, the source line with a caret, the
//! message, and for errors inside stdlib or imported functions the chain of calls back to the
//! user's line. No Rust backtraces, no debug dumps of `EvalAltResult`.

use std::fmt;

use rhai::{EvalAltResult, ParseError, Position};

/// One place in a source file, with the line's text when it could be read.
#[derive(Debug, Clone)]
pub struct Location {
    /// Source name (a path, `stdlib/lab.rhai`, or a REPL input such as `<stdin 2>`).
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
    /// Where it happened (boxed: `ScriptError`, which carries a diagnostic, stays small).
    pub location: Option<Box<Location>>,
    /// The calls that led there, innermost first: what was called ("in `check`, called
    /// from") and where.
    pub calls: Vec<(String, Location)>,
    /// What to type instead (`did you mean `lab::check`?`, the signatures that exist), one
    /// `help:` line each; lines after a help's first are indented under it.
    pub help: Vec<String>,
}

impl Diagnostic {
    /// A message with no location.
    pub fn plain(message: String) -> Self {
        Diagnostic {
            message,
            location: None,
            calls: Vec::new(),
            help: Vec::new(),
        }
    }

    /// `message` at `pos` in the source `source_name` whose text is `text`.
    pub fn at(message: String, source_name: &str, text: &str, pos: Position) -> Self {
        Diagnostic {
            message,
            location: Sources::new(source_name, text)
                .locate(source_name, pos)
                .map(Box::new),
            calls: Vec::new(),
            help: Vec::new(),
        }
    }

    /// The same diagnostic with one more `help:` line (nothing when `help` is `None`).
    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help.extend(help);
        self
    }
}

/// Where the sources named in an error can be found: the main script's text, the embedded
/// stdlib, and the folders imports resolve against (`--stdlib DIR`, `script_dir/stdlib`,
/// `script_dir`), in the resolver's order.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The name the main script was compiled under.
    pub main_name: String,
    /// The main script's text.
    pub main_text: String,
    /// Folders where `import "x"` looks for `x.rhai`.
    pub dirs: Vec<std::path::PathBuf>,
    /// Where the script's own functions and closures (`anon$…`) were defined (source names):
    /// Rhai reports the caller's source for them.
    pub fn_sources: std::collections::HashMap<String, String>,
    /// Texts of other in-memory sources (earlier REPL inputs).
    pub texts: std::collections::HashMap<String, String>,
    /// The sandbox limits in force, for "too large" errors.
    pub limits: crate::limits::Limits,
    /// `--verbose`: keep the stdlib's own frames in the trace (see [`hide_stdlib`]).
    pub verbose: bool,
    /// Where a call that matches no function finds the signatures that exist and the names
    /// to suggest (see [`crate::call_errors`]); without it, Rhai's message is shown.
    pub call_help: Option<(
        crate::call_errors::SignatureLookup,
        crate::call_errors::NameList,
    )>,
}

impl Sources {
    /// Sources for a script named `main_name` with `main_text`.
    pub fn new(main_name: &str, main_text: &str) -> Self {
        Sources {
            main_name: main_name.to_string(),
            main_text: main_text.to_string(),
            ..Sources::default()
        }
    }

    /// The displayed name and the text of source `source`.
    fn find(&self, source: &str) -> (String, Option<String>) {
        if source == self.main_name {
            return (source.to_string(), Some(self.main_text.clone()));
        }
        if let Some(text) = self.texts.get(source) {
            return (source.to_string(), Some(text.clone()));
        }
        if let Some(text) = crate::stdlib::embedded_source(source) {
            return (source.to_string(), Some(text.to_string()));
        }
        let direct = std::path::PathBuf::from(source);
        let candidates = std::iter::once(direct.clone())
            .chain(self.dirs.iter().map(|d| d.join(source)))
            .chain(self.dirs.iter().map(|d| d.join(format!("{source}.rhai"))));
        for path in candidates {
            if path.is_file()
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                return (display_path(&path), Some(text));
            }
        }
        if let Some(name) = crate::stdlib::embedded_name(source)
            && let Some(text) = crate::stdlib::embedded_source(name)
        {
            return (name.to_string(), Some(text.to_string()));
        }
        (source.to_string(), None)
    }

    fn locate(&self, source: &str, pos: Position) -> Option<Location> {
        let line = pos.line()?;
        let (name, text) = self.find(source);
        let text = text.and_then(|t| t.lines().nth(line - 1).map(str::to_string));
        Some(Location {
            source: name,
            line,
            column: pos.position().unwrap_or(0),
            text,
        })
    }
}

/// `module `x` not found (looked for x.rhai in DIRS; the embedded stdlib has …)`.
pub fn module_not_found(name: &str, dirs: &[std::path::PathBuf]) -> String {
    let dirs: Vec<String> = dirs
        .iter()
        .map(|d| display_path(d))
        .map(|d| if d.is_empty() { ".".to_string() } else { d })
        .collect();
    let embedded = crate::stdlib::module_names();
    format!(
        "module `{name}` not found (looked for {name}.rhai in {}; the embedded stdlib has {})",
        dirs.join(", "),
        embedded.join(", ")
    )
}

/// A path relative to the current directory when it is below it.
pub fn display_path(path: &std::path::Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

/// A parse error in `source_name`.
pub fn from_parse(err: ParseError, source_name: &str, text: &str) -> Diagnostic {
    let pos = err.position();
    let message = match err.err_type() {
        rhai::ParseErrorType::ExprTooDeep => format!(
            "expression nested too deeply (the limit is {} levels)",
            crate::limits::MAX_EXPR_DEPTH
        ),
        rhai::ParseErrorType::LiteralTooLarge(what, max) => {
            let (thing, flag) = if what.contains("string") {
                ("a string literal", crate::limits::STRING_FLAG)
            } else if what.contains("map") {
                ("a map literal", crate::limits::MAP_FLAG)
            } else {
                ("an array literal", crate::limits::ARRAY_FLAG)
            };
            format!(
                "{thing} is larger than the sandbox limit of {}; raise it with {flag} N",
                crate::limits::group(*max)
            )
        }
        rhai::ParseErrorType::TooManyFunctions => format!(
            "too many functions defined: the sandbox limit is {}",
            crate::limits::group(crate::limits::MAX_FUNCTIONS)
        ),
        other => other.to_string(),
    };
    Diagnostic {
        message,
        location: Sources::new(source_name, text)
            .locate(source_name, pos)
            .map(Box::new),
        calls: Vec::new(),
        help: Vec::new(),
    }
}

/// What a called function is called in notes.
fn describe_call(name: &str) -> String {
    if name.starts_with("anon$") {
        "in a closure, called from".to_string()
    } else {
        format!("in `{name}`, called from")
    }
}

/// The message of an innermost error, in words a script author acts on.
fn message_of(err: &EvalAltResult, sources: &Sources, location: Option<&Location>) -> String {
    match err {
        // `kube::get(…)` where nothing is imported or registered as `kube`.
        EvalAltResult::ErrorModuleNotFound(name, _)
            if !location
                .and_then(|l| l.text.as_deref())
                .is_some_and(|t| t.contains("import")) =>
        {
            format!("unknown module `{name}`: import it first (`import \"…\" as {name};`)")
        }
        EvalAltResult::ErrorModuleNotFound(name, _) => module_not_found(name, &sources.dirs),
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        EvalAltResult::ErrorParsing(t, _) => t.to_string(),
        EvalAltResult::ErrorDataTooLarge(what, _) => sources.limits.too_large(what),
        EvalAltResult::ErrorTooManyVariables(_) => format!(
            "too many variables in scope: the sandbox limit is {}",
            crate::limits::group(crate::limits::MAX_VARIABLES)
        ),
        EvalAltResult::ErrorStackOverflow(_) => format!(
            "too many nested function calls: the limit is {} levels (a runaway recursion?)",
            crate::limits::MAX_CALL_LEVELS
        ),
        e => strip_position(&e.to_string()),
    }
}

/// A runtime (or wrapped parse) error raised while running the main script of `sources`.
pub fn render(err: &EvalAltResult, sources: &Sources) -> Diagnostic {
    let mut calls = Vec::new();
    let mut current_source = sources.main_name.clone();
    let mut err = err;
    loop {
        match err {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                if let Some(loc) = sources.locate(&current_source, *pos) {
                    calls.push((describe_call(name), loc));
                }
                let defined_in = sources.fn_sources.get(name.as_str());
                let from_module = !src.is_empty() && *src != sources.main_name;
                current_source = match defined_in {
                    Some(d) if name.starts_with("anon$") || !from_module => d.clone(),
                    _ if !src.is_empty() => src.clone(),
                    _ => current_source,
                };
                err = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                if let Some(loc) = sources.locate(&current_source, *pos) {
                    calls.push((format!("in module `{name}`, imported from"), loc));
                }
                current_source = name.clone();
                err = inner;
            }
            other => {
                calls.reverse();
                let location = sources.locate(&current_source, other.position());
                let mut message = message_of(other, sources, location.as_ref());
                let mut help = Vec::new();
                if let (EvalAltResult::ErrorFunctionNotFound(signature, _), Some((lookup, names))) =
                    (other, sources.call_help)
                {
                    let method = location.as_ref().is_some_and(called_as_method);
                    (message, help) = crate::call_errors::explain(signature, method, lookup, names);
                }
                let (message, location, calls) = yaml_in_script(message, location, calls, sources);
                let (location, calls) = if sources.verbose {
                    (location, calls)
                } else {
                    hide_stdlib(location, calls)
                };
                return Diagnostic {
                    message,
                    location: location.map(Box::new),
                    calls,
                    help,
                };
            }
        }
    }
}

/// A YAML error in a script's string, pointed at the script's line: when the message quotes
/// the bad line ([`crate::yaml_quote::quote_yaml_line`]) and that line appears once in the source of the call,
/// the error is shown there (at the YAML column) and the call becomes a note. Otherwise the
/// message keeps the quoted line.
fn yaml_in_script(
    message: String,
    location: Option<Location>,
    mut calls: Vec<(String, Location)>,
    sources: &Sources,
) -> (String, Option<Location>, Vec<(String, Location)>) {
    let Some((head, quoted)) = message.rsplit_once(&format!("\n{}", crate::yaml_quote::QUOTE))
    else {
        return (message, location, calls);
    };
    let Some((_, text)) = quoted.split_once(" | ") else {
        return (message, location, calls);
    };
    let column = head
        .split_once("<yaml string>:")
        .and_then(|(_, rest)| rest.split(':').nth(1))
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let Some(call) = location else {
        return (message, None, calls);
    };
    let (_, source_text) = sources.find(&call.source);
    let matches: Vec<usize> = source_text
        .as_deref()
        .unwrap_or_default()
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == text)
        .map(|(i, _)| i + 1)
        .collect();
    let [line] = matches[..] else {
        return (message, Some(call), calls);
    };
    let at = Location {
        source: call.source.clone(),
        line,
        column,
        text: Some(text.to_string()),
    };
    calls.insert(0, ("in the YAML given to the call at".to_string(), call));
    // The script's line replaces the string's own (`<yaml string>:4:17: `).
    let head = match head.strip_prefix("<yaml string>:") {
        Some(rest) => rest.splitn(3, ':').nth(2).unwrap_or(rest).trim_start(),
        None => head,
    };
    (head.to_string(), Some(at), calls)
}

/// Whether `loc` is in the stdlib (embedded, or an on-disk `stdlib/` override).
fn in_stdlib(loc: &Location) -> bool {
    loc.source.starts_with("stdlib/")
        || loc.source.contains("/stdlib/")
        || crate::stdlib::embedded_source(&loc.source).is_some()
}

/// The trace without the stdlib's insides: an error raised inside a stdlib function is
/// shown at the script's line that called it, and the stdlib's own frames are left out
/// (`--verbose` keeps them). A trace with no frame outside the stdlib stays as it is.
fn hide_stdlib(
    location: Option<Location>,
    calls: Vec<(String, Location)>,
) -> (Option<Location>, Vec<(String, Location)>) {
    if !calls.iter().any(|(_, l)| !in_stdlib(l)) {
        return (location, calls);
    }
    let mut calls: Vec<(String, Location)> =
        calls.into_iter().filter(|(_, l)| !in_stdlib(l)).collect();
    match location {
        Some(l) if in_stdlib(&l) => {
            let (_, user) = calls.remove(0);
            (Some(user), calls)
        }
        other => (other, calls),
    }
}

/// Whether the call at `loc` is written `value.name(…)`: a `.` right before the name.
fn called_as_method(loc: &Location) -> bool {
    loc.column >= 2
        && loc
            .text
            .as_deref()
            .and_then(|t| t.chars().nth(loc.column - 2))
            == Some('.')
}

/// Rhai's `Display` appends ` (line N, position M)`; the snippet shows that already.
fn strip_position(message: &str) -> String {
    match message.rfind(" (line ") {
        Some(i) if message.ends_with(')') => message[..i].to_string(),
        _ => message.to_string(),
    }
}

fn write_snippet(f: &mut fmt::Formatter<'_>, loc: &Location, arrow: bool) -> fmt::Result {
    if arrow {
        writeln!(f, "  --> {}:{}:{}", loc.source, loc.line, loc.column)?;
    }
    if let Some(text) = &loc.text {
        let gutter = loc.line.to_string().len();
        let (shown, column) = window(text, loc.column);
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", loc.line, shown)?;
        if column > 0 {
            writeln!(f, "{:gutter$} | {}^", "", " ".repeat(column - 1))?;
        }
    }
    Ok(())
}

/// The most characters of a source line a snippet shows.
const SNIPPET_WIDTH: usize = 120;

/// `text` cut to [`SNIPPET_WIDTH`] characters around `column` (1-based, 0: unknown), with
/// `…` where it was cut, and the caret's column in what is shown (issue 23: a 200 KB line
/// was printed whole).
fn window(text: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= SNIPPET_WIDTH {
        return (text.to_string(), column);
    }
    let at = column.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(SNIPPET_WIDTH / 2);
    let end = (start + SNIPPET_WIDTH).min(chars.len());
    let start = end.saturating_sub(SNIPPET_WIDTH);
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    let column = if column == 0 {
        0
    } else {
        at - start + 1 + usize::from(start > 0)
    };
    (shown, column)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if let Some(loc) = &self.location {
            write_snippet(f, loc, true)?;
        }
        for (what, loc) in &self.calls {
            writeln!(f, "note: {what} {}:{}:{}", loc.source, loc.line, loc.column)?;
            write_snippet(f, loc, false)?;
        }
        for help in &self.help {
            let mut lines = help.lines();
            writeln!(f, "help: {}", lines.next().unwrap_or_default())?;
            for line in lines {
                writeln!(f, "      {line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_source_line_is_cut_around_the_caret() {
        let line = format!(
            "let x = \"{}\"; boom(); {}",
            "a".repeat(100_000),
            "b".repeat(100_000)
        );
        let column = line.find("boom").unwrap() + 1;
        let (shown, caret) = window(&line, column);
        assert_eq!(shown.chars().count(), SNIPPET_WIDTH + 2);
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert!(
            shown
                .chars()
                .skip(caret - 1)
                .collect::<String>()
                .starts_with("boom()"),
            "{shown}"
        );
        // A short line, or the caret near an end, keeps its text as it is.
        assert_eq!(window("boom();", 1), ("boom();".to_string(), 1));
        let (shown, caret) = window(&line, 3);
        assert!(shown.starts_with("let x") && shown.ends_with('…'));
        assert_eq!(caret, 3);
    }
}
