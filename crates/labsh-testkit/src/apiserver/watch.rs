//! `?watch=true`: a chunked stream of `{"type": …, "object": …}` lines.
//!
//! Starting point, as the real server: no `resourceVersion` (or `"0"`) starts with a synthetic
//! ADDED per existing object; `resourceVersion=N` (what kube-rs's `watcher` sends after its
//! initial list) replays the events after N. Then live events follow until `timeoutSeconds`, the
//! client leaves or the server stops. Not served, as kube-rs's default watcher (labsh's) never
//! asks: `sendInitialEvents` streaming lists, `410 Expired` (the history is kept whole). A label/field selector turns an object entering the selection into ADDED
//! and one leaving it into DELETED.

use std::sync::Arc;
use std::time::Duration;

use hyper::Response;
use hyper::body::Bytes;
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
    let from = match q.get("resourceVersion") {
        None | Some("" | "0") => None,
        Some(rv) => match rv.parse::<u64>() {
            Ok(rv) => Some(rv),
            Err(_) => {
                return reply::bad_request(format!("invalid resourceVersion {rv:?}"));
            }
        },
    };

    let (initial, rx) = {
        let store = lock(&shared.store);
        let rx = store.subscribe();
        let initial: Vec<String> = match from {
            None => store
                .list(&filter.rt, filter.namespace.as_deref())
                .filter(|obj| filter.matches(obj))
                .map(|obj| line("ADDED", obj))
                .collect(),
            Some(rv) => store
                .events_since(rv)
                .iter()
                .filter_map(|e| filter.translate(e))
                .collect(),
        };
        (initial, rx)
    };

    let (tx, body) = ChannelBody::new(None);
    let shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        for l in initial {
            if tx.send(Bytes::from(l)).await.is_err() {
                return;
            }
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
