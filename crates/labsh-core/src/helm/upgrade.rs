//! `helm upgrade --install`: the argument vector from a script's options, the values file
//! written from `set`, and the release's status afterwards.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::context::Ctx;
use crate::errors::Result;
use crate::process::Spec;

/// What `helm::upgrade_install` installs and how.
#[derive(Debug, Clone, Default)]
pub struct UpgradeInstall {
    /// The release name (`cilium`).
    pub release: String,
    /// The chart (`cilium`, a path, or `repo/chart`).
    pub chart: String,
    /// `--repo URL`.
    pub repo: Option<String>,
    /// `--version`.
    pub version: Option<String>,
    /// `--namespace`.
    pub namespace: Option<String>,
    /// `--create-namespace`.
    pub create_namespace: bool,
    /// `--values` files, in order (already resolved).
    pub values: Vec<PathBuf>,
    /// Values written to a file labsh creates, passed last.
    pub set: Option<Value>,
    /// `--wait`.
    pub wait: bool,
    /// `--timeout` (also given with `--wait`: 10m0s by default).
    pub timeout: Option<Duration>,
}

impl UpgradeInstall {
    /// The `--timeout` helm gets, if any.
    pub fn helm_timeout(&self) -> Option<Duration> {
        self.timeout.or(self.wait.then_some(super::INSTALL_TIMEOUT))
    }

    /// How long labsh lets helm run before killing it.
    pub fn process_timeout(&self) -> Duration {
        self.helm_timeout()
            .map(|t| t + super::TIMEOUT_MARGIN)
            .unwrap_or(super::INSTALL_TIMEOUT)
    }

    /// The argument vector, with `values_files` as the `--values` arguments (the script's
    /// files, then the one written from `set`) and `extra` at the end (`--kube-context`).
    /// The order follows the handout's command.
    pub fn argv(&self, values_files: &[String], extra: &[String]) -> Vec<String> {
        let mut argv: Vec<String> = vec!["helm".into(), "upgrade".into(), "--install".into()];
        argv.extend(super::namespace_args(self.namespace.as_deref()));
        if self.create_namespace {
            argv.push("--create-namespace".into());
        }
        if let Some(repo) = &self.repo {
            argv.extend(["--repo".into(), repo.clone()]);
        }
        argv.extend([self.release.clone(), self.chart.clone()]);
        if let Some(version) = &self.version {
            argv.extend(["--version".into(), version.clone()]);
        }
        for f in values_files {
            argv.extend(["--values".into(), f.clone()]);
        }
        if self.wait {
            argv.push("--wait".into());
        }
        if let Some(t) = self.helm_timeout() {
            argv.extend(["--timeout".into(), crate::tool::go_duration(t)]);
        }
        argv.extend(extra.iter().cloned());
        argv
    }
}

/// Runs `helm upgrade --install`, then returns `helm status -o json` of the release.
pub fn run(ctx: &Ctx, req: &UpgradeInstall) -> Result<Value> {
    let set_file = match &req.set {
        Some(map) => Some(super::values::write_set_file(ctx, map)?),
        None => None,
    };
    let mut files: Vec<String> = req.values.iter().map(|p| p.display().to_string()).collect();
    if let Some(f) = &set_file {
        files.push(f.path().display().to_string());
    }
    let extra = super::kube_context_args(ctx);
    let spec = Spec::new(req.argv(&files, &extra)).timeout(req.process_timeout());
    let started = std::time::Instant::now();
    super::run(
        ctx,
        &spec,
        Some(format!("helm upgrade --install {}", req.release)),
    )?;
    drop(set_file);
    let status = super::release::status(
        ctx,
        &req.release,
        req.namespace.as_deref(),
        super::CALL_TIMEOUT,
    )?;
    if !ctx.output().quiet() {
        ctx.output().eprintln(&format!(
            "release `{}` {} after {}",
            req.release,
            summary(&status),
            crate::duration::format(started.elapsed())
        ));
    }
    Ok(status)
}

/// `deployed in kube-system (cilium 1.12.1, revision 1)` from a `helm status -o json` map.
pub fn summary(status: &Value) -> String {
    let get = |path: &[&str]| -> Option<String> {
        let mut v = status;
        for key in path {
            v = v.get(*key)?;
        }
        match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    };
    let mut out = get(&["info", "status"]).unwrap_or_else(|| "installed".into());
    if let Some(ns) = get(&["namespace"]) {
        out.push_str(&format!(" in {ns}"));
    }
    let chart = [
        get(&["chart", "metadata", "name"]),
        get(&["chart", "metadata", "version"]),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let revision = get(&["version"]).map(|r| format!("revision {r}"));
    let details: Vec<String> = [(!chart.is_empty()).then_some(chart), revision]
        .into_iter()
        .flatten()
        .collect();
    if !details.is_empty() {
        out.push_str(&format!(" ({})", details.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handouts_cilium_install_is_built_word_for_word() {
        let req = UpgradeInstall {
            release: "cilium".into(),
            chart: "cilium".into(),
            repo: Some("https://helm.cilium.io".into()),
            version: Some("1.12.1".into()),
            namespace: Some("kube-system".into()),
            ..UpgradeInstall::default()
        };
        assert_eq!(
            crate::shell::join(&req.argv(&["ebpf-values.yaml".into()], &[])),
            "helm upgrade --install --namespace kube-system --repo https://helm.cilium.io cilium cilium --version 1.12.1 --values ebpf-values.yaml"
        );
        assert_eq!(req.process_timeout(), Duration::from_secs(600));
    }

    #[test]
    fn summary_reads_helms_status() {
        let status: Value = serde_json::from_str(
            r#"{"name":"cilium","info":{"status":"deployed"},"chart":{"metadata":{"name":"cilium","version":"1.12.1"}},"version":2,"namespace":"kube-system"}"#,
        )
        .unwrap();
        assert_eq!(
            summary(&status),
            "deployed in kube-system (cilium 1.12.1, revision 2)"
        );
        assert_eq!(summary(&Value::Null), "installed");
    }

    #[test]
    fn wait_adds_helms_timeout_and_labsh_waits_a_little_longer() {
        let req = UpgradeInstall {
            release: "web".into(),
            chart: "./chart".into(),
            create_namespace: true,
            namespace: Some("apps".into()),
            wait: true,
            ..UpgradeInstall::default()
        };
        assert_eq!(
            crate::shell::join(&req.argv(&[], &[])),
            "helm upgrade --install --namespace apps --create-namespace web ./chart --wait --timeout 10m0s"
        );
        assert_eq!(req.process_timeout(), Duration::from_secs(630));
    }
}
