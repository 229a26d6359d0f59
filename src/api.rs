//! `labsh api [NAME]` and `labsh api --definitions DIR`: the primitives as a reference, and
//! as Rhai definition files (`.d.rhai`) so editors with the Rhai language server complete
//! labsh functions.

use std::path::Path;

use crate::catalog::{Catalog, FnDoc};
use crate::exit_code::EXIT_FAILURE;
use crate::stdio;
use crate::workbench::Session;

/// `labsh api [NAME] [--definitions DIR]`; returns the exit code.
pub fn execute(session: &mut Session, name: Option<&str>, definitions: Option<&Path>) -> u8 {
    if let Some(dir) = definitions {
        return match write_definitions(session, dir) {
            Ok(()) => {
                stdio::errln(&format!("wrote Rhai definitions into {}", dir.display()));
                0
            }
            Err(msg) => {
                stdio::errln(&format!("error: {msg}"));
                EXIT_FAILURE
            }
        };
    }
    let catalog = Catalog::of(session.engine(), session.families(), false);
    match name {
        None => {
            stdio::out(&list(&catalog));
            0
        }
        Some(name) => match describe(&catalog, name) {
            Some(text) => {
                stdio::out(&text);
                0
            }
            None => {
                stdio::errln(&format!("error: no primitive or module named `{name}`"));
                let near = suggestions(&catalog, name);
                if !near.is_empty() {
                    stdio::errln(&format!("help: did you mean: {}", near.join(", ")));
                }
                EXIT_FAILURE
            }
        },
    }
}

/// One line per function (`signature  # summary`), then the properties of labsh's types
/// (`Node.ip -> String`).
pub fn list(catalog: &Catalog) -> String {
    let mut out = String::new();
    for f in catalog.functions.iter().filter(|f| !f.name.contains('$')) {
        out.push_str(&line(f));
    }
    for f in catalog.functions.iter().filter(|f| f.property().is_some()) {
        out.push_str(&line(f));
    }
    out
}

fn line(f: &FnDoc) -> String {
    let head = match (f.property(), f.first_type()) {
        (Some(prop), Some(owner)) if f.ret.is_empty() => format!("{owner}.{prop}"),
        (Some(prop), Some(owner)) => format!("{owner}.{prop} -> {}", f.ret),
        _ => f.signature(),
    };
    let summary = f.summary();
    if summary.is_empty() {
        format!("{head}\n")
    } else {
        format!("{head}  # {summary}\n")
    }
}

/// The whole doc of function `name` (every overload), or the list of module `name`'s
/// functions; `None` when nothing has that name.
pub fn describe(catalog: &Catalog, name: &str) -> Option<String> {
    let overloads = catalog.lookup(name);
    if !overloads.is_empty() {
        let mut out = String::new();
        let mut last_doc = "";
        for f in &overloads {
            out.push_str(&f.signature());
            out.push('\n');
            if f.doc != last_doc && !f.doc.is_empty() {
                out.push('\n');
                out.push_str(&f.doc);
                out.push_str("\n\n");
                last_doc = &f.doc;
            }
        }
        return Some(out.trim_end().to_string() + "\n");
    }
    let functions = catalog.in_module(name);
    if functions.is_empty() {
        return None;
    }
    let mut out = String::new();
    if let Some(summary) = catalog.modules.get(name).filter(|s| !s.is_empty()) {
        out.push_str(&format!("{name}: {summary}\n\n"));
    }
    for f in functions {
        out.push_str(&line(f));
    }
    Some(out)
}

/// Names close to `name`, for "did you mean".
pub fn suggestions(catalog: &Catalog, name: &str) -> Vec<String> {
    let key = name.rsplit("::").next().unwrap_or(name);
    // `yaml::parse_al` suggests from `yaml` when that module exists.
    let module = name
        .rsplit_once("::")
        .map(|(m, _)| m)
        .filter(|m| catalog.modules.contains_key(*m));
    let mut names: Vec<String> = catalog
        .functions
        .iter()
        .filter(|f| module.is_none() || f.module.as_deref() == module)
        .filter(|f| !f.name.contains('$') && (f.name.contains(key) || key.contains(&f.name)))
        .map(FnDoc::qualified)
        .collect();
    names.extend(
        catalog
            .modules
            .keys()
            .filter(|m| m.contains(key) || key.contains(m.as_str()))
            .cloned(),
    );
    names.sort();
    names.dedup();
    names.truncate(8);
    names
}

/// Writes `.d.rhai` definition files for the primitives and the embedded stdlib into `dir`.
pub fn write_definitions(session: &mut Session, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (module, name, _) in crate::stdlib::EMBEDDED {
        let m = crate::stdlib::compile_module(session.engine(), module)
            .map_err(|e| format!("cannot compile {name}: {e}"))?;
        session.engine_mut().register_static_module(*module, m);
    }
    session
        .engine()
        .definitions()
        .with_headers(true)
        .write_to_dir(dir)
        .map_err(|e| format!("cannot write definitions into {}: {e}", dir.display()))?;
    // Rhai writes script modules without their doc comments and with an empty return
    // type: the stdlib's files are written from the catalog instead.
    let catalog = Catalog::of(session.engine(), session.families(), false);
    for (module, _, _) in crate::stdlib::EMBEDDED {
        let path = dir.join(format!("{module}.d.rhai"));
        std::fs::write(&path, script_module_definitions(&catalog, module))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The `.d.rhai` text of a script module: doc comments, then `fn name(p: ?) -> ?;`.
fn script_module_definitions(catalog: &Catalog, module: &str) -> String {
    let mut out = format!("module {module};\n");
    for f in catalog.in_module(module) {
        out.push('\n');
        for line in f.doc.lines() {
            if line.is_empty() {
                out.push_str("///\n");
            } else {
                out.push_str(&format!("/// {line}\n"));
            }
        }
        let params: Vec<String> = f.params.iter().map(|p| format!("{p}: ?")).collect();
        out.push_str(&format!("fn {}({}) -> ?;\n", f.name, params.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(module: Option<&str>, name: &str, params: &[&str], ret: &str, doc: &str) -> FnDoc {
        FnDoc {
            module: module.map(str::to_string),
            name: name.into(),
            params: params.iter().map(|p| p.to_string()).collect(),
            ret: ret.into(),
            doc: doc.into(),
        }
    }

    #[test]
    fn list_shows_functions_then_properties_of_types() {
        let catalog = Catalog {
            functions: vec![
                doc(None, "get$ip", &["node: Node"], "String", "The node's IP."),
                doc(
                    Some("fs"),
                    "read",
                    &["path: String"],
                    "String",
                    "Reads a file.",
                ),
            ],
            ..Catalog::default()
        };
        assert_eq!(
            list(&catalog),
            "fs::read(path: String) -> String  # Reads a file.\nNode.ip -> String  # The node's IP.\n"
        );
    }
}
