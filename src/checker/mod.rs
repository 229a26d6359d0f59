//! `labsh check`, which `labsh run` also runs first: what can be known about a script
//! before anything runs. A script and every module it imports (found as the run would find
//! them, without running them) are compiled with strict variables and their calls held
//! against what exists, so a typo fails in a second, not after the cluster was created.
//!
//! Findings: syntax errors, undefined variables, unknown modules, imports that do not
//! resolve, calls of functions that do not exist and calls with an argument count no
//! overload takes. Each is a [`Diagnostic`] at file:line:col with a "did you mean" when a
//! name in scope is close. The keys of literal option maps passed to labsh's functions are
//! checked too (`kube::apply(m, #{namspace: "x"})`, see [`options`]), and their string
//! literals where the option's parser is known (`#{timeout: "2 minutes"}`).

pub mod callables;
mod calls;
pub mod modules;
mod options;
pub mod steps;
mod variables;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rhai::{AST, ASTNode, Position, Stmt};

use self::callables::Callables;
use self::calls::{Imported, Names};
use self::modules::ScriptFns;
use crate::diagnostics::Diagnostic;
use crate::stdlib::ModuleSource;
use crate::workbench::{Session, strip_shebang};

/// The variables a run defines for the main script.
pub const SCRIPT_GLOBALS: &[&str] = &["ARGS"];

/// Checks the script at `path` (named `path` as given) and the modules it imports; returns
/// every finding, the main script's first, each source's in line order.
pub fn check_script(session: &mut Session, path: &Path) -> Vec<Diagnostic> {
    let name = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return vec![Diagnostic::plain(format!("cannot read {name}: {e}"))],
    };
    check_text(session, path, &text)
}

/// Like [`check_script`], for `text` already read from `path`.
pub fn check_text(session: &mut Session, path: &Path, text: &str) -> Vec<Diagnostic> {
    let script_dir = script_dir(path);
    let mut checker = Checker {
        callables: None,
        stdlib_dir: session.stdlib_dir().map(Path::to_path_buf),
        session,
        script_dir,
        modules: BTreeMap::new(),
        fields: BTreeSet::new(),
        findings: Vec::new(),
    };
    checker.check_source(&path.display().to_string(), text, SCRIPT_GLOBALS);
    checker.findings
}

/// The lab step ids the script at `path` declares (see [`steps::step_ids`]); `None` when it
/// does not compile or they cannot be known before it runs.
pub fn declared_steps(session: &Session, path: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    let ast = session.compile(&path.display().to_string(), &text).ok()?;
    steps::step_ids(&ast)
}

/// The folder a script's imports and relative paths resolve from, as `run_file` sets it.
fn script_dir(path: &Path) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::canonicalize(&dir).unwrap_or(dir)
}

struct Checker<'s> {
    session: &'s mut Session,
    /// Built on the first source that calls anything (an empty script never pays for it).
    callables: Option<Callables>,
    stdlib_dir: Option<PathBuf>,
    script_dir: PathBuf,
    /// Modules checked (or being checked), by source name → their functions.
    modules: BTreeMap<String, Option<ScriptFns>>,
    /// Map keys and properties of the sources checked so far (see [`calls::field_names`]).
    fields: BTreeSet<String>,
    findings: Vec<Diagnostic>,
}

impl Checker<'_> {
    /// Checks one source and, first, the modules it imports; returns its functions when it
    /// compiled.
    fn check_source(
        &mut self,
        source_name: &str,
        text: &str,
        declared: &[&str],
    ) -> Option<ScriptFns> {
        let text = strip_shebang(text);
        let compiled = variables::compile_strict(self.session.engine_mut(), &text, declared);
        let mut findings = Vec::new();
        for (name, pos) in &compiled.undefined {
            findings.push(undefined_variable(
                name,
                *pos,
                compiled.ast.as_ref(),
                declared,
                source_name,
                &text,
            ));
        }
        if let Some(err) = compiled.syntax {
            findings.push(crate::diagnostics::from_parse(err, source_name, &text));
        }
        let Some(ast) = compiled.ast else {
            self.findings.extend(findings);
            return None;
        };
        let mut imports = BTreeMap::new();
        let mut modules_findings = Vec::new();
        for (path, alias, pos) in imports_of(&ast) {
            let Some(path) = path else {
                continue; // an expression: known only when the script runs
            };
            // A native stdlib module (`import "args"`) is the primitive family of that name:
            // its calls are checked against the engine's `args::` functions when the alias is
            // the family's name, and not checked under another alias.
            if crate::stdlib::NATIVE.contains(&path.as_str()) {
                if let Some(alias) = alias.filter(|a| *a != path) {
                    imports.insert(alias, None);
                }
                continue;
            }
            let import =
                match crate::stdlib::locate(self.stdlib_dir.as_deref(), &self.script_dir, &path) {
                    None => {
                        findings.push(self.unresolved(&path, pos, source_name, &text));
                        None
                    }
                    Some(found) => Some(self.module(found, &mut modules_findings)),
                };
            if let Some(alias) = alias {
                imports.insert(alias, import);
            }
        }
        let own = ScriptFns::of(&ast);
        self.fields.extend(calls::field_names(&ast));
        let signatures = |name: &str, method: bool| {
            if method {
                crate::signatures::of_method(name)
            } else {
                crate::signatures::of(name)
            }
        };
        if !calls::calls_anything(&ast) {
            self.findings.extend(findings);
            self.findings.extend(modules_findings);
            return Some(own);
        }
        let callables = self
            .callables
            .get_or_insert_with(|| Callables::of(self.session.engine()));
        let names = Names {
            source_name,
            text: &text,
            own: &own,
            imports: &imports,
            callables,
            fields: &self.fields,
            signatures: &signatures,
        };
        findings.extend(calls::check(&ast, &names));
        findings.sort_by_key(|d| {
            d.location
                .as_ref()
                .map(|l| (l.line, l.column))
                .unwrap_or_default()
        });
        self.findings.extend(findings);
        self.findings.extend(modules_findings);
        Some(own)
    }

    /// The module `found`, checked on its first import.
    fn module(&mut self, found: ModuleSource, findings: &mut Vec<Diagnostic>) -> Imported {
        let (source, text) = match found {
            ModuleSource::Embedded { name, text } => (name.to_string(), Ok(text.to_string())),
            ModuleSource::File(file) => (
                crate::diagnostics::display_path(&file),
                std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display())),
            ),
        };
        if !self.modules.contains_key(&source) {
            // Marked first: a module importing itself (or a cycle) is checked once.
            self.modules.insert(source.clone(), None);
            let outer = std::mem::take(&mut self.findings);
            let functions = match text {
                Ok(text) => self.check_source(&source, &text, &[]),
                Err(msg) => {
                    self.findings.push(Diagnostic::plain(msg));
                    None
                }
            };
            findings.append(&mut self.findings);
            self.findings = outer;
            self.modules.insert(source.clone(), functions);
        }
        Imported {
            functions: self.modules.get(&source).cloned().flatten(),
            source,
        }
    }

    fn unresolved(&self, path: &str, pos: Position, source_name: &str, text: &str) -> Diagnostic {
        let mut dirs = Vec::new();
        if let Some(dir) = &self.stdlib_dir {
            dirs.push(dir.clone());
        }
        if self.script_dir.join("stdlib").is_dir() {
            dirs.push(self.script_dir.join("stdlib"));
        }
        dirs.push(self.script_dir.clone());
        let message = crate::diagnostics::module_not_found(path, &dirs);
        let embedded = crate::stdlib::EMBEDDED.iter().map(|(p, _, _)| *p);
        Diagnostic::at(message, source_name, text, pos)
            .with_help(crate::suggest::did_you_mean(path, embedded))
    }
}

/// The `import`s of `ast` (function bodies included): the literal path (`None` for a
/// computed one), the alias, and where the path is.
fn imports_of(ast: &AST) -> Vec<(Option<String>, Option<String>, Position)> {
    let mut found = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(import, _))) = path.last() {
            let (expr, alias) = &**import;
            let literal = match expr {
                rhai::Expr::StringConstant(s, _) => Some(s.to_string()),
                _ => None,
            };
            let alias = (!alias.name.is_empty()).then(|| alias.name.to_string());
            found.push((literal, alias, expr.position()));
        }
        true
    });
    found
}

/// The names a source declares anywhere: variables, loop variables, parameters.
fn declared_names(ast: &AST) -> Vec<(String, Position)> {
    let mut names = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(x, _, pos))) => names.push((x.0.name.to_string(), *pos)),
            Some(ASTNode::Stmt(Stmt::For(x, pos))) => {
                names.push((x.0.name.to_string(), *pos));
                if let Some(counter) = &x.1 {
                    names.push((counter.name.to_string(), *pos));
                }
            }
            _ => {}
        }
        true
    });
    for f in ast.iter_functions() {
        names.extend(f.params.iter().map(|p| (p.to_string(), Position::NONE)));
    }
    names
}

fn undefined_variable(
    name: &str,
    pos: Position,
    ast: Option<&AST>,
    declared: &[&str],
    source_name: &str,
    text: &str,
) -> Diagnostic {
    let names = ast.map(declared_names).unwrap_or_default();
    let top_level = ast.and_then(|ast| {
        ast.statements().iter().find_map(|s| match s {
            Stmt::Var(x, _, p) if x.0.name == name => Some(*p),
            _ => None,
        })
    });
    // Named functions only: a closure captures the script's variables.
    let in_function = ast.is_some_and(|ast| {
        let functions = ast.clone_functions_only_filtered(|_, _, _, f, _| !f.starts_with("anon$"));
        let mut found = false;
        functions.walk(&mut |path: &[ASTNode]| {
            if let Some(ASTNode::Expr(rhai::Expr::Variable(v, _, at))) = path.last() {
                found |= *at == pos && v.1 == name;
            }
            !found
        });
        found
    });
    let help = match top_level.and_then(|p| p.line()) {
        Some(line) if in_function => Some(format!(
            "`{name}` is a variable of the script (line {line}): a function does not see the script's variables; pass it as an argument"
        )),
        Some(line) => Some(format!("`{name}` is declared later, at line {line}")),
        None => {
            let candidates = names
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| *n != name)
                .chain(declared.iter().copied());
            crate::suggest::did_you_mean(name, candidates)
        }
    };
    Diagnostic::at(
        format!("undefined variable `{name}`"),
        source_name,
        text,
        pos,
    )
    .with_help(help)
}
