//! The node debug pod: how labsh gets into a node it cannot reach from this host.
//!
//! A privileged pod with `hostNetwork` (its processes live in the node's network namespace,
//! so tcpdump there sees the node's interfaces) and `hostPID` (it sees the node's processes),
//! pinned to the node with `nodeName` (no scheduler involved, taints tolerated), running an
//! image with tcpdump and iproute2 (`LABSH_NODE_IMAGE`, default [`DEFAULT_IMAGE`]). Like
//! `kubectl debug node/NAME`, but one pod per node and run, reused by every exec and capture
//! of the run, and deleted when the run ends — normally, on a script error or on Ctrl-C: the
//! deletion is a background task of the session, which waits for the session's end.
//!
//! Each pod carries the labels [`MANAGED_BY`] and [`COMPONENT`] and an annotation naming its
//! owner (host, pid and the pid's start time), so that a later run can tell a pod whose
//! owner died (SIGKILL) from one of a run still going (`node/leftovers.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, SecurityContext, Toleration};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::wait::await_condition;

use super::NodeError;
use crate::context::Ctx;
use crate::kube::{Conn, KubeError};

/// The image of debug pods unless `LABSH_NODE_IMAGE` or an option names another: public,
/// with tcpdump, iproute2, procps and a shell.
pub const DEFAULT_IMAGE: &str = "docker.io/nicolaka/netshoot:v0.13";
/// The environment variable that names the debug pods' image.
pub const IMAGE_ENV: &str = "LABSH_NODE_IMAGE";
/// `app.kubernetes.io/managed-by=labsh`: every pod labsh creates on its own.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "labsh");
/// `app.kubernetes.io/component=node-debug`: a node debug pod.
pub const COMPONENT: (&str, &str) = ("app.kubernetes.io/component", "node-debug");
/// The annotation naming the run that owns the pod: `HOST PID START_TIME`.
pub const OWNER_ANNOTATION: &str = "labsh.dev/owner";
/// The label selector of every debug pod.
pub const SELECTOR: &str =
    "app.kubernetes.io/managed-by=labsh,app.kubernetes.io/component=node-debug";
/// The debug container's name.
pub const CONTAINER: &str = "debug";
/// How long a debug pod gets to run (image pull included).
pub const START_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the end of a run waits for its debug pods to be gone.
pub const DELETE_WAIT: Duration = Duration::from_secs(4);

/// Which image and namespace debug pods use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugPodConfig {
    /// The image.
    pub image: String,
    /// The namespace (`None`: the context's default namespace).
    pub namespace: Option<String>,
}

impl Default for DebugPodConfig {
    fn default() -> Self {
        DebugPodConfig {
            image: default_image(),
            namespace: None,
        }
    }
}

/// `LABSH_NODE_IMAGE`, or [`DEFAULT_IMAGE`].
pub fn default_image() -> String {
    std::env::var(IMAGE_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_IMAGE.to_string())
}

/// A running debug pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugPod {
    /// The node it is pinned to.
    pub node: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its image.
    pub image: String,
}

/// This run, as the owner annotation writes it: `HOST PID START_TIME` (the start time, in
/// clock ticks since boot, tells a live owner from a new process that reused its pid).
pub fn owner_of_this_run() -> String {
    let pid = std::process::id();
    format!(
        "{} {pid} {}",
        hostname(),
        process_start_time(pid).unwrap_or(0)
    )
}

/// This host's name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// The pod's name: `labsh-debug-NODE-PID-N` (N counts the debug pods of this process: two
/// sessions of one process each have their own), cut to fit 63 characters.
pub fn pod_name(node: &str, pid: u32, n: u64) -> String {
    let suffix = format!("-{pid}-{n}");
    let mut base: String = format!("labsh-debug-{node}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    base.truncate(63 - suffix.len());
    let base = base.trim_end_matches('-');
    format!("{base}{suffix}")
}

/// The next debug pod number of this process.
fn next_number() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The debug pod of `node`, as sent to the API server.
pub fn manifest(node: &str, namespace: &str, image: &str, owner: &str) -> Pod {
    let labels: BTreeMap<String, String> = [MANAGED_BY, COMPONENT]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Pod {
        metadata: ObjectMeta {
            name: Some(pod_name(node, std::process::id(), next_number())),
            namespace: Some(namespace.to_string()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                OWNER_ANNOTATION.to_string(),
                owner.to_string(),
            )])),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            node_name: Some(node.to_string()),
            host_network: Some(true),
            host_pid: Some(true),
            restart_policy: Some("Never".into()),
            termination_grace_period_seconds: Some(1),
            // Every node, tainted or not (control planes, nodes being drained).
            tolerations: Some(vec![Toleration {
                operator: Some("Exists".into()),
                ..Toleration::default()
            }]),
            containers: vec![Container {
                name: CONTAINER.into(),
                image: Some(image.to_string()),
                image_pull_policy: Some("IfNotPresent".into()),
                // Idles until labsh deletes the pod; execs do the work.
                command: Some(vec!["sleep".into(), "86400".into()]),
                security_context: Some(SecurityContext {
                    privileged: Some(true),
                    ..SecurityContext::default()
                }),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        status: None,
    }
}

/// A debug pod being made or made, shared by every caller that needs it.
type Slot = Arc<tokio::sync::OnceCell<DebugPod>>;

/// The debug pods of this session, one per (context, node), created on first use.
#[derive(Default)]
pub struct DebugPods {
    pods: Mutex<HashMap<(String, String), Slot>>,
    swept: Mutex<Vec<String>>,
    /// The pids of the commands running in each pod (`namespace/name`), killed before the
    /// pod is deleted.
    live: Mutex<HashMap<String, BTreeSet<u32>>>,
}

fn key(pod: &DebugPod) -> String {
    format!("{}/{}", pod.namespace, pod.name)
}

/// Records a command running in `pod`.
pub fn track(ctx: &Ctx, pod: &DebugPod, pid: u32) {
    let registry = ctx.ext::<DebugPods>();
    let mut live = registry.live.lock().expect("debug pods lock");
    live.entry(key(pod)).or_default().insert(pid);
}

/// Forgets a command that ended in `pod`.
pub fn untrack(ctx: &Ctx, pod: &DebugPod, pid: u32) {
    let registry = ctx.ext::<DebugPods>();
    let mut live = registry.live.lock().expect("debug pods lock");
    if let Some(pids) = live.get_mut(&key(pod)) {
        pids.remove(&pid);
    }
}

/// The commands still running in `pod`.
fn live(ctx: &Ctx, pod: &DebugPod) -> Vec<u32> {
    let registry = ctx.ext::<DebugPods>();
    let live = registry.live.lock().expect("debug pods lock");
    live.get(&key(pod))
        .map(|p| p.iter().copied().collect())
        .unwrap_or_default()
}

/// Kills what still runs in `pod` (SIGKILL, through one exec; bounded, best effort): the
/// pod's deletion ends its own processes, but a command started by an exec into a `hostPID`
/// pod is not the pod's and could outlive it.
async fn kill_live(ctx: &Ctx, pod: &DebugPod) {
    let pids = live(ctx, pod);
    if pids.is_empty() {
        return;
    }
    let mut argv = vec!["kill".to_string(), "-KILL".to_string()];
    argv.extend(pids.iter().map(u32::to_string));
    let run = async {
        if let Ok(s) =
            crate::kube::exec::exec_lines(ctx, &pod.namespace, &pod.name, Some(CONTAINER), &argv)
                .await
        {
            let _ = s.exit_code().await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(3), run).await;
}

/// The running debug pod of `node` on `conn`'s cluster: the one this session made, or a new
/// one (after `sweep`, which removes the leftovers of dead runs, once per context). Its
/// deletion at the session's end is arranged before it is created.
pub async fn ensure<F, Fut>(
    ctx: &Ctx,
    conn: &Conn,
    node: &str,
    config: &DebugPodConfig,
    sweep: F,
) -> Result<DebugPod, NodeError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), NodeError>>,
{
    let registry = ctx.ext::<DebugPods>();
    let cell = registry
        .pods
        .lock()
        .expect("debug pods lock")
        .entry((conn.context.clone(), node.to_string()))
        .or_default()
        .clone();
    let pod = cell
        .get_or_try_init(|| async {
            let first = {
                let mut swept = registry.swept.lock().expect("debug pods lock");
                let first = !swept.contains(&conn.context);
                if first {
                    swept.push(conn.context.clone());
                }
                first
            };
            if first {
                sweep().await?;
            }
            create(ctx, conn, node, config).await
        })
        .await?;
    Ok(pod.clone())
}

async fn create(
    ctx: &Ctx,
    conn: &Conn,
    node: &str,
    config: &DebugPodConfig,
) -> Result<DebugPod, NodeError> {
    let namespace = conn.namespace(config.namespace.as_deref()).to_string();
    let manifest = manifest(node, &namespace, &config.image, &owner_of_this_run());
    let name = manifest.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(conn.client.clone(), &namespace);
    let pod = DebugPod {
        node: node.to_string(),
        namespace: namespace.clone(),
        name: name.clone(),
        image: config.image.clone(),
    };
    // Arranged first: whatever happens from here (Ctrl-C while the image is pulled
    // included), the session's end deletes the pod.
    let session = ctx.session_token();
    let (api2, name2, context) = (api.clone(), name.clone(), conn.context.clone());
    let (ctx2, pod2) = (ctx.clone(), pod.clone());
    let output = ctx.output().clone();
    ctx.spawn_background(async move {
        session.cancelled().await;
        kill_live(&ctx2, &pod2).await;
        if let Err(e) = delete_and_wait(&api2, &name2, DELETE_WAIT).await {
            output.eprintln(&format!(
                "labsh: could not delete the debug pod {name2} (context `{context}`): {e}; `labsh clean --context {context}` removes it"
            ));
        }
    });
    api.create(&PostParams::default(), &manifest)
        .await
        .map_err(|e| {
            conn.error(
                || format!("create the debug pod {namespace}/{name} on node {node}"),
                e,
            )
        })?;
    wait_running(conn, &api, &pod).await?;
    Ok(pod)
}

/// Waits (watch-based) for the pod to run, failing early when its container cannot start.
async fn wait_running(conn: &Conn, api: &Api<Pod>, pod: &DebugPod) -> Result<(), NodeError> {
    let settled = |p: Option<&Pod>| p.is_none_or(|p| running(p) || failure(p).is_some());
    let waited = tokio::time::timeout(
        START_TIMEOUT,
        await_condition(api.clone(), &pod.name, settled),
    )
    .await;
    let not_running = |reason: String| NodeError::DebugPodNotRunning {
        node: pod.node.clone(),
        namespace: pod.namespace.clone(),
        pod: pod.name.clone(),
        image: pod.image.clone(),
        reason,
    };
    match waited {
        Err(_) => Err(not_running(format!(
            "still not running after {}",
            crate::duration::format(START_TIMEOUT)
        ))),
        Ok(Err(e)) => Err(KubeError::Other(format!(
            "watching the debug pod {}/{}: {e} (context `{}`)",
            pod.namespace, pod.name, conn.context
        ))
        .into()),
        Ok(Ok(None)) => Err(not_running("it was deleted while starting".into())),
        Ok(Ok(Some(p))) if running(&p) => Ok(()),
        Ok(Ok(Some(p))) => Err(not_running(failure(&p).unwrap_or_default())),
    }
}

fn running(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
        })
}

/// Why the pod cannot run, when its status says so for good.
fn failure(p: &Pod) -> Option<String> {
    let status = p.status.as_ref()?;
    if let Some(phase @ ("Failed" | "Succeeded")) = status.phase.as_deref() {
        return Some(format!(
            "the pod ended (phase {phase}{})",
            status
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    status.container_statuses.iter().flatten().find_map(|c| {
        let w = c.state.as_ref()?.waiting.as_ref()?;
        let reason = w.reason.as_deref()?;
        matches!(
            reason,
            "ErrImagePull"
                | "ImagePullBackOff"
                | "ErrImageNeverPull"
                | "InvalidImageName"
                | "CreateContainerConfigError"
                | "CreateContainerError"
                | "RunContainerError"
        )
        .then(|| format!("{reason}: {}", w.message.as_deref().unwrap_or("")))
    })
}

/// Deletes the pod at once (grace period 0, as `kubectl delete --now --force`: the object
/// goes, kubelet then kills its container; nothing in a debug pod needs a graceful end) and
/// waits up to `wait` for it to be gone.
pub async fn delete_and_wait(api: &Api<Pod>, name: &str, wait: Duration) -> Result<(), String> {
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        ..DeleteParams::default()
    };
    match api.delete(name, &params).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
        Err(e) => return Err(crate::kube::error::root_cause(&e)),
    }
    let gone = await_condition(api.clone(), name, |p: Option<&Pod>| p.is_none());
    match tokio::time::timeout(wait, gone).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "still there {} after the deletion",
            crate::duration::format(wait)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_a_privileged_host_pod_pinned_to_its_node() {
        let p = manifest("labsh-node", "default", "img:1", "host 42 7");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["spec"]["nodeName"], "labsh-node");
        assert_eq!(json["spec"]["hostNetwork"], true);
        assert_eq!(json["spec"]["hostPID"], true);
        assert_eq!(json["spec"]["restartPolicy"], "Never");
        assert_eq!(json["spec"]["tolerations"][0]["operator"], "Exists");
        let c = &json["spec"]["containers"][0];
        assert_eq!(c["image"], "img:1");
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["securityContext"]["privileged"], true);
        assert_eq!(
            json["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "labsh"
        );
        assert_eq!(
            json["metadata"]["labels"]["app.kubernetes.io/component"],
            "node-debug"
        );
        assert_eq!(
            json["metadata"]["annotations"][OWNER_ANNOTATION],
            "host 42 7"
        );
    }

    #[test]
    fn pod_names_are_dns_labels_of_at_most_63_characters() {
        assert_eq!(pod_name("labsh-node", 42, 0), "labsh-debug-labsh-node-42-0");
        assert_eq!(
            pod_name("ip-10-0-1-2.eu-west-1.compute.internal", 7, 3),
            "labsh-debug-ip-10-0-1-2-eu-west-1-compute-internal-7-3"
        );
        let long = pod_name(&"n".repeat(100), 4_194_304, 12);
        assert_eq!(long.len(), 63);
        assert!(long.ends_with("n-4194304-12"), "{long}");
    }

    #[test]
    fn this_process_has_a_start_time() {
        let t = process_start_time(std::process::id());
        assert!(t.is_some_and(|t| t > 0), "{t:?}");
        assert_eq!(process_start_time(u32::MAX), None);
        let owner = owner_of_this_run();
        assert_eq!(owner.split(' ').count(), 3, "{owner}");
    }
}
