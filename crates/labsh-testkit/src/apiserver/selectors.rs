//! Label and field selectors, parsed and matched the way the API server does, for the forms
//! labsh's users send: equality terms `key=value`, comma-separated (`app=guestbook,tier=frontend`,
//! `spec.nodeName=lab-worker`, `metadata.name=frontend`). Other operators (`!=`, `==`, `in`,
//! `notin`, existence) are refused with a 400 that says so; field selectors only take the field
//! paths below (others are rejected, as a real server does for fields it does not index).

use serde_json::Value;

/// A parsed `labelSelector`: (key, value) pairs that must all match; the empty selector matches
/// everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<(String, String)>);

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let terms = equality_terms(s, |k| {
            format!("the test API server takes only `key=value` label selectors, not {k:?}")
        })?;
        Ok(LabelSelector(terms))
    }

    /// Whether an object (its `metadata.labels`) satisfies every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        self.0
            .iter()
            .all(|(k, v)| labels.get(k).and_then(Value::as_str) == Some(v.as_str()))
    }
}

/// A parsed `fieldSelector`: (path, value) pairs that must all match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, String)>);

impl FieldSelector {
    /// Parses a selector for `kind`, rejecting field paths the double does not serve.
    pub fn parse(s: &str, kind: &str) -> Result<Self, String> {
        let terms = equality_terms(s, |t| {
            format!("the test API server takes only `path=value` field selectors, not {t:?}")
        })?;
        if let Some((path, _)) = terms.iter().find(|(p, _)| !supported_field(kind, p)) {
            return Err(format!("field label not supported: {path}"));
        }
        Ok(FieldSelector(terms))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0
            .iter()
            .all(|(path, value)| field_value(obj, path) == *value)
    }
}

/// `a=1,b=2` as pairs; any other term is an error made by `bad`.
fn equality_terms(s: &str, bad: impl Fn(&str) -> String) -> Result<Vec<(String, String)>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|term| match term.split_once('=') {
            Some((k, v)) if valid_key(k.trim()) && !v.starts_with('=') => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(bad(term)),
        })
        .collect()
}

/// A key or field path: non-empty, no whitespace or selector punctuation.
fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// Field paths the double accepts in `fieldSelector`, per kind (those its users send; a real
/// server accepts more).
fn supported_field(kind: &str, path: &str) -> bool {
    matches!(path, "metadata.name" | "metadata.namespace")
        || (kind == "Pod" && path == "spec.nodeName")
}

/// The field's value as the server compares it: strings as-is, other scalars printed, absent
/// fields as the empty string.
fn field_value(obj: &Value, path: &str) -> String {
    let mut cur = obj;
    for part in path.split('.') {
        cur = &cur[part];
    }
    match cur {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
