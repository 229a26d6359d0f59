//! Object verbs: list/watch, create and deletecollection on collections; get, replace (PUT),
//! patch (server-side apply, merge and strategic merge) and delete on objects and their `status`
//! subresource.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::defaults;
use super::merge::{merge, record_manager, same_content};
use super::query::Query;
use super::reply::{self, Body};
use super::resources::ResourceType;
use super::selectors::{FieldSelector, LabelSelector};
use super::store::{ObjKey, Store, metadata_mut, name_of};
use super::watch::{self, Filter};
use super::{Shared, lock};

type Reply = Response<Body>;

/// `…/{plural}` and `…/namespaces/{ns}/{plural}`.
pub async fn collection(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    rt: &ResourceType,
    namespace: Option<&str>,
    q: &Query,
) -> Reply {
    let method = req.method().clone();
    match method {
        Method::GET | Method::DELETE => {
            let filter = match filter(rt, namespace, q) {
                Ok(f) => f,
                Err(e) => return reply::bad_request(e),
            };
            if method == Method::DELETE {
                delete_collection(shared, &filter)
            } else if q.flag("watch") {
                watch::serve(shared, filter, q)
            } else {
                list(shared, &filter)
            }
        }
        Method::POST if rt.namespaced == namespace.is_some() => {
            match read_object(req, false).await {
                Ok(obj) => create(shared, rt, namespace, obj, q),
                Err(e) => e,
            }
        }
        _ => reply::method_not_allowed(method.as_str(), &rt.plural),
    }
}

/// `…/{plural}/{name}` and `…/{plural}/{name}/status`.
pub async fn object(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    rt: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    sub: Option<&str>,
    q: &Query,
) -> Reply {
    let method = req.method().clone();
    let key = ObjKey::new(rt, namespace, name);
    match method {
        Method::GET => match lock(&shared.store).get(&key) {
            Some(obj) => reply::json(StatusCode::OK, obj),
            None => reply::not_found(&rt.plural, &rt.group, name),
        },
        Method::PUT => match read_object(req, false).await {
            Ok(obj) => replace(shared, rt, &key, obj, sub, q),
            Err(e) => e,
        },
        Method::PATCH => {
            let content_type = req
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let apply = content_type.starts_with("application/apply-patch");
            let merge_patch = content_type.starts_with("application/merge-patch+json")
                || content_type.starts_with("application/strategic-merge-patch+json");
            if !apply && !merge_patch {
                return reply::status(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    format!(
                        "the test API server takes apply, merge and strategic merge patches, not {content_type:?}"
                    ),
                );
            }
            match read_object(req, apply).await {
                Ok(patch) if apply => server_side_apply(shared, rt, &key, patch, sub, q),
                Ok(patch) => merge_patch_object(shared, rt, &key, patch, sub, q),
                Err(e) => e,
            }
        }
        Method::DELETE if sub.is_none() => match lock(&shared.store).delete(&key) {
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

fn delete_collection(shared: &Arc<Shared>, filter: &Filter) -> Reply {
    let mut store = lock(&shared.store);
    let keys: Vec<ObjKey> = store
        .list(&filter.rt, filter.namespace.as_deref())
        .filter(|o| filter.matches(o))
        .map(|o| ObjKey::new(&filter.rt, o["metadata"]["namespace"].as_str(), name_of(o)))
        .collect();
    let items: Vec<Value> = keys.iter().filter_map(|k| store.delete(k)).collect();
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

/// POST: a new object (`409 AlreadyExists` if the name is taken).
fn create(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    namespace: Option<&str>,
    mut obj: Value,
    q: &Query,
) -> Reply {
    if let Err(e) = check_object(rt, namespace, None, &mut obj, false) {
        return *e;
    }
    if rt.has_status
        && let Some(m) = obj.as_object_mut()
    {
        m.remove("status");
    }
    let mut store = lock(&shared.store);
    if name_of(&obj).is_empty() {
        let Some(prefix) = obj["metadata"]["generateName"].as_str().map(str::to_string) else {
            return reply::bad_request("name or generateName is required");
        };
        let suffix = format!("{:05x}", store.resource_version() % 0x10_0000);
        metadata_mut(&mut obj).insert("name".into(), Value::String(format!("{prefix}{suffix}")));
    }
    if let Err(e) = namespace_exists(&store, rt, namespace) {
        return *e;
    }
    let key = ObjKey::new(rt, namespace, name_of(&obj));
    if store.get(&key).is_some() {
        return already_exists(rt, &key.name);
    }
    if let Some(manager) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        record_manager(&mut obj, manager, "Update", &rt.api_version());
    }
    defaults::apply(rt, &store, None, &mut obj);
    reply::json(StatusCode::CREATED, &store.create(rt, obj))
}

/// PUT: replaces the object (or only its status on the `status` subresource).
fn replace(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    key: &ObjKey,
    mut obj: Value,
    sub: Option<&str>,
    q: &Query,
) -> Reply {
    if let Err(e) = check_object(rt, Some(&key.namespace), Some(&key.name), &mut obj, false) {
        return *e;
    }
    let mut store = lock(&shared.store);
    let Some(current) = store.get(key).cloned() else {
        return reply::not_found(&rt.plural, &rt.group, &key.name);
    };
    if let Some(rv) = obj["metadata"]["resourceVersion"].as_str()
        && Some(rv) != current["metadata"]["resourceVersion"].as_str()
    {
        return reply::status(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
                rt.plural, key.name
            ),
        );
    }
    let mut new = split_status(rt, &current, obj, sub);
    if sub.is_none() {
        defaults::apply(rt, &store, Some(&current), &mut new);
    }
    if let Some(manager) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        record_manager(&mut new, manager, "Update", &rt.api_version());
    }
    reply::json(StatusCode::OK, &store.replace(key, new).unwrap_or_default())
}

/// PATCH `application/apply-patch+yaml`: creates the object or merges into it; a re-apply that
/// changes nothing keeps the stored object (same resourceVersion), as a real server does.
fn server_side_apply(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    key: &ObjKey,
    mut patch: Value,
    sub: Option<&str>,
    q: &Query,
) -> Reply {
    let Some(manager) = q.get("fieldManager").filter(|m| !m.is_empty()) else {
        return reply::bad_request(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        );
    };
    if let Err(e) = check_object(rt, Some(&key.namespace), Some(&key.name), &mut patch, true) {
        return *e;
    }
    let mut store = lock(&shared.store);
    match store.get(key).cloned() {
        None if sub.is_some() => reply::not_found(&rt.plural, &rt.group, &key.name),
        None => {
            let namespace = rt.namespaced.then_some(key.namespace.as_str());
            if let Err(e) = namespace_exists(&store, rt, namespace) {
                return *e;
            }
            let mut obj = split_status(rt, &json!({}), patch, None);
            record_manager(&mut obj, manager, "Apply", &rt.api_version());
            defaults::apply(rt, &store, None, &mut obj);
            reply::json(StatusCode::CREATED, &store.create(rt, obj))
        }
        Some(current) => {
            let mut merged = current.clone();
            merge(&mut merged, &patch);
            let mut merged = split_status(rt, &current, merged, sub);
            if sub.is_none() {
                defaults::apply(rt, &store, Some(&current), &mut merged);
            }
            if same_content(&merged, &current) {
                return reply::json(StatusCode::OK, &current);
            }
            record_manager(&mut merged, manager, "Apply", &rt.api_version());
            reply::json(
                StatusCode::OK,
                &store.replace(key, merged).unwrap_or_default(),
            )
        }
    }
}

/// PATCH with a JSON merge patch (strategic merge patches are treated the same way).
fn merge_patch_object(
    shared: &Arc<Shared>,
    rt: &ResourceType,
    key: &ObjKey,
    patch: Value,
    sub: Option<&str>,
    q: &Query,
) -> Reply {
    let mut store = lock(&shared.store);
    let Some(current) = store.get(key).cloned() else {
        return reply::not_found(&rt.plural, &rt.group, &key.name);
    };
    let mut merged = current.clone();
    merge(&mut merged, &patch);
    let mut merged = split_status(rt, &current, merged, sub);
    if sub.is_none() {
        defaults::apply(rt, &store, Some(&current), &mut merged);
    }
    if same_content(&merged, &current) {
        return reply::json(StatusCode::OK, &current);
    }
    if let Some(manager) = q.get("fieldManager").filter(|m| !m.is_empty()) {
        record_manager(&mut merged, manager, "Update", &rt.api_version());
    }
    reply::json(
        StatusCode::OK,
        &store.replace(key, merged).unwrap_or_default(),
    )
}

/// Keeps `status` and the rest apart as the real server does: on the `status` subresource only
/// the new status counts; on the main resource of a kind with a status subresource, the new
/// status is ignored.
fn split_status(rt: &ResourceType, current: &Value, mut new: Value, sub: Option<&str>) -> Value {
    if sub == Some("status") {
        let mut out = current.clone();
        match new.get_mut("status").map(Value::take) {
            Some(status) => out["status"] = status,
            None => {
                if let Some(m) = out.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        return out;
    }
    if rt.has_status
        && let Some(m) = new.as_object_mut()
    {
        match current.get("status") {
            Some(status) => {
                m.insert("status".into(), status.clone());
            }
            None => {
                m.remove("status");
            }
        }
    }
    new
}

/// Reads the request body as a JSON object (or YAML, for apply patches).
async fn read_object(req: Request<Incoming>, yaml_too: bool) -> Result<Value, Reply> {
    let bytes = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Err(reply::bad_request(format!(
                "cannot read the request body: {e}"
            )));
        }
    };
    let parsed = serde_json::from_slice::<Value>(&bytes).or_else(|json_err| {
        let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
        if yaml_too {
            serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
        } else {
            Err(json_err.to_string())
        }
    });
    match parsed {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(reply::bad_request("the request body is not an object")),
        Err(e) => Err(reply::bad_request(format!(
            "cannot decode the request body: {e}"
        ))),
    }
}

/// Checks a written object against its URL (type, name, namespace) and fills in what it leaves
/// out; apply (`require_type`) needs `apiVersion` and `kind`.
fn check_object(
    rt: &ResourceType,
    namespace: Option<&str>,
    name: Option<&str>,
    obj: &mut Value,
    require_type: bool,
) -> Result<(), Box<Reply>> {
    let expected = [("apiVersion", rt.api_version()), ("kind", rt.kind.clone())];
    for (field, want) in expected {
        match obj.get(field).and_then(Value::as_str) {
            Some(have) if have != want => {
                return Err(Box::new(reply::bad_request(format!(
                    "the {field} in the data ({have}) does not match the expected {field} ({want})"
                ))));
            }
            None if require_type => {
                return Err(Box::new(reply::bad_request(format!("{field} must be set"))));
            }
            _ => obj[field] = Value::String(want),
        }
    }
    let meta = metadata_mut(obj);
    if let Some(name) = name {
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
    }
    if !rt.namespaced {
        meta.remove("namespace");
    } else if let Some(ns) = namespace {
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

fn already_exists(rt: &ResourceType, name: &str) -> Reply {
    let what = if rt.group.is_empty() {
        rt.plural.clone()
    } else {
        format!("{}.{}", rt.plural, rt.group)
    };
    reply::status(
        StatusCode::CONFLICT,
        "AlreadyExists",
        format!("{what} \"{name}\" already exists"),
    )
}
