//! Pod logs: a target (`frontend-abc`, a `Pod`, `deployment/frontend`, `ds/cilium`) is
//! resolved to its pods (a workload's pods through its `spec.selector`); `fetch` reads the
//! last lines or the lines since a time, `follow` streams every pod's lines on a channel
//! (the source of [`crate::kube::log_follow::LogFollow`]).
//! Each follow stream is a task watching a cancellation token: cancelling it (or dropping the
//! receiver) ends the HTTP streams.
//!
//! A log stream also ends when the API server goes away, and that must not pass for the
//! pod's log ending: when a stream ends, the pod is read back; if the server does not answer
//! after [`LOST_ATTEMPTS`] tries, the follow ends with [`KubeError::Lost`].

use std::time::Duration;

use futures::AsyncBufReadExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::follow::LineSplitter;
use crate::kube::target_pods::{self, default_container, pod_name};
use crate::kube::{Conn, KubeError};

/// Where logs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogSource {
    /// `(namespace, pod)` pairs, sorted by name.
    pub pods: Vec<(String, String)>,
    /// Each pod's default container (the one its logs come from when none is given).
    pub containers: std::collections::BTreeMap<String, String>,
    /// Whether the target was a workload (several pods possible).
    pub workload: bool,
    /// kubectl's spelling of the target (`deployment/frontend`, `frontend-abc`).
    pub display: String,
}

/// Resolves a target to its pods (see [`target_pods::resolve`]).
pub async fn resolve(
    conn: &Conn,
    target: &str,
    namespace: Option<&str>,
) -> Result<LogSource, KubeError> {
    let found = target_pods::resolve(conn, target, namespace).await?;
    Ok(LogSource {
        pods: found
            .pods
            .iter()
            .map(|p| (found.namespace.clone(), pod_name(p).to_string()))
            .collect(),
        containers: found
            .pods
            .iter()
            .filter_map(|p| Some((pod_name(p).to_string(), default_container(p)?)))
            .collect(),
        workload: found.workload,
        display: found.display,
    })
}

impl LogSource {
    /// The same source reading `container` (when given) of every pod.
    pub fn with_container(mut self, container: Option<&str>) -> Self {
        if let Some(c) = container {
            for (_, pod) in &self.pods {
                self.containers.insert(pod.clone(), c.to_string());
            }
        }
        self
    }
}

fn what(namespace: &str, pod: &str, container: Option<&str>) -> String {
    format!(
        "logs of pod {namespace}/{pod}{}",
        container
            .map(|c| format!(" (container {c})"))
            .unwrap_or_default()
    )
}

/// The logs of every pod (tail or since, as `params` says), pod by pod.
pub async fn fetch(
    conn: &Conn,
    source: &LogSource,
    params: &LogParams,
) -> Result<Vec<(String, Vec<String>)>, KubeError> {
    let reads = source.pods.iter().map(|(ns, pod)| async move {
        let api: Api<Pod> = Api::namespaced(conn.client.clone(), ns);
        api.logs(pod, params)
            .await
            .map(|text| {
                (
                    pod.clone(),
                    text.lines().map(String::from).collect::<Vec<_>>(),
                )
            })
            .map_err(|e| conn.error(|| what(ns, pod, params.container.as_deref()), e))
    });
    futures::future::try_join_all(reads).await
}

/// A followed line: the pod it came from and the text.
pub type FollowItem = Result<(String, String), KubeError>;

/// Follows every pod's logs; lines arrive on the returned channel until every stream ends,
/// `token` is cancelled or the receiver is dropped.
pub fn follow(
    conn: std::sync::Arc<Conn>,
    source: &LogSource,
    params: LogParams,
    token: CancellationToken,
) -> mpsc::Receiver<FollowItem> {
    let (tx, rx) = mpsc::channel(4096);
    for (ns, pod) in source.pods.clone() {
        let conn = conn.clone();
        let tx = tx.clone();
        let token = token.clone();
        let mut params = params.clone();
        params.follow = true;
        tokio::spawn(async move {
            let api: Api<Pod> = Api::namespaced(conn.client.clone(), &ns);
            let stream = tokio::select! {
                _ = token.cancelled() => return,
                s = api.log_stream(&pod, &params) => s,
            };
            let mut reader = match stream {
                Ok(r) => Box::pin(r),
                Err(e) => {
                    let _ = tx
                        .send(Err(
                            conn.error(|| what(&ns, &pod, params.container.as_deref()), e)
                        ))
                        .await;
                    return;
                }
            };
            let mut splitter = LineSplitter::default();
            let read_error = loop {
                let lines = tokio::select! {
                    _ = token.cancelled() => return,
                    _ = tx.closed() => return,
                    chunk = reader.fill_buf() => match chunk {
                        Ok([]) => break None,
                        Err(e) => break Some(e.to_string()),
                        Ok(chunk) => {
                            let n = chunk.len();
                            let lines = splitter.push(chunk);
                            reader.consume_unpin(n);
                            lines
                        }
                    },
                };
                for line in lines {
                    if tx.send(Ok((pod.clone(), line))).await.is_err() {
                        return;
                    }
                }
            };
            if let Some(line) = splitter.finish()
                && tx.send(Ok((pod.clone(), line))).await.is_err()
            {
                return;
            }
            let describe = || what(&ns, &pod, params.container.as_deref());
            let lost = tokio::select! {
                _ = token.cancelled() => return,
                _ = tx.closed() => return,
                lost = server_lost(&conn, &api, &pod, read_error, describe) => lost,
            };
            if let Some(err) = lost {
                let _ = tx.send(Err(err)).await;
            }
        });
    }
    rx
}

/// How many times the pod is read back after its log stream ended before the server is
/// declared lost.
pub const LOST_ATTEMPTS: u32 = 3;
/// The pause between those reads.
pub const LOST_RETRY: Duration = Duration::from_secs(1);

/// After a log stream ended: `None` when the server still answers (the pod's log really
/// ended: its container exited, the pod was deleted), else the lost connection, with the
/// last error (the stream's read error, then the reads').
async fn server_lost(
    conn: &Conn,
    api: &Api<Pod>,
    pod: &str,
    read_error: Option<String>,
    what: impl Fn() -> String,
) -> Option<KubeError> {
    let mut last = read_error.unwrap_or_else(|| "the log stream ended".to_string());
    for attempt in 1..=LOST_ATTEMPTS {
        match tokio::time::timeout(LOST_RETRY * 3, api.get(pod)).await {
            // Any answer, even 404 (the pod is gone), means the server is there.
            Ok(Ok(_) | Err(kube::Error::Api(_))) => return None,
            Ok(Err(e)) => last = crate::kube::error::root_cause(&e),
            Err(_) => {
                last = format!(
                    "no answer within {}",
                    crate::kube::error::human(LOST_RETRY * 3)
                )
            }
        }
        if attempt < LOST_ATTEMPTS {
            tokio::time::sleep(LOST_RETRY).await;
        }
    }
    Some(KubeError::Lost {
        what: what(),
        context: conn.context.clone(),
        server: conn.server.clone(),
        attempts: LOST_ATTEMPTS,
        detail: last,
    })
}
