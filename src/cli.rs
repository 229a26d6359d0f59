//! The command line: raw clap arguments → settings → a subcommand that returns an exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::context::Settings;
use crate::exit_code::{EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE};
use crate::stdio;
use crate::workbench::{ScriptError, Session, Workbench};
use labsh_core::escape;

/// labsh: a scripting workbench for Kubernetes networking labs (kind, Cilium, eBPF).
#[derive(Debug, Parser)]
#[command(
    name = "labsh",
    version,
    about,
    args_conflicts_with_subcommands = false,
    after_help = "Without a command, labsh opens the REPL; with piped stdin it evaluates the lines it reads.\nExit codes: 0 success, 1 script error or failed check, 2 usage error, 130 interrupted (Ctrl-C)."
)]
pub struct Cli {
    /// Print the shell command (kubectl, helm, kind, tcpdump, docker exec) behind each primitive.
    #[arg(long, global = true)]
    pub explain: bool,
    /// Hide spinners and progress.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Show the stdlib's own frames in error traces (hidden by default: the trace starts at
    /// the script's line that called the stdlib).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// No colors (also when NO_COLOR is set).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Pause before each lab step (Enter runs it, s skips it, q quits).
    #[arg(long, global = true)]
    pub step: bool,
    /// Skip lab steps before this step id.
    #[arg(long, global = true, value_name = "STEP")]
    pub from: Option<String>,
    /// Write the lab report to FILE: .html (steps, checks and flow figures), .json, or .xml
    /// (JUnit). Repeat it for several formats.
    #[arg(long, global = true, value_name = "FILE")]
    pub report: Vec<PathBuf>,
    /// Use this stdlib folder instead of the embedded one.
    #[arg(long, global = true, value_name = "DIR")]
    pub stdlib: Option<PathBuf>,
    /// Sandbox limit: bytes in one string (64MiB, 1G, …; 0 = no limit). Also caps HTTP bodies
    /// and pod logs.
    #[arg(long, global = true, value_name = "BYTES", env = "LABSH_MAX_STRING_SIZE",
          default_value = "64MiB", value_parser = crate::limits::parse_size)]
    pub max_string_size: usize,
    /// Sandbox limit: elements in one array (0 = no limit). Also caps captures, pod logs and
    /// monitor buffers.
    #[arg(long, global = true, value_name = "N", env = "LABSH_MAX_ARRAY_SIZE",
          default_value = "10000000", value_parser = crate::limits::parse_size)]
    pub max_array_size: usize,
    /// Sandbox limit: entries in one object map (0 = no limit).
    #[arg(long, global = true, value_name = "N", env = "LABSH_MAX_MAP_SIZE",
          default_value = "1000000", value_parser = crate::limits::parse_size)]
    pub max_map_size: usize,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a script; arguments after `--` reach it as the array ARGS.
    Run {
        /// The script.
        file: PathBuf,
        /// Arguments for the script (after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Compile scripts without running them; report every error found.
    Check {
        /// The scripts.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List primitives with their signatures, or show one's documentation.
    Api {
        /// A function (`kube::apply`) or module (`kube`).
        name: Option<String>,
        /// Write Rhai definition files (.d.rhai) for editors into DIR.
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
    },
    /// Remove the node debug pods labsh left on a cluster (runs killed before they could
    /// delete them); those of runs still going on this host stay.
    Clean {
        /// The kubeconfig context (default: the current one).
        #[arg(long, value_name = "NAME")]
        context: Option<String>,
    },
}

impl Cli {
    /// The settings these flags give.
    pub fn settings(&self) -> Settings {
        let plain = self.no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = !plain && std::io::stdout().is_terminal();
        Settings {
            explain: self.explain,
            quiet: self.quiet,
            color,
            step: self.step,
            from: self.from.clone(),
            report: self.report.clone(),
            unicode: !plain && utf8_locale(|k| std::env::var(k).ok()),
            limits: crate::limits::Limits {
                max_string_size: self.max_string_size,
                max_array_size: self.max_array_size,
                max_map_size: self.max_map_size,
            },
            verbose: self.verbose,
        }
    }

    fn workbench(&self) -> Workbench {
        let wb = Workbench::new()
            .with_primitives(crate::primitives::all())
            .with_settings(self.settings())
            .with_stdlib_dir(self.stdlib.clone());
        // Docs are for people reading them: `labsh api` and the REPL.
        match self.command {
            Some(Command::Run { .. } | Command::Check { .. } | Command::Clean { .. }) => {
                wb.without_docs()
            }
            _ => wb,
        }
    }
}

/// Whether the locale the environment names (`LC_ALL`, else `LC_CTYPE`, else `LANG`, as
/// POSIX orders them) is UTF-8; unset is the C locale, which is not.
pub fn utf8_locale(var: impl Fn(&str) -> Option<String>) -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|k| var(k).filter(|v| !v.is_empty()))
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// Entry point of the `labsh` binary.
pub fn main() -> ExitCode {
    let t = std::time::Instant::now();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    crate::startup_trace::phase("parsing the command line", t.elapsed());
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        // Never `eprintln!` here: with stderr gone it would panic inside the hook and abort.
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error in labsh (a bug; please report it): {message}{location}"
        );
    }));
    // Rhai evaluates recursively: a large stack lets the engine's own depth limits, not a
    // stack overflow, end a runaway script.
    let handle = std::thread::Builder::new()
        .name("labsh-engine".into())
        .stack_size(256 << 20)
        .spawn(move || execute(cli));
    match handle.map(|h| h.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        _ => {
            stdio::errln("error: labsh's engine thread failed");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn execute(cli: Cli) -> u8 {
    match &cli.command {
        Some(Command::Run { file, args }) => run(&cli, file, args.clone()),
        Some(Command::Check { files }) => check(&cli, files),
        Some(Command::Api { name, definitions }) => {
            api(&cli, name.as_deref(), definitions.as_deref())
        }
        Some(Command::Clean { context }) => match build(&cli) {
            Ok(mut session) => {
                install_interrupt(&session);
                crate::clean::execute(&mut session, context.as_deref())
            }
            Err(code) => code,
        },
        None => {
            let mut session = match build(&cli) {
                Ok(s) => s,
                Err(code) => return code,
            };
            install_interrupt(&session);
            if std::io::stdin().is_terminal() {
                crate::repl::interactive(&mut session)
            } else {
                crate::repl::piped(&mut session, std::io::stdin().lock())
            }
        }
    }
}

fn build(cli: &Cli) -> Result<Session, u8> {
    cli.workbench().build().map_err(|e| {
        stdio::errln(&format!("error: cannot start the async runtime: {e}"));
        EXIT_FAILURE
    })
}

/// Installs the Ctrl-C handler: the first press cancels the evaluation, a second exits at once.
/// A failed write to stdout or stderr (a closed terminal, a reader gone, a full disk) also
/// ends the evaluation, through the same cleanup.
fn install_interrupt(session: &Session) {
    let ctx = session.ctx().clone();
    stdio::on_failure(move || ctx.interrupt());
    let ctx = session.ctx().clone();
    let _ = ctrlc::set_handler(move || {
        if ctx.is_interrupted() {
            crate::process::kill_all();
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
        ctx.interrupt();
    });
}

fn run(cli: &Cli, file: &Path, args: Vec<String>) -> u8 {
    for report in &cli.report {
        if let Err(msg) = crate::report::Format::for_path(report).and_then(|_| writable(report)) {
            stdio::errln(&format!("error: {msg}"));
            return EXIT_USAGE;
        }
    }
    let mut session = match build(cli) {
        Ok(s) => s,
        Err(code) => return code,
    };
    install_interrupt(&session);
    // The check first: a typo must not cost a cluster.
    let t = std::time::Instant::now();
    let findings = crate::checker::check_script(&mut session, file);
    crate::startup_trace::phase("checking the script", t.elapsed());
    if !findings.is_empty() {
        print_findings(&findings, false);
        if findings.len() > 1 {
            stdio::errln(&format!(
                "error: {} was not run: {}",
                escape::control(&file.display().to_string()),
                problems(findings.len())
            ));
        }
        return EXIT_FAILURE;
    }
    // `--from` names a step the script declares, or nothing runs (a usage error).
    if let Some(from) = &cli.from
        && let Some(ids) = crate::checker::declared_steps(&session, file)
        && let Some(msg) = crate::checker::steps::unknown_from(from, &ids)
    {
        stdio::errln(&escape::control(&msg));
        return EXIT_USAGE;
    }
    let t = std::time::Instant::now();
    let result = session.run_file(file, args);
    crate::startup_trace::phase("running the script", t.elapsed());
    let (mut code, error) = match (&result, stdio::failure()) {
        (_, Some(failure)) => {
            // Said on stderr when that is not the stream that failed.
            stdio::errln(&format!("error: {failure}"));
            (EXIT_FAILURE, Some(failure.to_string()))
        }
        (Ok(_), None) => (0, None),
        (Err(ScriptError::Interrupted), None) => {
            stdio::errln("labsh: interrupted");
            (EXIT_INTERRUPTED, Some("interrupted".to_string()))
        }
        (Err(e @ ScriptError::Exit { code, message }), None) => {
            stdio::err(&escape::control(&e.to_string()));
            let error = (*code != 0).then(|| message.clone());
            (*code, error)
        }
        (Err(e), None) => {
            stdio::err(&escape::control(&e.to_string()));
            (EXIT_FAILURE, Some(e.to_string()))
        }
    };
    let lab_code =
        crate::report::finish(session.ctx(), &file.display().to_string(), error.as_deref());
    if code == 0 {
        code = lab_code;
    }
    if code == 0 && stdio::failure().is_some() {
        // The summary or the report could not be written.
        code = EXIT_FAILURE;
    }
    code
}

/// Whether the report can be written, checked before the lab runs (issue 23: an unwritable
/// place failed only after the whole lab); a file this check creates is removed again.
fn writable(path: &Path) -> Result<(), String> {
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map(|_| {
            if !existed {
                let _ = std::fs::remove_file(path);
            }
        })
        .map_err(|e| format!("--report {}: cannot write there: {e}", path.display()))
}

fn check(cli: &Cli, files: &[PathBuf]) -> u8 {
    let mut session = match build(cli) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut found = 0;
    for file in files {
        let findings = crate::checker::check_script(&mut session, file);
        print_findings(&findings, found > 0);
        found += findings.len();
    }
    if found > 1 {
        stdio::errln(&problems(found));
    }
    if found == 0 { 0 } else { EXIT_FAILURE }
}

/// Prints findings on stderr, a blank line between two (and before the first when
/// `after_others`).
fn print_findings(findings: &[crate::diagnostics::Diagnostic], after_others: bool) {
    for (i, finding) in findings.iter().enumerate() {
        if i > 0 || after_others {
            stdio::errln("");
        }
        stdio::err(&escape::control(&finding.to_string()));
    }
}

/// `3 problems found` (said when there are several).
fn problems(n: usize) -> String {
    format!("{n} problems found")
}

fn api(cli: &Cli, name: Option<&str>, definitions: Option<&Path>) -> u8 {
    match build(cli) {
        Ok(mut session) => crate::api::execute(&mut session, name, definitions),
        Err(code) => code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_locale_variable_set_decides_whether_it_is_utf8() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(utf8_locale(env(&[("LANG", "fr_FR.UTF-8")])));
        assert!(utf8_locale(env(&[("LC_CTYPE", "C.utf8"), ("LANG", "C")])));
        assert!(!utf8_locale(env(&[
            ("LC_ALL", "C"),
            ("LANG", "fr_FR.UTF-8")
        ])));
        assert!(!utf8_locale(env(&[("LANG", "C")])));
        assert!(!utf8_locale(env(&[])));
        assert!(utf8_locale(env(&[("LC_ALL", ""), ("LANG", "en_US.UTF-8")])));
    }
}
