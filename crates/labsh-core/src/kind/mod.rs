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

/// The kubeconfig kind writes the cluster's context to, by kind's own rule (its
/// `pathForMerge`): with several `KUBECONFIG` entries, the first that exists, else the last;
/// with one, that one; without `KUBECONFIG`, `~/.kube/config`.
pub fn kubeconfig_path() -> PathBuf {
    kubeconfig_path_from(
        std::env::var_os("KUBECONFIG"),
        std::env::var_os("HOME").map(PathBuf::from),
        |p| p.is_file(),
    )
}

/// The kubeconfig files kubectl and helm load and merge: `KUBECONFIG`'s entries (empty ones
/// and repeats dropped), else `~/.kube/config`.
pub fn kubeconfig_files() -> Vec<PathBuf> {
    kubeconfig_files_from(
        std::env::var_os("KUBECONFIG"),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn kubeconfig_files_from(
    kubeconfig: Option<std::ffi::OsString>,
    home: Option<PathBuf>,
) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = Vec::new();
    for p in kubeconfig.iter().flat_map(std::env::split_paths) {
        if !p.as_os_str().is_empty() && !entries.contains(&p) {
            entries.push(p);
        }
    }
    if entries.is_empty() {
        entries.push(
            home.unwrap_or_else(|| PathBuf::from("/root"))
                .join(".kube")
                .join("config"),
        );
    }
    entries
}

fn kubeconfig_path_from(
    kubeconfig: Option<std::ffi::OsString>,
    home: Option<PathBuf>,
    exists: impl Fn(&std::path::Path) -> bool,
) -> PathBuf {
    let mut files = kubeconfig_files_from(kubeconfig, home);
    if files.len() == 1 {
        return files.remove(0);
    }
    files
        .iter()
        .find(|p| exists(p))
        .cloned()
        .unwrap_or_else(|| files[files.len() - 1].clone())
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

/// Checks a node image reference before kind sees it: not empty, no whitespace, and not
/// something kind would take for a flag. Returns it trimmed.
pub fn validate_image(func: &str, image: &str) -> Result<String, String> {
    let image = image.trim();
    if image.is_empty() || image.starts_with('-') || image.chars().any(char::is_whitespace) {
        return Err(format!(
            "{func}: invalid node image {image:?}: expected an image reference like kindest/node:v1.24.17@sha256:bad10f9b…"
        ));
    }
    Ok(image.to_string())
}

/// The nodes of kind cluster `cluster` (Docker containers), control-plane first, then by
/// name.
pub fn cluster_nodes(
    ctx: &crate::Ctx,
    cluster: &str,
) -> crate::errors::Result<Vec<crate::docker::Node>> {
    Ok(ctx.block_on(async {
        let docker = crate::docker::client::client(ctx).await?;
        crate::docker::nodes::discover(&docker, cluster).await
    })??)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_follows_kinds_merge_rule() {
        let home = || Some(PathBuf::from("/home/u"));
        let none = |_: &std::path::Path| false;
        assert_eq!(
            kubeconfig_path_from(None, home(), none),
            PathBuf::from("/home/u/.kube/config")
        );
        assert_eq!(
            kubeconfig_path_from(Some("".into()), home(), none),
            PathBuf::from("/home/u/.kube/config")
        );
        assert_eq!(
            kubeconfig_path_from(Some(":/a/one:".into()), home(), none),
            PathBuf::from("/a/one")
        );
        // Several entries: the first that exists, else the last.
        assert_eq!(
            kubeconfig_path_from(Some("/a/one:/b/two:/c/three".into()), home(), |p| {
                p == std::path::Path::new("/b/two")
            }),
            PathBuf::from("/b/two")
        );
        assert_eq!(
            kubeconfig_path_from(Some("/a/one:/b/two".into()), home(), none),
            PathBuf::from("/b/two")
        );
    }

    #[test]
    fn node_images_that_kind_would_misread_are_refused() {
        assert_eq!(
            validate_image("cluster::create", " kindest/node:v1.24.17@sha256:bad1 ").unwrap(),
            "kindest/node:v1.24.17@sha256:bad1"
        );
        for bad in ["", "  ", "--help", "kindest/node v1"] {
            let err = validate_image("cluster::create", bad).unwrap_err();
            assert!(
                err.starts_with("cluster::create: invalid node image"),
                "{err}"
            );
        }
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
