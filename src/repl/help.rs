//! `help()` and `help("kube::apply")` in the REPL: the modules, then one function's doc with
//! its example, from the doc comments the families register.

use std::collections::{BTreeMap, BTreeSet};

use rhai::NativeCallContext;

use crate::catalog::Catalog;
use crate::primitives::Family;
use crate::workbench::Session;

/// The overview `help()` prints.
pub fn overview(catalog: &Catalog) -> String {
    let mut out = String::from(
        "labsh: Rhai with lab primitives. Modules (help(\"MODULE\") lists a module's functions,\nhelp(\"MODULE::NAME\") shows one with its example):\n",
    );
    let width = catalog.modules.keys().map(String::len).max().unwrap_or(0);
    for (name, summary) in &catalog.modules {
        out.push_str(&format!("  {name:width$}  {summary}\n"));
    }
    let (globals, methods) = globals_and_methods(catalog);
    out.push_str(&format!(
        "Global functions: {}\n",
        globals.into_iter().collect::<Vec<_>>().join(", ")
    ));
    if !methods.is_empty() {
        out.push_str("Methods (value.name(…)), by type:\n");
        for (type_name, names) in methods {
            let names: Vec<String> = names.into_iter().collect();
            out.push_str(&format!("  {type_name}: {}\n", names.join(", ")));
        }
    }
    out.push_str("REPL commands: :load FILE, :reset, :quit (or Ctrl-D). Tab completes.\n");
    out
}

/// The documented global functions, and the methods grouped under the type they belong to
/// (`Node: exec, host_veth, …`): a global whose first parameter is a labsh type (not one of
/// Rhai's own value types) is that type's method. Operators (`==`) are left out.
fn globals_and_methods(
    catalog: &Catalog,
) -> (BTreeSet<String>, BTreeMap<String, BTreeSet<String>>) {
    let mut globals = BTreeSet::new();
    let mut methods: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in catalog.globals() {
        if !f.name.starts_with(|c: char| c.is_alphabetic() || c == '_') {
            continue;
        }
        match f.first_type().filter(|t| !is_rhai_type(t)) {
            Some(type_name) => {
                methods.entry(type_name).or_default().insert(f.name.clone());
            }
            None => {
                globals.insert(f.name.clone());
            }
        }
    }
    (globals, methods)
}

/// Rhai's own value types (`i64`, `String`, `Map`, …), as its metadata names them.
fn is_rhai_type(t: &str) -> bool {
    const RHAI: &[&str] = &[
        "?",
        "Dynamic",
        "String",
        "ImmutableString",
        "Array",
        "Map",
        "Blob",
        "FnPtr",
        "INT",
        "FLOAT",
        "Instant",
        "Range",
        "RangeInclusive",
    ];
    t.is_empty() || t.starts_with(|c: char| !c.is_ascii_uppercase()) || RHAI.contains(&t)
}

/// The text `help(name)` prints.
pub fn about(catalog: &Catalog, name: &str) -> String {
    match crate::api::describe(catalog, name) {
        Some(text) => text,
        None => {
            let near = crate::api::suggestions(catalog, name);
            if near.is_empty() {
                format!("no function or module named `{name}`; help() lists the modules\n")
            } else {
                format!(
                    "no function or module named `{name}`; did you mean: {}\n",
                    near.join(", ")
                )
            }
        }
    }
}

const HELP_DOC: &str = "Lists the modules (REPL only); `help(\"NAME\")` shows a module's functions or one\nfunction's doc with its example.\n\n```rhai\nhelp();\nhelp(\"fs::read\");\n```";

/// Registers `help()` and `help(name)` in the session's engine.
pub fn install(session: &mut Session) {
    let families: Vec<Family> = session.families().to_vec();
    let out = session.ctx().output().clone();
    let (f, o) = (families.clone(), out.clone());
    rhai::FuncRegistration::new("help")
        .with_params_info(["()"])
        .with_comments([crate::primitives::doc_comment(HELP_DOC)])
        .register_into_engine(session.engine_mut(), move |ctx: NativeCallContext| {
            let catalog = Catalog::of(ctx.engine(), &f, false);
            o.println(overview(&catalog).trim_end());
        });
    rhai::FuncRegistration::new("help")
        .with_params_info(["name: String", "()"])
        .with_comments([crate::primitives::doc_comment(HELP_DOC)])
        .register_into_engine(
            session.engine_mut(),
            move |ctx: NativeCallContext, name: &str| {
                let catalog = Catalog::of(ctx.engine(), &families, false);
                out.println(about(&catalog, name).trim_end());
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::FnDoc;

    fn global(name: &str, params: &[&str]) -> FnDoc {
        FnDoc {
            module: None,
            name: name.to_string(),
            params: params.iter().map(|p| p.to_string()).collect(),
            ret: String::new(),
            doc: String::new(),
        }
    }

    #[test]
    fn methods_are_listed_under_their_type_and_operators_left_out() {
        let catalog = Catalog {
            functions: vec![
                global("sleep", &["duration: Dynamic"]),
                global("exit_with", &["code: i64", "message: String"]),
                global("help", &[]),
                global("exec", &["node: Node", "argv: Array"]),
                global("host_veth", &["node: Node"]),
                global("==", &["&mut Node", "Node"]),
                global("stop", &["cap: Capture"]),
                global("get$name", &["&mut Node"]),
            ],
            modules: Default::default(),
        };
        let text = overview(&catalog);
        assert!(
            text.contains(
                "Global functions: exit_with, help, sleep\nMethods (value.name(…)), by type:\n  Capture: stop\n  Node: exec, host_veth\n"
            ),
            "{text}"
        );
    }
}
