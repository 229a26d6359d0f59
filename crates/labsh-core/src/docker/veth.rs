//! The host-side end of a node container's `eth0`: inside the container,
//! `/sys/class/net/eth0/iflink` is the ifindex of its veth peer; on the host, the interface
//! whose `ifindex` equals it is that peer (what `ip link` shows as `eth0@ifN`, reversed).

use std::path::Path;

use bollard::Docker;
use tokio_util::sync::CancellationToken;

use super::client::DockerError;
use super::exec::{self, ExecError};

/// The interface in `sys_class_net` (normally `/sys/class/net`) whose ifindex is `ifindex`.
pub fn interface_with_index(sys_class_net: &Path, ifindex: u32) -> std::io::Result<Option<String>> {
    for entry in std::fs::read_dir(sys_class_net)? {
        let entry = entry?;
        let Ok(text) = std::fs::read_to_string(entry.path().join("ifindex")) else {
            continue;
        };
        if text.trim().parse::<u32>().ok() == Some(ifindex) {
            return Ok(Some(entry.file_name().to_string_lossy().into_owned()));
        }
    }
    Ok(None)
}

/// The host-side veth of `container`'s `eth0`.
pub async fn host_veth(
    docker: &Docker,
    container: &str,
    cancel: &CancellationToken,
) -> Result<String, ExecError> {
    let argv = vec!["cat".to_string(), "/sys/class/net/eth0/iflink".to_string()];
    let out = exec::run(
        docker,
        container,
        &argv,
        Some(std::time::Duration::from_secs(20)),
        cancel,
        exec::SMALL_OUTPUT,
    )
    .await?;
    let iflink: u32 = out.stdout.trim().parse().map_err(|_| {
        DockerError::Other(format!(
            "{container}: cannot read /sys/class/net/eth0/iflink in the container (exit {}, {:?}{})",
            out.code,
            out.stdout.trim(),
            if out.stderr.trim().is_empty() {
                String::new()
            } else {
                format!(", {}", out.stderr.trim())
            }
        ))
    })?;
    let sys = Path::new("/sys/class/net");
    match interface_with_index(sys, iflink) {
        Ok(Some(name)) => Ok(name),
        Ok(None) => Err(DockerError::Other(format!(
            "{container}: its eth0 is paired with ifindex {iflink}, but no interface on this host has that index; is the Docker engine on another machine or in a VM (DOCKER_HOST={})?",
            super::client::docker_host()
        ))
        .into()),
        Err(e) => Err(DockerError::Other(format!("reading /sys/class/net: {e}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_has_its_index() {
        let idx: u32 = std::fs::read_to_string("/sys/class/net/lo/ifindex")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(
            interface_with_index(Path::new("/sys/class/net"), idx).unwrap(),
            Some("lo".to_string())
        );
        assert_eq!(
            interface_with_index(Path::new("/sys/class/net"), u32::MAX).unwrap(),
            None
        );
    }
}
