//! The rustyline helper: multi-line input decided by compiling the buffer, and completion of
//! module names, functions in a module, variables in scope and properties/methods of values.

use std::sync::{Arc, Mutex};

use rhai::Dynamic;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use crate::catalog::Catalog;

/// A variable in scope, as completion needs it.
#[derive(Debug, Clone)]
pub struct Var {
    /// Its name.
    pub name: String,
    /// Its value (maps give their keys as properties).
    pub value: Dynamic,
    /// Its type as scripts name it (`map`, `Node`).
    pub type_name: String,
}

/// What completion knows; refreshed after each input.
#[derive(Debug, Default)]
pub struct Known {
    /// Primitives, stdlib and standard functions.
    pub catalog: Catalog,
    /// Variables in scope.
    pub vars: Vec<Var>,
}

/// The REPL's rustyline helper.
pub struct LabHelper {
    /// Shared with the REPL loop, which refreshes the variables.
    pub known: Arc<Mutex<Known>>,
}

impl LabHelper {
    /// A helper completing from `known`.
    pub fn new(known: Arc<Mutex<Known>>) -> Self {
        LabHelper { known }
    }
}

const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "return", "throw", "try",
    "catch", "import", "as", "true", "false", "break", "continue", "switch",
];

/// Completion candidates for the word ending at `pos` in `line`: the replacement start and
/// the candidates.
pub fn candidates(known: &Known, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '.')))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[start..];
    let mut out: Vec<String> = Vec::new();
    let (replace_from, prefix) = if let Some(dot) = word.rfind('.') {
        let (base, prefix) = (&word[..dot], &word[dot + 1..]);
        out.extend(members(known, base, &before[..start]));
        (start + dot + 1, prefix)
    } else if let Some(sep) = word.rfind("::") {
        let (module, prefix) = (&word[..sep], &word[sep + 2..]);
        out.extend(
            known
                .catalog
                .in_module(module)
                .into_iter()
                .filter(|f| !f.name.contains('$'))
                .map(|f| format!("{}(", f.name)),
        );
        (start + sep + 2, prefix)
    } else {
        out.extend(known.catalog.modules.keys().map(|m| format!("{m}::")));
        out.extend(known.vars.iter().map(|v| v.name.clone()));
        out.extend(
            known
                .catalog
                .globals()
                .into_iter()
                .map(|f| format!("{}(", f.name)),
        );
        out.extend(KEYWORDS.iter().map(|k| k.to_string()));
        out.extend(["help(".to_string()]);
        (start, word)
    };
    out.retain(|c| c.starts_with(prefix));
    out.sort();
    out.dedup();
    (replace_from, out)
}

/// Properties and methods of the value named by `base` (`r`, `r.metadata`): a variable in
/// scope, or one the line being typed defines with a literal (`let word = "hello"; word.`).
fn members(known: &Known, base: &str, earlier: &str) -> Vec<String> {
    let mut parts = base.split('.');
    let Some(name) = parts.next() else {
        return Vec::new();
    };
    let (mut value, mut type_name) = match known.vars.iter().find(|v| v.name == name) {
        Some(var) => (
            crate::records::records_to_maps(&var.value),
            var.type_name.clone(),
        ),
        None => match literal_type(earlier, name) {
            Some(t) => (Dynamic::UNIT, t.to_string()),
            None => return Vec::new(),
        },
    };
    for part in parts {
        let next = value
            .read_lock::<rhai::Map>()
            .and_then(|m| m.get(part).cloned());
        match next {
            Some(v) => {
                type_name = script_type(&v);
                value = v;
            }
            None => return Vec::new(),
        }
    }
    let mut out: Vec<String> = Vec::new();
    if let Some(map) = value.read_lock::<rhai::Map>() {
        out.extend(map.keys().map(|k| k.to_string()));
    }
    for f in &known.catalog.functions {
        if f.module.is_some() {
            continue;
        }
        let Some(first) = f.first_type() else {
            continue;
        };
        if !receiver_type(&first).eq_ignore_ascii_case(&type_name) {
            continue;
        }
        if let Some(prop) = f.property() {
            out.push(prop.to_string());
        } else if !f.name.contains('$') && f.name.chars().next().is_some_and(char::is_alphabetic) {
            out.push(format!("{}(", f.name));
        }
    }
    out
}

/// A receiver type as [`script_type`] names it: Rhai's metadata writes a string parameter
/// `&str`, `ImmutableString` or `String`, an integer `INT` or `i64`.
fn receiver_type(t: &str) -> &str {
    match t {
        "&str" | "ImmutableString" | "String" | "&mut ImmutableString" => "String",
        "INT" => "i64",
        "FLOAT" => "f64",
        other => other,
    }
}

/// The type of the literal `name` is given in `line` before the cursor (`let name = "…"`,
/// `[…]`, `#{…}`, a number), for completion before the line is run.
fn literal_type(line: &str, name: &str) -> Option<&'static str> {
    let decl = [format!("let {name} ="), format!("const {name} =")]
        .into_iter()
        .filter_map(|d| line.rfind(&d).map(|i| i + d.len()))
        .max()?;
    let value = line[decl..].trim_start();
    let first = value.chars().next()?;
    Some(match first {
        '"' | '`' => "String",
        '[' => "Array",
        '#' if value.starts_with("#{") => "Map",
        c if c.is_ascii_digit() => {
            let number: String = value
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '_')
                .collect();
            if number.contains('.') { "f64" } else { "i64" }
        }
        _ => return None,
    })
}

/// A value's type as Rhai's metadata names it (`Map`, `Array`, `String`, `i64`, `Node`).
pub fn script_type(value: &Dynamic) -> String {
    if value.is_map() {
        "Map".into()
    } else if value.is_array() {
        "Array".into()
    } else if value.is_string() {
        "String".into()
    } else {
        value
            .type_name()
            .rsplit("::")
            .next()
            .unwrap_or("")
            .to_string()
    }
}

impl Completer for LabHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let known = self.known.lock().expect("completion data");
        let (start, found) = candidates(&known, line, pos);
        Ok((
            start,
            found
                .into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

/// Every line is accepted as typed: the REPL loop decides whether the input goes on, and
/// asks for the next line with a continuation prompt.
impl Validator for LabHelper {}

impl Hinter for LabHelper {
    type Hint = String;
}

impl Highlighter for LabHelper {}

impl Helper for LabHelper {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::FnDoc;

    fn known() -> Known {
        let f = |module: Option<&str>, name: &str, params: &[&str]| FnDoc {
            module: module.map(str::to_string),
            name: name.into(),
            params: params.iter().map(|p| p.to_string()).collect(),
            ret: String::new(),
            doc: String::new(),
        };
        let mut catalog = Catalog::default();
        catalog.modules.insert("kube".into(), String::new());
        catalog.modules.insert("kind".into(), String::new());
        catalog.functions = vec![
            f(Some("kube"), "apply", &["x: Dynamic"]),
            f(Some("kube"), "get", &["kind: String"]),
            f(None, "sleep", &["d: Dynamic"]),
            f(None, "keys", &["map: &mut Map"]),
            f(None, "get$ip", &["node: Node"]),
            f(None, "to_upper", &["string: &str"]),
            f(None, "trim", &["string: &mut ImmutableString"]),
            f(None, "push", &["array: &mut Array", "item: Dynamic"]),
        ];
        let mut map = rhai::Map::new();
        map.insert("stdout".into(), Dynamic::from("x"));
        map.insert("code".into(), Dynamic::from(0_i64));
        Known {
            catalog,
            vars: vec![Var {
                name: "result".into(),
                type_name: "Map".into(),
                value: Dynamic::from_map(map),
            }],
        }
    }

    #[test]
    fn module_prefix_completes_module_names() {
        assert_eq!(
            candidates(&known(), "ku", 2),
            (0, vec!["kube::".to_string()])
        );
    }

    #[test]
    fn module_path_completes_its_functions() {
        let line = "let x = kube::";
        assert_eq!(
            candidates(&known(), line, line.len()),
            (13 + 1, vec!["apply(".to_string(), "get(".to_string()])
        );
    }

    #[test]
    fn variables_and_their_keys_and_methods_complete() {
        assert_eq!(
            candidates(&known(), "res", 3),
            (0, vec!["result".to_string()])
        );
        assert_eq!(
            candidates(&known(), "result.", 7),
            (
                7,
                vec![
                    "code".to_string(),
                    "keys(".to_string(),
                    "stdout".to_string()
                ]
            )
        );
    }

    #[test]
    fn a_string_completes_its_methods_even_before_the_line_runs() {
        let line = r#"let word = "hello"; word."#;
        assert_eq!(
            candidates(&known(), line, line.len()),
            (
                line.len(),
                vec!["to_upper(".to_string(), "trim(".to_string()]
            )
        );
        let line = "let xs = [1, 2]; xs.p";
        assert_eq!(
            candidates(&known(), line, line.len()),
            (line.len() - 1, vec!["push(".to_string()])
        );
    }
}
