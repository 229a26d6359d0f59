//! The rehearsal's datapath: a TEST DOUBLE of Cilium's NodePort load-balancing, built from real
//! kernel parts (network namespaces, veths, routes, nftables, conntrack) inside the Docker
//! stand-in nodes, so the lab's checks see real TCP packets on real veths.
//!
//! # The wiring (what kind + Cilium would give)
//!
//! - Node N (control-plane = 0, then the workers) owns the pod CIDR `10.244.N.0/24`. Every node
//!   routes each other node's /24 via that node's address (Cilium's `autoDirectNodeRoutes`).
//! - The frontend "pod" is a network namespace (`frontend`) inside its node's container, on a
//!   veth pair whose node side is named like Cilium's (`lxc…`) and whose pod side is `eth0`,
//!   address `10.244.N.23/32`, default route through the node side (a static neighbour: Cilium
//!   answers that ARP from eBPF). The node reaches it through a /32 route on the `lxc` veth
//!   (Cilium delivers to the `lxc` veth from eBPF instead). In it, nginx writes *combined*
//!   access-log lines: the pod's stdout, which the pod-log stand-in serves.
//! - Forwarding is on, `rp_filter` and ICMP redirects are off in every node.
//!
//! # The three `loadBalancer.mode`s, packet by packet
//!
//! The client is the host (the Docker network's gateway `G`); it calls `C:NP`, the NodePort of
//! node `C`; the pod `p` runs on node `P`. All rules live in two tables per node, `ip labsh_lb`
//! and `netdev labsh_dsr`, replaced atomically when the mode changes and deleted at the end.
//!
//! **`snat`** (Cilium's default, and what kube-proxy does):
//! 1. `G:port > C:NP [S]` reaches C; conntrack DNATs it to `p:80` and, as it leaves C towards P,
//!    masquerades it: `C:port' > p:80 [S]`.
//! 2. The pod sees `C` as its client (source IP lost) and answers `p:80 > C:port' [S.]`, back
//!    through C, whose conntrack undoes both translations: `C:NP > G:port [S.]`.
//!
//! On P's host-side veth: `C.port' > p.80 [S]` then `p.80 > C.port' [S.]`. Cilium does the same
//! with its own eBPF NAT instead of netfilter's.
//!
//! **`dsr`** (Direct Server Return, the handout's):
//! 1. `G:port > C:NP [S]` reaches C; C rewrites it to `G:port > p:80` WITHOUT touching the
//!    source, tags it with C's identity, and forwards it to P.
//! 2. P restores what the client called before conntrack sees the packet (`G:port > C:NP`),
//!    then conntrack DNATs it to `p:80`: the pod sees the client's own address.
//! 3. The reply `p:80 > G:port` is rewritten by P's conntrack to `C:NP > G:port [S.]` and leaves
//!    P straight to the client: it never crosses C again.
//!
//! On P's host-side veth: `G.port > p.80 [S]` then `C.NP > G.port [S.]`, the handout's shape.
//!
//! **`hybrid`** (Cilium's definition): `dsr` for TCP, `snat` for UDP. The frontend is TCP, so
//! the lab sees DSR. Nothing listens on UDP in the pod, but its ICMP "port unreachable"
//! answer follows the same path as a UDP reply would: back through the called node in
//! `snat` and `hybrid`; in `dsr`, straight to the client, rewritten by P's conntrack as if
//! `C:NP` had answered (the rehearsal tests all three).
//!
//! A node calling itself (`G > P:NP`) is DNATed to the local pod without SNAT in every mode,
//! as Cilium does for a local backend.
//!
//! # The rules, for TCP (`ruleset` writes them; `nft list ruleset` in a node shows them)
//!
//! ```text
//! snat  on C  nat prerouting   ip daddr C tcp dport NP dnat to p:80
//!             nat postrouting  oifname "eth0" ct status dnat ip daddr p tcp dport 80 masquerade
//!       on P  nat prerouting   ip daddr P tcp dport NP dnat to p:80
//! dsr   on C  netdev ingress   ip daddr C tcp dport NP ip daddr set p tcp dport set 80 ip dscp set C+1
//!             raw prerouting   iifname "eth0" ip daddr p tcp dport 80 ip dscp C+1 notrack
//!       on P  netdev ingress   ip daddr p tcp dport 80 ip dscp C+1 ip daddr set C tcp dport set NP ip dscp set 0
//!             nat prerouting   ip daddr C tcp dport NP dnat to p:80   (one pair per other node C)
//!                              ip daddr P tcp dport NP dnat to p:80
//! ```
//!
//! # Where this differs from Cilium
//!
//! - **How the called node's identity travels.** Cilium puts the service address and port in an
//!   IPv4 option (or an IPv6 extension header) of the forwarded packet; the pod's node reads it
//!   to build its reverse-NAT entry. nftables cannot add an IP option, so C writes *which node
//!   was called* in the packet's DSCP field (6 bits: node N is DSCP N+1; 0 means "not
//!   forwarded"). DSCP survives forwarding across the Docker bridge, nothing else on these
//!   networks sets it, and nftables can set and match it in both the `ip` and `netdev`
//!   families. The NodePort is the same on every node, so the node is enough to rebuild
//!   `C:NP`. On P, a `netdev` ingress rule (before conntrack) rewrites `G > p:80, DSCP N+1` back
//!   to `G > C:NP, DSCP 0`; a conntrack DNAT then sends it to the pod, so it is conntrack that
//!   rewrites the reply to `C:NP > G`. Every packet of the connection is tagged, not only the
//!   first as with Cilium's option, because P's rewrite is stateless.
//! - **The called node keeps no state in DSR mode.** Cilium's called node keeps an entry in its
//!   own eBPF conntrack map. Netfilter's conntrack cannot: it only sees the client's direction,
//!   so the client's ACK after a SYN whose SYN-ACK it never saw is "invalid", is not
//!   translated, and the node's own stack answers it with a RST. So C rewrites statelessly in
//!   `netdev` ingress and marks those packets `notrack`.
//! - Cilium does all this in eBPF programs on the node's devices (tc/XDP); here the same
//!   translations are netfilter's. What the packets look like on the wire is the same; what
//!   `cilium monitor` would show is played by the agent stand-in (`cluster_state.rs`).

use std::time::{Duration, Instant};

use bollard::Docker;
use tokio_util::sync::CancellationToken;

use super::cluster_state::NodeInfo;

/// Cilium's `loadBalancer.mode`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Snat,
    Dsr,
    Hybrid,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Snat, Mode::Dsr, Mode::Hybrid];

    pub fn parse(s: &str) -> Result<Mode, String> {
        match s {
            "snat" => Ok(Mode::Snat),
            "dsr" => Ok(Mode::Dsr),
            "hybrid" => Ok(Mode::Hybrid),
            other => Err(format!(
                "loadBalancer.mode {other:?}: Cilium knows snat, dsr and hybrid"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Snat => "snat",
            Mode::Dsr => "dsr",
            Mode::Hybrid => "hybrid",
        }
    }

    /// Whether `proto` (`tcp`, `udp`) goes the DSR way in this mode.
    fn dsr_for(self, proto: &str) -> bool {
        self == Mode::Dsr || (self == Mode::Hybrid && proto == "tcp")
    }
}

/// The network namespace of the frontend pod, inside its node's container.
pub const POD_NETNS: &str = "frontend";
/// The node side of the pod's veth (Cilium names it `lxc` + 12 hex digits).
pub const POD_VETH: &str = "lxc39c176bde913";
/// Where the pod's nginx writes its combined access log (the pod's "stdout").
pub const ACCESS_LOG: &str = "/var/log/labsh-pod/access.log";
const POD_NGINX_CONF: &str = "/etc/labsh-pod/nginx.conf";
/// The nft tables the datapath owns in each node.
pub const TABLES: [&str; 2] = ["ip labsh_lb", "netdev labsh_dsr"];
/// The pod's default gateway (a link-local address answered by a static neighbour entry).
const POD_GATEWAY: &str = "169.254.1.1";

/// The pod CIDR of the node at `index` (control-plane 0, then the workers).
pub fn pod_cidr(index: usize) -> String {
    format!("10.244.{index}.0/24")
}

/// The frontend pod's address when it runs on the node at `index`.
pub fn pod_ip(index: usize) -> String {
    format!("10.244.{index}.23")
}

/// The frontend pod as the datapath placed it.
#[derive(Clone, Debug)]
pub struct Pod {
    pub ip: String,
    pub node: NodeInfo,
}

async fn exec(docker: &Docker, node: &str, argv: &[&str]) -> Result<String, String> {
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    let out = labsh::docker::exec::run(
        docker,
        node,
        &argv,
        Some(Duration::from_secs(20)),
        &CancellationToken::new(),
        labsh::docker::exec::SMALL_OUTPUT,
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

/// Writes `text` to `path` inside `node` (an argument, never spliced into the shell script).
async fn write_file(docker: &Docker, node: &str, path: &str, text: &str) -> Result<(), String> {
    exec(
        docker,
        node,
        &[
            "sh",
            "-c",
            "mkdir -p \"$(dirname \"$1\")\" && printf '%s' \"$2\" > \"$1\"",
            "sh",
            path,
            text,
        ],
    )
    .await
    .map(|_| ())
}

/// Routes each other node's pod /24 via that node (`autoDirectNodeRoutes`); the nodes are
/// programmed concurrently.
pub async fn route_pod_cidrs(docker: &Docker, nodes: &[NodeInfo]) -> Result<(), String> {
    let per_node = nodes.iter().map(|n| async move {
        for (i, other) in nodes.iter().enumerate() {
            if other.name != n.name {
                let cidr = pod_cidr(i);
                exec(
                    docker,
                    &n.name,
                    &[
                        "ip", "route", "replace", &cidr, "via", &other.ip, "dev", "eth0",
                    ],
                )
                .await?;
            }
        }
        Ok::<(), String>(())
    });
    futures::future::join_all(per_node)
        .await
        .into_iter()
        .collect()
}

fn pod_nginx_config(stalled: bool) -> String {
    // limit_rate 1: one byte a second, so a request stays open long enough to interrupt it.
    let rate = if stalled {
        "        limit_rate 1;\n"
    } else {
        ""
    };
    format!(
        "pid /run/labsh-pod-nginx.pid;\nerror_log /var/log/labsh-pod/error.log;\nevents {{}}\nhttp {{\n    access_log {ACCESS_LOG} combined;\n    server {{\n        listen 80;\n        root /var/www/html;\n        index index.nginx-debian.html;\n{rate}    }}\n}}\n"
    )
}

/// Creates the frontend pod on the node at `index`: its namespace, its `lxc` veth, its address
/// and routes, and its nginx; waits until it accepts connections.
pub async fn run_pod(docker: &Docker, nodes: &[NodeInfo], index: usize) -> Result<Pod, String> {
    let node = &nodes[index];
    let ip = pod_ip(index);
    let name = node.name.as_str();
    let steps: Vec<Vec<String>> = vec![
        vec!["ip", "netns", "add", POD_NETNS],
        vec![
            "ip", "link", "add", POD_VETH, "type", "veth", "peer", "name", "eth0", "netns",
            POD_NETNS,
        ],
        vec!["ip", "link", "set", POD_VETH, "up"],
        vec!["ip", "-n", POD_NETNS, "link", "set", "lo", "up"],
        vec!["ip", "-n", POD_NETNS, "link", "set", "eth0", "up"],
        vec![
            "ip",
            "-n",
            POD_NETNS,
            "addr",
            "add",
            &format!("{ip}/32"),
            "dev",
            "eth0",
        ],
        vec![
            "ip",
            "-n",
            POD_NETNS,
            "route",
            "add",
            POD_GATEWAY,
            "dev",
            "eth0",
            "scope",
            "link",
        ],
        vec![
            "ip",
            "-n",
            POD_NETNS,
            "route",
            "add",
            "default",
            "via",
            POD_GATEWAY,
            "dev",
            "eth0",
        ],
        vec![
            "ip",
            "route",
            "add",
            &format!("{ip}/32"),
            "dev",
            POD_VETH,
            "scope",
            "link",
        ],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(str::to_string).collect())
    .collect();
    for argv in &steps {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        exec(docker, name, &argv).await?;
    }
    let mac = exec(
        docker,
        name,
        &["cat", &format!("/sys/class/net/{POD_VETH}/address")],
    )
    .await?;
    exec(
        docker,
        name,
        &[
            "ip",
            "-n",
            POD_NETNS,
            "neigh",
            "add",
            POD_GATEWAY,
            "lladdr",
            mac.trim(),
            "dev",
            "eth0",
            "nud",
            "permanent",
        ],
    )
    .await?;
    write_file(docker, name, POD_NGINX_CONF, &pod_nginx_config(false)).await?;
    exec(docker, name, &["mkdir", "-p", "/var/log/labsh-pod"]).await?;
    exec(
        docker,
        name,
        &[
            "ip",
            "netns",
            "exec",
            POD_NETNS,
            "nginx",
            "-c",
            POD_NGINX_CONF,
        ],
    )
    .await?;
    let pod = Pod {
        ip,
        node: node.clone(),
    };
    // The pod answers once nginx listens in its namespace (asked from the node itself).
    let deadline = Instant::now() + Duration::from_secs(10);
    let probe = format!("exec 3<>/dev/tcp/{}/80", pod.ip);
    while exec(docker, name, &["bash", "-c", &probe]).await.is_err() {
        if Instant::now() > deadline {
            return Err(format!(
                "the frontend pod {} on {name} does not accept connections",
                pod.ip
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(pod)
}

/// The DSCP value that says "node `index` was called".
fn dscp(index: usize) -> usize {
    index + 1
}

/// The nftables ruleset of node `me` (an index into `nodes`) for `mode`: the whole of both
/// tables, replacing what was there (`table …; delete table …; table … { … }` is one atomic
/// transaction).
pub fn ruleset(mode: Mode, nodes: &[NodeInfo], me: usize, pod: &Pod, node_port: i64) -> String {
    let node = &nodes[me];
    let (ip, p) = (node.ip.as_str(), pod.ip.as_str());
    let on_pod_node = node.name == pod.node.name;
    let mut out = String::new();
    for t in TABLES {
        out.push_str(&format!("table {t}\ndelete table {t}\n"));
    }
    let (mut raw, mut nat, mut post, mut ingress) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for proto in ["tcp", "udp"] {
        if !mode.dsr_for(proto) || on_pod_node {
            // Conntrack DNAT for a client calling this node's NodePort (snat, or a local pod).
            nat.push(format!(
                "ip daddr {ip} {proto} dport {node_port} dnat to {p}:80"
            ));
        }
        if !mode.dsr_for(proto) {
            // snat: masquerade what this node forwards to another node's pod.
            if !on_pod_node {
                post.push(format!(
                    "oifname \"eth0\" ct status dnat ip daddr {p} {proto} dport 80 masquerade"
                ));
            }
            continue;
        }
        if on_pod_node {
            // Restore what the client called, then conntrack DNATs it to the pod.
            for (i, other) in nodes.iter().enumerate() {
                if i == me {
                    continue;
                }
                ingress.push(format!(
                    "ip daddr {p} {proto} dport 80 ip dscp {} ip daddr set {} {proto} dport set {node_port} ip dscp set 0",
                    dscp(i),
                    other.ip
                ));
                nat.push(format!(
                    "ip daddr {} {proto} dport {node_port} dnat to {p}:80",
                    other.ip
                ));
            }
        } else {
            // Stateless: rewrite to the pod, keep the client's source, say who was called.
            ingress.push(format!(
                "ip daddr {ip} {proto} dport {node_port} ip daddr set {p} {proto} dport set 80 ip dscp set {}",
                dscp(me)
            ));
            raw.push(format!(
                "iifname \"eth0\" ip daddr {p} {proto} dport 80 ip dscp {} notrack",
                dscp(me)
            ));
        }
    }
    out.push_str("table ip labsh_lb {\n");
    out.push_str(
        "    chain raw {\n        type filter hook prerouting priority raw; policy accept;\n",
    );
    for r in &raw {
        out.push_str(&format!("        {r}\n"));
    }
    out.push_str("    }\n");
    out.push_str(
        "    chain prerouting {\n        type nat hook prerouting priority dstnat; policy accept;\n",
    );
    for r in &nat {
        out.push_str(&format!("        {r}\n"));
    }
    out.push_str("    }\n");
    out.push_str(
        "    chain postrouting {\n        type nat hook postrouting priority srcnat; policy accept;\n",
    );
    for r in &post {
        out.push_str(&format!("        {r}\n"));
    }
    out.push_str("    }\n}\n");
    out.push_str("table netdev labsh_dsr {\n    chain ingress {\n        type filter hook ingress device \"eth0\" priority -500; policy accept;\n");
    for r in &ingress {
        out.push_str(&format!("        {r}\n"));
    }
    out.push_str("    }\n}\n");
    out
}

/// Programs `mode` for `pod`'s NodePort on every node (each node's tables replaced at once,
/// the nodes concurrently), then waits until every node's NodePort answers.
pub async fn program(
    docker: &Docker,
    nodes: &[NodeInfo],
    pod: &Pod,
    node_port: i64,
    mode: Mode,
) -> Result<(), String> {
    let per_node = nodes.iter().enumerate().map(|(i, n)| async move {
        let rules = ruleset(mode, nodes, i, pod, node_port);
        write_file(docker, &n.name, "/run/labsh-lb.nft", &rules).await?;
        exec(docker, &n.name, &["nft", "-f", "/run/labsh-lb.nft"]).await?;
        Ok::<(), String>(())
    });
    futures::future::join_all(per_node)
        .await
        .into_iter()
        .collect::<Result<(), String>>()?;
    let deadline = Instant::now() + Duration::from_secs(15);
    for n in nodes {
        while tokio::net::TcpStream::connect((n.ip.as_str(), node_port as u16))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                return Err(format!(
                    "{} does not accept connections on {}:{node_port} in {} mode",
                    n.name,
                    n.ip,
                    mode.as_str()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

/// The datapath's nft tables present in `node` (`"ip labsh_lb"`…).
pub async fn tables(docker: &Docker, node: &str) -> Result<Vec<String>, String> {
    let text = exec(docker, node, &["nft", "list", "tables"]).await?;
    Ok(text
        .lines()
        .filter_map(|l| l.strip_prefix("table "))
        .filter(|t| TABLES.contains(t))
        .map(str::to_string)
        .collect())
}

/// Removes what the datapath programmed and created: the nft tables on every node, and the
/// pod (its nginx, veth and namespace).
pub async fn remove(docker: &Docker, nodes: &[NodeInfo], pod: Option<&Pod>) -> Result<(), String> {
    for n in nodes {
        for t in tables(docker, &n.name).await? {
            let argv: Vec<&str> = ["nft", "delete", "table"]
                .into_iter()
                .chain(t.split(' '))
                .collect();
            exec(docker, &n.name, &argv).await?;
        }
    }
    if let Some(pod) = pod {
        let name = pod.node.name.as_str();
        exec(docker, name, &["nginx", "-c", POD_NGINX_CONF, "-s", "quit"]).await?;
        exec(docker, name, &["ip", "link", "del", POD_VETH]).await?;
        exec(docker, name, &["ip", "netns", "del", POD_NETNS]).await?;
    }
    Ok(())
}

/// What is left of the datapath in `node`: its nft tables, the pod's namespace and veth, and
/// any nginx started in the pod (one line each; empty when nothing).
pub async fn leftovers(docker: &Docker, node: &str) -> Result<Vec<String>, String> {
    let mut left: Vec<String> = tables(docker, node)
        .await?
        .into_iter()
        .map(|t| format!("nft table {t}"))
        .collect();
    let netns = exec(docker, node, &["ip", "netns", "list"]).await?;
    left.extend(
        netns
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(POD_NETNS))
            .map(|l| format!("netns {l}")),
    );
    let links = exec(docker, node, &["ip", "-o", "link", "show"]).await?;
    left.extend(
        links
            .lines()
            .filter(|l| l.contains(POD_VETH))
            .map(|_| format!("veth {POD_VETH}")),
    );
    let ps = exec(docker, node, &["ps", "-eo", "args"]).await?;
    left.extend(
        ps.lines()
            .filter(|l| l.contains(POD_NGINX_CONF))
            .map(|l| format!("process {l}")),
    );
    Ok(left)
}

/// Makes the pod's nginx send its page at one byte a second (`limit_rate`): a request to the
/// NodePort then stays open for minutes.
pub async fn stall_pod(docker: &Docker, pod: &Pod) -> Result<(), String> {
    let node = pod.node.name.as_str();
    write_file(docker, node, POD_NGINX_CONF, &pod_nginx_config(true)).await?;
    exec(
        docker,
        node,
        &["nginx", "-c", POD_NGINX_CONF, "-s", "reload"],
    )
    .await?;
    // The reload is done when the old workers are gone; give it a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(())
}

/// Makes the pod drop the first SYN of every new connection (or stop doing so), with an nft
/// table in the pod's own namespace: the client retransmits that SYN a second later, and the
/// capture on the node's veth (outside the pod) sees both.
pub async fn drop_first_syns(docker: &Docker, pod: &Pod, on: bool) -> Result<(), String> {
    let node = pod.node.name.as_str();
    let ns = ["ip", "netns", "exec", POD_NETNS, "nft"];
    if !on {
        let argv: Vec<&str> = ns
            .into_iter()
            .chain(["delete", "table", "ip", "labsh_first_syn"])
            .collect();
        return exec(docker, node, &argv).await.map(|_| ());
    }
    let rules = "table ip labsh_first_syn {\n    set seen {\n        type ipv4_addr . inet_service\n        flags dynamic, timeout\n        timeout 1m\n    }\n    chain input {\n        type filter hook input priority 0; policy accept;\n        tcp flags & (syn | ack) == syn ip saddr . tcp sport @seen accept\n        tcp flags & (syn | ack) == syn add @seen { ip saddr . tcp sport } drop\n    }\n}\n";
    write_file(docker, node, "/run/labsh-first-syn.nft", rules).await?;
    let argv: Vec<&str> = ns
        .into_iter()
        .chain(["-f", "/run/labsh-first-syn.nft"])
        .collect();
    exec(docker, node, &argv).await.map(|_| ())
}

/// The host-side veth of `node`'s `eth0` (where the lab captures).
pub async fn host_veth(docker: &Docker, node: &str) -> Result<String, String> {
    labsh::docker::veth::host_veth(docker, node, &CancellationToken::new())
        .await
        .map_err(|e| format!("{node}: host veth: {e}"))
}

/// The lines of the pod's access log.
pub async fn access_log(docker: &Docker, pod: &Pod) -> Result<Vec<String>, String> {
    let text = exec(docker, &pod.node.name, &["cat", ACCESS_LOG]).await?;
    Ok(text.lines().map(str::to_string).collect())
}
