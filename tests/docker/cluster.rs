//! A stand-in for a kind cluster (kind itself cannot run here: it needs its node image from
//! a registry). Two or three containers of the test image, labelled exactly like kind nodes
//! (`io.x-k8s.kind.cluster=<name>`, `io.x-k8s.kind.role`), named `<name>-control-plane`,
//! `<name>-worker`, `<name>-worker2`, on a Docker network of their own, each running nginx.
//! Names are random so tests run in parallel; dropping the guard removes the containers and
//! the network synchronously, also when the test failed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, NetworkCreateRequest};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};

use super::env::runtime;

/// A random lower-case hex suffix.
pub fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos
        ^ (std::process::id() as u64).rotate_left(32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    format!("{:08x}", x as u32)
}

/// The stand-in cluster; removed when dropped.
pub struct StandInKindCluster {
    /// The cluster name (`lt-<random>`).
    pub name: String,
    /// Its Docker network.
    pub network: String,
    /// Container names, control-plane first.
    pub nodes: Vec<String>,
    docker: Docker,
}

impl StandInKindCluster {
    /// Creates a control-plane and `workers` workers from `image`, and waits until every
    /// node's nginx answers.
    pub fn create(docker: &Docker, image: &str, workers: usize) -> Result<Self, String> {
        Self::create_with(docker, image, workers, &[], &[])
    }

    /// As [`StandInKindCluster::create`], the containers having the capabilities `cap_add`
    /// and the (network namespace) sysctls `sysctls`. Kind's nodes are privileged; these
    /// cannot be (this machine's Docker runs with a reduced capability set), so a test asks
    /// for what it needs.
    pub fn create_with(
        docker: &Docker,
        image: &str,
        workers: usize,
        cap_add: &[&str],
        sysctls: &[(&str, &str)],
    ) -> Result<Self, String> {
        let suffix = random_suffix();
        let mut cluster = StandInKindCluster {
            name: format!("lt-{suffix}"),
            network: format!("labsh-test-{suffix}"),
            nodes: Vec::new(),
            docker: docker.clone(),
        };
        runtime().block_on(cluster.populate(image, workers, cap_add, sysctls))?;
        Ok(cluster)
    }

    async fn populate(
        &mut self,
        image: &str,
        workers: usize,
        cap_add: &[&str],
        sysctls: &[(&str, &str)],
    ) -> Result<(), String> {
        self.docker
            .create_network(NetworkCreateRequest {
                name: self.network.clone(),
                driver: Some("bridge".into()),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("creating network {}: {e}", self.network))?;
        let mut specs = vec![(format!("{}-control-plane", self.name), "control-plane")];
        for i in 1..=workers {
            let suffix = if i == 1 { String::new() } else { i.to_string() };
            specs.push((format!("{}-worker{suffix}", self.name), "worker"));
        }
        for (name, role) in specs {
            let labels = HashMap::from([
                ("io.x-k8s.kind.cluster".to_string(), self.name.clone()),
                ("io.x-k8s.kind.role".to_string(), role.to_string()),
            ]);
            let body = ContainerCreateBody {
                image: Some(image.to_string()),
                hostname: Some(name.clone()),
                cmd: Some(vec!["nginx".into(), "-g".into(), "daemon off;".into()]),
                labels: Some(labels),
                host_config: Some(HostConfig {
                    network_mode: Some(self.network.clone()),
                    cap_add: (!cap_add.is_empty())
                        .then(|| cap_add.iter().map(|c| c.to_string()).collect()),
                    sysctls: (!sysctls.is_empty()).then(|| {
                        sysctls
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let options = CreateContainerOptionsBuilder::default().name(&name).build();
            // Recorded before creation so a half-made cluster is still cleaned up.
            self.nodes.push(name.clone());
            self.docker
                .create_container(Some(options), body)
                .await
                .map_err(|e| format!("creating container {name}: {e}"))?;
            self.docker
                .start_container(&name, None)
                .await
                .map_err(|e| format!("starting container {name}: {e}"))?;
        }
        for name in self.nodes.clone() {
            self.wait_for_nginx(&name).await?;
        }
        Ok(())
    }

    async fn wait_for_nginx(&self, name: &str) -> Result<(), String> {
        let info = self
            .docker
            .inspect_container(name, None)
            .await
            .map_err(|e| format!("inspecting {name}: {e}"))?;
        let ip = info
            .network_settings
            .and_then(|n| n.networks)
            .and_then(|n| n.get(&self.network).and_then(|e| e.ip_address.clone()))
            .ok_or_else(|| format!("{name} has no address on {}", self.network))?;
        for _ in 0..100 {
            if tokio::net::TcpStream::connect((ip.as_str(), 80))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "nginx in {name} ({ip}:80) did not answer within 10s"
        ))
    }

    /// The IPv4 address of each node on the cluster network and the network's gateway, read
    /// independently of labsh (from the network's inspection).
    pub fn addresses(&self) -> (HashMap<String, String>, String) {
        runtime().block_on(async {
            let net = self
                .docker
                .inspect_network(&self.network, None)
                .await
                .expect("inspect network");
            let ips = net
                .containers
                .unwrap_or_default()
                .into_values()
                .map(|e| {
                    let ip = e.ipv4_address.unwrap_or_default();
                    let ip = ip.split('/').next().unwrap_or_default().to_string();
                    (e.name.unwrap_or_default(), ip)
                })
                .collect();
            let gateway = net
                .ipam
                .and_then(|i| i.config)
                .and_then(|c| c.into_iter().find_map(|c| c.gateway))
                .unwrap_or_default();
            (ips, gateway)
        })
    }
}

impl Drop for StandInKindCluster {
    fn drop(&mut self) {
        let docker = self.docker.clone();
        let nodes = std::mem::take(&mut self.nodes);
        let network = self.network.clone();
        runtime().block_on(async move {
            for name in nodes {
                let options = RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build();
                if let Err(e) = docker.remove_container(&name, Some(options)).await {
                    eprintln!("warning: removing test container {name}: {e}");
                }
            }
            if let Err(e) = docker.remove_network(&network).await {
                eprintln!("warning: removing test network {network}: {e}");
            }
        });
    }
}
