//! The embeddable workbench: a Rhai engine with the primitives registered, the async runtime
//! they run on, and the evaluation entry points (`run_file`, `eval`).
//!
//! A host program builds a session with the primitives and evaluates scripts in it; the
//! values come back as Rhai [`Dynamic`]s:
//!
//! ```
//! use labsh::{Workbench, primitives};
//!
//! let mut session = Workbench::new()
//!     .with_primitives(primitives::all())
//!     .build()
//!     .expect("a tokio runtime");
//! let replicas = session
//!     .eval("example", r#"let doc = yaml::parse("spec: {replicas: 3}"); doc.spec.replicas * 2"#)
//!     .expect("the script runs");
//! assert_eq!(replicas.as_int(), Ok(6));
//!
//! // A script file: ARGS holds the arguments, relative paths resolve from its folder.
//! let dir = tempfile::tempdir().unwrap();
//! let script = dir.path().join("count.rhai");
//! std::fs::write(&script, "fs::write(\"out.json\", json::to_string(ARGS)); ARGS.len()").unwrap();
//! let count = Workbench::new()
//!     .with_primitives(primitives::all())
//!     .run_file(&script, vec!["a".into(), "b".into()])
//!     .expect("the script runs");
//! assert_eq!(count.as_int(), Ok(2));
//! assert_eq!(std::fs::read_to_string(dir.path().join("out.json")).unwrap(), r#"["a","b"]"#);
//! ```
//!
//! Rhai evaluates recursively: evaluate on a thread with a large stack (the `labsh` binary
//! uses 256 MiB) so the call-depth limit, not a stack overflow, ends a runaway recursion.
//! Hosts interrupt an evaluation with `session.ctx().interrupt()` (the binary does it on
//! Ctrl-C) and read the lab checks a script recorded with [`Session::checks`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rhai::{AST, Array, Dynamic, Engine, EvalAltResult, Scope};

use crate::context::{Ctx, Settings};
use crate::diagnostics::{self, Diagnostic};
use crate::errors::{INTERRUPTED, is_interrupted};
use crate::limits::{MAX_CALL_LEVELS, MAX_EXPR_DEPTH};
use crate::primitives::Family;

/// Builds a [`Session`].
#[derive(Default)]
pub struct Workbench {
    families: Vec<Family>,
    settings: Settings,
    stdlib_dir: Option<PathBuf>,
    without_docs: bool,
}

impl Workbench {
    /// A workbench with no primitives and default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds primitive families (see [`crate::primitives::all`]).
    pub fn with_primitives(mut self, families: impl IntoIterator<Item = Family>) -> Self {
        self.families.extend(families);
        self
    }

    /// Sets the global flags.
    pub fn with_settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Registers the primitives without their parameter names and doc comments (for `labsh
    /// run`/`check`: only `help`, `labsh api` and the REPL show them).
    pub fn without_docs(mut self) -> Self {
        self.without_docs = true;
        self
    }

    /// A stdlib folder that overrides the embedded stdlib (`--stdlib DIR`).
    pub fn with_stdlib_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.stdlib_dir = dir;
        self
    }

    /// Builds the engine. The tokio runtime starts when the first primitive needs it, so a
    /// script that uses none never pays for it. (The `io::Result` is kept for hosts; building
    /// does not fail today.)
    pub fn build(self) -> std::io::Result<Session> {
        let t0 = std::time::Instant::now();
        let ctx = Ctx::lazy(self.settings);
        let engine = new_engine(&ctx, &self.families, !self.without_docs);
        crate::startup_trace::phase("the engine with every family", t0.elapsed());
        let mut session = Session {
            engine,
            ctx,
            docs: !self.without_docs,
            families: self.families,
            stdlib_dir: self.stdlib_dir,
            scope: Scope::new(),
            functions: AST::empty(),
            fn_sources: HashMap::new(),
            texts: HashMap::new(),
        };
        let dir = session.ctx.script_dir();
        session.set_script_dir(&dir);
        Ok(session)
    }

    /// Builds a session and runs one script file with `args` as `ARGS`.
    pub fn run_file(self, path: &Path, args: Vec<String>) -> Result<Dynamic, ScriptError> {
        let mut session = self
            .build()
            .map_err(|e| ScriptError::Setup(e.to_string()))?;
        session.run_file(path, args)
    }
}

/// An engine with the limits, hooks and `families` registered.
fn new_engine(ctx: &Ctx, families: &[Family], docs: bool) -> Engine {
    let t0 = std::time::Instant::now();
    let mut engine = Engine::new();
    configure(&mut engine, ctx);
    crate::startup_trace::phase("Engine::new and its limits", t0.elapsed());
    let mut registry = crate::primitives::Registry::new(&mut engine);
    if !docs {
        registry = registry.without_docs();
    }
    // Packets, events and verdicts are records, whichever families make them.
    (crate::primitives::records::FAMILY.register)(&mut registry, ctx);
    for family in families {
        let t = std::time::Instant::now();
        (family.register)(&mut registry, ctx);
        crate::startup_trace::family(family.name, t.elapsed());
    }
    let t = std::time::Instant::now();
    registry.finish();
    crate::startup_trace::phase("installing the modules", t.elapsed());
    engine
}

/// Engine limits and hooks shared by every session.
fn configure(engine: &mut Engine, ctx: &Ctx) {
    // Deep enough for real scripts, shallow enough that the engine thread's stack (see cli)
    // never overflows: a runaway recursion ends with Rhai's clear error.
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH, MAX_EXPR_DEPTH / 2);
    crate::limits::apply(&ctx.settings().limits, engine);
    let out = ctx.output().clone();
    engine.on_print(move |s| out.println_script(s));
    let out = ctx.output().clone();
    engine.on_debug(move |s, src, pos| {
        let at = match (src, pos.line()) {
            (Some(src), Some(line)) => format!("{src}:{line}"),
            (None, Some(line)) => format!("line {line}"),
            _ => String::new(),
        };
        out.eprintln(&format!("[{at}] {s}"));
    });
    let c = ctx.clone();
    engine.on_progress(move |_| c.is_interrupted().then(|| Dynamic::from(INTERRUPTED)));
}

/// Why an evaluation did not succeed.
#[derive(Debug)]
pub enum ScriptError {
    /// The runtime could not start.
    Setup(String),
    /// A script error (parse or runtime), rendered with file:line:col and the source line.
    Script(Diagnostic),
    /// Ctrl-C.
    Interrupted,
    /// The script called `exit_with(code, message)`.
    Exit {
        /// The process exit code.
        code: u8,
        /// What to print on stderr.
        message: String,
    },
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScriptError::Setup(msg) => write!(f, "error: {msg}"),
            ScriptError::Script(d) => write!(f, "{d}"),
            ScriptError::Interrupted => write!(f, "interrupted"),
            ScriptError::Exit { message, .. } if message.is_empty() => Ok(()),
            ScriptError::Exit { message, .. } => writeln!(f, "{}", message.trim_end()),
        }
    }
}

/// A running workbench: engine, scope and runtime. Dropping it cancels whatever the scripts
/// left running in the background and waits for it to clean up.
pub struct Session {
    engine: Engine,
    ctx: Ctx,
    /// Whether the primitives carry their docs (see [`Workbench::without_docs`]).
    docs: bool,
    families: Vec<Family>,
    stdlib_dir: Option<PathBuf>,
    scope: Scope<'static>,
    functions: AST,
    /// Where each script-defined function came from (source name), for diagnostics.
    fn_sources: HashMap<String, String>,
    /// The texts of earlier REPL inputs, for diagnostics in functions they defined.
    texts: HashMap<String, String>,
}

impl Session {
    /// The shared context (runtime, cancellation, output).
    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    /// The engine, for hosts that register more functions.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The stdlib folder that overrides the embedded stdlib (`--stdlib DIR`), if any.
    pub fn stdlib_dir(&self) -> Option<&Path> {
        self.stdlib_dir.as_deref()
    }

    /// The primitive families registered.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The lab checks recorded so far (`lab::check`), in order.
    pub fn checks(&self) -> Vec<crate::journal::checks::Check> {
        self.ctx.ext::<crate::journal::checks::CheckLog>().all()
    }

    /// The variables in scope (for REPL completion).
    pub fn scope(&self) -> &Scope<'static> {
        &self.scope
    }

    /// Relative paths and imports resolve against `dir` from now on.
    pub fn set_script_dir(&mut self, dir: &Path) {
        self.ctx.set_script_dir(dir.to_path_buf());
        self.engine
            .set_module_resolver(crate::stdlib::resolver(self.stdlib_dir.as_deref(), dir));
    }

    /// Runs a script file; `args` become the array `ARGS`. A `#!` first line is ignored.
    pub fn run_file(&mut self, path: &Path, args: Vec<String>) -> Result<Dynamic, ScriptError> {
        let source_name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ScriptError::Script(Diagnostic::plain(format!("cannot read {source_name}: {e}")))
        })?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        self.set_script_dir(&dir);
        self.define_args(args);
        let ast = self.compile(&source_name, &text)?;
        self.remember(&source_name, &text, &ast);
        self.eval_ast(&ast, &source_name, &text)
    }

    /// Compiles `text` named `source_name` (a `#!` first line is blanked, keeping line numbers).
    pub fn compile(&self, source_name: &str, text: &str) -> Result<AST, ScriptError> {
        let text = strip_shebang(text);
        let mut ast = self
            .engine
            .compile_with_scope(&self.scope, &text)
            .map_err(|e| ScriptError::Script(diagnostics::from_parse(e, source_name, &text)))?;
        ast.set_source(source_name);
        Ok(ast)
    }

    /// Evaluates one REPL input: function definitions, variables and imports persist between
    /// calls. Records in the result (packets, events, …) come back as the maps they hold.
    pub fn eval(&mut self, source_name: &str, text: &str) -> Result<Dynamic, ScriptError> {
        let ast = self.compile(source_name, text)?;
        self.remember(source_name, text, &ast);
        self.functions += ast.clone_functions_only();
        let merged = self.functions.merge(&ast);
        let result = self.eval_ast(&merged, source_name, text);
        if result.is_ok() {
            self.keep_imports(&ast);
        }
        // Records (packets, events, …) reach Rust as the maps they hold.
        result.map(|v| crate::records::records_to_maps(&v))
    }

    /// Defines the constant array `ARGS` (a script's arguments; empty at the REPL, so a
    /// script `:load`ed there finds it).
    pub fn define_args(&mut self, args: Vec<String>) {
        let args: Array = args.into_iter().map(Dynamic::from).collect();
        self.scope.push_constant("ARGS", args);
    }

    /// Makes every stdlib module (`lab`, `verdicts`, `flows`, `args`) available under its
    /// own name without an `import`, as the REPL does: `lab::check(…)` works at the prompt.
    /// A module that does not resolve (an on-disk override with an error) is left out; its
    /// `import` says why.
    pub fn import_stdlib(&mut self) {
        for name in crate::stdlib::module_names() {
            let resolved = self.engine.module_resolver().resolve(
                &self.engine,
                None,
                name,
                rhai::Position::NONE,
            );
            if let Ok(module) = resolved {
                self.engine.register_static_module(name, module);
            }
        }
    }

    /// Rhai forgets `import`s between evaluations: the modules an input imported stay
    /// available to later inputs as static modules under their alias. The engine's resolvers
    /// cache modules, so this finds the module the input imported without running it again.
    fn keep_imports(&mut self, ast: &AST) {
        for stmt in ast.statements() {
            let rhai::Stmt::Import(import, pos) = stmt else {
                continue;
            };
            let (rhai::Expr::StringConstant(path, _), alias) = &**import else {
                continue;
            };
            if alias.name.is_empty() {
                continue;
            }
            let resolved =
                self.engine
                    .module_resolver()
                    .resolve(&self.engine, ast.source(), path, *pos);
            if let Ok(module) = resolved {
                self.engine
                    .register_static_module(alias.name.as_str(), module);
            }
        }
    }

    /// Runs a file into the current scope (the REPL's `:load FILE`); its imports and relative
    /// paths resolve from its folder while it runs.
    pub fn load_file(&mut self, path: &Path) -> Result<Dynamic, ScriptError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ScriptError::Script(Diagnostic::plain(format!("cannot read {name}: {e}")))
        })?;
        let previous = self.ctx.script_dir();
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        self.set_script_dir(&std::fs::canonicalize(&dir).unwrap_or(dir));
        let result = self.eval(&name, &strip_shebang(&text));
        self.set_script_dir(&previous);
        result
    }

    /// Forgets every variable, function and import (the REPL's `:reset`): a fresh engine
    /// with the same primitives and settings. Functions a host registered are gone too.
    pub fn reset(&mut self) {
        self.engine = new_engine(&self.ctx, &self.families, self.docs);
        let dir = self.ctx.script_dir();
        self.set_script_dir(&dir);
        self.scope = Scope::new();
        self.functions = AST::empty();
        self.fn_sources.clear();
        self.texts.clear();
    }

    fn remember(&mut self, source_name: &str, text: &str, ast: &AST) {
        for f in ast.iter_functions() {
            self.fn_sources
                .insert(f.name.to_string(), source_name.to_string());
        }
        self.texts.insert(source_name.to_string(), text.to_string());
    }

    fn eval_ast(
        &mut self,
        ast: &AST,
        source_name: &str,
        text: &str,
    ) -> Result<Dynamic, ScriptError> {
        self.ctx.begin_eval();
        // Primitives build futures (timers, I/O) on the engine thread: they need the runtime
        // entered, even though they are driven by `Handle::block_on`. A runtime that is not
        // running yet is entered by the primitive that starts it, until the evaluation ends.
        if self.ctx.started_runtime().is_none() && calls_anything(ast) {
            self.ctx.runtime();
        }
        let runtime = self.ctx.started_runtime().cloned();
        let _entered = runtime.as_ref().map(|r| r.enter());
        let _scope = crate::context::EvalScope::begin();
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, ast);
        result.map_err(|err| self.script_error(err, source_name, text))
    }

    fn script_error(&self, err: Box<EvalAltResult>, source_name: &str, text: &str) -> ScriptError {
        if let Some(exit) = crate::errors::exit_request(&err) {
            return ScriptError::Exit {
                code: exit.code,
                message: exit.message,
            };
        }
        if is_interrupted(&err) || self.ctx.is_interrupted() {
            return ScriptError::Interrupted;
        }
        let mut sources = diagnostics::Sources::new(source_name, text);
        sources.dirs =
            crate::stdlib::search_dirs(self.stdlib_dir.as_deref(), &self.ctx.script_dir());
        sources.fn_sources = self.fn_sources.clone();
        sources.texts = self.texts.clone();
        sources.limits = self.ctx.settings().limits;
        sources.verbose = self.ctx.settings().verbose;
        sources.call_help = Some((crate::signatures::lookup, crate::signatures::names));
        ScriptError::Script(diagnostics::render(&err, &sources))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.ctx.shutdown(Duration::from_secs(5));
        if let Some(rt) = self.ctx.take_owned_runtime() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// Whether `ast` calls a function (other than an operator) or imports a module anywhere,
/// function bodies included: only then may a primitive need the runtime, which is started
/// before the evaluation. A script of plain expressions (or an empty one) runs without it.
fn calls_anything(ast: &AST) -> bool {
    use rhai::{ASTNode, Expr, Stmt};
    let mut found = false;
    ast.walk(&mut |path: &[ASTNode]| {
        found = match path.last() {
            Some(ASTNode::Stmt(Stmt::Import(..))) => true,
            Some(ASTNode::Stmt(Stmt::FnCall(call, _))) => call.op_token.is_none(),
            Some(ASTNode::Expr(Expr::FnCall(call, _))) => call.op_token.is_none(),
            Some(ASTNode::Expr(Expr::MethodCall(..))) => true,
            _ => false,
        };
        !found
    });
    found || ast.iter_fn_def().next().is_some()
}

/// Blanks a `#!` first line so scripts can be executable; line numbers stay the same.
pub fn strip_shebang(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with("#!") {
        let end = text.find('\n').unwrap_or(text.len());
        std::borrow::Cow::Owned(text[end..].to_string())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}
