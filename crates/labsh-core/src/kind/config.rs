//! The kind cluster configuration labsh writes when a script gives options instead of a
//! config file (lab-facts §2): one control-plane, N workers, and the networking switches the
//! Cilium lab needs (`disableDefaultCNI`, `kubeProxyMode: none`, `podSubnet`).

use serde::{Deserialize, Serialize};

/// The pod subnet kind uses by default, and the one the lab's Cilium values route.
pub const DEFAULT_POD_SUBNET: &str = "10.244.0.0/16";

/// What the cluster should look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterShape {
    /// Worker nodes besides the control-plane.
    pub workers: u32,
    /// Install kind's default CNI (kindnet). `false` for Cilium.
    pub cni: bool,
    /// Run kube-proxy. `false` when Cilium replaces it.
    pub kube_proxy: bool,
    /// The pod CIDR.
    pub pod_subnet: String,
}

impl Default for ClusterShape {
    fn default() -> Self {
        ClusterShape {
            workers: 3,
            cni: true,
            kube_proxy: true,
            pod_subnet: DEFAULT_POD_SUBNET.into(),
        }
    }
}

/// A kind `Cluster` object (`kind.x-k8s.io/v1alpha4`), the fields labsh sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindConfig {
    /// Always `Cluster`.
    pub kind: String,
    /// Always `kind.x-k8s.io/v1alpha4`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// Cluster networking.
    pub networking: Networking,
    /// The nodes, control-plane first.
    pub nodes: Vec<NodeRole>,
}

/// `networking:` of a kind config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Networking {
    /// Skip kindnet; a CNI (Cilium) is installed afterwards.
    #[serde(
        rename = "disableDefaultCNI",
        default,
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub disable_default_cni: bool,
    /// `none` skips kubeadm's kube-proxy addon.
    #[serde(
        rename = "kubeProxyMode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_proxy_mode: Option<String>,
    /// The pod CIDR.
    #[serde(rename = "podSubnet")]
    pub pod_subnet: String,
}

/// One entry of `nodes:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRole {
    /// `control-plane` or `worker`.
    pub role: String,
}

impl KindConfig {
    /// The config for `shape`.
    pub fn from_shape(shape: &ClusterShape) -> Self {
        let mut nodes = vec![NodeRole {
            role: "control-plane".into(),
        }];
        nodes.extend((0..shape.workers).map(|_| NodeRole {
            role: "worker".into(),
        }));
        KindConfig {
            kind: "Cluster".into(),
            api_version: "kind.x-k8s.io/v1alpha4".into(),
            networking: Networking {
                disable_default_cni: !shape.cni,
                kube_proxy_mode: (!shape.kube_proxy).then(|| "none".into()),
                pod_subnet: shape.pod_subnet.clone(),
            },
            nodes,
        }
    }

    /// The config as YAML, ready for `kind create cluster --config`.
    pub fn to_yaml(&self) -> Result<String, String> {
        serde_saphyr::to_string(self).map_err(|e| format!("cannot write the kind config: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labs_shape_gives_lab_facts_config() {
        let shape = ClusterShape {
            cni: false,
            kube_proxy: false,
            ..ClusterShape::default()
        };
        let yaml = KindConfig::from_shape(&shape).to_yaml().unwrap();
        let expected = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  disableDefaultCNI: true\n  kubeProxyMode: none\n  podSubnet: 10.244.0.0/16\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n- role: worker\n";
        let back: KindConfig = serde_saphyr::from_str(&yaml).unwrap();
        let want: KindConfig = serde_saphyr::from_str(expected).unwrap();
        assert_eq!(back, want, "{yaml}");
    }

    #[test]
    fn defaults_keep_kindnet_and_kube_proxy_out_of_the_file() {
        let yaml = KindConfig::from_shape(&ClusterShape::default())
            .to_yaml()
            .unwrap();
        assert!(!yaml.contains("disableDefaultCNI"), "{yaml}");
        assert!(!yaml.contains("kubeProxyMode"), "{yaml}");
        assert!(yaml.contains("podSubnet: 10.244.0.0/16"), "{yaml}");
    }
}
