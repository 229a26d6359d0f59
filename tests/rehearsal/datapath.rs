//! The rehearsal's datapath, on the Docker stand-in nodes (real containers, real nginx, real
//! TCP): there is no Cilium, so the NodePort is programmed the way kube-proxy's userspace mode
//! would do it, by a proxy on every node:
//!
//! - the frontend "pod" is the nginx of the node it runs on, on port 80 (its IP is the node's);
//!   that node also serves the NodePort locally;
//! - every other node's nginx listens on the NodePort and proxies to `pod_ip:80`: the request
//!   reaches the pod from that node's address (SNAT), and the reply goes back through it.
//!
//! So the lab's checks see a real SNAT datapath: NodePort answers 200 everywhere, the pod
//! logs node addresses as clients, the capture shows a SYN from the called node and a reply
//! from the pod's own address. What Cilium's DSR does is not reproduced, by design.

use std::time::{Duration, Instant};

use bollard::Docker;
use tokio_util::sync::CancellationToken;

use crate::cluster_state::NodeInfo;

/// Where the node's nginx writes its combined access log (the pod's "stdout").
pub const ACCESS_LOG: &str = "/var/log/nginx/access.log";

fn node_port_config(node_port: i64, pod_ip: &str, local: bool) -> String {
    if local {
        format!(
            "server {{\n    listen {node_port};\n    root /var/www/html;\n    index index.nginx-debian.html;\n}}\n"
        )
    } else {
        format!(
            "server {{\n    listen {node_port};\n    location / {{\n        proxy_pass http://{pod_ip}:80;\n    }}\n}}\n"
        )
    }
}

async fn exec(docker: &Docker, node: &str, argv: &[&str]) -> Result<String, String> {
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    let out = labsh::docker::exec::run(
        docker,
        node,
        &argv,
        Some(Duration::from_secs(20)),
        &CancellationToken::new(),
    )
    .await
    .map_err(|e| format!("{node}: {argv:?}: {e}"))?;
    if out.code != 0 {
        return Err(format!(
            "{node}: {argv:?} exited with {}: {}",
            out.code, out.stderr
        ));
    }
    Ok(out.stdout)
}

/// Programs `node_port` on every node (local on `pod_node`, proxied to `pod_ip:80`
/// elsewhere), reloads nginx and waits until every node accepts connections on it.
pub async fn program_node_port(
    docker: &Docker,
    nodes: &[NodeInfo],
    pod_node: &str,
    pod_ip: &str,
    node_port: i64,
) -> Result<(), String> {
    for n in nodes {
        let config = node_port_config(node_port, pod_ip, n.name == pod_node);
        exec(
            docker,
            &n.name,
            &[
                "sh",
                "-c",
                "printf '%s' \"$1\" > /etc/nginx/conf.d/labsh-nodeport.conf && nginx -t -q && nginx -s reload",
                "sh",
                &config,
            ],
        )
        .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    for n in nodes {
        while tokio::net::TcpStream::connect((n.ip.as_str(), node_port as u16))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err(format!(
                    "{} does not accept connections on {}:{node_port} after the nginx reload",
                    n.name, n.ip
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// Replaces `node`'s NodePort server by one that sends its page at one byte a second
/// (nginx `limit_rate`): a request to it stays open for minutes.
pub async fn stall_node_port(
    docker: &Docker,
    node: &NodeInfo,
    node_port: i64,
) -> Result<(), String> {
    let config = format!(
        "server {{\n    listen {node_port};\n    root /var/www/html;\n    index index.nginx-debian.html;\n    limit_rate 1;\n}}\n"
    );
    exec(
        docker,
        &node.name,
        &[
            "sh",
            "-c",
            "printf '%s' \"$1\" > /etc/nginx/conf.d/labsh-nodeport.conf && nginx -t -q && nginx -s reload",
            "sh",
            &config,
        ],
    )
    .await?;
    // The reload is done when the old workers are gone; give it a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

/// The lines of the pod node's access log.
pub async fn access_log(docker: &Docker, node: &str) -> Result<Vec<String>, String> {
    let text = exec(docker, node, &["cat", ACCESS_LOG]).await?;
    Ok(text.lines().map(str::to_string).collect())
}
