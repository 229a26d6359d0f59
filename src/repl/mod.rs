//! The REPL: `labsh` with a terminal reads lines with rustyline (history, multi-line input,
//! completion); with piped stdin it reads and evaluates lines the same way, so tests and
//! other programs can drive it. Variables, functions and imports persist between inputs,
//! values print readably, and Ctrl-C during an evaluation comes back to the prompt with the
//! session intact.

pub mod help;
pub mod helper;
pub mod input;
pub mod pretty;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::catalog::Catalog;
use crate::workbench::{ScriptError, Session};
use helper::{Known, LabHelper, Var};

/// How one input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed,
    Quit,
}

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
    help::install(session);
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
            eprintln!("error: cannot open the terminal: {e}");
            return crate::cli::EXIT_FAILURE;
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
    println!(
        "labsh {}: Rhai with lab primitives. help() for help, Ctrl-D to quit.",
        env!("CARGO_PKG_VERSION")
    );
    let mut n = 0;
    loop {
        match editor.readline("labsh> ") {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                if let Some(path) = &history {
                    let _ = editor.save_history(path);
                }
                n += 1;
                if handle(session, &line, &format!("<repl {n}>")) == Outcome::Quit {
                    break;
                }
                // Imports, `:load` and `:reset` change the modules completion offers.
                let modules_changed = line.contains("import") || line.trim_start().starts_with(':');
                refresh(session, &known, modules_changed);
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: cannot read the terminal: {e}");
                return crate::cli::EXIT_FAILURE;
            }
        }
    }
    0
}

/// Reads inputs from `reader` (piped stdin): lines accumulate until they compile (or fail
/// for a reason other than ending early), then are evaluated and their values printed.
/// Returns 1 when any input failed.
pub fn piped(session: &mut Session, reader: impl BufRead) -> u8 {
    help::install(session);
    let parser = rhai::Engine::new_raw();
    let mut buffer = String::new();
    let mut failed = false;
    let mut n = 0;
    let mut lines = reader.lines();
    loop {
        let line = match lines.next() {
            Some(Ok(line)) => Some(line),
            Some(Err(e)) => {
                eprintln!("error: cannot read stdin: {e}");
                return crate::cli::EXIT_FAILURE;
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
            match handle(session, &buffer, &format!("<stdin {n}>")) {
                Outcome::Ok => {}
                Outcome::Failed => failed = true,
                Outcome::Quit => break,
            }
        }
        buffer.clear();
        if at_end {
            break;
        }
    }
    if failed { crate::cli::EXIT_FAILURE } else { 0 }
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
                let result = session.load_file(Path::new(arg));
                show(session.ctx().output(), result)
            }
            "reset" => {
                session.reset();
                help::install(session);
                println!("session reset: no variables, functions or imports");
                Outcome::Ok
            }
            "quit" | "q" | "exit" => Outcome::Quit,
            "help" => {
                let catalog = Catalog::of(session.engine(), session.families(), false);
                print!("{}", help::overview(&catalog));
                Outcome::Ok
            }
            _ => {
                eprintln!("error: unknown command `:{command}` (try :load FILE, :reset, :quit)");
                Outcome::Failed
            }
        };
    }
    let result = session.eval(source_name, input);
    show(session.ctx().output(), result)
}

/// Prints a value (through the output layer, so a running spinner is not garbled) or an
/// error.
fn show(out: &crate::output::Output, result: Result<rhai::Dynamic, ScriptError>) -> Outcome {
    match result {
        Ok(value) => {
            if !value.is_unit() {
                out.println(&pretty::top_level(&value));
            }
            Outcome::Ok
        }
        Err(ScriptError::Interrupted) => {
            eprintln!("interrupted");
            Outcome::Failed
        }
        Err(e) => {
            eprint!("{e}");
            Outcome::Failed
        }
    }
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
