//! Why a pod holds a wait up, read from its status as soon as a watch sees it: an image that
//! cannot be pulled (with the image's name and the runtime's message), a container in
//! `CrashLoopBackOff` (its restarts and exit; the caller adds its last log lines), a pod the
//! scheduler cannot place (the scheduler's message), a container the kubelet cannot create
//! (`CreateContainerConfigError`: a missing ConfigMap or Secret).
//!
//! A wait prints each blocker once when it first appears and ends on an image that cannot be
//! pulled, rather than running to its timeout: at once when the error is not a network
//! hiccup (no such image, no such registry, a refused pull), else once the kubelet's own
//! retry failed too ([`PullFailures`]).

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod as KPod, PodSpec};
use kube::core::{Selector, SelectorExt};
use serde_json::Value;

use crate::kube::typed::read;

/// One reason a pod is not progressing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// What blocks it.
    pub state: Blocked,
}

/// The blocking states a wait reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// `ErrImagePull`, `ImagePullBackOff`, `InvalidImageName`, `ErrImageNeverPull`.
    ImagePull {
        /// The container.
        container: String,
        /// The image it names.
        image: String,
        /// The waiting reason.
        reason: String,
        /// The kubelet's message (the runtime's error).
        message: String,
    },
    /// `CrashLoopBackOff`.
    CrashLoop {
        /// The container.
        container: String,
        /// Its restart count.
        restarts: i32,
        /// How its last run ended (`exit code 1 (Error)`), when known.
        last_exit: Option<String>,
        /// Whether that run is the container's current one (it just ended, `Error`), rather
        /// than the previous one (it waits to restart, `CrashLoopBackOff`).
        ended_now: bool,
        /// The last lines it logged (filled by the caller, which can fetch them).
        logs: Vec<String>,
    },
    /// The scheduler cannot place the pod (`PodScheduled` is `False`).
    Unschedulable {
        /// The scheduler's message (`0/2 nodes are available: 2 node(s) had taint …`).
        message: String,
    },
    /// Another waiting reason the kubelet gives up on without retrying soon
    /// (`CreateContainerConfigError`, `CreateContainerError`, `RunContainerError`).
    Waiting {
        /// The container.
        container: String,
        /// The waiting reason.
        reason: String,
        /// The kubelet's message.
        message: String,
    },
}

/// Waiting reasons of an image that cannot be pulled.
const IMAGE_PULL: [&str; 4] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
];

/// Waiting reasons reported as [`Blocked::Waiting`].
const WAITING: [&str; 3] = [
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// Words of a pull error that may go away by itself (a registry or network hiccup): such an
/// error is reported and the wait goes on.
const TRANSIENT: [&str; 9] = [
    "timeout",
    "timed out",
    "connection reset",
    "tls handshake",
    "too many requests",
    "toomanyrequests",
    "503",
    "502",
    "temporary failure",
];

/// How many failed pulls of an image end a wait when the error may be a hiccup (a timeout):
/// the first and the kubelet's retry after its back-off.
pub const PULL_FAILURES: u32 = 2;

/// The failed pulls seen per pod and container: a watch sees the container go
/// `ErrImagePull` → `ImagePullBackOff` → `ErrImagePull` … once per attempt.
#[derive(Debug, Default)]
pub struct PullFailures {
    seen: BTreeMap<String, (String, u32)>,
}

impl PullFailures {
    /// Counts `b` (an image pull blocker; others count 0) and returns its failures so far.
    /// The first sight counts one (a back-off follows a failure); each new `ErrImagePull`
    /// after another state counts one more.
    pub fn count(&mut self, b: &Blocker) -> u32 {
        let Blocked::ImagePull { reason, .. } = &b.state else {
            return 0;
        };
        let (last, n) = self.seen.entry(b.key()).or_insert((String::new(), 0));
        if last != reason {
            if *n == 0 || reason == "ErrImagePull" {
                *n += 1;
            }
            *last = reason.clone();
        }
        *n
    }
}

impl Blocker {
    /// Whether the wait should end now, after `pull_failures` failed pulls of this image
    /// ([`PullFailures::count`]): an image pull error that is not a network hiccup, or one
    /// that failed again after the kubelet's back-off.
    pub fn ends_wait(&self, pull_failures: u32) -> bool {
        self.permanent()
            || (matches!(self.state, Blocked::ImagePull { .. }) && pull_failures >= PULL_FAILURES)
    }

    /// Whether the wait should end at once: an image pull error that is not a network hiccup.
    pub fn permanent(&self) -> bool {
        match &self.state {
            Blocked::ImagePull {
                reason, message, ..
            } => {
                let m = message.to_lowercase();
                reason == "InvalidImageName"
                    || reason == "ErrImageNeverPull"
                    || !TRANSIENT.iter().any(|w| m.contains(w))
            }
            _ => false,
        }
    }

    /// What identifies this blocker among the ones already reported: a new restart or
    /// another scheduler message is news, the same one seen again is not.
    pub fn key(&self) -> String {
        match &self.state {
            Blocked::ImagePull {
                container, image, ..
            } => format!("{}/{container}: pull {image}", self.pod),
            Blocked::CrashLoop {
                container,
                restarts,
                ..
            } => format!("{}/{container}: crash {restarts}", self.pod),
            Blocked::Unschedulable { message } => format!("{}: unschedulable {message}", self.pod),
            Blocked::Waiting {
                container, reason, ..
            } => format!("{}/{container}: {reason}", self.pod),
        }
    }

    /// The crash-looping container, whose failed run's logs the caller may fetch, and
    /// whether that run is its current one (else the previous one).
    pub fn crashing_container(&self) -> Option<(&str, bool)> {
        match &self.state {
            Blocked::CrashLoop {
                container,
                ended_now,
                ..
            } => Some((container, *ended_now)),
            _ => None,
        }
    }
}

impl fmt::Display for Blocker {
    /// One line (`pod default/web-5d4f: ImagePullBackOff: image "registry.invalid/none:v1"
    /// (container web): …`); a crash loop's log lines follow, indented.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pod = &self.pod;
        match &self.state {
            Blocked::ImagePull {
                container,
                image,
                reason,
                message,
            } => {
                write!(
                    f,
                    "pod {pod}: {reason}: image {image:?} (container {container})"
                )?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Blocked::CrashLoop {
                container,
                restarts,
                last_exit,
                logs,
                ..
            } => {
                write!(
                    f,
                    "pod {pod}: CrashLoopBackOff (container {container}, {restarts} restarts"
                )?;
                if let Some(exit) = last_exit {
                    write!(f, ", last {exit}")?;
                }
                write!(f, ")")?;
                if !logs.is_empty() {
                    write!(f, "; its last log lines:")?;
                    for line in logs {
                        write!(f, "\n    {line}")?;
                    }
                }
                Ok(())
            }
            Blocked::Unschedulable { message } => {
                write!(f, "pod {pod}: Pending, not scheduled: {message}")
            }
            Blocked::Waiting {
                container,
                reason,
                message,
            } => {
                write!(f, "pod {pod}: {reason} (container {container})")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
        }
    }
}

/// The blockers of one pod (as JSON), in container order.
pub fn of_pod(pod: &Value) -> Vec<Blocker> {
    let p = read::<KPod>(pod);
    let name = format!(
        "{}/{}",
        p.metadata.namespace.as_deref().unwrap_or(""),
        p.metadata.name.as_deref().unwrap_or("")
    );
    if p.metadata.deletion_timestamp.is_some() {
        return Vec::new();
    }
    let Some(status) = p.status.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(c) = status
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
        })
    {
        out.push(Blocker {
            pod: name.clone(),
            state: Blocked::Unschedulable {
                message: c.message.clone().unwrap_or_default(),
            },
        });
    }
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for c in containers {
        if let Some(state) = container_blocker(c, p.spec.as_ref()) {
            out.push(Blocker {
                pod: name.clone(),
                state,
            });
        }
    }
    out
}

/// How a terminated run ended: `exit code 3 (Error)`.
fn exit_text(t: &k8s_openapi::api::core::v1::ContainerStateTerminated) -> String {
    match t.reason.as_deref() {
        Some(r) if !r.is_empty() => format!("exit code {} ({r})", t.exit_code),
        _ => format!("exit code {}", t.exit_code),
    }
}

fn container_blocker(c: &ContainerStatus, spec: Option<&PodSpec>) -> Option<Blocked> {
    let state = c.state.as_ref()?;
    // Between two back-offs a crash-looping container shows its failed run (`Error`): the
    // same crash loop.
    if let Some(t) = state.terminated.as_ref()
        && t.exit_code != 0
        && c.restart_count >= 1
    {
        return Some(Blocked::CrashLoop {
            container: c.name.clone(),
            restarts: c.restart_count,
            last_exit: Some(exit_text(t)),
            ended_now: true,
            logs: Vec::new(),
        });
    }
    let waiting = state.waiting.as_ref()?;
    let reason = waiting.reason.clone().unwrap_or_default();
    let message = waiting.message.clone().unwrap_or_default();
    if IMAGE_PULL.contains(&reason.as_str()) {
        // The spec's image is the one written in the manifest; the status may hold it
        // normalised (`docker.io/library/…`) or be empty before the first pull.
        let image = spec
            .and_then(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
                    .find(|k| k.name == c.name)
            })
            .and_then(|k| k.image.clone())
            .unwrap_or_else(|| c.image.clone());
        return Some(Blocked::ImagePull {
            container: c.name.clone(),
            image,
            reason,
            message,
        });
    }
    if reason == "CrashLoopBackOff" {
        let last_exit = c
            .last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .map(exit_text);
        return Some(Blocked::CrashLoop {
            container: c.name.clone(),
            restarts: c.restart_count,
            last_exit,
            ended_now: false,
            logs: Vec::new(),
        });
    }
    if WAITING.contains(&reason.as_str()) {
        return Some(Blocked::Waiting {
            container: c.name.clone(),
            reason,
            message,
        });
    }
    None
}

/// The pods of `pods` that one of the `workloads` (deployments, daemonsets, statefulsets,
/// replicasets, jobs: anything with `spec.selector`) selects, in the workloads' namespaces.
pub fn selected_pods<'a>(
    workloads: impl Iterator<Item = &'a Value>,
    pods: impl Iterator<Item = &'a Value> + Clone,
) -> Vec<&'a Value> {
    let mut out: Vec<&Value> = Vec::new();
    for w in workloads {
        let ns = w.pointer("/metadata/namespace").and_then(Value::as_str);
        let Some(selector) = w
            .pointer("/spec/selector")
            .and_then(|s| {
                serde_json::from_value::<
                    k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector,
                >(s.clone())
                .ok()
            })
            .and_then(|s| Selector::try_from(s).ok())
        else {
            continue;
        };
        if selector.selects_all() {
            continue;
        }
        for p in pods.clone() {
            let labels: BTreeMap<String, String> = p
                .pointer("/metadata/labels")
                .and_then(|l| serde_json::from_value(l.clone()).ok())
                .unwrap_or_default();
            if p.pointer("/metadata/namespace").and_then(Value::as_str) == ns
                && selector.matches(&labels)
                && !out.iter().any(|o| std::ptr::eq(*o, p))
            {
                out.push(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::typed::tests::crashing_cilium_pod;
    use serde_json::json;

    fn pulling(reason: &str, message: &str) -> Value {
        json!({"metadata": {"name": "web-5d4f", "namespace": "lab", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "registry.invalid/none:v1"}]},
            "status": {"phase": "Pending",
                "containerStatuses": [{"name": "web", "image": "registry.invalid/none:v1", "imageID": "", "ready": false, "restartCount": 0,
                    "state": {"waiting": {"reason": reason, "message": message}}}]}})
    }

    #[test]
    fn an_image_that_cannot_be_pulled_is_named_and_ends_the_wait() {
        let b = of_pod(&pulling(
            "ErrImagePull",
            "rpc error: failed to resolve reference \"registry.invalid/none:v1\": no such host",
        ));
        assert_eq!(b.len(), 1);
        assert!(b[0].permanent());
        assert_eq!(
            b[0].to_string(),
            "pod lab/web-5d4f: ErrImagePull: image \"registry.invalid/none:v1\" (container web): rpc error: failed to resolve reference \"registry.invalid/none:v1\": no such host"
        );
    }

    #[test]
    fn a_pull_that_timed_out_ends_the_wait_once_the_kubelets_retry_failed_too() {
        let mut failures = PullFailures::default();
        let first = of_pod(&pulling("ErrImagePull", "dial tcp: i/o timeout")).remove(0);
        assert!(!first.permanent());
        assert_eq!(failures.count(&first), 1);
        assert!(!first.ends_wait(1));
        let backoff = of_pod(&pulling("ImagePullBackOff", "Back-off pulling image")).remove(0);
        assert_eq!(failures.count(&backoff), 1);
        assert_eq!(
            failures.count(&backoff),
            1,
            "the same state seen again is no new failure"
        );
        assert_eq!(failures.count(&first), 2);
        assert!(first.ends_wait(2));
    }

    #[test]
    fn a_crash_loop_says_its_restarts_and_last_exit_and_is_not_permanent() {
        let mut pod = crashing_cilium_pod();
        pod["status"]["containerStatuses"][0]["lastState"] =
            json!({"terminated": {"exitCode": 1, "reason": "Error"}});
        let b = of_pod(&pod);
        assert_eq!(b.len(), 1);
        assert!(!b[0].permanent());
        assert_eq!(b[0].crashing_container(), Some(("cilium-agent", false)));
        let mut with_logs = b[0].clone();
        if let Blocked::CrashLoop { logs, .. } = &mut with_logs.state {
            logs.push("level=fatal msg=\"no kube-proxy replacement\"".into());
        }
        assert_eq!(
            with_logs.to_string(),
            "pod kube-system/cilium-x7k2p: CrashLoopBackOff (container cilium-agent, 4 restarts, last exit code 1 (Error)); its last log lines:\n    level=fatal msg=\"no kube-proxy replacement\""
        );
    }

    #[test]
    fn an_unschedulable_pod_gives_the_schedulers_message() {
        let pod = json!({"metadata": {"name": "web-1", "namespace": "lab"},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/2 nodes are available: 2 node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate."}]}});
        let b = of_pod(&pod);
        assert_eq!(
            b[0].to_string(),
            "pod lab/web-1: Pending, not scheduled: 0/2 nodes are available: 2 node(s) had taint {node.kubernetes.io/not-ready: }, that the pod didn't tolerate."
        );
        assert!(!b[0].permanent());
    }

    #[test]
    fn a_failed_run_between_two_back_offs_is_the_same_crash_loop() {
        let mut pod = crashing_cilium_pod();
        pod["status"]["containerStatuses"][0]["state"] =
            json!({"terminated": {"exitCode": 1, "reason": "Error"}});
        let b = of_pod(&pod);
        assert_eq!(
            b[0].to_string(),
            "pod kube-system/cilium-x7k2p: CrashLoopBackOff (container cilium-agent, 4 restarts, last exit code 1 (Error))"
        );
        // A first run that ended, never restarted, is no loop (yet).
        pod["status"]["containerStatuses"][0]["restartCount"] = 0.into();
        assert!(of_pod(&pod).is_empty());
    }

    #[test]
    fn a_running_or_terminating_pod_blocks_nothing() {
        let ok = json!({"metadata": {"name": "a", "namespace": "lab"},
            "status": {"phase": "Running", "containerStatuses": [{"name": "c", "image": "i", "imageID": "", "ready": true, "restartCount": 0, "state": {"running": {}}}]}});
        assert!(of_pod(&ok).is_empty());
        let mut gone = pulling("ImagePullBackOff", "Back-off pulling image");
        gone["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z".into();
        assert!(of_pod(&gone).is_empty());
    }

    #[test]
    fn a_workload_selects_its_pods_in_its_namespace_only() {
        let dep = json!({"metadata": {"name": "web", "namespace": "lab"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}}});
        let mine = pulling("ErrImagePull", "x");
        let mut other_ns = mine.clone();
        other_ns["metadata"]["namespace"] = "other".into();
        let mut other_app = mine.clone();
        other_app["metadata"]["labels"]["app"] = "db".into();
        let pods = [mine.clone(), other_ns, other_app];
        let selected = selected_pods(std::iter::once(&dep), pods.iter());
        assert_eq!(selected, vec![&mine]);
    }
}
