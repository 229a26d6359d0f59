//! `kubectl apply --server-side`: YAML files, YAML text or values, split into documents,
//! each resolved through discovery (namespaced or cluster-scoped) and server-side applied
//! with field manager `labsh`. Every document is parsed and checked before the first one is
//! applied, so a typo in the third document leaves the cluster untouched. Discovery is re-run
//! when a document's kind is unknown after a CRD was applied (or once, in case the cached
//! catalog is stale).

use std::time::Duration;

use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::Value;

use crate::kube::{Conn, KubeError};

/// The field manager labsh applies with.
pub const FIELD_MANAGER: &str = "labsh";

/// One document to apply, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The file, `<yaml string>` or `<map>`.
    pub source_desc: String,
    /// The object.
    pub value: Value,
}

/// What was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// The object's name.
    pub name: String,
    /// Its namespace (`None` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// kubectl's reference: `deployment.apps/frontend`.
    pub reference: String,
}

/// Parses a YAML stream into documents; empty documents are skipped and `kind: List`
/// documents contribute their items. Errors carry `source_desc`, line and column.
pub fn parse_documents(text: &str, source_desc: &str) -> Result<Vec<Document>, KubeError> {
    let values: Vec<Value> = crate::yaml::documents(text).map_err(|error| KubeError::Yaml {
        source_desc: source_desc.to_string(),
        error,
    })?;
    let mut docs = Vec::new();
    for v in values {
        push_document(&mut docs, v, source_desc);
    }
    Ok(docs)
}

/// A value (a map from a script) as documents (a `List` is expanded).
pub fn value_documents(value: Value, source_desc: &str) -> Vec<Document> {
    let mut docs = Vec::new();
    push_document(&mut docs, value, source_desc);
    docs
}

fn push_document(docs: &mut Vec<Document>, v: Value, source_desc: &str) {
    match v {
        Value::Null => {}
        Value::Object(ref m)
            if m.get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && m.get("items").is_some_and(Value::is_array) =>
        {
            if let Some(Value::Array(items)) = m.get("items") {
                for item in items.clone() {
                    push_document(docs, item, source_desc);
                }
            }
        }
        other => docs.push(Document {
            source_desc: source_desc.to_string(),
            value: other,
        }),
    }
}

/// Checks that a document is an object with `apiVersion`, `kind` and `metadata.name`.
pub fn check_document(doc: &Document, index: usize) -> Result<(String, String, String), KubeError> {
    let bad = |message: String| KubeError::Manifest {
        source_desc: doc.source_desc.clone(),
        message: format!("document {}: {message}", index + 1),
    };
    let obj = doc
        .value
        .as_object()
        .ok_or_else(|| bad("not a mapping (a Kubernetes object is a map)".into()))?;
    let api_version = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("missing `apiVersion`".into()))?;
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("missing `kind`".into()))?;
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("{api_version} {kind} has no `metadata.name`")))?;
    Ok((api_version.to_string(), kind.to_string(), name.to_string()))
}

/// Applies `docs` in order; `print` receives kubectl's lines
/// (`deployment.apps/frontend serverside-applied`). `namespace` overrides the context's
/// default for documents that do not name one.
pub async fn apply(
    conn: &Conn,
    docs: Vec<Document>,
    namespace: Option<&str>,
    print: &(dyn Fn(&str) + Sync),
) -> Result<Vec<Applied>, KubeError> {
    let mut checked = Vec::with_capacity(docs.len());
    for (i, doc) in docs.into_iter().enumerate() {
        let ids = check_document(&doc, i)?;
        checked.push((doc, ids));
    }
    let mut catalog = conn.catalog().await?;
    let mut applied = Vec::with_capacity(checked.len());
    for (doc, (api_version, kind_name, name)) in checked {
        let mut kind = catalog.by_gvk(&api_version, &kind_name).cloned();
        if kind.is_none() {
            // Discovery may predate the kind: run it again. A CRD (applied by this call or an
            // earlier one) takes a moment to be served: while one exists for the kind, keep
            // re-running discovery for a while.
            catalog = conn.refresh_catalog().await?;
            kind = catalog.by_gvk(&api_version, &kind_name).cloned();
            if kind.is_none() && crd_exists(conn, &api_version, &kind_name).await {
                let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
                while kind.is_none() && tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    catalog = conn.refresh_catalog().await?;
                    kind = catalog.by_gvk(&api_version, &kind_name).cloned();
                }
            }
        }
        let kind = kind.ok_or_else(|| KubeError::UnknownGvk {
            source_desc: doc.source_desc.clone(),
            api_version: api_version.clone(),
            kind: kind_name.clone(),
        })?;
        let mut obj: DynamicObject =
            serde_json::from_value(doc.value.clone()).map_err(|e| KubeError::Manifest {
                source_desc: doc.source_desc.clone(),
                message: format!("{api_version} {kind_name} {name}: {e}"),
            })?;
        let ns = if kind.namespaced {
            let ns = obj
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| conn.namespace(namespace).to_string());
            obj.metadata.namespace = Some(ns.clone());
            Some(ns)
        } else {
            obj.metadata.namespace = None;
            None
        };
        let api = conn.api(&kind, ns.as_deref());
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(&name, &params, &Patch::Apply(&obj))
            .await
            .map_err(|e| {
                with_hint(conn.error(
                    || {
                        format!(
                            "server-side apply of {}{} ({})",
                            kind.reference(&name),
                            ns.as_deref()
                                .map(|n| format!(" in {n}"))
                                .unwrap_or_default(),
                            doc.source_desc
                        )
                    },
                    e,
                ))
            })?;
        let reference = kind.reference(&name);
        print(&format!("{reference} serverside-applied"));
        applied.push(Applied {
            api_version,
            kind: kind_name,
            name,
            namespace: ns,
            reference,
        });
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRONTEND: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
spec:
  replicas: 1
---
apiVersion: v1
kind: Service
metadata:
  name: frontend
spec:
  type: NodePort
  ports:
  - port: 80
---
";

    #[test]
    fn multi_document_yaml_gives_one_document_each() {
        let docs = parse_documents(FRONTEND, "frontend.yaml").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].value["kind"], "Service");
        assert_eq!(
            check_document(&docs[0], 0).unwrap(),
            ("apps/v1".into(), "Deployment".into(), "frontend".into())
        );
    }

    #[test]
    fn bad_yaml_names_file_line_and_column() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: [frontend\n  labels: {}\n";
        let err = parse_documents(text, "frontend-svc.yaml").unwrap_err();
        let KubeError::Yaml { source_desc, error } = &err else {
            panic!("expected a YAML error, got {err:?}");
        };
        let (line, _) = error.location.expect("a place");
        assert_eq!(source_desc, "frontend-svc.yaml");
        assert!(line >= 4, "line {line}: {err}");
        assert!(
            err.to_string()
                .starts_with(&format!("frontend-svc.yaml:{line}:")),
            "{err}"
        );
        assert!(!err.to_string().contains("error: line"), "{err}");
    }

    #[test]
    fn a_manifest_past_the_parsers_budget_names_the_file_without_a_place() {
        let err = parse_documents(&"- 1\n".repeat(250_001), "big.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "big.yaml: invalid YAML: the YAML holds more than 250,000 values, past the YAML parser's safety limit (it protects memory); split it into smaller documents or files"
        );
    }

    #[test]
    fn tab_indentation_error_points_at_its_line() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n";
        let err = parse_documents(text, "pod.yaml").unwrap_err();
        match err {
            KubeError::Yaml { error, .. } => {
                let (line, column) = error.location.expect("a place");
                assert_eq!(line, 4);
                assert!(column >= 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lists_are_expanded_and_empty_documents_skipped() {
        let text = "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n---\n";
        let docs = parse_documents(text, "list.yaml").unwrap();
        let names: Vec<_> = docs
            .iter()
            .map(|d| d.value["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn documents_without_name_or_kind_are_rejected_with_their_index() {
        let docs =
            parse_documents("apiVersion: v1\nkind: Service\n---\nkind: Pod\n", "x.yaml").unwrap();
        assert_eq!(
            check_document(&docs[0], 0).unwrap_err().to_string(),
            "x.yaml: document 1: v1 Service has no `metadata.name`"
        );
        assert_eq!(
            check_document(&docs[1], 1).unwrap_err().to_string(),
            "x.yaml: document 2: missing `apiVersion`"
        );
    }
}

/// Whether the server has a CustomResourceDefinition for `api_version`/`kind` (served or
/// about to be). Errors (no rights to list CRDs, say) count as no.
async fn crd_exists(conn: &Conn, api_version: &str, kind: &str) -> bool {
    let Some((group, _version)) = api_version.split_once('/') else {
        return false;
    };
    let crds: kube::Api<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    > = kube::Api::all(conn.client.clone());
    match crds.list(&kube::api::ListParams::default()).await {
        Ok(list) => list
            .items
            .iter()
            .any(|c| c.spec.group == group && c.spec.names.kind == kind),
        Err(_) => false,
    }
}

/// Adds what to change to the server's message where it does not say it. Kubernetes 1.20's
/// server-side apply refuses a list item that leaves out a key the server would default
/// (a Service or container port without `protocol`) with an HTTP 500 naming only the key.
fn with_hint(err: KubeError) -> KubeError {
    match err {
        KubeError::Api {
            what,
            code,
            message,
            context,
        } => {
            let hint = omitted_key(&message).map(|key| {
                if key == "protocol" {
                    "; give every port of the object an explicit `protocol: TCP` (or UDP/SCTP): \
                     this server's server-side apply does not default it"
                        .to_string()
                } else {
                    format!("; give every item of that list an explicit `{key}:`")
                }
            });
            KubeError::Api {
                what,
                code,
                message: message + hint.as_deref().unwrap_or_default(),
                context,
            }
        }
        other => other,
    }
}

/// `associative list with keys has an element that omits key field "protocol"` → `protocol`.
fn omitted_key(message: &str) -> Option<&str> {
    let rest = message.split("omits key field \"").nth(1)?;
    rest.split('"').next().filter(|k| !k.is_empty())
}

#[cfg(test)]
mod hint_tests {
    use super::*;

    fn api(message: &str) -> KubeError {
        KubeError::Api {
            what: "server-side apply of service/frontend".into(),
            code: 500,
            message: message.into(),
            context: "c".into(),
        }
    }

    #[test]
    fn a_port_without_protocol_says_to_add_protocol_tcp() {
        // The message kube-apiserver 1.20.2 answers for the lab's original frontend-svc.yaml.
        let msg = "failed to create typed patch object: .spec.ports: element 0: associative list with keys has an element that omits key field \"protocol\" (and doesn't have default value)";
        let KubeError::Api { message, .. } = with_hint(api(msg)) else {
            panic!()
        };
        assert!(message.starts_with(msg), "{message}");
        assert!(message.contains("explicit `protocol: TCP`"), "{message}");
    }

    #[test]
    fn other_server_messages_are_left_as_they_are() {
        let KubeError::Api { message, .. } = with_hint(api("Service \"x\" is invalid")) else {
            panic!()
        };
        assert_eq!(message, "Service \"x\" is invalid");
    }
}
