//! A pod's interface on its node's side: where a capture sees the pod's own traffic.
//!
//! With per-endpoint routes (Cilium's `lxc…`, Calico's `cali…`) the node's route to the
//! pod's address names it. Otherwise (a bridge CNI: the route goes to the bridge) it is the
//! peer of the pod's `eth0`: inside the pod, `/sys/class/net/eth0/iflink` is that peer's
//! ifindex in the node, and `ip -o link` in the node gives its name.

use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{ClusterNode, NodeError, exec};
use crate::context::Ctx;
use crate::kube::exec::{ExecLine, exec_lines};
use crate::process::Spec;

/// What labsh needs of the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its IP.
    pub ip: String,
    /// Its node.
    pub node: String,
}

impl PodRef {
    /// What labsh needs of `pod`.
    pub fn of(pod: &crate::kube::typed::Pod) -> PodRef {
        PodRef {
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
            ip: pod.ip.clone(),
            node: pod.node.clone(),
        }
    }
}

/// The host-side veth of kind node `node`, read through Docker (the `docker exec` line is
/// explained first); an error names the node.
pub async fn kind_node_host_veth(
    ctx: &Ctx,
    node: &crate::docker::Node,
    cancel: &CancellationToken,
) -> Result<String, NodeError> {
    use crate::docker::exec::ExecError;
    ctx.explain(&[
        "docker",
        "exec",
        &node.name,
        "cat",
        "/sys/class/net/eth0/iflink",
    ]);
    let read = async {
        let docker = crate::docker::client::client(ctx).await?;
        crate::docker::veth::host_veth(&docker, &node.container_id, cancel).await
    };
    read.await.map_err(|e| match e {
        ExecError::Interrupted => NodeError::Interrupted,
        other => NodeError::Veth(format!(
            "{}: finding its host-side veth: {other}",
            node.name
        )),
    })
}

/// How long each step (an exec) gets.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// `dev X` in `ip -o route get` output.
pub fn route_dev(route: &str) -> Option<&str> {
    let mut words = route.split_whitespace();
    while let Some(w) = words.next() {
        if w == "dev" {
            return words.next();
        }
    }
    None
}

/// Whether a route's device is one pod's own interface (per-endpoint routing), not a bridge
/// or the node's uplink.
pub fn is_endpoint_device(dev: &str) -> bool {
    ["lxc", "cali", "veth"].iter().any(|p| dev.starts_with(p)) && dev != "lxc_health"
}

/// The name of interface `index` in `ip -o link show` output (`12: lxcabc@if11: <…>`).
pub fn link_with_index(links: &str, index: u32) -> Option<String> {
    links.lines().find_map(|l| {
        let (n, rest) = l.split_once(": ")?;
        if n.trim().parse::<u32>().ok()? != index {
            return None;
        }
        let name = rest.split([':', ' ']).next()?;
        Some(name.split('@').next()?.to_string())
    })
}

fn veth_error(pod: &PodRef, why: String) -> NodeError {
    NodeError::Veth(format!(
        "finding pod {}/{}'s interface on node {}: {why}",
        pod.namespace, pod.name, pod.node
    ))
}

async fn on_node(
    ctx: &Ctx,
    node: &ClusterNode,
    argv: &[&str],
    cancel: &CancellationToken,
) -> Result<String, NodeError> {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    ctx.explain(&exec::explain(node, &argv));
    let small = crate::docker::exec::SMALL_OUTPUT;
    let out = exec::run(ctx, node, &argv, Some(STEP_TIMEOUT), cancel, small).await?;
    if out.code != 0 {
        return Err(NodeError::Exec {
            node: node.name().to_string(),
            command: crate::shell::join(&argv),
            message: format!("exit status {}: {}", out.code, out.stderr.trim()),
        });
    }
    Ok(out.stdout)
}

/// The ifindex of the node-side peer of the pod's `eth0`, read inside the pod.
async fn pod_iflink(ctx: &Ctx, pod: &PodRef) -> Result<u32, NodeError> {
    let argv = vec!["cat".to_string(), "/sys/class/net/eth0/iflink".to_string()];
    let mut explained: Vec<String> = ["kubectl", "exec", "-n", &pod.namespace, &pod.name, "--"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    explained.extend(argv.iter().cloned());
    ctx.explain(&explained);
    let mut stream = exec_lines(ctx, &pod.namespace, &pod.name, None, &argv).await?;
    let read = async {
        let mut out = String::new();
        let mut err = String::new();
        while let Some(l) = stream.lines.recv().await {
            match l {
                ExecLine::Stdout(l) => out.push_str(&l),
                ExecLine::Stderr(l) => err.push_str(&l),
            }
        }
        (out, err)
    };
    let (out, err) = tokio::time::timeout(STEP_TIMEOUT, read)
        .await
        .map_err(|_| veth_error(pod, "reading eth0's iflink in the pod timed out".into()))?;
    out.trim().parse().map_err(|_| {
        veth_error(
            pod,
            format!(
                "cannot read /sys/class/net/eth0/iflink in the pod (got {:?}{}); give the interface with `iface`",
                out.trim(),
                if err.trim().is_empty() { String::new() } else { format!(", {}", err.trim()) }
            ),
        )
    })
}

/// The pod's interface in `node` (which must be the pod's node).
pub async fn pod_host_veth(
    ctx: &Ctx,
    node: &ClusterNode,
    pod: &PodRef,
    cancel: &CancellationToken,
) -> Result<String, NodeError> {
    if pod.node != node.name() {
        return Err(veth_error(
            pod,
            if pod.node.is_empty() {
                "the pod is not scheduled on a node yet".to_string()
            } else {
                format!("the pod runs on node {}, not on {}", pod.node, node.name())
            },
        ));
    }
    find(ctx, pod, cancel, async |args: &[&str]| {
        let mut argv = vec!["ip", "-o"];
        argv.extend_from_slice(args);
        on_node(ctx, node, &argv, cancel).await
    })
    .await
}

/// The pod's interface in its node, whose network namespace is `netns` on this host (a kind
/// node's container): `ip` is this host's iproute2, run in that namespace through nsenter.
pub async fn pod_host_veth_in_netns(
    ctx: &Ctx,
    pod: &PodRef,
    netns: &Path,
    cancel: &CancellationToken,
) -> Result<String, NodeError> {
    find(ctx, pod, cancel, async |args: &[&str]| {
        let mut argv = vec!["ip".to_string(), "-o".to_string()];
        argv.extend(args.iter().map(|a| a.to_string()));
        let argv = crate::docker::netns::nsenter_argv(netns, &argv);
        ctx.explain(&argv);
        let spec = Spec::new(argv).timeout(STEP_TIMEOUT);
        crate::process::run(&spec, cancel)
            .await
            .and_then(|c| c.check(&spec))
            .map(|c| c.stdout)
            .map_err(|e| NodeError::Exec {
                node: pod.node.clone(),
                command: spec.command_line(),
                message: e.to_string(),
            })
    })
    .await
}

/// The search both share; `ip` runs `ip -o ARGS…` in the node.
async fn find(
    ctx: &Ctx,
    pod: &PodRef,
    cancel: &CancellationToken,
    ip: impl AsyncFn(&[&str]) -> Result<String, NodeError>,
) -> Result<String, NodeError> {
    if pod.ip.is_empty() {
        return Err(veth_error(pod, "the pod has no IP yet".into()));
    }
    let route = ip(&["route", "get", &pod.ip]).await?;
    if let Some(dev) = route_dev(&route).filter(|d| is_endpoint_device(d)) {
        return Ok(dev.to_string());
    }
    let index = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Err(NodeError::Interrupted),
        i = pod_iflink(ctx, pod) => i?,
    };
    let links = ip(&["link", "show"]).await?;
    link_with_index(&links, index).ok_or_else(|| {
        veth_error(
            pod,
            format!("the node has no interface with index {index} (the peer of the pod's eth0)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_and_link_outputs_of_iproute2() {
        // `ip -o route get` and `ip -o link show` as iproute2 6.1 prints them.
        let route = "10.244.1.5 dev lxc1a2b3c src 172.18.0.3 uid 0 \\    cache ";
        assert_eq!(route_dev(route), Some("lxc1a2b3c"));
        assert_eq!(
            route_dev("local 127.0.0.1 dev lo table local src 127.0.0.1"),
            Some("lo")
        );
        assert_eq!(route_dev("RTNETLINK answers: Network is unreachable"), None);
        let links = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n12: lxc1a2b3c@if11: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 3e:1f:00:00:00:01 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n";
        assert_eq!(link_with_index(links, 12).as_deref(), Some("lxc1a2b3c"));
        assert_eq!(link_with_index(links, 1).as_deref(), Some("lo"));
        assert_eq!(link_with_index(links, 7), None);
    }

    #[test]
    fn only_per_endpoint_devices_name_the_pod() {
        assert!(is_endpoint_device("lxc1a2b3c"));
        assert!(is_endpoint_device("cali12ab"));
        assert!(!is_endpoint_device("cni0"));
        assert!(!is_endpoint_device("eth0"));
        assert!(!is_endpoint_device("lxc_health"));
        assert!(!is_endpoint_device("cilium_host"));
    }
}
