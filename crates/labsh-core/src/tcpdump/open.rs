//! Carrying out a capture's [`Placement`]: finding what it runs on (a kind node's host-side
//! veth, its network namespace, a pod's node and interface, the node's debug pod) and starting
//! tcpdump there. Each command it runs is explained first (`--explain`), and Ctrl-C ends it
//! with [`Error::Interrupted`], with whatever it had started stopped.

use std::future::Future;
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::place::Placement;
use super::pod_source::PodSource;
use super::source::Source;
use crate::context::Ctx;
use crate::docker::client;
use crate::errors::Error;
use crate::kube::typed::Pod;
use crate::node::cluster::{AccessMode, AnyCluster};
use crate::node::debug_pod::DebugPodConfig;
use crate::node::veth::{PodRef, kind_node_host_veth, pod_host_veth, pod_host_veth_in_netns};
use crate::node::{ClusterNode, NodeError};
use crate::process::{ProcessError, Spec};

/// A started tcpdump and its command line as a user would type it.
pub struct Opened {
    /// Its output.
    pub source: Source,
    /// `tcpdump …`, `nsenter --net=… tcpdump …` or `kubectl debug node/… -- tcpdump …`.
    pub command: String,
}

/// Starts tcpdump where `placement` says, with `argv(iface)` as its argument vector.
pub async fn open(
    ctx: &Ctx,
    placement: Placement,
    argv: impl Fn(&str) -> Vec<String>,
    cancel: &CancellationToken,
) -> Result<Opened, Error> {
    match placement {
        Placement::HostVeth(node) => {
            let iface = unless_cancelled(cancel, kind_node_host_veth(ctx, &node, cancel))
                .await?
                .map_err(node_error)?;
            on_host(ctx, argv(&iface))
        }
        Placement::Host(iface) => on_host(ctx, argv(&iface)),
        Placement::KindNodeNetns { node, iface } => {
            let netns = node_netns(ctx, &node.name, &node.container_id, cancel).await?;
            in_netns(ctx, &node.name, &netns, argv(&iface))
        }
        Placement::DebugPod { node, iface } => in_debug_pod(ctx, &node, argv(&iface), cancel).await,
        Placement::PodNode { pod, iface } if is_local_container(ctx, &pod.node, cancel).await? => {
            let netns = node_netns(ctx, &pod.node, &pod.node, cancel).await?;
            let iface = match iface {
                Some(i) => i,
                None => pod_host_veth_in_netns(ctx, &PodRef::of(&pod), &netns, cancel)
                    .await
                    .map_err(node_error)?,
            };
            in_netns(ctx, &pod.node, &netns, argv(&iface))
        }
        Placement::PodNode { pod, iface } => {
            // Not a kind node of this host: through the node's debug pod.
            let node = node_of_pod(ctx, &pod, cancel).await?;
            let iface = match iface {
                Some(i) => i,
                None => pod_host_veth(ctx, &node, &PodRef::of(&pod), cancel)
                    .await
                    .map_err(node_error)?,
            };
            in_debug_pod(ctx, &node, argv(&iface), cancel).await
        }
    }
}

/// `fut`, unless `cancel` comes first.
async fn unless_cancelled<T>(
    cancel: &CancellationToken,
    fut: impl Future<Output = T>,
) -> Result<T, Error> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Error::Interrupted),
        v = fut => Ok(v),
    }
}

fn node_error(e: NodeError) -> Error {
    if e.is_interrupted() {
        Error::Interrupted
    } else {
        Error::msg(e.to_string())
    }
}

/// Whether this host's Docker engine runs a container named `name` (a kind node).
async fn is_local_container(
    ctx: &Ctx,
    name: &str,
    cancel: &CancellationToken,
) -> Result<bool, Error> {
    unless_cancelled(cancel, async {
        match client::client(ctx).await {
            Ok(docker) => docker.inspect_container(name, None).await.is_ok(),
            Err(_) => false,
        }
    })
    .await
}

/// The node a pod runs on, in the context `kube::` uses (reached through a debug pod).
async fn node_of_pod(
    ctx: &Ctx,
    pod: &Pod,
    cancel: &CancellationToken,
) -> Result<ClusterNode, Error> {
    unless_cancelled(cancel, async {
        AnyCluster::current(ctx, AccessMode::DebugPod, DebugPodConfig::default())
            .await?
            .node(ctx, &pod.node)
            .await
    })
    .await?
    .map_err(node_error)
}

/// tcpdump in `node`'s debug pod (made on first use).
async fn in_debug_pod(
    ctx: &Ctx,
    node: &ClusterNode,
    argv: Vec<String>,
    cancel: &CancellationToken,
) -> Result<Opened, Error> {
    let explained = crate::node::exec::explain(node, &argv);
    ctx.explain(&explained);
    let source = unless_cancelled(cancel, async {
        let pod = crate::node::exec::debug_pod_of(ctx, node).await?;
        PodSource::start(ctx, &pod, &argv).await
    })
    .await?
    .map_err(node_error)?;
    Ok(Opened {
        source: Source::Pod(source),
        command: crate::shell::join(&explained),
    })
}

/// The network namespace of node container `container` (a name or an id).
async fn node_netns(
    ctx: &Ctx,
    node: &str,
    container: &str,
    cancel: &CancellationToken,
) -> Result<PathBuf, Error> {
    ctx.explain(&["docker", "inspect", "-f", "{{.State.Pid}}", node]);
    unless_cancelled(cancel, async {
        let docker = client::client(ctx).await?;
        crate::docker::netns::container_netns(&docker, container).await
    })
    .await?
    .map_err(|e| Error::msg(format!("{node}: {e}")))
}

/// Runs `argv` in `netns` with this host's tcpdump; a missing tcpdump or nsenter is named.
fn in_netns(ctx: &Ctx, node: &str, netns: &Path, argv: Vec<String>) -> Result<Opened, Error> {
    // nsenter would only say "failed to execute tcpdump": check the host's first.
    if crate::process::which("tcpdump").is_none() {
        return Err(ProcessError::NotFound {
            program: "tcpdump".into(),
            hint: crate::process::install_hint("tcpdump"),
        }
        .into());
    }
    let argv = crate::docker::netns::nsenter_argv(netns, &argv);
    ctx.explain(&argv);
    let spec = Spec::new(argv);
    let source = Source::host(&spec)
        .map_err(|e| Error::msg(format!("capturing in node {node}'s network namespace: {e}")))?;
    Ok(Opened {
        source,
        command: spec.command_line(),
    })
}

/// This host's tcpdump.
fn on_host(ctx: &Ctx, argv: Vec<String>) -> Result<Opened, Error> {
    ctx.explain(&argv);
    let spec = Spec::new(argv);
    let source = Source::host(&spec)?;
    Ok(Opened {
        source,
        command: spec.command_line(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;
    use crate::tcpdump::place::tests::{a_pod, kind_node};

    fn ctx(rt: &tokio::runtime::Runtime) -> Ctx {
        Ctx::new(rt.handle().clone(), Settings::default())
    }

    #[test]
    fn ctrl_c_before_the_lookups_ends_with_interrupted_and_starts_nothing() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let ctx = ctx(&rt);
        let cancel = CancellationToken::new();
        cancel.cancel();
        let started = std::cell::Cell::new(0);
        let argv = |iface: &str| {
            started.set(started.get() + 1);
            vec!["tcpdump".to_string(), "-i".to_string(), iface.to_string()]
        };
        for placement in [
            Placement::HostVeth(kind_node()),
            Placement::KindNodeNetns {
                node: kind_node(),
                iface: "eth0".into(),
            },
            Placement::PodNode {
                pod: a_pod("lab-worker"),
                iface: None,
            },
        ] {
            let what = format!("{placement:?}");
            let got = rt.block_on(open(&ctx, placement, argv, &cancel));
            assert!(
                matches!(got, Err(Error::Interrupted)),
                "{what}: {:?}",
                got.err()
            );
        }
        assert_eq!(started.get(), 0, "no argument vector was asked for");
    }

    #[test]
    fn a_missing_program_on_this_host_is_named_with_how_to_get_it() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let ctx = ctx(&rt);
        let got = rt.block_on(open(
            &ctx,
            Placement::Host("lo".into()),
            |iface| vec!["labsh-no-such-tcpdump".into(), "-i".into(), iface.into()],
            &CancellationToken::new(),
        ));
        let message = got.err().expect("no such program").to_string();
        assert!(
            message.contains("labsh-no-such-tcpdump"),
            "the program is named: {message}"
        );
    }
}
