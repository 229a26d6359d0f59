//! Label and field selectors, parsed and matched the way the API server does.
//!
//! Labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k` (exists), `!k` (does not
//! exist), comma-separated (commas inside parentheses belong to the set).
//! Fields: `path=v`, `path==v`, `path!=v`, comma-separated, only on the field paths the real
//! server indexes for the kind (others are rejected, as a real server does).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<LabelReq>);

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for term in split_top_level(s) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            reqs.push(parse_label_term(term)?);
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether an object (its `metadata.labels`) satisfies every requirement.
    pub fn matches(&self, obj: &Value) -> bool {
        let labels = &obj["metadata"]["labels"];
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|req| match req {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn parse_label_term(term: &str) -> Result<LabelReq, String> {
    let bad = || format!("unable to parse requirement: invalid label selector term {term:?}");
    if let Some(key) = term.strip_prefix('!') {
        return valid_key(key.trim())
            .map(|k| LabelReq::NotExists(k.into()))
            .ok_or_else(bad);
    }
    if let Some((k, v)) = term.split_once("!=") {
        let k = valid_key(k.trim()).ok_or_else(bad)?;
        return Ok(LabelReq::NotEq(k.into(), v.trim().into()));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        let k = valid_key(k.trim()).ok_or_else(bad)?;
        return Ok(LabelReq::Eq(k.into(), v.trim().into()));
    }
    if let Some(open) = term.find('(') {
        let head = term[..open].trim();
        let body = term[open + 1..].strip_suffix(')').ok_or_else(bad)?;
        let values: Vec<String> = body
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        let (key, op) = head.rsplit_once(char::is_whitespace).ok_or_else(bad)?;
        let key = valid_key(key.trim()).ok_or_else(bad)?;
        return match op {
            "in" => Ok(LabelReq::In(key.into(), values)),
            "notin" => Ok(LabelReq::NotIn(key.into(), values)),
            _ => Err(bad()),
        };
    }
    valid_key(term)
        .map(|k| LabelReq::Exists(k.into()))
        .ok_or_else(bad)
}

/// A label key: non-empty, no whitespace or selector punctuation.
fn valid_key(k: &str) -> Option<&str> {
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    ok.then_some(k)
}

/// A parsed `fieldSelector`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>); // (path, equal?, value)

impl FieldSelector {
    /// Parses a selector for `kind`, rejecting field paths the real server does not index.
    pub fn parse(s: &str, kind: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for term in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (path, eq, value) = if let Some((p, v)) = term.split_once("!=") {
                (p, false, v)
            } else if let Some((p, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (p, true, v)
            } else {
                return Err(format!("invalid selector: {term:?}; can't understand"));
            };
            let path = path.trim();
            if !supported_field(kind, path) {
                return Err(format!("field label not supported: {path}"));
            }
            reqs.push((path.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(reqs))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(path, eq, value)| {
            let actual = field_value(obj, path);
            (actual == *value) == *eq
        })
    }
}

/// Field paths a real API server accepts in `fieldSelector`, per kind.
fn supported_field(kind: &str, path: &str) -> bool {
    if matches!(path, "metadata.name" | "metadata.namespace") {
        return true;
    }
    match kind {
        "Pod" => matches!(
            path,
            "spec.nodeName"
                | "spec.restartPolicy"
                | "spec.schedulerName"
                | "spec.serviceAccountName"
                | "spec.hostNetwork"
                | "status.phase"
                | "status.podIP"
                | "status.nominatedNodeName"
        ),
        "Event" => matches!(
            path,
            "involvedObject.kind"
                | "involvedObject.namespace"
                | "involvedObject.name"
                | "involvedObject.uid"
                | "involvedObject.apiVersion"
                | "involvedObject.resourceVersion"
                | "involvedObject.fieldPath"
                | "reason"
                | "reportingComponent"
                | "source"
                | "type"
        ),
        "Secret" => path == "type",
        "Node" => path == "spec.unschedulable",
        "Namespace" => path == "status.phase",
        "ReplicaSet" => path == "status.replicas",
        _ => false,
    }
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
