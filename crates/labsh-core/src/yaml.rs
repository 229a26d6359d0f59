//! Reading and writing YAML through serde-saphyr (what kube-rs uses), with errors on one line:
//! `illegal placement of ':' indicator at line 2, column 2`, or the parser's safety budget in
//! words ([`crate::yaml_budget`]). Generic over the value type: the binding reads into Rhai
//! values, the fuzz target into `serde_json::Value`.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A YAML text that does not parse, or a value that cannot be written: why, and where when
/// the parser knows. Shown on one line: `illegal placement of ':' indicator at line 2,
/// column 2`; `kube::apply` puts the place in front instead (`file.yaml:2:2: invalid YAML: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", match location { Some((line, column)) => format!(" at line {line}, column {column}"), None => String::new() })]
pub struct YamlError {
    /// Why, without the place (the parser's safety budget in words, see
    /// [`crate::yaml_budget`]).
    pub message: String,
    /// 1-based line and column of the error, when it has one.
    pub location: Option<(u64, u64)>,
}

/// Every document of a YAML stream (`---` separates them), in order.
///
/// ```
/// let docs: Vec<serde_json::Value> = labsh_core::yaml::documents("a: 1\n---\nb: [x, web]\n").unwrap();
/// assert_eq!(docs[1]["b"][1], "web");
/// ```
pub fn documents<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, YamlError> {
    serde_saphyr::from_multiple(text).map_err(read_error)
}

/// A value as YAML text.
pub fn write<T: Serialize>(value: &T) -> Result<String, YamlError> {
    serde_saphyr::to_string(value).map_err(|e| YamlError {
        message: e.to_string(),
        location: None,
    })
}

/// A parse error: the parser's first line, without its own `error: line N column M:` prefix
/// nor the snippet it may append (the caller's diagnostic already shows where the text came
/// from); a breach of the parser's budget in words, without a place.
fn read_error(e: serde_saphyr::Error) -> YamlError {
    if let Some(budget) = crate::yaml_budget::message(&e) {
        return YamlError {
            message: budget,
            location: None,
        };
    }
    YamlError {
        message: first_line(&e.to_string()),
        location: e.location().map(|l| (l.line(), l.column())),
    }
}

fn first_line(msg: &str) -> String {
    let line = msg.lines().next().unwrap_or(msg).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line
        .strip_prefix("line ")
        .and_then(|rest| rest.split_once(": "))
    {
        Some((pos, rest)) if pos.contains(" column ") => rest.to_string(),
        _ => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn a_stream_gives_one_value_per_document() {
        let docs: Vec<Value> = documents("a: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs, vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn bad_yaml_reports_line_and_column_on_one_line() {
        let err = documents::<Value>("a: [1, 2\nb: 3").unwrap_err();
        assert_eq!(
            err.to_string(),
            "illegal placement of ':' indicator at line 2, column 2"
        );
    }

    #[test]
    fn a_yaml_past_the_parsers_budget_says_so_in_words() {
        // Issue 23, item 8: this was `budget breached: Nodes { nodes: 250001 }`.
        let err = documents::<Value>(&"- 1\n".repeat(250_001)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the YAML holds more than 250,000 values, past the YAML parser's safety limit (it protects memory); split it into smaller documents or files"
        );
    }

    #[test]
    fn written_yaml_reads_back_as_the_same_value() {
        let v = json!({"replicas": 1, "labels": {"app": "guestbook"}});
        let text = write(&v).unwrap();
        assert_eq!(documents::<Value>(&text).unwrap(), vec![v]);
    }
}
