//! The stdlib (`import "lab" as lab;`): Rhai modules embedded in the binary, overridable by an
//! on-disk `stdlib/` folder next to the script or by `--stdlib DIR`. Embedded modules are
//! compiled on first import only, so startup does not pay for them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rhai::module_resolvers::{FileModuleResolver, ModuleResolversCollection};
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

type SharedModule = Shared<Module>;

/// The stdlib modules shipped in the binary: (import path, source name, source).
pub const EMBEDDED: &[(&str, &str, &str)] = &[
    ("lab", "stdlib/lab.rhai", include_str!("../stdlib/lab.rhai")),
    (
        "verdicts",
        "stdlib/verdicts.rhai",
        include_str!("../stdlib/verdicts.rhai"),
    ),
    (
        "flows",
        "stdlib/flows.rhai",
        include_str!("../stdlib/flows.rhai"),
    ),
];

/// The stdlib modules written in Rust: `import "args" as args;` gets the `args` primitives
/// (`crate::primitives::args`), which replaced `stdlib/args.rhai`.
pub const NATIVE: &[&str] = &["args"];

/// Every module `import` finds in the stdlib without a file: the embedded ones, then the
/// native ones.
pub fn module_names() -> Vec<&'static str> {
    EMBEDDED
        .iter()
        .map(|(p, _, _)| *p)
        .chain(NATIVE.iter().copied())
        .collect()
}

/// The embedded source of a stdlib file, by its source name (`stdlib/lab.rhai`), for diagnostics.
pub fn embedded_source(source_name: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(_, name, _)| *name == source_name)
        .map(|(_, _, src)| *src)
}

/// The source name of the embedded module imported as `path` (`lab` → `stdlib/lab.rhai`).
pub fn embedded_name(path: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(p, _, _)| *p == path)
        .map(|(_, name, _)| *name)
}

/// Compiles and evaluates the embedded module imported as `path` (`lab`).
pub fn compile_module(engine: &Engine, path: &str) -> Result<SharedModule, Box<EvalAltResult>> {
    let (_, name, src) = EMBEDDED
        .iter()
        .find(|(p, _, _)| *p == path)
        .ok_or_else(|| {
            Box::new(EvalAltResult::ErrorModuleNotFound(
                path.to_string(),
                Position::NONE,
            ))
        })?;
    let mut ast = engine.compile(*src)?;
    ast.set_source(*name);
    let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)?;
    Ok(Arc::new(module))
}

/// Where `import` looks for files, in the resolver's order (for diagnostics).
pub fn search_dirs(stdlib_dir: Option<&Path>, script_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = stdlib_dir {
        dirs.push(dir.to_path_buf());
    }
    let local = script_dir.join("stdlib");
    if local.is_dir() {
        dirs.push(local);
    }
    dirs.push(script_dir.to_path_buf());
    dirs
}

/// The native stdlib module imported as `path`, if there is one (see [`NATIVE`]).
fn native_module(path: &str) -> Option<Module> {
    match path {
        "args" => Some(crate::primitives::args::module()),
        _ => None,
    }
}

/// Where an `import` finds its module's source, found without running it (for `labsh check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleSource {
    /// An embedded stdlib module: its source name (`stdlib/lab.rhai`) and text.
    Embedded {
        /// The source name diagnostics show.
        name: &'static str,
        /// The module's source.
        text: &'static str,
    },
    /// A `.rhai` file.
    File(PathBuf),
}

/// The source `import "path"` loads in a script in `script_dir`, in [`resolver`]'s order:
/// `--stdlib DIR`, `script_dir/stdlib/`, the embedded stdlib, then files relative to the
/// script (Rhai's file resolver forces the `.rhai` extension). `None` when nothing matches.
pub fn locate(stdlib_dir: Option<&Path>, script_dir: &Path, path: &str) -> Option<ModuleSource> {
    let file = Path::new(path).with_extension("rhai");
    let in_dir = |dir: &Path| Some(dir.join(&file)).filter(|p| p.is_file());
    if let Some(found) = stdlib_dir.and_then(in_dir) {
        return Some(ModuleSource::File(found));
    }
    let local = script_dir.join("stdlib");
    if local.is_dir()
        && let Some(found) = in_dir(&local)
    {
        return Some(ModuleSource::File(found));
    }
    if let Some((_, name, text)) = EMBEDDED.iter().find(|(p, _, _)| *p == path) {
        return Some(ModuleSource::Embedded { name, text });
    }
    in_dir(script_dir).map(ModuleSource::File)
}

/// Resolves `import "lab"` to the embedded stdlib (and `import "args"` to the native module).
#[derive(Default)]
pub struct EmbeddedResolver {
    cache: Mutex<HashMap<String, SharedModule>>,
}

impl ModuleResolver for EmbeddedResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        if let Some(m) = self.cache.lock().expect("stdlib cache").get(path) {
            return Ok(m.clone());
        }
        if let Some(module) = native_module(path) {
            let shared: SharedModule = Arc::new(module);
            self.cache
                .lock()
                .expect("stdlib cache")
                .insert(path.to_string(), shared.clone());
            return Ok(shared);
        }
        let module = compile_module(engine, path).map_err(|e| match *e {
            EvalAltResult::ErrorModuleNotFound(p, _) => {
                Box::new(EvalAltResult::ErrorModuleNotFound(p, pos))
            }
            other => Box::new(EvalAltResult::ErrorInModule(
                embedded_name(path).unwrap_or(path).to_string(),
                Box::new(other),
                pos,
            )),
        })?;
        let shared: SharedModule = module;
        self.cache
            .lock()
            .expect("stdlib cache")
            .insert(path.to_string(), shared.clone());
        Ok(shared)
    }
}

/// The module resolver for a script in `script_dir`: `--stdlib DIR` first, then
/// `script_dir/stdlib/`, then the embedded stdlib, then files relative to the script.
pub fn resolver(stdlib_dir: Option<&Path>, script_dir: &Path) -> ModuleResolversCollection {
    let mut chain = ModuleResolversCollection::new();
    if let Some(dir) = stdlib_dir {
        chain.push(FileModuleResolver::new_with_path(dir));
    }
    let local: PathBuf = script_dir.join("stdlib");
    if local.is_dir() {
        chain.push(FileModuleResolver::new_with_path(local));
    }
    chain.push(EmbeddedResolver::default());
    chain.push(FileModuleResolver::new_with_path(script_dir));
    chain
}
