//! The REPL: `labsh` with a terminal reads lines with rustyline (history, multi-line input,
//! completion); with piped stdin it reads and evaluates lines the same way, so tests and
//! other programs can drive it. Variables, functions and imports persist between inputs,
//! values print readably, and Ctrl-C during an evaluation comes back to the prompt with the
//! session intact.
//!
//! Each value is shown once: the value of an input is echoed unless a primitive already
//! showed it (a table, a check, packets printed live: see [`crate::shown`]), and a map or array
//! taller than the terminal is cut to its first lines (see [`screen`]).

pub mod help;
pub mod helper;
pub mod input;
pub mod pretty;
pub mod quit_signals;
pub mod screen;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::catalog::Catalog;
use crate::shown::{Mark, Shown};
use crate::stdio;
use crate::workbench::{ScriptError, Session};
use helper::{Known, LabHelper, Var};

/// How one input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed,
    Quit,
}

/// The prompt.
const PROMPT: &str = "labsh> ";
/// The prompt of a line that continues an unfinished input (as wide as [`PROMPT`]).
const CONTINUATION: &str = "  ...> ";

/// The history file: `$XDG_STATE_HOME/labsh/history` or `~/.local/state/labsh/history`.
pub fn history_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".local/state")))?;
    Some(state.join("labsh").join("history"))
}

/// The interactive REPL on a terminal. Returns the exit code.
pub fn interactive(session: &mut Session) -> u8 {
    install(session);
    let quit = quit_signals::install(session.ctx());
    let known = Arc::new(Mutex::new(Known {
        catalog: Catalog::of(session.engine(), session.families(), true),
        vars: Vec::new(),
    }));
    let builder = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false);
    let config = builder
        .clone()
        .max_history_size(5000)
        .and_then(|b| b.history_ignore_dups(true))
        .unwrap_or(builder)
        .build();
    let mut editor = match Editor::<LabHelper, DefaultHistory>::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            stdio::errln(&format!("error: cannot open the terminal: {e}"));
            return crate::exit_code::EXIT_FAILURE;
        }
    };
    editor.set_helper(Some(LabHelper::new(known.clone())));
    let history = history_path();
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.load_history(path);
    }
    stdio::outln(&format!(
        "labsh {}: Rhai with lab primitives. help() for help, Ctrl-D to quit.",
        env!("CARGO_PKG_VERSION")
    ));
    let mut n = 0;
    let parser = rhai::Engine::new_raw();
    // The input so far when it continues on the next line (an unclosed brace).
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if pending.is_empty() && line.trim().is_empty() {
                    continue;
                }
                pending.push_str(&line);
                if !pending.trim_start().starts_with(':') && input::is_incomplete(&parser, &pending)
                {
                    pending.push('\n');
                    continue;
                }
                let line = std::mem::take(&mut pending);
                let _ = editor.add_history_entry(line.as_str());
                if let Some(path) = &history {
                    let _ = editor.save_history(path);
                }
                n += 1;
                quit.evaluating.store(true, Ordering::SeqCst);
                let outcome = handle(session, &line, &format!("<repl {n}>"));
                quit.evaluating.store(false, Ordering::SeqCst);
                if let Some(code) = quit.exit_code() {
                    return code;
                }
                if outcome == Outcome::Quit {
                    break;
                }
                if let Some(failure) = stdio::failure() {
                    stdio::errln(&format!("error: {failure}"));
                    return crate::exit_code::EXIT_FAILURE;
                }
                // Imports, `:load` and `:reset` change the modules completion offers.
                let modules_changed = line.contains("import") || line.trim_start().starts_with(':');
                refresh(session, &known, modules_changed);
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C drops an unfinished input, as a shell does.
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                stdio::errln(&format!("error: cannot read the terminal: {e}"));
                return crate::exit_code::EXIT_FAILURE;
            }
        }
    }
    0
}

/// Reads inputs from `reader` (piped stdin): lines accumulate until they compile (or fail
/// for a reason other than ending early), then are evaluated and their values printed.
/// Returns 1 when any input failed.
pub fn piped(session: &mut Session, reader: impl BufRead) -> u8 {
    install(session);
    let quit = quit_signals::install(session.ctx());
    let parser = rhai::Engine::new_raw();
    let mut buffer = String::new();
    let mut failed = false;
    let mut n = 0;
    let mut lines = reader.lines();
    loop {
        let line = match lines.next() {
            Some(Ok(line)) => Some(line),
            Some(Err(e)) => {
                stdio::errln(&format!("error: cannot read stdin: {e}"));
                return crate::exit_code::EXIT_FAILURE;
            }
            None => None,
        };
        let at_end = line.is_none();
        if let Some(line) = line {
            buffer.push_str(&line);
            buffer.push('\n');
            if buffer.trim().is_empty() {
                buffer.clear();
                continue;
            }
            if !buffer.trim_start().starts_with(':') && input::is_incomplete(&parser, &buffer) {
                continue;
            }
        }
        if !buffer.trim().is_empty() {
            n += 1;
            quit.evaluating.store(true, Ordering::SeqCst);
            let outcome = handle(session, &buffer, &format!("<stdin {n}>"));
            quit.evaluating.store(false, Ordering::SeqCst);
            if let Some(code) = quit.exit_code() {
                return code;
            }
            match outcome {
                Outcome::Ok => {}
                Outcome::Failed => failed = true,
                Outcome::Quit => break,
            }
            if let Some(failure) = stdio::failure() {
                // The output is lost: going on would evaluate the rest unseen.
                stdio::errln(&format!("error: {failure}"));
                return crate::exit_code::EXIT_FAILURE;
            }
        }
        buffer.clear();
        if at_end {
            break;
        }
    }
    if failed {
        crate::exit_code::EXIT_FAILURE
    } else {
        0
    }
}

/// Evaluates one complete input (or runs a `:command`) and prints its value or error.
fn handle(session: &mut Session, input: &str, source_name: &str) -> Outcome {
    let trimmed = input.trim();
    if let Some(command) = trimmed.strip_prefix(':') {
        let (name, arg) = command
            .split_once(char::is_whitespace)
            .map_or((command, ""), |(n, a)| (n, a.trim()));
        return match name {
            "load" if !arg.is_empty() => {
                let mark = session.ctx().ext::<Shown>().mark();
                let result = session.load_file(Path::new(arg));
                show(session, result, mark, "")
            }
            "reset" => {
                session.reset();
                install(session);
                stdio::outln("session reset: no variables, functions or imports");
                Outcome::Ok
            }
            "quit" | "q" | "exit" => Outcome::Quit,
            "help" => {
                let catalog = Catalog::of(session.engine(), session.families(), false);
                stdio::out(&help::overview(&catalog));
                Outcome::Ok
            }
            _ => {
                stdio::errln(&format!(
                    "error: unknown command `:{command}` (try :load FILE, :reset, :quit)"
                ));
                Outcome::Failed
            }
        };
    }
    let mark = session.ctx().ext::<Shown>().mark();
    let result = session.eval(source_name, input);
    show(session, result, mark, input)
}

/// What the REPL adds to a session's engine: `help()`, and `print` of a map or array
/// spread over indented lines as the REPL shows values (Rhai prints them on one line), so
/// `print(x)` shows in full what the prompt cut.
fn install(session: &mut Session) {
    help::install(session);
    // A script `:load`ed here reads `ARGS` (no arguments at the prompt), and the stdlib
    // modules are there without an `import`.
    if !session.scope().contains("ARGS") {
        session.define_args(Vec::new());
    }
    session.import_stdlib();
    let doc = crate::primitives::doc_comment(PRINT_DOC);
    rhai::FuncRegistration::new("print")
        .with_params_info(["value: Map", "()"])
        .with_comments([doc.as_str()])
        .register_into_engine(session.engine_mut(), |m: &mut rhai::Map| {
            pretty::pretty(
                &crate::records::records_to_maps(&rhai::Dynamic::from_map(m.clone())),
                0,
            )
        });
    rhai::FuncRegistration::new("print")
        .with_params_info(["value: Record", "()"])
        .with_comments([doc.as_str()])
        .register_into_engine(session.engine_mut(), |r: &mut crate::records::Record| {
            pretty::pretty(&rhai::Dynamic::from_map(r.to_map()), 0)
        });
    rhai::FuncRegistration::new("print")
        .with_params_info(["value: Array", "()"])
        .with_comments([doc.as_str()])
        .register_into_engine(session.engine_mut(), |a: &mut rhai::Array| {
            pretty::pretty(
                &crate::records::records_to_maps(&rhai::Dynamic::from_array(a.clone())),
                0,
            )
        });
}

const PRINT_DOC: &str = "Prints a map or an array in full (REPL only): spread over indented lines as the\nprompt shows values, where the prompt cuts a value taller than the terminal. Scripts\nprint it on one line.\n\n```rhai\nprint(#{name: \"frontend\", ports: [80]});\n```";

/// Prints the value of `input` (through the output layer, so a running spinner is not
/// garbled) unless a primitive showed it since `mark`, or prints the error.
fn show(
    session: &Session,
    result: Result<rhai::Dynamic, ScriptError>,
    mark: Mark,
    input: &str,
) -> Outcome {
    match result {
        Ok(value) => {
            let ctx = session.ctx();
            if !value.is_unit() && !ctx.ext::<Shown>().since(mark, &value) {
                let engine = session.engine();
                let printed = |v: &rhai::Dynamic| as_printed(engine, v);
                let text = screen::fit(
                    &value,
                    pretty::top_level_with(&value, &printed),
                    screen::rows(),
                    input,
                );
                ctx.output().println(&text);
            }
            Outcome::Ok
        }
        Err(ScriptError::Interrupted) => {
            stdio::errln("interrupted");
            Outcome::Failed
        }
        Err(e) => {
            // Error messages quote servers, files and script strings.
            stdio::err(&labsh_core::escape::control(&e.to_string()));
            Outcome::Failed
        }
    }
}

/// A value of a type labsh registered (`Pod`, `Service`, `Node`, `Capture`) as `print`
/// shows it (its `to_string`); `None` for Rhai's own types, which [`pretty`] renders.
fn as_printed(engine: &rhai::Engine, value: &rhai::Dynamic) -> Option<String> {
    if value.is_map()
        || value.is_array()
        || value.is_string()
        || value.is_unit()
        || value.is_int()
        || value.is_float()
        || value.is_bool()
        || value.is_char()
    {
        return None;
    }
    let mut scope = rhai::Scope::new();
    scope.push_dynamic("value", value.clone());
    engine
        .eval_with_scope::<rhai::ImmutableString>(&mut scope, "value.to_string()")
        .ok()
        .map(|s| s.to_string())
}

/// Refreshes what completion knows about the variables in scope (and the modules).
fn refresh(session: &Session, known: &Arc<Mutex<Known>>, modules_changed: bool) {
    if modules_changed {
        let catalog = Catalog::of(session.engine(), session.families(), true);
        known.lock().expect("completion data").catalog = catalog;
    }
    let vars = session
        .scope()
        .iter()
        .map(|(name, _, value)| Var {
            name: name.to_string(),
            type_name: helper::script_type(&value),
            value,
        })
        .collect();
    known.lock().expect("completion data").vars = vars;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Pod;

    #[test]
    fn a_value_of_a_registered_type_echoes_as_print_shows_it() {
        let mut engine = rhai::Engine::new();
        engine
            .register_type_with_name::<Pod>("Pod")
            .register_fn("to_string", |_: &mut Pod| {
                "Pod(lab/web on lab-worker, Running)".to_string()
            });
        let value = rhai::Dynamic::from_array(vec![rhai::Dynamic::from(Pod), 1_i64.into()]);
        let text = pretty::top_level_with(&value, &|v| as_printed(&engine, v));
        assert_eq!(text, "[Pod(lab/web on lab-worker, Running), 1]");
        assert_eq!(
            pretty::top_level_with(&rhai::Dynamic::from(Pod), &|v| as_printed(&engine, v)),
            "Pod(lab/web on lab-worker, Running)"
        );
    }
}
