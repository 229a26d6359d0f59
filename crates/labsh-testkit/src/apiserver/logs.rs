//! Pod logs: per-container line buffers (each line stamped when it was added) and the
//! `/api/v1/namespaces/{ns}/pods/{name}/log` endpoint with the parameters labsh sends
//! (`container`, `tailLines`, `sinceSeconds`, `limitBytes`, `follow`), including `follow` streams
//! that stay open and receive pushed lines until the client leaves or the server stops.

use std::collections::HashMap;
use std::sync::Arc;

use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::broadcast;

use super::query::Query;
use super::reply::{self, Body, ChannelBody, OpenGuard};
use super::store::{ObjKey, Store};
use super::{Shared, lock};

/// (namespace, pod, container); `None` is the pod's first container.
pub type LogKey = (String, String, Option<String>);

#[derive(Clone, Debug)]
pub struct LogLine {
    pub at: Timestamp,
    pub text: String,
}

struct Buffer {
    lines: Vec<LogLine>,
    tx: broadcast::Sender<Arc<LogLine>>,
}

impl Default for Buffer {
    fn default() -> Self {
        Buffer {
            lines: Vec::new(),
            tx: broadcast::channel(4096).0,
        }
    }
}

#[derive(Default)]
pub struct Logs {
    buffers: HashMap<LogKey, Buffer>,
}

impl Logs {
    pub fn set(&mut self, key: LogKey, lines: Vec<String>) {
        let at = Timestamp::now();
        self.buffers.entry(key).or_default().lines =
            lines.into_iter().map(|text| LogLine { at, text }).collect();
    }

    pub fn push(&mut self, key: LogKey, text: &str) {
        let line = LogLine {
            at: Timestamp::now(),
            text: text.to_string(),
        };
        let buffer = self.buffers.entry(key).or_default();
        buffer.lines.push(line.clone());
        // No receiver is fine: nobody follows.
        let _ = buffer.tx.send(Arc::new(line));
    }

    /// The lines so far and a receiver for later lines, taken together so none is missed.
    fn snapshot(&mut self, key: LogKey) -> (Vec<LogLine>, broadcast::Receiver<Arc<LogLine>>) {
        let buffer = self.buffers.entry(key).or_default();
        (buffer.lines.clone(), buffer.tx.subscribe())
    }
}

/// The buffer key of a pod's container: naming the pod's first container is the same as naming
/// none.
pub fn key(store: &Store, namespace: &str, pod: &str, container: Option<&str>) -> LogKey {
    let first = pod_containers(store, namespace, pod).and_then(|c| c.into_iter().next());
    let container = match container {
        Some(c) if first.as_deref() != Some(c) => Some(c.to_string()),
        _ => None,
    };
    (namespace.to_string(), pod.to_string(), container)
}

/// The names of a stored pod's containers (`spec.containers`), `None` when the pod is absent.
fn pod_containers(store: &Store, namespace: &str, pod: &str) -> Option<Vec<String>> {
    let key = ObjKey {
        group: String::new(),
        kind: "Pod".into(),
        namespace: namespace.into(),
        name: pod.into(),
    };
    let obj = store.get(&key)?;
    Some(container_names(obj, "containers"))
}

/// Names in `spec.{field}` of a pod.
pub fn container_names(pod: &Value, field: &str) -> Vec<String> {
    pod["spec"][field]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the `container` parameter against a pod as the API server does: it must name one of the
/// pod's containers, and may be omitted only when the pod has one container.
pub fn check_container(pod: &Value, name: &str, container: Option<&str>) -> Result<(), String> {
    let containers = container_names(pod, "containers");
    match container {
        Some(c) => {
            let init = container_names(pod, "initContainers");
            if containers.iter().chain(&init).any(|n| n == c) || containers.is_empty() {
                Ok(())
            } else {
                Err(format!("container {c} is not valid for pod {name}"))
            }
        }
        None if containers.len() > 1 => Err(format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            containers.join(" ")
        )),
        None => Ok(()),
    }
}

/// `GET …/pods/{name}/log`.
pub fn serve(shared: &Arc<Shared>, namespace: &str, pod: &str, q: &Query) -> Response<Body> {
    let params = match LogParams::parse(q) {
        Ok(p) => p,
        Err(e) => return reply::bad_request(e),
    };
    let (lines, mut rx) = {
        let store = lock(&shared.store);
        let pod_key = ObjKey {
            group: String::new(),
            kind: "Pod".into(),
            namespace: namespace.into(),
            name: pod.into(),
        };
        let Some(pod_obj) = store.get(&pod_key) else {
            return reply::not_found("pods", "", pod);
        };
        if let Err(e) = check_container(pod_obj, pod, params.container.as_deref()) {
            return reply::bad_request(e);
        }
        let key = key(&store, namespace, pod, params.container.as_deref());
        lock(&shared.logs).snapshot(key)
    };
    let text = params.render(&params.select(&lines));
    if !params.follow {
        return reply::text(StatusCode::OK, text);
    }
    let (tx, body) = ChannelBody::new(Some(OpenGuard::new(&shared.open_log_streams)));
    let shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                line = rx.recv() => match line {
                    Ok(line) => {
                        let chunk = params.render(std::slice::from_ref(&*line));
                        if tx.send(Bytes::from(chunk)).await.is_err() {
                            return;
                        }
                    }
                    // A follower more than 4096 pushed lines behind loses the oldest ones.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tx.closed() => return,
                _ = shutdown.cancelled() => return,
            }
        }
    });
    reply::streamed("text/plain", body)
}

struct LogParams {
    container: Option<String>,
    follow: bool,
    tail_lines: Option<i64>,
    since_seconds: Option<i64>,
    limit_bytes: Option<i64>,
}

impl LogParams {
    fn parse(q: &Query) -> Result<Self, String> {
        Ok(LogParams {
            container: q
                .get("container")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            follow: q.flag("follow"),
            tail_lines: q.int("tailLines")?,
            since_seconds: q.int("sinceSeconds")?,
            limit_bytes: q.int("limitBytes")?,
        })
    }

    /// The stored lines this request asks for (`sinceSeconds`, then `tailLines`).
    fn select(&self, lines: &[LogLine]) -> Vec<LogLine> {
        let now = Timestamp::now();
        let since = self
            .since_seconds
            .and_then(|s| now.checked_sub(SignedDuration::from_secs(s)).ok());
        let mut out: Vec<LogLine> = lines
            .iter()
            .filter(|l| since.is_none_or(|t| l.at >= t))
            .cloned()
            .collect();
        if let Some(n) = self.tail_lines {
            let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
            let skip = out.len().saturating_sub(n);
            out.drain(..skip);
        }
        out
    }

    /// Lines as the response carries them, cut at `limitBytes`.
    fn render(&self, lines: &[LogLine]) -> String {
        let mut text = String::new();
        for l in lines {
            text.push_str(&l.text);
            text.push('\n');
        }
        if let Some(limit) = self.limit_bytes {
            let mut limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
            if limit < text.len() {
                while !text.is_char_boundary(limit) {
                    limit -= 1;
                }
                text.truncate(limit);
            }
        }
        text
    }
}
