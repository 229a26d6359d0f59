//! A node container's network namespace, entered with this host's programs.
//!
//! kind's node images and Cilium's agent image ship no tcpdump, so a capture "in the node"
//! runs this host's tcpdump (and a pod's interface lookup this host's `ip`) in the node
//! container's network namespace:
//! `nsenter --net=/proc/PID/ns/net tcpdump …`, where PID is the container's init process
//! (from the Docker API). nsenter enters the namespace and execs tcpdump, so the process labsh
//! signals and kills is tcpdump itself. The network namespace is all it enters: the host's
//! tcpdump binary, libraries and filesystem stay the host's.

use std::path::{Path, PathBuf};

use bollard::Docker;

use super::client::DockerError;

/// The network namespace file of a container's init process, checked to exist here.
pub async fn container_netns(docker: &Docker, container: &str) -> Result<PathBuf, DockerError> {
    let info = docker
        .inspect_container(container, None)
        .await
        .map_err(|e| DockerError::Api {
            what: format!("inspecting container {container}"),
            source: e,
        })?;
    let pid = info
        .state
        .and_then(|s| s.pid)
        .filter(|&p| p > 0)
        .ok_or_else(|| {
            DockerError::Other(format!(
                "container {container} is not running (no pid): start it first"
            ))
        })?;
    netns_of_pid(Path::new("/proc"), pid)
}

/// `/proc/PID/ns/net`, or why it is not usable from here.
pub fn netns_of_pid(proc_root: &Path, pid: i64) -> Result<PathBuf, DockerError> {
    let path = proc_root.join(pid.to_string()).join("ns").join("net");
    if path.exists() {
        Ok(path)
    } else {
        Err(DockerError::Other(format!(
            "the container's process {pid} has no {}: is the Docker engine on another machine or in a VM (DOCKER_HOST={})? Node-side captures need the engine on this host",
            path.display(),
            crate::docker::client::docker_host()
        )))
    }
}

/// `nsenter --net=NETNS` followed by `argv`.
pub fn nsenter_argv(netns: &Path, argv: &[String]) -> Vec<String> {
    let mut a = vec!["nsenter".to_string(), format!("--net={}", netns.display())];
    a.extend(argv.iter().cloned());
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nsenter_prefixes_the_tcpdump_argv() {
        let a = nsenter_argv(
            Path::new("/proc/42/ns/net"),
            &["tcpdump".to_string(), "-i".to_string(), "eth0".to_string()],
        );
        assert_eq!(
            a,
            ["nsenter", "--net=/proc/42/ns/net", "tcpdump", "-i", "eth0"]
        );
    }

    #[test]
    fn a_pid_not_on_this_host_is_explained() {
        let own = netns_of_pid(Path::new("/proc"), std::process::id() as i64).unwrap();
        assert!(own.ends_with("ns/net"));
        let dir = tempfile::tempdir().unwrap();
        let err = netns_of_pid(dir.path(), 12345).unwrap_err().to_string();
        assert!(err.contains("process 12345 has no"), "{err}");
        assert!(err.contains("DOCKER_HOST="), "{err}");
    }
}
