//! Watch-based waits. A `kube::runtime::watcher` stream keeps a local copy of the watched
//! objects; after the initial list and after every event, a check decides whether the wait
//! is over or summarises what it sees (`2/4 cilium pods Ready; cilium-x7k2p:
//! CrashLoopBackOff`). The stream is driven from the engine thread with `Ctx::block_on`, so a
//! check may call a script closure; the wait ends within one event of the change that
//! satisfies it, on its timeout (with the last summary), or on Ctrl-C. Dropping the stream
//! closes the watch.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;

use crate::context::Ctx;
use crate::interrupt::Interrupted;
use crate::kube::blockers::{self, Blocked, Blocker, PullFailures, selected_pods};
use crate::kube::kinds::Kind;
use crate::kube::typed::{is_ready, node_condition, node_ready, read, status_of};
use crate::kube::{Conn, KubeError};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Node as KNode, Pod as KPod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// What a check concluded.
pub enum Check<T> {
    /// The wait is over.
    Done(T),
    /// Not yet; the summary of what is seen.
    Pending(String),
}

/// The watched objects, keyed by `namespace/name`.
pub type Store = BTreeMap<String, Value>;

/// What to watch and for how long.
pub struct WatchSpec<'a> {
    /// The connection (for error messages).
    pub conn: &'a Conn,
    /// The kind watched (fills in list items' types).
    pub kind: &'a Kind,
    /// The API to watch.
    pub api: Api<DynamicObject>,
    /// Label/field selectors.
    pub config: watcher::Config,
    /// How long to wait.
    pub timeout: Duration,
    /// The wait's name in errors (`kube::wait_ready(pods, k8s-app=cilium)`).
    pub what: &'a str,
    /// The pods whose states may block the wait (see [`crate::kube::blockers`]).
    pub pods: Pods<'a>,
}

/// Which pods a wait looks at for blocking states (an image that cannot be pulled, a crash
/// loop, an unschedulable pod).
// Built once per wait and moved into it: the size difference costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Pods<'a> {
    /// None (nodes, services, anything without pods behind it).
    None,
    /// The watched objects are pods.
    Watched,
    /// The pods that the watched workloads' `spec.selector` selects, watched through `api`
    /// (`kind` is the pods' kind).
    Selected {
        /// The `pods` kind.
        kind: &'a Kind,
        /// The pods' API, in the watched objects' namespace (or all namespaces).
        api: Api<DynamicObject>,
    },
}

/// Which of the merged watches an event came from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Watched,
    Pods,
}

type Events<'a> = std::pin::Pin<
    Box<
        dyn futures::Stream<Item = (Side, Result<Event<DynamicObject>, watcher::Error>)>
            + Send
            + 'a,
    >,
>;

/// One watch's local copy: the store once listed, the list being received.
#[derive(Default)]
struct Copy {
    store: Store,
    init: Option<Store>,
    ready: bool,
}

impl Copy {
    fn apply(&mut self, event: Event<DynamicObject>, kind: &Kind) {
        let key = |o: &DynamicObject| {
            format!(
                "{}/{}",
                o.metadata.namespace.as_deref().unwrap_or(""),
                o.metadata.name.as_deref().unwrap_or("")
            )
        };
        let value = |o: &DynamicObject| crate::kube::objects::to_value(kind, o);
        match event {
            Event::Init => self.init = Some(Store::new()),
            Event::InitApply(o) => {
                if let Some(s) = self.init.as_mut() {
                    s.insert(key(&o), value(&o));
                }
            }
            Event::InitDone => {
                self.store = self.init.take().unwrap_or_default();
                self.ready = true;
            }
            Event::Apply(o) => {
                self.store.insert(key(&o), value(&o));
            }
            Event::Delete(o) => {
                self.store.remove(&key(&o));
            }
        }
    }

    fn listed(&self) -> bool {
        self.ready && self.init.is_none()
    }
}

/// A watch keeping a local copy of the watched objects: [`StoreWatch::next`] returns the
/// store after the initial list and after every change. The caller decides when the wait is
/// over ([`watch_until`] with a check; the script layer with a check that calls a script
/// closure). Beside it, the pods behind the watched objects ([`Pods`]) are watched too, and
/// [`StoreWatch::blocked`] reports their blocking states as soon as they appear.
pub struct StoreWatch<'a> {
    conn: &'a Conn,
    kind: &'a Kind,
    pods_kind: Option<&'a Kind>,
    watched_pods: bool,
    what: &'a str,
    timeout: Duration,
    deadline: tokio::time::Instant,
    stream: Events<'a>,
    last_error: Option<String>,
    lost: Lost,
    watched: Copy,
    pods: Copy,
    reported: std::collections::BTreeSet<String>,
    blockers: Vec<Blocker>,
    pulls: PullFailures,
}

impl<'a> StoreWatch<'a> {
    /// Starts watching (the deadline runs from now).
    pub fn new(spec: WatchSpec<'a>) -> Self {
        let WatchSpec {
            conn,
            kind,
            api,
            config,
            timeout,
            what,
            pods,
        } = spec;
        // Transient watch failures (an API server restarting while a kind cluster boots) are
        // retried with kube-runtime's backoff; permanent ones end the wait at once.
        let watched = watcher::watcher(api, config)
            .default_backoff()
            .map(|e| (Side::Watched, e));
        let (stream, pods_kind, watched_pods): (Events<'a>, _, _) = match pods {
            Pods::Selected { kind, api } => {
                let pods = watcher::watcher(api, watcher::Config::default())
                    .default_backoff()
                    .map(|e| (Side::Pods, e));
                (
                    Box::pin(futures::stream::select(watched, pods)),
                    Some(kind),
                    false,
                )
            }
            Pods::Watched => (Box::pin(watched), None, true),
            Pods::None => (Box::pin(watched), None, false),
        };
        StoreWatch {
            conn,
            kind,
            pods_kind,
            watched_pods,
            what,
            timeout,
            deadline: tokio::time::Instant::now() + timeout,
            stream,
            last_error: None,
            lost: Lost::default(),
            watched: Copy::default(),
            pods: Copy {
                // Without a pod watch there is nothing to wait for on that side.
                ready: pods_kind.is_none(),
                ..Copy::default()
            },
            reported: Default::default(),
            blockers: Vec::new(),
            pulls: PullFailures::default(),
        }
    }

    /// The store once the initial list completed, then after each change. On the timeout the
    /// error carries `last_seen` (the caller's summary of the last store it saw) and the
    /// blocking pod states last seen.
    pub fn next(
        &mut self,
        ctx: &Ctx,
        last_seen: &str,
    ) -> Result<Result<&Store, KubeError>, Interrupted> {
        loop {
            let next = ctx.block_on(tokio::time::timeout_at(self.deadline, self.stream.next()))?;
            let (side, event) = match next {
                Err(_) => {
                    let mut last_seen = last_seen.to_string();
                    for b in &self.blockers {
                        last_seen.push_str(&format!("; {b}"));
                    }
                    if let Some(e) = &self.last_error {
                        last_seen.push_str(&format!(" (last watch error: {e})"));
                    }
                    return Ok(Err(KubeError::Timeout {
                        what: self.what.to_string(),
                        after: self.timeout,
                        last_seen,
                    }));
                }
                Ok(None) => {
                    return Ok(Err(KubeError::Other(format!(
                        "{}: the watch ended unexpectedly",
                        self.what
                    ))));
                }
                Ok(Some((_, Err(e)))) => {
                    let err = watch_error(self.conn, self.what, e);
                    if is_permanent(&err, self.watched.ready) {
                        return Ok(Err(err));
                    }
                    if let Some(lost) = self.lost.failed(&err, self.what) {
                        return Ok(Err(lost));
                    }
                    self.last_error = Some(err.to_string());
                    continue;
                }
                Ok(Some((side, Ok(ev)))) => {
                    self.lost = Lost::default();
                    (side, ev)
                }
            };
            match side {
                Side::Watched => self.watched.apply(event, self.kind),
                Side::Pods => {
                    if let Some(k) = self.pods_kind {
                        self.pods.apply(event, k)
                    }
                }
            }
            if self.watched.listed() && self.pods.listed() {
                return Ok(Ok(&self.watched.store));
            }
        }
    }

    /// After a check found the wait not over: the blocking states of the pods behind the
    /// watched objects. Each one not seen before is printed once (a crash loop with its
    /// container's last log lines); a permanent one (an image that cannot be pulled) ends the
    /// wait with an error naming it and `summary`.
    pub fn blocked(
        &mut self,
        ctx: &Ctx,
        summary: &str,
    ) -> Result<Result<(), KubeError>, Interrupted> {
        let pods: Vec<&Value> = if self.watched_pods {
            self.watched.store.values().collect()
        } else if self.pods_kind.is_some() {
            selected_pods(self.watched.store.values(), self.pods.store.values())
        } else {
            Vec::new()
        };
        let images = template_images(self.watched.store.values());
        let mut now: Vec<Blocker> = pods
            .into_iter()
            .flat_map(blockers::of_pod)
            // An old pod's image (a rollout replacing a broken image) does not block the
            // new one.
            .filter(|b| match &b.state {
                Blocked::ImagePull { image, .. } => self.watched_pods || images.contains(image),
                _ => true,
            })
            .collect();
        for b in now.iter_mut() {
            let failures = self.pulls.count(b);
            if b.ends_wait(failures) {
                return Ok(Err(KubeError::Blocked {
                    what: self.what.to_string(),
                    blocker: b.to_string(),
                    last_seen: summary.to_string(),
                }));
            }
            if self.reported.contains(&b.key()) {
                continue;
            }
            if let Some((container, ended_now)) =
                b.crashing_container().map(|(c, now)| (c.to_string(), now))
            {
                let logs = ctx.block_on(last_logs(self.conn, &b.pod, &container, ended_now))?;
                if let Blocked::CrashLoop { logs: l, .. } = &mut b.state {
                    *l = logs;
                }
            }
            self.reported.insert(b.key());
            ctx.output().eprintln(&format!("{}: {b}", self.what));
        }
        for b in &mut now {
            if let Some(old) = self.blockers.iter().find(|o| o.key() == b.key()) {
                b.state = old.state.clone();
            }
        }
        self.blockers = now;
        Ok(Ok(()))
    }
}

/// The images of the workloads' pod templates (`spec.template.spec.containers[*].image`).
fn template_images<'v>(workloads: impl Iterator<Item = &'v Value>) -> Vec<String> {
    workloads
        .flat_map(|w| {
            ["containers", "initContainers"]
                .into_iter()
                .flat_map(move |list| {
                    w.pointer(&format!("/spec/template/spec/{list}"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|c| c.get("image").and_then(Value::as_str).map(String::from))
                })
        })
        .collect()
}

/// How many of a crash-looping container's last lines a wait shows.
pub const CRASH_LOG_LINES: i64 = 5;

/// The last lines of the failed run of `container` in pod `namespace/name`: its current
/// run's when that run just ended (`ended_now`), else the previous run's (it waits to
/// restart). Empty when the logs cannot be read: they are a help, not the point.
async fn last_logs(conn: &Conn, pod: &str, container: &str, ended_now: bool) -> Vec<String> {
    let (ns, name) = pod.split_once('/').unwrap_or(("", pod));
    let api: Api<KPod> = Api::namespaced(conn.client.clone(), ns);
    let params = kube::api::LogParams {
        container: Some(container.to_string()),
        previous: !ended_now,
        tail_lines: Some(CRASH_LOG_LINES),
        ..Default::default()
    };
    match tokio::time::timeout(Duration::from_secs(5), api.logs(name, &params)).await {
        Ok(Ok(text)) => text.lines().map(String::from).collect(),
        _ => Vec::new(),
    }
}

/// Unreachable-server errors in a row after this many mean the server is gone (kube-runtime's
/// backoff retries at about 0, 0.8 and 2.4 s).
pub const LOST_ATTEMPTS: u32 = 3;
/// ... or after this long without an answer, whichever comes first.
pub const LOST_AFTER: Duration = Duration::from_secs(5);

/// A server that answered and stopped answering: kubectl gives up after a few retries, so
/// does a wait, rather than retrying silently for its whole timeout.
#[derive(Default)]
struct Lost {
    failures: u32,
    since: Option<tokio::time::Instant>,
}

impl Lost {
    /// Counts an error; returns the lost-connection error once the server is deemed gone.
    fn failed(&mut self, err: &KubeError, what: &str) -> Option<KubeError> {
        let KubeError::Unreachable {
            context,
            server,
            detail,
        } = err
        else {
            return None;
        };
        self.failures += 1;
        let since = *self.since.get_or_insert_with(tokio::time::Instant::now);
        (self.failures >= LOST_ATTEMPTS || since.elapsed() >= LOST_AFTER).then(|| KubeError::Lost {
            what: what.to_string(),
            context: context.clone(),
            server: server.clone(),
            attempts: self.failures,
            detail: detail.clone(),
        })
    }
}

/// The summary before anything was listed.
pub const NOTHING_SEEN: &str = "nothing yet (the initial list did not complete)";

/// Watches until `check` returns `Done`, or the timeout passes (the error carries the last
/// summary `check` gave).
pub fn watch_until<T, E: From<KubeError> + From<Interrupted>>(
    ctx: &Ctx,
    spec: WatchSpec<'_>,
    mut check: impl FnMut(&Store) -> Result<Check<T>, E>,
) -> Result<T, E> {
    let mut watch = StoreWatch::new(spec);
    let mut last_seen = NOTHING_SEEN.to_string();
    loop {
        let store = watch.next(ctx, &last_seen)??;
        match check(store)? {
            Check::Done(v) => return Ok(v),
            Check::Pending(summary) => {
                watch.blocked(ctx, &summary)??;
                last_seen = summary;
            }
        }
    }
}

fn watch_error(conn: &Conn, what: &str, e: watcher::Error) -> KubeError {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => conn.error(|| what.to_string(), e),
        other => KubeError::Other(format!("{what}: {other}")),
    }
}

/// Whether a watch error should end the wait rather than be retried: refusals (bad
/// selector, forbidden, unknown resource) always; an unreachable server before the first
/// list completed (the wait has seen nothing, so the user should hear about it now).
fn is_permanent(err: &KubeError, listed: bool) -> bool {
    match err {
        KubeError::Api { code, .. } => matches!(code, 400 | 401 | 403 | 404 | 422),
        KubeError::Unreachable { .. } => !listed,
        _ => false,
    }
}

/// Why a pod is not ready, as kubectl would show it (`CrashLoopBackOff`, `Pending`,
/// `Running, not ready`).
pub fn pod_reason(pod: &KPod) -> String {
    let status = status_of(pod);
    if status == "Running" {
        "Running, not ready".into()
    } else {
        status
    }
}

const MAX_LISTED: usize = 4;

fn list_some(items: Vec<String>) -> String {
    let n = items.len();
    let mut shown: Vec<String> = items.into_iter().take(MAX_LISTED).collect();
    if n > MAX_LISTED {
        shown.push(format!("… and {} more", n - MAX_LISTED));
    }
    shown.join("; ")
}

fn name_of(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

/// Pods: done when at least one matches and every one is Ready.
pub fn pods_ready(store: &Store, subject: Option<&str>, scope: &str) -> Check<Vec<Value>> {
    let label = subject
        .map(|s| format!("{s} pods"))
        .unwrap_or_else(|| "pods".into());
    if store.is_empty() {
        return Check::Pending(format!("no {label} ({scope})"));
    }
    let pods: Vec<(&Value, KPod)> = store.values().map(|v| (v, read::<KPod>(v))).collect();
    let not_ready: Vec<&KPod> = pods
        .iter()
        .map(|(_, p)| p)
        .filter(|p| !is_ready(p))
        .collect();
    if not_ready.is_empty() {
        return Check::Done(pods.into_iter().map(|(v, _)| v.clone()).collect());
    }
    let mut summary = format!(
        "{}/{} {label} Ready",
        pods.len() - not_ready.len(),
        pods.len()
    );
    let details: Vec<String> = not_ready
        .iter()
        .map(|p| format!("{}: {}", name_of(&p.metadata), pod_reason(p)))
        .collect();
    summary.push_str("; ");
    summary.push_str(&list_some(details));
    Check::Pending(summary)
}

/// Nodes: done when at least one matches and every one is Ready.
pub fn nodes_ready(store: &Store) -> Check<Vec<Value>> {
    if store.is_empty() {
        return Check::Pending("no nodes".into());
    }
    let nodes: Vec<KNode> = store.values().map(read::<KNode>).collect();
    let not_ready: Vec<String> = nodes
        .iter()
        .filter(|n| !node_ready(n))
        .map(|n| {
            let reason = node_condition(n, "Ready")
                .map(|c| {
                    let r = c.reason.as_deref().unwrap_or("NotReady");
                    match c.message.as_deref() {
                        Some(m) if !m.is_empty() => format!("{r} ({m})"),
                        _ => r.to_string(),
                    }
                })
                .unwrap_or_else(|| "no Ready condition yet".into());
            format!("{}: {reason}", name_of(&n.metadata))
        })
        .collect();
    if not_ready.is_empty() {
        return Check::Done(store.values().cloned().collect());
    }
    Check::Pending(format!(
        "{}/{} nodes Ready; {}",
        nodes.len() - not_ready.len(),
        nodes.len(),
        list_some(not_ready)
    ))
}

/// Whether the controller has not yet seen the object's last spec change.
fn spec_unobserved(meta: &ObjectMeta, observed: Option<i64>) -> bool {
    meta.generation.unwrap_or(0) > observed.unwrap_or(0)
}

/// A daemonset's rollout: `Ok(None)` when complete, `Ok(Some(progress))` otherwise.
pub fn daemonset_progress(ds: &Value) -> Option<String> {
    let ds = read::<DaemonSet>(ds);
    let name = name_of(&ds.metadata);
    let status = ds.status.unwrap_or_default();
    if spec_unobserved(&ds.metadata, status.observed_generation) {
        return Some(format!(
            "daemonset {name:?}: waiting for the spec update to be observed"
        ));
    }
    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    if updated < desired {
        return Some(format!(
            "daemonset {name:?}: {updated} out of {desired} new pods have been updated"
        ));
    }
    if available < desired {
        return Some(format!(
            "daemonset {name:?}: {available} of {desired} updated pods are available"
        ));
    }
    None
}

/// Daemonsets: done when at least one matches and every one is fully available.
pub fn daemonsets_ready(store: &Store) -> Check<Vec<Value>> {
    if store.is_empty() {
        return Check::Pending("no daemonsets".into());
    }
    let pending: Vec<String> = store.values().filter_map(daemonset_progress).collect();
    if pending.is_empty() {
        Check::Done(store.values().cloned().collect())
    } else {
        Check::Pending(list_some(pending))
    }
}

/// A deployment's rollout, as `kubectl rollout status` words it: `Ok(None)` when complete.
pub fn deployment_progress(d: &Value) -> Result<Option<String>, String> {
    let d = read::<Deployment>(d);
    let name = name_of(&d.metadata);
    let status = d.status.unwrap_or_default();
    if spec_unobserved(&d.metadata, status.observed_generation) {
        return Ok(Some(
            "Waiting for deployment spec update to be observed...".into(),
        ));
    }
    let progressing = status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| c.type_.as_deref() == Some("Progressing"));
    if progressing.and_then(|c| c.reason.as_deref()) == Some("ProgressDeadlineExceeded") {
        return Err(format!(
            "deployment {name:?} exceeded its progress deadline"
        ));
    }
    let replicas = d.spec.replicas.unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let total = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < replicas {
        return Ok(Some(format!(
            "Waiting for deployment {name:?} rollout to finish: {updated} out of {replicas} new replicas have been updated..."
        )));
    }
    if total > updated {
        return Ok(Some(format!(
            "Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...",
            total - updated
        )));
    }
    if available < updated {
        return Ok(Some(format!(
            "Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."
        )));
    }
    Ok(None)
}

/// A statefulset's rollout: `None` when complete.
pub fn statefulset_progress(s: &Value) -> Option<String> {
    let s = read::<StatefulSet>(s);
    let name = name_of(&s.metadata);
    let status = s.status.unwrap_or_default();
    if spec_unobserved(&s.metadata, status.observed_generation) {
        return Some("Waiting for statefulset spec update to be observed...".into());
    }
    let replicas = s.spec.replicas.unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    if ready < replicas {
        return Some(format!(
            "Waiting for {} pods to be ready... (statefulset {name:?})",
            replicas - ready
        ));
    }
    let updated = status.updated_replicas.unwrap_or(0);
    if updated < replicas {
        return Some(format!(
            "Waiting for partitioned roll out to finish: {updated} out of {replicas} new pods have been updated..."
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::typed::tests::{crashing_cilium_pod, recorded};
    use serde_json::json;

    fn ready_pod(name: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"containers": [{"name": "cilium-agent"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "cilium-agent", "ready": true, "restartCount": 0, "state": {"running": {}}}]}})
    }

    fn store(objs: Vec<Value>) -> Store {
        objs.into_iter()
            .map(|o| (o["metadata"]["name"].as_str().unwrap_or("").to_string(), o))
            .collect()
    }

    #[test]
    fn last_seen_names_the_crash_looping_cilium_pod() {
        let mut pending = ready_pod("cilium-zz9");
        pending["status"]["phase"] = "Pending".into();
        pending["status"]["conditions"] = json!([]);
        pending["status"]
            .as_object_mut()
            .unwrap()
            .remove("containerStatuses");
        let s = store(vec![
            ready_pod("cilium-a1"),
            ready_pod("cilium-b2"),
            crashing_cilium_pod(),
            pending,
        ]);
        match pods_ready(&s, Some("cilium"), "kube-system") {
            Check::Pending(summary) => assert_eq!(
                summary,
                "2/4 cilium pods Ready; cilium-x7k2p: CrashLoopBackOff; cilium-zz9: Pending"
            ),
            Check::Done(_) => panic!("not every pod is ready"),
        }
    }

    #[test]
    fn refusals_end_a_wait_and_outages_after_the_first_list_are_retried() {
        let api = |code| KubeError::Api {
            what: "watch".into(),
            code,
            message: "m".into(),
            context: "c".into(),
        };
        let down = KubeError::Unreachable {
            context: "c".into(),
            server: "s".into(),
            detail: "refused".into(),
        };
        assert!(is_permanent(&api(403), true));
        assert!(!is_permanent(&api(500), true));
        assert!(is_permanent(&down, false));
        assert!(!is_permanent(&down, true));
    }

    #[test]
    fn pods_ready_needs_at_least_one_pod() {
        match pods_ready(&Store::new(), Some("cilium"), "kube-system, k8s-app=cilium") {
            Check::Pending(s) => assert_eq!(s, "no cilium pods (kube-system, k8s-app=cilium)"),
            Check::Done(_) => panic!("an empty set is not ready"),
        }
        let s = store(vec![ready_pod("a"), ready_pod("b")]);
        assert!(matches!(pods_ready(&s, None, ""), Check::Done(v) if v.len() == 2));
    }

    #[test]
    fn nodes_not_ready_show_the_kubelet_reason() {
        let n = json!({"metadata": {"name": "lab-worker"}, "status": {"conditions": [
            {"type": "Ready", "status": "False", "reason": "KubeletNotReady",
             "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"}]}});
        let ok = json!({"metadata": {"name": "lab-control-plane"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        match nodes_ready(&store(vec![n, ok])) {
            Check::Pending(s) => {
                assert!(s.starts_with("1/2 nodes Ready; lab-worker: KubeletNotReady (container runtime network not ready"), "{s}")
            }
            Check::Done(_) => panic!(),
        }
    }

    #[test]
    fn rollout_messages_follow_kubectl() {
        let mut d = json!({"metadata": {"name": "frontend", "generation": 1},
            "spec": {"replicas": 1}, "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 0}});
        assert_eq!(
            deployment_progress(&d).unwrap().unwrap(),
            "Waiting for deployment \"frontend\" rollout to finish: 0 of 1 updated replicas are available..."
        );
        d["status"]["availableReplicas"] = 1.into();
        assert_eq!(deployment_progress(&d), Ok(None));
        d["metadata"]["generation"] = 2.into();
        assert_eq!(
            deployment_progress(&d).unwrap().unwrap(),
            "Waiting for deployment spec update to be observed..."
        );
        d["status"]["observedGeneration"] = 2.into();
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]);
        assert!(
            deployment_progress(&d)
                .unwrap_err()
                .contains("progress deadline")
        );
    }

    #[test]
    fn daemonset_is_ready_when_every_desired_pod_is_available() {
        let mut ds = json!({"metadata": {"name": "cilium", "generation": 1}, "status": {"observedGeneration": 1,
            "desiredNumberScheduled": 4, "updatedNumberScheduled": 4, "numberAvailable": 2}});
        assert_eq!(
            daemonset_progress(&ds).unwrap(),
            "daemonset \"cilium\": 2 of 4 updated pods are available"
        );
        ds["status"]["numberAvailable"] = 4.into();
        assert!(matches!(daemonsets_ready(&store(vec![ds])), Check::Done(_)));
    }

    #[test]
    fn a_recorded_rolled_out_deployment_is_complete_and_one_mid_rollout_says_so() {
        let d = recorded("deployment");
        assert_eq!(deployment_progress(&d), Ok(None));
        let mut rolling = d.clone();
        rolling["status"]["updatedReplicas"] = 0.into();
        assert_eq!(
            deployment_progress(&rolling),
            Ok(Some(
                "Waiting for deployment \"frontend\" rollout to finish: 0 out of 1 new replicas have been updated..."
                    .into()
            ))
        );
        let mut newer = d;
        newer["metadata"]["generation"] = 2.into();
        assert_eq!(
            deployment_progress(&newer),
            Ok(Some(
                "Waiting for deployment spec update to be observed...".into()
            ))
        );
    }

    #[test]
    fn a_recorded_node_is_ready_and_a_not_ready_one_says_why() {
        let node = recorded("node");
        assert!(matches!(nodes_ready(&store(vec![node.clone()])), Check::Done(n) if n.len() == 1));
        let mut down = node;
        let conditions = down["status"]["conditions"].as_array_mut().unwrap();
        let ready = conditions
            .iter_mut()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        ready["status"] = "False".into();
        ready["reason"] = "KubeletNotReady".into();
        ready["message"] = "container runtime is down".into();
        match nodes_ready(&store(vec![down])) {
            Check::Pending(s) => assert_eq!(
                s,
                "0/1 nodes Ready; labsh-node: KubeletNotReady (container runtime is down)"
            ),
            Check::Done(_) => panic!("a node whose Ready condition is False is not ready"),
        }
    }
}
