//! kind, driven through its real CLI: the cluster config labsh writes, the commands it runs
//! (`kind create cluster`, `kind delete cluster`, `kind get clusters`), the progress it shows
//! while kind works, and the [`Cluster`] handed to scripts.

use std::path::PathBuf;
use std::time::Duration;

pub mod cli;
pub mod cluster;
pub mod config;
pub mod progress;

pub use cluster::Cluster;

/// How long `kind create cluster` may take unless the script says otherwise.
pub const CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How long any other kind command may take unless the script says otherwise.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// How long kind waits for the control-plane to be Ready (`--wait 5m`).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5 * 60);

/// The kubeconfig kind writes to: the first entry of `KUBECONFIG`, else `~/.kube/config`.
pub fn kubeconfig_path() -> PathBuf {
    kubeconfig_path_from(
        std::env::var_os("KUBECONFIG"),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn kubeconfig_path_from(kubeconfig: Option<std::ffi::OsString>, home: Option<PathBuf>) -> PathBuf {
    if let Some(first) = kubeconfig
        .as_ref()
        .and_then(|v| std::env::split_paths(v).find(|p| !p.as_os_str().is_empty()))
    {
        return first;
    }
    home.unwrap_or_else(|| PathBuf::from("/root"))
        .join(".kube")
        .join("config")
}

/// Checks a cluster name the way kind does (lowercase letters, digits, `.` and `-`), so a
/// typo fails before kind runs and a name can never be taken for a flag.
pub fn validate_name(func: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{func}: invalid cluster name {name:?}: kind accepts lowercase letters, digits, `.` and `-`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_kubeconfigs_first_entry_else_home() {
        assert_eq!(
            kubeconfig_path_from(Some("/a/one:/b/two".into()), Some("/home/u".into())),
            PathBuf::from("/a/one")
        );
        assert_eq!(
            kubeconfig_path_from(Some(":/b/two".into()), None),
            PathBuf::from("/b/two")
        );
        assert_eq!(
            kubeconfig_path_from(Some("".into()), Some("/home/u".into())),
            PathBuf::from("/home/u/.kube/config")
        );
        assert_eq!(
            kubeconfig_path_from(None, Some("/home/u".into())),
            PathBuf::from("/home/u/.kube/config")
        );
    }

    #[test]
    fn names_kind_would_refuse_are_refused_first() {
        assert!(validate_name("cluster::create", "lab").is_ok());
        assert!(validate_name("cluster::create", "lab-2.x").is_ok());
        for bad in ["", "Lab", "--all", "a b", "a/b"] {
            let err = validate_name("cluster::create", bad).unwrap_err();
            assert!(
                err.starts_with("cluster::create: invalid cluster name"),
                "{err}"
            );
        }
    }
}
