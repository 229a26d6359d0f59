//! Targets as kubectl writes them (`frontend`, `pod/frontend-abc`, `deployment/frontend`,
//! `ds/cilium`) and label selectors rebuilt from a workload's `spec.selector`.

use serde_json::Value;

/// A parsed target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The kind as written (`deployment`, `deploy`, `ds`); `None` for a bare pod name.
    pub kind: Option<String>,
    /// The object's name.
    pub name: String,
}

impl Target {
    /// Parses `NAME`, `KIND/NAME` or `KIND NAME` (kubectl's two words in one string).
    pub fn parse(text: &str) -> Result<Target, String> {
        let text = text.trim();
        let words: Vec<&str> = text.split_whitespace().collect();
        if let [kind, name] = words.as_slice()
            && !kind.contains('/')
            && !name.contains('/')
        {
            return Ok(Target {
                kind: Some(kind.to_lowercase()),
                name: name.to_string(),
            });
        }
        match text.split_once('/') {
            Some((k, n))
                if !k.is_empty() && !n.is_empty() && !n.contains('/') && words.len() == 1 =>
            {
                Ok(Target {
                    kind: Some(k.to_lowercase()),
                    name: n.to_string(),
                })
            }
            None if words.len() == 1 => Ok(Target {
                kind: None,
                name: text.to_string(),
            }),
            _ => Err(format!(
                "invalid target `{text}`: expected NAME, KIND/NAME or KIND NAME (e.g. `deployment/frontend`)"
            )),
        }
    }

    /// Whether the target names a pod directly (bare name, `pod/…`, `po/…`, `pods/…`).
    pub fn is_pod(&self) -> bool {
        matches!(self.kind.as_deref(), None | Some("pod" | "pods" | "po"))
    }
}

/// A label selector string (`app=guestbook,tier=frontend`) from a `LabelSelector` object
/// (`matchLabels` and `matchExpressions`), as the API server's `labelSelector` parameter
/// takes it. `None` when the selector is empty (it would match everything).
pub fn selector_string(selector: &Value) -> Option<String> {
    let mut terms = Vec::new();
    if let Some(Value::Object(labels)) = selector.get("matchLabels") {
        let mut pairs: Vec<_> = labels.iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in pairs {
            terms.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    if let Some(Value::Array(exprs)) = selector.get("matchExpressions") {
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or_default()
            {
                "In" => terms.push(format!("{key} in ({})", values.join(","))),
                "NotIn" => terms.push(format!("{key} notin ({})", values.join(","))),
                "Exists" => terms.push(key.to_string()),
                "DoesNotExist" => terms.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    (!terms.is_empty()).then(|| terms.join(","))
}

/// The value a selector is "about", for messages: `k8s-app=cilium` → `cilium`.
pub fn selector_subject(selector: &str) -> Option<&str> {
    let first = selector.split(',').next()?;
    let (_, v) = first.split_once('=')?;
    let v = v.trim_start_matches('=').trim();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bare_names_are_pods_and_kinds_are_lowercased() {
        assert_eq!(
            Target::parse("frontend-5f7c9").unwrap(),
            Target {
                kind: None,
                name: "frontend-5f7c9".into()
            }
        );
        let t = Target::parse("Deployment/frontend").unwrap();
        assert_eq!(t.kind.as_deref(), Some("deployment"));
        assert_eq!(t.name, "frontend");
        assert!(!t.is_pod());
        assert!(Target::parse("po/x").unwrap().is_pod());
    }

    #[test]
    fn kubectl_s_two_words_name_a_kind_and_a_name() {
        let t = Target::parse("Deployment  frontend").unwrap();
        assert_eq!(t.kind.as_deref(), Some("deployment"));
        assert_eq!(t.name, "frontend");
    }

    #[test]
    fn malformed_targets_say_what_is_expected() {
        for bad in ["", "deployment/", "/x", "a/b/c", "a b c", "deploy/x y"] {
            let err = Target::parse(bad).unwrap_err();
            assert!(
                err.contains("expected NAME, KIND/NAME or KIND NAME"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_guestbook_selector_becomes_a_label_selector() {
        let sel = json!({"matchLabels": {"tier": "frontend", "app": "guestbook"}});
        assert_eq!(
            selector_string(&sel).as_deref(),
            Some("app=guestbook,tier=frontend")
        );
    }

    #[test]
    fn match_expressions_use_set_syntax() {
        let sel = json!({
            "matchLabels": {"k8s-app": "cilium"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ]
        });
        assert_eq!(
            selector_string(&sel).as_deref(),
            Some("k8s-app=cilium,tier in (a,b),!canary")
        );
        assert_eq!(selector_string(&json!({})), None);
    }

    #[test]
    fn selector_subject_is_the_first_value() {
        assert_eq!(selector_subject("k8s-app=cilium"), Some("cilium"));
        assert_eq!(
            selector_subject("app==guestbook,tier=frontend"),
            Some("guestbook")
        );
        assert_eq!(selector_subject("tier in (a)"), None);
    }
}
