//! The documented signatures of what scripts can call (`kube::get(kind: String, name:
//! String) -> Map`), for errors that say what to type. `labsh run` and `labsh check`
//! register the primitives without their docs (see `Workbench::without_docs`), so the
//! documented catalog is built here, once, on the first error that needs it.

use std::sync::OnceLock;

use crate::catalog::Catalog;

/// The catalog of every primitive family and the embedded stdlib, with Rhai's standard
/// functions (`len`, `pad`, …), built on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let families = crate::primitives::all();
        match crate::Workbench::new()
            .with_primitives(families.clone())
            .build()
        {
            Ok(session) => Catalog::of(session.engine(), &families, true),
            Err(_) => Catalog::default(),
        }
    })
}

/// The signatures of `qualified` (`kube::get`, or a global such as `pad`), one per
/// overload, fewest parameters first, in the types scripts see (`String`, not
/// `&mut ImmutableString`); empty when the catalog does not know it.
pub fn of(qualified: &str) -> Vec<String> {
    render(qualified, false)
}

/// The signatures of the method `name` as scripts call it: `string.pad(len: i64,
/// character: char)`, the receiver named by the first parameter.
pub fn of_method(name: &str) -> Vec<String> {
    render(name, true)
}

/// [`of`] or [`of_method`]: the lookup runtime errors use (`crate::call_errors`).
pub fn lookup(name: &str, method: bool) -> Vec<String> {
    render(name, method)
}

/// Every function a script can name, qualified (`kube::get`, `len`), operators and property
/// accessors left out: the names "did you mean" chooses from.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = catalog()
        .functions
        .iter()
        .filter(|f| {
            !f.name.contains('$') && f.name.starts_with(|c: char| c.is_alphabetic() || c == '_')
        })
        .map(|f| f.qualified())
        .collect();
    names.dedup();
    names
}

fn render(qualified: &str, method: bool) -> Vec<String> {
    let mut overloads = catalog().lookup(qualified);
    overloads.sort_by_key(|f| f.params.len());
    let mut seen = Vec::new();
    for f in overloads {
        if method && f.params.is_empty() {
            continue;
        }
        let params: Vec<String> = f.params.iter().map(|p| tidy_param(p)).collect();
        let ret = tidy_type(&f.ret);
        let ret = if ret.is_empty() || ret == "()" {
            String::new()
        } else {
            format!(" -> {ret}")
        };
        let signature = if method {
            let receiver = params[0].split(':').next().unwrap_or("value").trim();
            format!(
                "{receiver}.{}({}){ret}",
                f.qualified(),
                params[1..].join(", ")
            )
        } else {
            format!("{}({}){ret}", f.qualified(), params.join(", "))
        };
        let entry = (f.params.len(), signature);
        if !seen.contains(&entry) {
            seen.push(entry);
        }
    }
    // Rhai's metadata comes from hash maps: fewest parameters first, then by text, so the
    // list reads the same every time.
    seen.sort();
    seen.into_iter().map(|(_, s)| s).collect()
}

/// `string: &mut ImmutableString` → `string: String`.
fn tidy_param(param: &str) -> String {
    match param.split_once(':') {
        Some((name, typ)) => format!("{name}: {}", tidy_type(typ.trim())),
        None => tidy_type(param),
    }
}

/// Rust's spelling of a type in Rhai's metadata, as a script author knows it.
fn tidy_type(typ: &str) -> String {
    let typ = typ
        .trim()
        .trim_start_matches("&mut ")
        .trim_start_matches('&');
    if let Some(inner) = typ
        .strip_prefix("Result<")
        .and_then(|t| t.strip_suffix(", Box<EvalAltResult>>"))
    {
        return tidy_type(inner);
    }
    match typ {
        "ImmutableString" | "str" | "String" => "String".to_string(),
        "INT" => "i64".to_string(),
        "FLOAT" => "f64".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_primitive_has_its_documented_signatures() {
        let found = of("logs::tail");
        assert!(!found.is_empty(), "logs::tail is documented");
        assert!(
            found.iter().all(|s| s.starts_with("logs::tail(")),
            "{found:?}"
        );
    }

    #[test]
    fn methods_show_their_receiver_and_script_types() {
        let found = of_method("pad");
        assert!(
            found.contains(&"string.pad(len: i64, character: char)".to_string()),
            "{found:?}"
        );
    }

    #[test]
    fn an_unknown_name_has_none() {
        assert!(of("kube::nosuch").is_empty());
    }
}
