//! Where a live capture runs, from what it is started on and its `side` and `iface` options:
//! on this host (an interface, or a kind node's host-side veth), in a kind node's network
//! namespace, in a node's debug pod, or in a pod's node. A pure decision, so that every
//! combination (and every refusal) is tested without a cluster; carrying it out (finding a
//! veth, a namespace, a debug pod) is the caller's.

use crate::docker::Node;
use crate::kube::typed::Pod;
use crate::node::{ClusterNode, NodeAccess};

/// What a capture is started on.
#[derive(Debug, Clone)]
pub enum Target {
    /// A kind node of this host's Docker engine.
    KindNode(Node),
    /// A node of any cluster, reached through its debug pod.
    Node(ClusterNode),
    /// A pod: the capture runs in its node.
    Pod(Pod),
    /// An interface of this host.
    Iface(String),
}

impl Target {
    /// A node of a cluster: a kind node of this host is captured as one (through Docker and
    /// its namespace), any other through its debug pod.
    pub fn node(node: ClusterNode) -> Target {
        match node.access {
            NodeAccess::Docker(d) => Target::KindNode(d),
            _ => Target::Node(node),
        }
    }
}

/// Where the capture runs, with what it runs on, and on which interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// This host's tcpdump on the kind node's host-side veth (to find).
    HostVeth(Node),
    /// This host's tcpdump on one of its interfaces.
    Host(String),
    /// This host's tcpdump in the kind node's network namespace (`eth0` unless given).
    KindNodeNetns { node: Node, iface: String },
    /// tcpdump in the node's debug pod (`any` unless given).
    DebugPod { node: ClusterNode, iface: String },
    /// In the pod's node; `None`: the pod's host-side veth there.
    PodNode { pod: Pod, iface: Option<String> },
}

/// A combination of target and options that does not make a capture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// `side` is neither `host` nor `node`.
    #[error("option `side` must be \"host\" or \"node\", got {0:?}")]
    BadSide(String),
    /// An interface target and an `iface` option.
    #[error("give the interface either as the target or as `iface`, not both")]
    IfaceTwice,
    /// A node reached through a debug pod has no host side here.
    #[error(
        "node {0} is reached through a debug pod, not a container of this host: it has no host-side veth here; capture in the node (leave out `side`, or give `iface`)"
    )]
    NoHostSide(String),
    /// A pod not scheduled yet has no node.
    #[error("pod {0}/{1} is not scheduled on a node yet")]
    Unscheduled(String, String),
    /// A pod's capture on the host side.
    #[error(
        "a pod's capture runs in its node's network namespace; side \"host\" needs the node (cluster::node(…, {0:?}))"
    )]
    PodHostSide(String),
    /// An interface of this host captured on the node side.
    #[error("side \"node\" needs a Node or a Pod target, got the interface {0:?}")]
    IfaceNodeSide(String),
}

/// The `side` option: this host's end of a node's veth, or the node's own namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `"host"`.
    Host,
    /// `"node"`.
    Node,
}

/// The `side` option's value read (also what `labsh check` judges a literal with).
pub fn side(text: &str) -> Result<Side, PlaceError> {
    match text {
        "host" => Ok(Side::Host),
        "node" => Ok(Side::Node),
        other => Err(PlaceError::BadSide(other.to_string())),
    }
}

/// Decides where a capture of `target` runs. A node's own interfaces (`eth0`, `any`, `lxc…`)
/// are in its namespace: `iface` alone on a kind node means the node side, and a node reached
/// through a debug pod or a pod has no other side.
pub fn place(
    target: Target,
    side: Option<&str>,
    iface: Option<String>,
) -> Result<Placement, PlaceError> {
    let node_side = match (&target, side.map(self::side).transpose()?, &iface) {
        (_, Some(side), _) => side == Side::Node,
        (Target::KindNode(_), None, Some(_)) | (Target::Pod(_) | Target::Node(_), None, _) => true,
        _ => false,
    };
    Ok(match (target, node_side) {
        (Target::KindNode(node), false) => match iface {
            Some(iface) => Placement::Host(iface),
            None => Placement::HostVeth(node),
        },
        (Target::Iface(_), false) if iface.is_some() => return Err(PlaceError::IfaceTwice),
        (Target::Iface(name), false) => Placement::Host(name),
        (Target::KindNode(node), true) => Placement::KindNodeNetns {
            node,
            iface: iface.unwrap_or_else(|| "eth0".to_string()),
        },
        (Target::Node(node), true) => Placement::DebugPod {
            node,
            iface: iface.unwrap_or_else(|| "any".to_string()),
        },
        (Target::Node(node), false) => return Err(PlaceError::NoHostSide(node.info.name)),
        (Target::Pod(pod), true) if pod.node.is_empty() => {
            return Err(PlaceError::Unscheduled(pod.namespace, pod.name));
        }
        (Target::Pod(pod), true) => Placement::PodNode { pod, iface },
        (Target::Pod(pod), false) => return Err(PlaceError::PodHostSide(pod.node)),
        (Target::Iface(name), true) => return Err(PlaceError::IfaceNodeSide(name)),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::node::NodeInfo;
    use crate::node::debug_pod::DebugPodConfig;

    /// A kind node (also `open`'s tests).
    pub(in crate::tcpdump) fn kind_node() -> Node {
        Node {
            cluster: "lab".into(),
            name: "lab-worker".into(),
            role: "worker".into(),
            ip: "172.18.0.3".into(),
            network: "kind".into(),
            gateway: "172.18.0.1".into(),
            container_id: "c0ffee".into(),
        }
    }

    fn remote_node() -> ClusterNode {
        ClusterNode {
            context: "prod".into(),
            info: NodeInfo {
                name: "w1".into(),
                ..NodeInfo::default()
            },
            access: NodeAccess::DebugPod(DebugPodConfig::default()),
        }
    }

    /// A running pod on `node` (also `open`'s tests).
    pub(in crate::tcpdump) fn a_pod(node: &str) -> Pod {
        Pod {
            name: "web".into(),
            namespace: "lab".into(),
            node: node.into(),
            ip: "10.85.0.5".into(),
            phase: "Running".into(),
            ready: true,
            containers: vec![],
            labels: Default::default(),
        }
    }

    fn pod(node: &str) -> Target {
        Target::Pod(a_pod(node))
    }

    fn iface(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn a_kind_node_is_its_host_veth_by_default_and_its_namespace_with_an_interface() {
        let t = || Target::node(ClusterNode::of_kind(&kind_node()));
        assert!(matches!(t(), Target::KindNode(_)));
        assert_eq!(place(t(), None, None), Ok(Placement::HostVeth(kind_node())));
        assert_eq!(
            place(t(), None, iface("eth0")),
            Ok(Placement::KindNodeNetns {
                node: kind_node(),
                iface: "eth0".into()
            })
        );
        assert_eq!(
            place(t(), Some("node"), None),
            Ok(Placement::KindNodeNetns {
                node: kind_node(),
                iface: "eth0".into()
            })
        );
        assert_eq!(
            place(t(), Some("host"), iface("veth1")),
            Ok(Placement::Host("veth1".into()))
        );
    }

    #[test]
    fn a_node_of_any_cluster_is_captured_in_its_debug_pod_and_has_no_host_side() {
        let t = || Target::node(remote_node());
        assert_eq!(
            place(t(), None, None),
            Ok(Placement::DebugPod {
                node: remote_node(),
                iface: "any".into()
            })
        );
        assert_eq!(
            place(t(), None, iface("eth0")),
            Ok(Placement::DebugPod {
                node: remote_node(),
                iface: "eth0".into()
            })
        );
        assert_eq!(
            place(t(), Some("host"), None),
            Err(PlaceError::NoHostSide("w1".into()))
        );
    }

    #[test]
    fn an_interface_target_is_captured_on_this_host() {
        let t = || Target::Iface("lo".into());
        assert_eq!(place(t(), None, None), Ok(Placement::Host("lo".into())));
        assert_eq!(place(t(), None, iface("eth0")), Err(PlaceError::IfaceTwice));
        assert_eq!(
            place(t(), Some("node"), None),
            Err(PlaceError::IfaceNodeSide("lo".into()))
        );
    }

    #[test]
    fn a_pod_is_captured_in_its_node_on_its_veth_unless_an_interface_is_given() {
        assert_eq!(
            place(pod("w1"), None, None),
            Ok(Placement::PodNode {
                pod: a_pod("w1"),
                iface: None
            })
        );
        assert_eq!(
            place(pod("w1"), Some("node"), iface("any")),
            Ok(Placement::PodNode {
                pod: a_pod("w1"),
                iface: iface("any")
            })
        );
        assert_eq!(
            place(pod(""), None, None),
            Err(PlaceError::Unscheduled("lab".into(), "web".into()))
        );
        assert_eq!(
            place(pod("w1"), Some("host"), None),
            Err(PlaceError::PodHostSide("w1".into()))
        );
    }

    #[test]
    fn a_misspelt_side_says_the_two_there_are() {
        let err = place(pod("w1"), Some("hots"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "option `side` must be \"host\" or \"node\", got \"hots\""
        );
    }
}
