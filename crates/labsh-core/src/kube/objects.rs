//! `get`, `list` and `delete` on any kind, as JSON values (the primitives turn them into
//! Rhai maps). List items get their `apiVersion`/`kind` filled in, as kubectl does, and
//! [`hide_managed_fields`] drops what kubectl hides unless `--show-managed-fields`.

use std::time::Duration;

use kube::api::{DeleteParams, DynamicObject, ListParams};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::Value;

use crate::kube::kinds::Kind;
use crate::kube::{Conn, KubeError};

/// Where and what to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Namespace (default: the context's).
    pub namespace: Option<String>,
    /// Label selector (`app=guestbook,tier=frontend`).
    pub selector: Option<String>,
    /// Field selector (`spec.nodeName=lab-worker`).
    pub field_selector: Option<String>,
    /// Every namespace.
    pub all_namespaces: bool,
}

impl ListQuery {
    /// A human description: `pods in kube-system matching k8s-app=cilium`.
    pub fn describe(&self, conn: &Conn, kind: &Kind) -> String {
        let mut s = kind.resource.plural.clone();
        if kind.namespaced {
            if self.all_namespaces {
                s.push_str(" in all namespaces");
            } else {
                s.push_str(&format!(
                    " in {}",
                    conn.namespace(self.namespace.as_deref())
                ));
            }
        }
        if let Some(sel) = &self.selector {
            s.push_str(&format!(" matching {sel}"));
        }
        if let Some(f) = &self.field_selector {
            s.push_str(&format!(" with {f}"));
        }
        s
    }

    /// kube-rs list parameters.
    pub fn params(&self) -> ListParams {
        let mut lp = ListParams::default();
        if let Some(s) = &self.selector {
            lp = lp.labels(s);
        }
        if let Some(f) = &self.field_selector {
            lp = lp.fields(f);
        }
        lp
    }
}

/// An object as JSON, with its type filled in from `kind` when the server left it out.
pub fn to_value(kind: &Kind, obj: &DynamicObject) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.entry("apiVersion")
            .or_insert_with(|| Value::String(kind.resource.api_version.clone()));
        m.entry("kind")
            .or_insert_with(|| Value::String(kind.resource.kind.clone()));
    }
    v
}

/// Removes `metadata.managedFields` (server-side apply's record of which manager owns which
/// field: often longer than the object itself), as `kubectl get` does since 1.21 unless
/// `--show-managed-fields`. The object keeps its keys in kubectl's order (alphabetical, as
/// `kubectl get -o yaml` writes them): `apiVersion`, `kind`, `metadata`, `spec`, `status`.
pub fn hide_managed_fields(obj: &mut Value) {
    if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
        meta.remove("managedFields");
    }
}

/// One object.
pub async fn get(
    conn: &Conn,
    kind: &Kind,
    name: &str,
    namespace: Option<&str>,
) -> Result<Value, KubeError> {
    let api = conn.api(kind, namespace);
    let obj = api
        .get(name)
        .await
        .map_err(|e| conn.error(|| describe_one(conn, kind, name, namespace, "get"), e))?;
    Ok(to_value(kind, &obj))
}

/// `get deployment.apps/frontend in default`.
pub fn describe_one(
    conn: &Conn,
    kind: &Kind,
    name: &str,
    namespace: Option<&str>,
    verb: &str,
) -> String {
    if kind.namespaced {
        format!(
            "{verb} {} in {}",
            kind.reference(name),
            conn.namespace(namespace)
        )
    } else {
        format!("{verb} {}", kind.reference(name))
    }
}

/// Objects of `kind` matching `query`, sorted by namespace and name.
pub async fn list(conn: &Conn, kind: &Kind, query: &ListQuery) -> Result<Vec<Value>, KubeError> {
    let api = if query.all_namespaces {
        conn.api_all(kind)
    } else {
        conn.api(kind, query.namespace.as_deref())
    };
    let list = api
        .list(&query.params())
        .await
        .map_err(|e| conn.error(|| format!("list {}", query.describe(conn, kind)), e))?;
    let mut items: Vec<DynamicObject> = list.items;
    items.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    Ok(items.iter().map(|o| to_value(kind, o)).collect())
}

/// Deletes one object; `Ok(false)` when it did not exist. With `wait`, returns once the
/// object is gone (watch-based), or fails after that long.
pub async fn delete(
    conn: &Conn,
    kind: &Kind,
    name: &str,
    namespace: Option<&str>,
    wait: Option<Duration>,
) -> Result<bool, KubeError> {
    let api = conn.api(kind, namespace);
    let uid = match api.delete(name, &DeleteParams::background()).await {
        Ok(either) => either.left().and_then(|o| o.metadata.uid),
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(false),
        Err(e) => return Err(conn.error(|| describe_one(conn, kind, name, namespace, "delete"), e)),
    };
    // No uid: the server answered with a Status, the object is already gone.
    if let (Some(after), Some(uid)) = (wait, uid) {
        let gone = await_condition(api, name, conditions::is_deleted(&uid));
        match tokio::time::timeout(after, gone).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(KubeError::Other(format!(
                    "{}: waiting for deletion: {e}",
                    describe_one(conn, kind, name, namespace, "delete")
                )));
            }
            Err(_) => {
                return Err(KubeError::Timeout {
                    what: describe_one(conn, kind, name, namespace, "delete"),
                    after,
                    last_seen: "the object still exists (finalizers or terminating pods?)".into(),
                });
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_fields_are_hidden_and_the_rest_of_metadata_kept() {
        let mut ns = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "default",
                "labels": {"kubernetes.io/metadata.name": "default"},
                "managedFields": [{"manager": "kube-apiserver", "operation": "Update",
                                   "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}],
            },
            "spec": {"finalizers": ["kubernetes"]},
        });
        hide_managed_fields(&mut ns);
        assert_eq!(
            ns,
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "default", "labels": {"kubernetes.io/metadata.name": "default"}},
                "spec": {"finalizers": ["kubernetes"]},
            })
        );
    }

    #[test]
    fn an_object_without_metadata_is_left_alone() {
        let mut v = serde_json::json!({"kind": "Status", "code": 404});
        hide_managed_fields(&mut v);
        assert_eq!(v, serde_json::json!({"kind": "Status", "code": 404}));
    }
}
