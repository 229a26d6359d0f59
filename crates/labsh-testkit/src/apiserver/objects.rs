//! Object verbs, those labsh's primitives send: list and watch on collections; get, server-side
//! apply (PATCH `application/apply-patch+yaml`) and delete on objects.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::defaults;
use super::merge::{merge, record_manager};
use super::query::Query;
use super::reply::{self, Body};
use super::resources::ResourceType;
use super::selectors::{FieldSelector, LabelSelector};
use super::store::{ObjKey, Store, metadata_mut};
use super::watch::{self, Filter};
use super::{Shared, lock};

type Reply = Response<Body>;

/// `…/{plural}` and `…/namespaces/{ns}/{plural}`: list and watch.
pub async fn collection(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    rt: &ResourceType,
    namespace: Option<&str>,
    q: &Query,
) -> Reply {
    let method = req.method().clone();
    if method != Method::GET {
        return reply::method_not_allowed(method.as_str(), &rt.plural);
    }
    let filter = match filter(rt, namespace, q) {
        Ok(f) => f,
        Err(e) => return reply::bad_request(e),
    };
    if q.flag("watch") {
        watch::serve(shared, filter, q)
    } else {
        list(shared, &filter)
    }
}

/// `…/{plural}/{name}`: get, server-side apply and delete.
pub async fn object(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    q: &Query,
) -> Reply {
    let method = req.method().clone();
    let key = ObjKey::new(rt, namespace, name);
    match method {
        Method::GET => match lock(&shared.store).get(&key) {
            Some(obj) => reply::json(StatusCode::OK, obj),
            None => reply::not_found(&rt.plural, &rt.group, name),
        },
        Method::PATCH => {
            let content_type = req
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            if !content_type.starts_with("application/apply-patch") {
                return reply::status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    format!(
                        "the test API server takes only server-side apply patches, not {content_type:?}"
                    ),
                );
            }
            match read_object(req).await {
                Ok(patch) => server_side_apply(shared, rt, &key, patch, q),
                Err(e) => e,
            }
        }
        Method::DELETE => match lock(&shared.store).remove(&key) {
            Some(obj) => reply::json(StatusCode::OK, &obj),
            None => reply::not_found(&rt.plural, &rt.group, name),
        },
        _ => reply::method_not_allowed(method.as_str(), &format!("{}/{name}", rt.plural)),
    }
}

fn filter(rt: &ResourceType, namespace: Option<&str>, q: &Query) -> Result<Filter, String> {
    Ok(Filter {
        rt: rt.clone(),
        namespace: namespace.map(str::to_string),
        labels: LabelSelector::parse(q.get("labelSelector").unwrap_or_default())?,
        fields: FieldSelector::parse(q.get("fieldSelector").unwrap_or_default(), &rt.kind)?,
    })
}

fn list(shared: &Arc<Shared>, filter: &Filter) -> Reply {
    let store = lock(&shared.store);
    let items: Vec<Value> = store
        .list(&filter.rt, filter.namespace.as_deref())
        .filter(|o| filter.matches(o))
        .cloned()
        .collect();
    reply::json(StatusCode::OK, &list_value(&filter.rt, &store, items))
}

fn list_value(rt: &ResourceType, store: &Store, items: Vec<Value>) -> Value {
    json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": { "resourceVersion": store.resource_version().to_string() },
        "items": items,
    })
}

/// PATCH `application/apply-patch+yaml`: creates the object or merges into it (each write bumps
/// the resourceVersion: there is no no-op detection).
fn server_side_apply(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    key: &ObjKey,
    mut patch: Value,
    q: &Query,
) -> Reply {
    let Some(manager) = q.get("fieldManager").filter(|m| !m.is_empty()) else {
        return reply::bad_request(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        );
    };
    if let Err(e) = check_object(rt, &key.namespace, &key.name, &mut patch) {
        return *e;
    }
    let mut store = lock(&shared.store);
    match store.get(key).cloned() {
        None => {
            let namespace = rt.namespaced.then_some(key.namespace.as_str());
            if let Err(e) = namespace_exists(&store, rt, namespace) {
                return *e;
            }
            let mut obj = patch;
            record_manager(&mut obj, manager, &rt.api_version());
            defaults::apply(rt, &store, &mut obj);
            reply::json(StatusCode::CREATED, &store.create(rt, obj))
        }
        Some(current) => {
            let mut merged = current;
            merge(&mut merged, &patch);
            defaults::apply(rt, &store, &mut merged);
            record_manager(&mut merged, manager, &rt.api_version());
            reply::json(
                StatusCode::OK,
                &store.replace(key, merged).unwrap_or_default(),
            )
        }
    }
}

/// Reads the request body as a JSON object (kube-rs sends apply patches as JSON).
async fn read_object(req: Request<Incoming>) -> Result<Value, Reply> {
    let bytes = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Err(reply::bad_request(format!(
                "cannot read the request body: {e}"
            )));
        }
    };
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(reply::bad_request("the request body is not an object")),
        Err(e) => Err(reply::bad_request(format!(
            "cannot decode the request body: {e}"
        ))),
    }
}

/// Checks an applied object against its URL (type, name, namespace) and fills in the name and
/// namespace it leaves out; apply needs `apiVersion` and `kind`.
fn check_object(
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    obj: &mut Value,
) -> Result<(), Box<Reply>> {
    let expected = [("apiVersion", rt.api_version()), ("kind", rt.kind.clone())];
    for (field, want) in expected {
        match obj.get(field).and_then(Value::as_str) {
            Some(have) if have != want => {
                return Err(Box::new(reply::bad_request(format!(
                    "the {field} in the data ({have}) does not match the expected {field} ({want})"
                ))));
            }
            None => {
                return Err(Box::new(reply::bad_request(format!("{field} must be set"))));
            }
            _ => {}
        }
    }
    let meta = metadata_mut(obj);
    match meta.get("name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() && n != name => {
            return Err(Box::new(reply::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            ))));
        }
        _ => {
            meta.insert("name".into(), Value::String(name.into()));
        }
    }
    if !rt.namespaced {
        meta.remove("namespace");
    } else {
        let ns = namespace;
        match meta.get("namespace").and_then(Value::as_str) {
            Some(n) if !n.is_empty() && n != ns => {
                return Err(Box::new(reply::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                )));
            }
            _ => {
                meta.insert("namespace".into(), Value::String(ns.into()));
            }
        }
    }
    Ok(())
}

/// Objects can only be created in a namespace that exists (`404 namespaces "x" not found`).
fn namespace_exists(
    store: &Store,
    rt: &ResourceType,
    namespace: Option<&str>,
) -> Result<(), Box<Reply>> {
    let Some(ns) = namespace.filter(|_| rt.namespaced) else {
        return Ok(());
    };
    let key = ObjKey {
        group: String::new(),
        kind: "Namespace".into(),
        namespace: String::new(),
        name: ns.into(),
    };
    match store.get(&key) {
        Some(_) => Ok(()),
        None => Err(Box::new(reply::not_found("namespaces", "", ns))),
    }
}
