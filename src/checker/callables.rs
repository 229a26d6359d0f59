//! What a script can call without importing anything: the engine's global functions (Rhai's
//! standard packages, labsh's globals and methods) and its static modules (`kube::`, `fs::`,
//! …), each name with the argument counts its overloads take. Read from the engine's own
//! function metadata, so it is always the set the run will see.

use std::collections::{BTreeMap, BTreeSet};

use rhai::{Engine, FnAccess, FnNamespace};

/// Rhai's keyword functions: handled by the engine itself, with any number of arguments.
pub const KEYWORDS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "eval",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_var",
    "is_def_fn",
];

/// Names → the argument counts of their overloads.
pub type Arities = BTreeMap<String, BTreeSet<usize>>;

/// The functions callable by name (`len`, `sleep`) and by module (`kube::apply`).
#[derive(Debug, Default)]
pub struct Callables {
    /// Global functions and methods (a method's receiver counts as its first argument).
    pub globals: Arities,
    /// Static module → its public functions.
    pub modules: BTreeMap<String, Arities>,
}

impl Callables {
    /// Everything `engine` can call, standard packages included.
    pub fn of(engine: &Engine) -> Callables {
        let entries = engine.collect_fn_metadata(
            None,
            |info| {
                let m = info.metadata;
                (m.access != FnAccess::Private).then(|| {
                    (
                        info.namespace.to_string(),
                        m.name.to_string(),
                        m.num_params,
                        m.namespace == FnNamespace::Global,
                    )
                })
            },
            true,
        );
        let mut callables = Callables::default();
        for (namespace, name, arity, global) in entries {
            if namespace.is_empty() || global {
                callables
                    .globals
                    .entry(name.clone())
                    .or_default()
                    .insert(arity);
            }
            if !namespace.is_empty() {
                callables
                    .modules
                    .entry(namespace)
                    .or_default()
                    .entry(name)
                    .or_default()
                    .insert(arity);
            }
        }
        callables
    }

    /// Whether `name` is a keyword function (any arity).
    pub fn is_keyword(name: &str) -> bool {
        KEYWORDS.contains(&name)
    }
}
