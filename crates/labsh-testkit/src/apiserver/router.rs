//! The accept loop and the request router: records each request, then dispatches discovery,
//! object paths, and the pods' `log` and `exec` subresources.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use super::discovery;
use super::objects;
use super::query::Query;
use super::reply::{self, Body};
use super::resources;
use super::{RequestRecord, Shared, exec, lock, logs};

/// Accepts connections until the server shuts down.
pub async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("test API server: cannot listen: {e}");
            return;
        }
    };
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            _ = shared.shutdown.cancelled() => return,
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let shutdown = shared.shutdown.clone();
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(shared, req).await) }
            });
            let conn = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::select! {
                // A connection error (client gone mid-request) concerns nobody else.
                _ = conn => {}
                _ = shutdown.cancelled() => {}
            }
        });
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or_default().to_string();
    lock(&shared.requests).push(RequestRecord {
        method: method.to_string(),
        path: path.clone(),
        query: raw_query.clone(),
    });
    let q = Query::parse(&raw_query);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    let discovery_doc = match segments.as_slice() {
        ["api"] => Some(Ok(discovery::core_versions(&shared.addr.to_string()))),
        ["apis"] => Some(Ok(discovery::group_list(&resources::builtins()))),
        ["api", version] => {
            Some(discovery::resource_list(&resources::builtins(), "", version).ok_or(()))
        }
        ["apis", group, version] => {
            Some(discovery::resource_list(&resources::builtins(), group, version).ok_or(()))
        }
        _ => None,
    };
    if let Some(doc) = discovery_doc {
        if method != Method::GET {
            return reply::method_not_allowed(method.as_str(), &path);
        }
        return match doc {
            Ok(doc) => reply::json(StatusCode::OK, &doc),
            Err(()) => reply::no_route(),
        };
    }

    let (group, version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return reply::no_route(),
    };
    let Some(target) = Target::parse(rest) else {
        return reply::no_route();
    };
    let Some(rt) = resources::type_at(group, version, target.plural) else {
        return reply::no_route();
    };
    if target.namespace.is_some() && !rt.namespaced {
        return reply::no_route();
    }
    let namespace = target.namespace.map(str::to_string);
    let name = target.name.map(str::to_string);
    let sub = target.subresource.map(str::to_string);

    match (name, sub) {
        (None, _) => objects::collection(&shared, req, &rt, namespace.as_deref(), &q).await,
        (Some(name), None) => {
            if rt.namespaced && namespace.is_none() {
                return reply::no_route();
            }
            objects::object(&shared, req, &rt, namespace.as_deref(), &name, &q).await
        }
        (Some(name), Some(sub)) => {
            if !rt.has_subresource(&sub) || (rt.namespaced && namespace.is_none()) {
                return reply::no_route();
            }
            let ns = namespace.unwrap_or_default();
            match sub.as_str() {
                "log" if method == Method::GET => logs::serve(&shared, &ns, &name, &q),
                "exec" if method == Method::GET || method == Method::POST => {
                    exec::serve(&shared, req, &ns, &name, &q)
                }
                _ => reply::method_not_allowed(method.as_str(), &path),
            }
        }
    }
}

/// The part of a resource path after `/api/v1` or `/apis/{g}/{v}`.
struct Target<'a> {
    namespace: Option<&'a str>,
    plural: &'a str,
    name: Option<&'a str>,
    subresource: Option<&'a str>,
}

impl<'a> Target<'a> {
    fn parse(rest: &[&'a str]) -> Option<Self> {
        // `namespaces/{ns}/{plural}…` is a namespaced path.
        let namespaced = rest.len() >= 3 && rest[0] == "namespaces";
        let (namespace, rest) = if namespaced {
            (Some(rest[1]), &rest[2..])
        } else {
            (None, rest)
        };
        match rest {
            [plural] => Some(Target {
                namespace,
                plural,
                name: None,
                subresource: None,
            }),
            [plural, name] => Some(Target {
                namespace,
                plural,
                name: Some(name),
                subresource: None,
            }),
            [plural, name, sub] => Some(Target {
                namespace,
                plural,
                name: Some(name),
                subresource: Some(sub),
            }),
            _ => None,
        }
    }
}
