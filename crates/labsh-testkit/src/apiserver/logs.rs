//! Pod logs: per-container line buffers (each line stamped when it was added) and the
//! `/api/v1/namespaces/{ns}/pods/{name}/log` endpoint, including `follow` streams that stay open
//! and receive pushed lines until the client leaves, the test ends them
//! ([`super::TestApiServer::end_log_streams`]) or the pod is deleted.

use std::collections::HashMap;
use std::sync::Arc;

use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::sync::broadcast;

use super::query::Query;
use super::reply::{self, Body, ChannelBody, OpenGuard};
use super::store::{EventType, ObjKey, Store};
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

/// Makes a container's generated log lines (each with or without its `\n`), anew for each
/// request.
pub type LogGenerator = dyn Fn() -> Box<dyn Iterator<Item = String> + Send> + Send + Sync;

/// Largest chunk of generated lines written at once.
const GENERATED_CHUNK: usize = 64 * 1024;

#[derive(Default)]
pub struct Logs {
    buffers: HashMap<LogKey, Buffer>,
    generators: HashMap<LogKey, Arc<LogGenerator>>,
}

impl Logs {
    pub fn set(&mut self, key: LogKey, lines: Vec<String>) {
        let at = Timestamp::now();
        self.buffers.entry(key).or_default().lines =
            lines.into_iter().map(|text| LogLine { at, text }).collect();
    }

    pub fn set_aged(&mut self, key: LogKey, lines: Vec<(std::time::Duration, String)>) {
        let now = Timestamp::now();
        self.buffers.entry(key).or_default().lines = lines
            .into_iter()
            .map(|(age, text)| LogLine {
                at: SignedDuration::try_from(age)
                    .ok()
                    .and_then(|age| now.checked_sub(age).ok())
                    .unwrap_or(now),
                text,
            })
            .collect();
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

    pub fn set_generator(&mut self, key: LogKey, generator: Arc<LogGenerator>) {
        self.generators.insert(key, generator);
    }

    /// Closes the follow streams of a container (their receivers see the channel end).
    pub fn end_streams(&mut self, key: &LogKey) {
        if let Some(buffer) = self.buffers.get_mut(key) {
            buffer.tx = broadcast::channel(4096).0;
        }
    }

    /// The lines so far, the generator if any, and a receiver for later lines, taken together
    /// so none is missed.
    fn snapshot(&mut self, key: LogKey) -> Snapshot {
        let generator = self.generators.get(&key).cloned();
        let buffer = self.buffers.entry(key).or_default();
        Snapshot {
            lines: buffer.lines.clone(),
            generator,
            live: buffer.tx.subscribe(),
        }
    }
}

struct Snapshot {
    lines: Vec<LogLine>,
    generator: Option<Arc<LogGenerator>>,
    live: broadcast::Receiver<Arc<LogLine>>,
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
    let (snapshot, mut pod_events, pod_key) = {
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
        let snapshot = lock(&shared.logs).snapshot(key);
        (snapshot, store.subscribe(), pod_key)
    };
    let Snapshot {
        lines,
        generator,
        live: mut rx,
    } = snapshot;
    let text = params.render(&params.select(&lines));
    if !params.follow && generator.is_none() {
        return reply::text(StatusCode::OK, text);
    }
    let guard = params
        .follow
        .then(|| OpenGuard::new(&shared.open_log_streams));
    let (tx, body) = ChannelBody::new(guard);
    let shutdown = shared.shutdown.clone();
    tokio::spawn(async move {
        if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        if let Some(generator) = generator {
            // Written as the client reads: the channel's capacity bounds what is buffered.
            let mut chunk = String::new();
            for line in generator() {
                chunk.push_str(&params.render_one(&line));
                if chunk.len() >= GENERATED_CHUNK
                    && tx
                        .send(Bytes::from(std::mem::take(&mut chunk)))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            if !chunk.is_empty() && tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
        }
        if !params.follow {
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
                    // A follower more than 4096 pushed lines behind loses the oldest ones
                    // (use a generator for large volumes: it has backpressure).
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                // The pod is gone: its logs end, as its containers did.
                ev = pod_events.recv() => match ev {
                    Ok(ev) if ev.kind == EventType::Deleted && ev.key == pod_key => return,
                    Err(broadcast::error::RecvError::Closed) => return,
                    _ => continue,
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
    since_time: Option<Timestamp>,
    timestamps: bool,
    limit_bytes: Option<i64>,
}

impl LogParams {
    fn parse(q: &Query) -> Result<Self, String> {
        let since_time = match q.get("sinceTime") {
            None | Some("") => None,
            Some(t) => Some(
                t.parse::<Timestamp>()
                    .map_err(|e| format!("invalid sinceTime {t:?}: {e}"))?,
            ),
        };
        Ok(LogParams {
            container: q
                .get("container")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
            follow: q.flag("follow"),
            tail_lines: q.int("tailLines")?,
            since_seconds: q.int("sinceSeconds")?,
            since_time,
            timestamps: q.flag("timestamps"),
            limit_bytes: q.int("limitBytes")?,
        })
    }

    /// The stored lines this request asks for (`sinceSeconds`/`sinceTime`, then `tailLines`).
    fn select(&self, lines: &[LogLine]) -> Vec<LogLine> {
        let now = Timestamp::now();
        let since = self
            .since_seconds
            .and_then(|s| now.checked_sub(SignedDuration::from_secs(s)).ok())
            .or(self.since_time);
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

    /// One generated line, stamped now when `timestamps` is set.
    fn render_one(&self, text: &str) -> String {
        let text = text.strip_suffix('\n').unwrap_or(text);
        if self.timestamps {
            format!("{:.9} {text}\n", Timestamp::now())
        } else {
            format!("{text}\n")
        }
    }

    /// Lines as the response carries them (`timestamps` prefixes RFC 3339 with nanoseconds).
    fn render(&self, lines: &[LogLine]) -> String {
        let mut text = String::new();
        for l in lines {
            if self.timestamps {
                text.push_str(&format!("{:.9} ", l.at));
            }
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
