//! Debug pods whose run died before it could delete them (SIGKILL, a crash, a machine
//! switched off). The first debug pod a run needs on a context first looks for pods labelled
//! as labsh's debug pods ([`super::debug_pod::SELECTOR`]) and reads their owner annotation:
//! a pod whose owner ran on this host and is gone is deleted, and labsh says so; a pod of a
//! run on another host is reported and left alone (labsh cannot tell whether it still runs);
//! a pod of a live run is none of this run's business. [`clean`] (`labsh clean`) removes
//! every debug pod but those of live runs of this host, whoever left them.

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

use super::NodeError;
use super::debug_pod::{self, OWNER_ANNOTATION, SELECTOR};
use crate::context::Ctx;
use crate::kube::Conn;

/// What to do with a debug pod, given its owner annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Its owner ran on this host and is gone: delete it.
    Orphaned {
        /// The dead owner's pid.
        pid: u32,
    },
    /// Its owner still runs on this host (or is this process): leave it.
    Alive,
    /// Its owner ran on another host (or the annotation is unreadable): report, leave it.
    Foreign {
        /// The owner as annotated.
        owner: String,
    },
}

/// Judges one owner annotation (`HOST PID START_TIME`); `alive(pid, start)` says whether
/// that process still runs here.
pub fn verdict(owner: &str, this_host: &str, alive: impl Fn(u32, u64) -> bool) -> Verdict {
    let mut parts = owner.split_whitespace();
    let (Some(host), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next()) else {
        return Verdict::Foreign {
            owner: owner.to_string(),
        };
    };
    let (Ok(pid), Ok(start)) = (pid.parse::<u32>(), start.parse::<u64>()) else {
        return Verdict::Foreign {
            owner: owner.to_string(),
        };
    };
    if host != this_host {
        return Verdict::Foreign {
            owner: owner.to_string(),
        };
    }
    if alive(pid, start) {
        Verdict::Alive
    } else {
        Verdict::Orphaned { pid }
    }
}

/// Whether process `pid` runs here and started at `start` (not a later process that reused
/// the pid).
pub fn process_alive(pid: u32, start: u64) -> bool {
    debug_pod::process_start_time(pid) == Some(start)
}

/// One debug pod found by [`sweep`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its node.
    pub node: String,
    /// What was decided.
    pub verdict: Verdict,
}

/// Lists every debug pod of the cluster with a verdict on each.
pub async fn find(conn: &Conn) -> Result<Vec<Found>, NodeError> {
    let api: Api<Pod> = Api::all(conn.client.clone());
    let pods = api
        .list(&ListParams::default().labels(SELECTOR))
        .await
        .map_err(|e| conn.error(|| format!("list pods -l {SELECTOR} -A"), e))?;
    let host = debug_pod::hostname();
    Ok(pods
        .items
        .iter()
        .map(|p| {
            let owner = p
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(OWNER_ANNOTATION))
                .cloned()
                .unwrap_or_default();
            Found {
                namespace: p.metadata.namespace.clone().unwrap_or_default(),
                name: p.metadata.name.clone().unwrap_or_default(),
                node: p
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.clone())
                    .unwrap_or_default(),
                verdict: verdict(&owner, &host, process_alive),
            }
        })
        .collect())
}

/// Deletes the debug pods dead runs left on `conn`'s cluster and reports each on stderr;
/// reports those of runs on other hosts. A token that may not list pods cluster-wide skips
/// the sweep (with a note).
pub async fn sweep(ctx: &Ctx, conn: &Conn) -> Result<Vec<Found>, NodeError> {
    let out = ctx.output();
    let found = match find(conn).await {
        Ok(f) => f,
        Err(NodeError::Kube(crate::kube::KubeError::Api { code: 403, .. })) => {
            out.eprintln(&format!(
                "labsh: cannot list pods in all namespaces on context `{}` (forbidden): debug pods of earlier runs were not looked for",
                conn.context
            ));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    for f in &found {
        match &f.verdict {
            Verdict::Orphaned { pid } => {
                let api: Api<Pod> = Api::namespaced(conn.client.clone(), &f.namespace);
                match debug_pod::delete_and_wait(&api, &f.name, debug_pod::DELETE_WAIT).await {
                    Ok(()) => out.eprintln(&format!(
                        "labsh: removed the debug pod {}/{} on node {} left by an earlier run (pid {pid}, which ended without deleting it)",
                        f.namespace, f.name, f.node
                    )),
                    Err(e) => out.eprintln(&format!(
                        "labsh: the debug pod {}/{} on node {} was left by an earlier run (pid {pid}); deleting it failed: {e}; `labsh clean --context {}` removes it",
                        f.namespace, f.name, f.node, conn.context
                    )),
                }
            }
            Verdict::Foreign { owner } => out.eprintln(&format!(
                "labsh: the debug pod {}/{} on node {} belongs to a run elsewhere ({}); left alone: `labsh clean --context {}` removes it once that run is over",
                f.namespace,
                f.name,
                f.node,
                if owner.is_empty() { "no owner annotation" } else { owner },
                conn.context
            )),
            Verdict::Alive => {}
        }
    }
    Ok(found)
}

/// What [`clean`] did with one debug pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleaned {
    /// Deleted (and gone).
    Removed(Found),
    /// Left: it belongs to a run still going on this host.
    Kept(Found),
    /// Deleting it failed.
    Failed(Found, String),
}

/// `labsh clean`: deletes every debug pod of `conn`'s cluster (all namespaces) but those of
/// runs still going on this host, waits for each to be gone, and says what it did with
/// each. `before_delete` is called with each pod about to be deleted (`--explain`).
pub async fn clean(conn: &Conn, before_delete: impl Fn(&Found)) -> Result<Vec<Cleaned>, NodeError> {
    let mut out = Vec::new();
    for f in find(conn).await? {
        if f.verdict == Verdict::Alive {
            out.push(Cleaned::Kept(f));
            continue;
        }
        let api: Api<Pod> = Api::namespaced(conn.client.clone(), &f.namespace);
        before_delete(&f);
        out.push(
            match debug_pod::delete_and_wait(&api, &f.name, CLEAN_WAIT).await {
                Ok(()) => Cleaned::Removed(f),
                Err(e) => Cleaned::Failed(f, e),
            },
        );
    }
    Ok(out)
}

/// How long `labsh clean` waits for each pod to be gone.
pub const CLEAN_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl Found {
    /// Who left the pod, for messages: `pid 42, which ended`, `a run on host H (pid P)`.
    pub fn owner(&self) -> String {
        match &self.verdict {
            Verdict::Orphaned { pid } => format!("left by pid {pid}, which ended"),
            Verdict::Alive => "its run is still going on this host".into(),
            Verdict::Foreign { owner } if owner.is_empty() => "no owner annotation".into(),
            Verdict::Foreign { owner } => format!("owner {owner}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_owner_on_this_host_orphans_its_pod() {
        let alive = |pid: u32, start: u64| pid == 10 && start == 5;
        assert_eq!(verdict("box 10 5", "box", alive), Verdict::Alive);
        assert_eq!(
            verdict("box 10 6", "box", alive),
            Verdict::Orphaned { pid: 10 },
            "same pid, another start time: the pid was reused"
        );
        assert_eq!(
            verdict("box 11 5", "box", alive),
            Verdict::Orphaned { pid: 11 }
        );
    }

    #[test]
    fn another_hosts_or_an_unreadable_owner_is_left_alone() {
        let never = |_: u32, _: u64| false;
        assert_eq!(
            verdict("laptop 10 5", "box", never),
            Verdict::Foreign {
                owner: "laptop 10 5".into()
            }
        );
        assert_eq!(
            verdict("", "box", never),
            Verdict::Foreign { owner: "".into() }
        );
        assert_eq!(
            verdict("box ten 5", "box", never),
            Verdict::Foreign {
                owner: "box ten 5".into()
            }
        );
    }

    #[test]
    fn this_process_is_alive() {
        let pid = std::process::id();
        let start = debug_pod::process_start_time(pid).unwrap();
        assert!(process_alive(pid, start));
        assert!(!process_alive(pid, start + 1));
    }
}
