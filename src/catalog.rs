//! What scripts can call, with docs: the primitives registered in the engine (from Rhai's
//! function metadata) and the embedded stdlib's functions. It feeds `labsh api`, the REPL's
//! `help()` and its completion. Built on demand, never at startup.

use std::collections::BTreeMap;

use rhai::Engine;

use crate::primitives::Family;

/// One function (one overload) and its documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnDoc {
    /// The module (`kube`), or `None` for a global function or method.
    pub module: Option<String>,
    /// The function's name (`apply`; `get$ip` for a property getter).
    pub name: String,
    /// Parameters as `name: Type` (or just `Type`).
    pub params: Vec<String>,
    /// Return type, empty when unknown.
    pub ret: String,
    /// The doc text (without `///`).
    pub doc: String,
}

impl FnDoc {
    /// `kube::apply` or `sleep`.
    pub fn qualified(&self) -> String {
        match &self.module {
            Some(m) => format!("{m}::{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `kube::apply(x: Dynamic, opts: Map) -> Array`.
    pub fn signature(&self) -> String {
        let ret = if self.ret.is_empty() || self.ret == "()" {
            String::new()
        } else {
            format!(" -> {}", self.ret)
        };
        format!("{}({}){ret}", self.qualified(), self.params.join(", "))
    }

    /// The doc's first sentence (or line).
    pub fn summary(&self) -> String {
        let first = self
            .doc
            .split("\n\n")
            .next()
            .unwrap_or("")
            .replace('\n', " ");
        match first.find(". ") {
            Some(i) => first[..=i].to_string(),
            None => first.trim().to_string(),
        }
    }

    /// The property a getter (`get$ip`) gives, if this is one.
    pub fn property(&self) -> Option<&str> {
        self.name.strip_prefix("get$")
    }

    /// The type of the first parameter (the receiver when called as a method).
    pub fn first_type(&self) -> Option<String> {
        self.params.first().map(|p| {
            let t = p.rsplit(':').next().unwrap_or(p).trim();
            t.trim_start_matches("&mut ").to_string()
        })
    }
}

/// A stdlib module's summary: its opening comment line (`// lab: the mechanics …`) without
/// the module name, and where it comes from.
fn stdlib_summary(module: &str, source_name: &str, source: &str) -> String {
    let first = source
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("//"))
        .map(str::trim)
        .unwrap_or_default();
    let text = first
        .strip_prefix(module)
        .and_then(|rest| rest.strip_prefix(':'))
        .map(str::trim)
        .unwrap_or(first);
    if text.is_empty() {
        format!("stdlib ({source_name})")
    } else {
        format!("{} (stdlib, {source_name})", text.trim_end_matches('.'))
    }
}

/// Every documented function, plus a one-line summary per module.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Functions, sorted by module then name.
    pub functions: Vec<FnDoc>,
    /// Module name → summary.
    pub modules: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonModule {
    #[serde(default)]
    modules: BTreeMap<String, JsonModule>,
    #[serde(default)]
    functions: Vec<JsonFn>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonFn {
    name: String,
    #[serde(default)]
    params: Vec<JsonParam>,
    #[serde(default)]
    return_type: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(serde::Deserialize)]
struct JsonParam {
    name: Option<String>,
    #[serde(rename = "type")]
    typ: Option<String>,
}

/// Doc-comment blocks (`/// …` lines) to plain text.
pub fn doc_text<S: AsRef<str>>(comments: &[S]) -> String {
    comments
        .iter()
        .flat_map(|c| c.as_ref().lines().map(str::to_string).collect::<Vec<_>>())
        .map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("///").unwrap_or(l);
            l.strip_prefix(' ').unwrap_or(l).to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn param_text(name: Option<&str>, typ: Option<&str>) -> String {
    match (name, typ) {
        (Some(n), Some(t)) if n != "_" => format!("{n}: {t}"),
        (Some(n), None) => n.to_string(),
        (_, Some(t)) => t.to_string(),
        _ => "_".to_string(),
    }
}

impl Catalog {
    /// The catalog of `engine`'s registered primitives, the embedded stdlib and the families'
    /// summaries.
    /// With `include_standard`, Rhai's own functions (`len`, `keys`, …) are included too.
    pub fn of(engine: &Engine, families: &[Family], include_standard: bool) -> Catalog {
        let mut catalog = Catalog::default();
        if let Ok(json) = engine.gen_fn_metadata_to_json(include_standard)
            && let Ok(root) = serde_json::from_str::<JsonModule>(&json)
        {
            for f in root.functions {
                catalog.push(None, f);
            }
            for (name, m) in root.modules {
                catalog.modules.entry(name.clone()).or_default();
                for f in m.functions {
                    catalog.push(Some(&name), f);
                }
            }
        }
        for family in families {
            if family.name.is_empty() {
                continue;
            }
            let entry = catalog.modules.entry(family.name.to_string()).or_default();
            if !entry.is_empty() {
                entry.push_str("; ");
            }
            entry.push_str(family.summary);
        }
        for (module, source_name, source) in crate::stdlib::EMBEDDED {
            catalog.modules.insert(
                module.to_string(),
                stdlib_summary(module, source_name, source),
            );
            if catalog
                .functions
                .iter()
                .any(|f| f.module.as_deref() == Some(module))
            {
                // Already registered as a static module (`labsh api --definitions`, the
                // REPL's stdlib).
                continue;
            }
            let Ok(ast) = engine.compile(source) else {
                continue;
            };
            // A private function cannot be called from outside its module.
            for f in ast
                .iter_functions()
                .filter(|f| f.access != rhai::FnAccess::Private)
            {
                catalog.functions.push(FnDoc {
                    module: Some(module.to_string()),
                    name: f.name.to_string(),
                    params: f.params.iter().map(|p| p.to_string()).collect(),
                    ret: String::new(),
                    doc: doc_text(&f.comments),
                });
            }
        }
        catalog.functions.sort_by(|a, b| {
            (a.module.is_some(), &a.module, &a.name, a.params.len()).cmp(&(
                b.module.is_some(),
                &b.module,
                &b.name,
                b.params.len(),
            ))
        });
        catalog
    }

    fn push(&mut self, module: Option<&str>, f: JsonFn) {
        self.functions.push(FnDoc {
            module: module.map(str::to_string),
            params: f
                .params
                .iter()
                .map(|p| param_text(p.name.as_deref(), p.typ.as_deref()))
                .collect(),
            ret: f.return_type,
            doc: doc_text(&f.doc_comments),
            name: f.name,
        });
    }

    /// The overloads of `kube::apply` (or global `sleep`).
    pub fn lookup(&self, qualified: &str) -> Vec<&FnDoc> {
        self.functions
            .iter()
            .filter(|f| f.qualified() == qualified)
            .collect()
    }

    /// The functions of `module`.
    pub fn in_module(&self, module: &str) -> Vec<&FnDoc> {
        self.functions
            .iter()
            .filter(|f| f.module.as_deref() == Some(module))
            .collect()
    }

    /// Documented global functions and methods (not property getters or operators).
    pub fn globals(&self) -> Vec<&FnDoc> {
        self.functions
            .iter()
            .filter(|f| f.module.is_none() && !f.name.contains('$'))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ```rhai blocks of a doc text.
    fn examples(doc: &str) -> Vec<&str> {
        doc.split("```rhai\n")
            .skip(1)
            .map(|rest| &rest[..rest.find("```").expect("a closed example")])
            .collect()
    }

    #[test]
    fn every_primitives_doc_example_compiles() {
        let session = crate::Workbench::new()
            .with_primitives(crate::primitives::all())
            .build()
            .unwrap();
        let catalog = Catalog::of(session.engine(), session.families(), false);
        let mut compiled = 0;
        for f in &catalog.functions {
            for code in examples(&f.doc) {
                if let Err(e) = session.engine().compile(code) {
                    panic!("{}: {e}\n{code}", f.signature());
                }
                compiled += 1;
            }
        }
        // Every primitive family documents its functions with examples.
        assert!(
            compiled >= 150,
            "only {compiled} examples found (188 when written)"
        );
    }

    #[test]
    fn doc_comments_lose_their_slashes() {
        assert_eq!(
            doc_text(&["/// Reads a file.\n///\n/// ```rhai\n/// fs::read(\"x\");\n/// ```"]),
            "Reads a file.\n\n```rhai\nfs::read(\"x\");\n```"
        );
    }

    #[test]
    fn summary_is_the_first_sentence() {
        let f = FnDoc {
            module: Some("fs".into()),
            name: "read".into(),
            params: vec!["path: String".into()],
            ret: "String".into(),
            doc: "Reads a text file. More here.\n\nExample".into(),
        };
        assert_eq!(f.summary(), "Reads a text file.");
        assert_eq!(f.signature(), "fs::read(path: String) -> String");
    }

    #[test]
    fn a_private_stdlib_function_is_not_in_the_catalog() {
        let session = crate::Workbench::new()
            .with_primitives(crate::primitives::all())
            .build()
            .expect("a session");
        let catalog = Catalog::of(session.engine(), session.families(), false);
        let has = |q: &str| !catalog.lookup(q).is_empty();
        assert!(has("lab::checklist"));
        assert!(has("flows::nodeport"));
        assert!(!has("flows::same"));
    }
}
