//! Helm, driven through its real CLI: `helm upgrade --install` with values files (and a values
//! file labsh writes from a script's map instead of `--set`), `helm status`/`list` as JSON,
//! `helm uninstall`, `helm version`. Every call has a timeout and `--explain` prints it first.
//!
//! Helm talks to the kubeconfig's current context. When a script selected another one
//! (`cluster::get`, `kube::use_context`), labsh adds `--kube-context` so Helm installs into
//! the cluster the script works on; after `cluster::create` kind has made its context the
//! current one and the command stays exactly what a trainee would type.

use std::path::{Path, PathBuf};

use std::time::Duration;

use crate::context::Ctx;
use crate::errors::{Error, Result};
use crate::process::Spec;
use crate::tool::{self, Progress};

pub mod release;
pub mod upgrade;
pub mod values;
pub mod version;

/// How long `helm upgrade --install` may take unless the script says otherwise.
pub const INSTALL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// How long other helm commands may take unless the script says otherwise.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Extra time labsh gives helm beyond its own `--timeout`, so helm reports its timeout itself.
pub const TIMEOUT_MARGIN: Duration = Duration::from_secs(30);

/// `--kube-context` (and `--kubeconfig`) when the selected context is not the one helm
/// would use by itself (the first `current-context` set in the kubeconfig files it merges).
pub fn kube_context_args(ctx: &Ctx) -> Vec<String> {
    context_args(
        &crate::selection::current(ctx),
        &crate::kind::kubeconfig_files(),
    )
}

/// [`kube_context_args`] for a selection and the kubeconfig files helm loads by itself.
pub fn context_args(selection: &crate::selection::Selection, files: &[PathBuf]) -> Vec<String> {
    let Some(context) = selection.context.clone() else {
        return Vec::new();
    };
    let loaded_anyway = selection
        .kubeconfig
        .as_ref()
        .is_none_or(|k| files.contains(k));
    let helms_own = files.iter().find_map(|f| current_context(f));
    if loaded_anyway && helms_own.as_deref() == Some(context.as_str()) {
        return Vec::new();
    }
    let mut args = vec!["--kube-context".to_string(), context];
    if let Some(k) = selection.kubeconfig.as_ref().filter(|_| !loaded_anyway) {
        args.extend(["--kubeconfig".into(), k.display().to_string()]);
    }
    args
}

/// The `current-context` of a kubeconfig file, if it can be read.
pub fn current_context(kubeconfig: &Path) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Kubeconfig {
        #[serde(rename = "current-context", default)]
        current_context: Option<String>,
    }
    let text = std::fs::read_to_string(kubeconfig).ok()?;
    serde_saphyr::from_str::<Kubeconfig>(&text)
        .ok()?
        .current_context
        .filter(|c| !c.is_empty())
}

/// Runs a helm command (with a spinner when `spinner` is given), failing on a non-zero exit.
pub fn run(ctx: &Ctx, spec: &Spec, spinner: Option<String>) -> Result<String> {
    let out = tool::run(ctx, spec, spinner.map(Progress::spinner)).and_then(|c| c.check(spec))?;
    Ok(out.stdout)
}

/// Runs a helm command that prints JSON (`-o json`) and parses it.
pub fn run_json(ctx: &Ctx, spec: &Spec) -> Result<serde_json::Value> {
    let stdout = run(ctx, spec, None)?;
    if stdout.trim().is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_str(&stdout).map_err(|e| {
        Error::msg(format!(
            "`{}` printed something that is not JSON ({e}): {}",
            spec.command_line(),
            crate::process::tail_lines(&stdout, 5)
        ))
    })
}

/// `--namespace NS` when a namespace is given.
pub fn namespace_args(namespace: Option<&str>) -> Vec<String> {
    namespace
        .map(|ns| vec!["--namespace".to_string(), ns.to_string()])
        .unwrap_or_default()
}

/// A path from a script, resolved against its folder and required to exist.
pub fn existing_file(ctx: &Ctx, func: &str, what: &str, path: &str) -> Result<PathBuf> {
    let resolved = ctx.resolve_path(path);
    if resolved.is_file() {
        Ok(resolved)
    } else {
        Err(Error::msg(format!(
            "{func}: {what} `{path}` not found (looked for {})",
            resolved.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selection::Selection;

    #[test]
    fn helm_gets_a_context_only_when_it_would_pick_another() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "kind: Config\n").unwrap();
        std::fs::write(&b, "kind: Config\ncurrent-context: kind-lab\n").unwrap();
        let files = [a.clone(), b.clone()];
        let select = |context: Option<&str>, kubeconfig: Option<&Path>| Selection {
            context: context.map(String::from),
            kubeconfig: kubeconfig.map(Path::to_path_buf),
            generation: 1,
        };
        let none: Vec<String> = Vec::new();
        assert_eq!(context_args(&select(None, None), &files), none);
        assert_eq!(
            context_args(&select(Some("kind-lab"), Some(&a)), &files),
            none
        );
        assert_eq!(
            context_args(&select(Some("kind-other"), Some(&b)), &files),
            ["--kube-context", "kind-other"]
        );
        let elsewhere = dir.path().join("elsewhere");
        assert_eq!(
            context_args(&select(Some("kind-lab"), Some(&elsewhere)), &files),
            [
                "--kube-context".to_string(),
                "kind-lab".into(),
                "--kubeconfig".into(),
                elsewhere.display().to_string()
            ]
        );
    }

    #[test]
    fn current_context_is_read_from_the_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("config");
        std::fs::write(
            &kc,
            "apiVersion: v1\nkind: Config\ncontexts:\n- name: kind-lab\n  context: {cluster: kind-lab, user: kind-lab}\ncurrent-context: kind-lab\n",
        )
        .unwrap();
        assert_eq!(current_context(&kc).as_deref(), Some("kind-lab"));
        assert_eq!(current_context(&dir.path().join("missing")), None);
    }
}
