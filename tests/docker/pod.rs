//! A stand-in pod behind an `lxc…` veth in a stand-in node, the way Cilium wires pods: a
//! network namespace of this host (the pod's), a veth pair whose `lxc…` end is moved into the
//! node container's network namespace, and a /24 between them. Names are random per run;
//! dropping the guard deletes the namespace, which takes the veth pair with it.

use std::process::Command;

use super::cluster::random_suffix;

/// The stand-in pod; removed when dropped.
pub struct StandInPod {
    /// The pod's network namespace (`ip netns` name).
    pub netns: String,
    /// The node-side interface, `lxc<random>`.
    pub lxc: String,
    /// The pod's address.
    pub ip: String,
    /// The node-side address on the link.
    pub node_side_ip: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl StandInPod {
    /// Wires a pod into the network namespace of the node whose init process is `node_pid`.
    pub fn create(node_pid: i64) -> Result<StandInPod, String> {
        let s = random_suffix();
        let pod = StandInPod {
            netns: format!("lp-{s}"),
            lxc: format!("lxc{s}"),
            ip: "10.244.77.5".into(),
            node_side_ip: "10.244.77.1".into(),
        };
        let peer = format!("lpe{s}");
        let pid = node_pid.to_string();
        ip(&["netns", "add", &pod.netns])?;
        // From here on, Drop cleans up.
        let result = (|| {
            ip(&[
                "link", "add", &pod.lxc, "type", "veth", "peer", "name", &peer,
            ])?;
            ip(&["link", "set", &peer, "netns", &pod.netns])?;
            ip(&["link", "set", &pod.lxc, "netns", &pid])?;
            ip(&["-n", &pod.netns, "link", "set", "lo", "up"])?;
            ip(&[
                "-n",
                &pod.netns,
                "addr",
                "add",
                "10.244.77.5/24",
                "dev",
                &peer,
            ])?;
            ip(&["-n", &pod.netns, "link", "set", &peer, "up"])?;
            let netns = format!("--net=/proc/{pid}/ns/net");
            for args in [
                vec!["addr", "add", "10.244.77.1/24", "dev", &pod.lxc],
                vec!["link", "set", &pod.lxc, "up"],
            ] {
                let out = Command::new("nsenter")
                    .arg(&netns)
                    .arg("ip")
                    .args(&args)
                    .output()
                    .map_err(|e| format!("nsenter ip {args:?}: {e}"))?;
                if !out.status.success() {
                    return Err(format!(
                        "nsenter {netns} ip {}: {}",
                        args.join(" "),
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            Ok(())
        })();
        result.map(|()| pod)
    }
}

impl Drop for StandInPod {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.netns]) {
            eprintln!("warning: removing test netns {}: {e}", self.netns);
        }
    }
}
