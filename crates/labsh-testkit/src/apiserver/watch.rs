//! `?watch=true`: a chunked stream of `{"type": …, "object": …}` lines.
//!
//! Starting point, as the real server: no `resourceVersion` (or `"0"`) starts with a synthetic
//! ADDED per existing object; `resourceVersion=N` replays the events after N (or, when the
//! history no longer reaches back, an ERROR event with a `410 Expired` Status);
//! `sendInitialEvents=true` sends the existing objects then a BOOKMARK annotated
//! `k8s.io/initial-events-end`. Then live events follow until `timeoutSeconds`, the client leaves
//! or the server stops. A label/field selector turns an object entering the selection into ADDED
//! and one leaving it into DELETED.

use std::sync::Arc;
use std::time::Duration;

use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::query::Query;
use super::reply::{self, Body, ChannelBody};
use super::resources::ResourceType;
use super::selectors::{FieldSelector, LabelSelector};
use super::store::{Event, EventType};
use super::{Shared, lock};

/// Which events a watch wants.
pub struct Filter {
    pub rt: ResourceType,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Filter {
    pub fn matches(&self, obj: &Value) -> bool {
        let ns_ok = !self.rt.namespaced
            || self
                .namespace
                .as_deref()
                .is_none_or(|ns| obj["metadata"]["namespace"].as_str() == Some(ns));
        ns_ok && self.labels.matches(obj) && self.fields.matches(obj)
    }

    /// The watch line an event becomes for this watch, if any.
    fn translate(&self, ev: &Event) -> Option<String> {
        if ev.key.group != self.rt.group || ev.key.kind != self.rt.kind {
            return None;
        }
        let now = self.matches(&ev.object);
        let before = ev.previous.as_ref().is_some_and(|p| self.matches(p));
        let kind = match ev.kind {
            EventType::Added if now => EventType::Added,
            EventType::Modified if now && before => EventType::Modified,
            EventType::Modified if now => EventType::Added,
            EventType::Modified if before => EventType::Deleted,
            EventType::Deleted if now || before => EventType::Deleted,
            _ => return None,
        };
        Some(line(kind.as_str(), &ev.object))
    }
}

fn line(kind: &str, object: &Value) -> String {
    format!("{}\n", json!({ "type": kind, "object": object }))
}

/// Starts a watch response.
pub fn serve(shared: &Arc<Shared>, filter: Filter, q: &Query) -> Response<Body> {
    let timeout = match q.int("timeoutSeconds") {
        Ok(t) => Duration::from_secs(t.unwrap_or(1800).clamp(0, 86_400) as u64),
        Err(e) => return reply::bad_request(e),
    };
    let send_initial = q.flag("sendInitialEvents");
    let from = match q.get("resourceVersion") {
        None | Some("" | "0") => None,
        Some(rv) => match rv.parse::<u64>() {
            Ok(rv) => Some(rv),
            Err(_) => {
                return reply::bad_request(format!("invalid resourceVersion {rv:?}"));
            }
        },
    };

    let (initial, rx, expired) = {
        let store = lock(&shared.store);
        let (now, rx) = store.subscribe();
        let mut initial = Vec::new();
        let mut expired = false;
        if send_initial || from.is_none() {
            for obj in store.list(&filter.rt, filter.namespace.as_deref()) {
                if filter.matches(obj) {
                    initial.push(line("ADDED", obj));
                }
            }
            if send_initial {
                let bookmark = json!({
                    "apiVersion": filter.rt.api_version(),
                    "kind": filter.rt.kind,
                    "metadata": {
                        "resourceVersion": now.to_string(),
                        "annotations": { "k8s.io/initial-events-end": "true" },
                    },
                });
                initial.push(line("BOOKMARK", &bookmark));
            }
        } else if let Some(rv) = from {
            match store.events_since(rv) {
                Some(events) => initial.extend(events.iter().filter_map(|e| filter.translate(e))),
                None => {
                    expired = true;
                    initial.push(expired_line(rv));
                }
            }
        }
        (initial, rx, expired)
    };

    let (tx, body) = ChannelBody::new(None);
    let shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        for l in initial {
            if tx.send(Bytes::from(l)).await.is_err() {
                return;
            }
        }
        if expired {
            return;
        }
        let mut rx = rx;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        if let Some(l) = filter.translate(&ev)
                            && tx.send(Bytes::from(l)).await.is_err()
                        {
                            return;
                        }
                    }
                    // Fell behind the broadcast: end the watch; the client resumes or relists.
                    Err(broadcast::error::RecvError::Lagged(_)) => return,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tx.closed() => return,
                _ = &mut deadline => return,
                _ = shutdown.cancelled() => return,
            }
        }
    });
    reply::streamed("application/json", body)
}

fn expired_line(rv: u64) -> String {
    let status = reply::status_value(
        StatusCode::GONE,
        "Expired",
        format!("too old resource version: {rv}"),
        None,
    );
    line("ERROR", &status)
}
