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
        "args",
        "stdlib/args.rhai",
        include_str!("../stdlib/args.rhai"),
    ),
];

/// The embedded source of a stdlib file, by its source name (`stdlib/lab.rhai`), for diagnostics.
pub fn embedded_source(source_name: &str) -> Option<&'static str> {
    EMBEDDED
        .iter()
        .find(|(_, name, _)| *name == source_name)
        .map(|(_, _, src)| *src)
}

/// Resolves `import "lab"` to the embedded stdlib.
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
        let (_, name, src) = EMBEDDED
            .iter()
            .find(|(p, _, _)| *p == path)
            .ok_or_else(|| Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos)))?;
        let mut ast = engine.compile(*src).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(
                name.to_string(),
                Box::new(e.into()),
                pos,
            ))
        })?;
        ast.set_source(*name);
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(name.to_string(), e, pos)))?;
        let shared: SharedModule = Arc::new(module);
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
