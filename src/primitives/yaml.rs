//! `yaml::parse`, `yaml::parse_all`, `yaml::to_string`: YAML to and from Rhai values, through
//! serde-saphyr (what kube-rs uses). JSON is its own module, `json::…` ([`super::json`]).

use rhai::{Array, Dynamic};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::primitives::{Family, Registry};

/// `yaml::…`
pub const FAMILY: Family = Family {
    name: "yaml",
    summary: "parse and write YAML",
    register,
};

/// Parses YAML text: one document gives its value, several give an array of values.
pub fn parse_yaml(text: &str) -> Result<Dynamic, String> {
    let docs: Vec<Dynamic> = labsh_core::yaml::documents(text).map_err(|e| e.to_string())?;
    Ok(match docs.len() {
        0 => Dynamic::UNIT,
        1 => docs.into_iter().next().unwrap_or(Dynamic::UNIT),
        _ => Dynamic::from_array(docs),
    })
}

/// Writes a value as YAML.
pub fn to_yaml(value: &Dynamic) -> Result<String, String> {
    labsh_core::yaml::write(&crate::records::plain(value)).map_err(|e| e.to_string())
}

/// Registers `yaml::parse`, `yaml::parse_all`, `yaml::to_string`.
pub fn register(reg: &mut Registry, _ctx: &Ctx) {
    let m = "yaml";
    reg.func(
        m,
        "parse",
        &["text: String", "Dynamic"],
        "Parses YAML: a single document gives its value (map, array, string, …); a multi-document\nstream (`---`) gives an array with one value per document. As in Kubernetes, `yes`, `on`, `y`\n(and `no`, `off`, `n`) are booleans: quote them to keep a string.\n\n```rhai\nlet v = yaml::parse(\"a: 1\\nb: [web, \\\"y\\\"]\");\nprint(v.b[1]); // y\n```",
        |text: &str| -> ScriptResult<Dynamic> { parse_yaml(text).map_err(|e| error(format!("invalid YAML: {e}"))) },
    );
    reg.func(
        m,
        "parse_all",
        &["text: String", "Array"],
        "Parses a YAML stream into an array of documents, even when there is only one.\n\n```rhai\nfor doc in yaml::parse_all(fs::read(\"app.yaml\")) { print(doc.kind); }\n```",
        |text: &str| -> ScriptResult<Array> {
            labsh_core::yaml::documents::<Dynamic>(text)
                .map_err(|e| error(format!("invalid YAML: {e}")))
        },
    );
    reg.func(
        m,
        "to_string",
        &["value: Dynamic", "String"],
        "Writes a value as YAML.\n\n```rhai\nprint(yaml::to_string(#{replicas: 1, labels: #{app: \"guestbook\"}}));\n```",
        |value: Dynamic| -> ScriptResult<String> { to_yaml(&value).map_err(|e| error(format!("cannot write YAML: {e}"))) },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_is_an_array() {
        let v = parse_yaml("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(v.as_array_ref().unwrap().len(), 2);
    }

    #[test]
    fn single_document_yaml_is_its_value() {
        let v = parse_yaml("replicas: 1\n").unwrap();
        let m = v.as_map_ref().unwrap();
        assert_eq!(m["replicas"].as_int().unwrap(), 1);
    }

    #[test]
    fn yes_on_y_are_booleans_as_in_kubernetes_and_quoted_they_stay_strings() {
        let v = parse_yaml("b: [y, yes, on, n, \"y\"]").unwrap();
        let b = v.as_map_ref().unwrap()["b"].clone().into_array().unwrap();
        let bools: Vec<Option<bool>> = b.iter().map(|x| x.as_bool().ok()).collect();
        assert_eq!(
            bools,
            [Some(true), Some(true), Some(true), Some(false), None]
        );
        assert_eq!(b[4].clone().into_string().unwrap(), "y");
    }
}
