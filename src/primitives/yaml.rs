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
    let docs: Vec<Dynamic> = serde_saphyr::from_multiple(text).map_err(yaml_error)?;
    Ok(match docs.len() {
        0 => Dynamic::UNIT,
        1 => docs.into_iter().next().unwrap_or(Dynamic::UNIT),
        _ => Dynamic::from_array(docs),
    })
}

/// A YAML error on one line (`… at line 2, column 2`): the script's diagnostic already shows
/// where `yaml::parse` was called, so serde-saphyr's own snippet is left out.
fn yaml_error(e: serde_saphyr::Error) -> String {
    if let Some(budget) = labsh_core::yaml_budget::message(&e) {
        return budget;
    }
    let text = e.without_snippet().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    text.lines().next().unwrap_or("").to_string()
}

/// Writes a value as YAML.
pub fn to_yaml(value: &Dynamic) -> Result<String, String> {
    serde_saphyr::to_string(&crate::records::plain(value)).map_err(|e| e.to_string())
}

/// Registers `yaml::parse`, `yaml::parse_all`, `yaml::to_string`.
pub fn register(reg: &mut Registry, _ctx: &Ctx) {
    let m = "yaml";
    reg.func(
        m,
        "parse",
        &["text: String", "Dynamic"],
        "Parses YAML: a single document gives its value (map, array, string, …); a multi-document\nstream (`---`) gives an array with one value per document.\n\n```rhai\nlet v = yaml::parse(\"a: 1\\nb: [x, y]\");\nprint(v.b[1]); // y\n```",
        |text: &str| -> ScriptResult<Dynamic> { parse_yaml(text).map_err(|e| error(format!("invalid YAML: {e}"))) },
    );
    reg.func(
        m,
        "parse_all",
        &["text: String", "Array"],
        "Parses a YAML stream into an array of documents, even when there is only one.\n\n```rhai\nfor doc in yaml::parse_all(fs::read(\"app.yaml\")) { print(doc.kind); }\n```",
        |text: &str| -> ScriptResult<Array> {
            serde_saphyr::from_multiple::<Dynamic>(text)
                .map_err(|e| error(format!("invalid YAML: {}", yaml_error(e))))
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
    fn a_yaml_past_the_parsers_budget_says_so_in_words() {
        // Issue 23, item 8: this was `budget breached: Nodes { nodes: 250001 }`.
        let err = parse_yaml(&"- 1\n".repeat(250_001)).unwrap_err();
        assert_eq!(
            err,
            "the YAML holds more than 250,000 values, past the YAML parser's safety limit (it protects memory); split it into smaller documents or files"
        );
    }

    #[test]
    fn bad_yaml_reports_line_and_column_on_one_line() {
        let err = parse_yaml("a: [1, 2\nb: 3").unwrap_err();
        assert_eq!(
            err,
            "illegal placement of ':' indicator at line 2, column 2"
        );
    }
}
