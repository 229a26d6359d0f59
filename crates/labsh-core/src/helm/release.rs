//! `helm status`, `helm list` (both as JSON) and `helm uninstall`.

use std::time::Duration;

use crate::context::Ctx;
use crate::errors::{Error, Result};
use crate::process::Spec;

/// `helm status RELEASE [--namespace NS] -o json`: the release as helm describes it
/// (`info.status`, `chart.metadata.version`, `config`, …).
pub fn status(
    ctx: &Ctx,
    release: &str,
    namespace: Option<&str>,
    timeout: Duration,
) -> Result<serde_json::Value> {
    let mut argv = vec!["helm".to_string(), "status".into(), release.into()];
    argv.extend(super::namespace_args(namespace));
    argv.extend(["-o".into(), "json".into()]);
    argv.extend(super::kube_context_args(ctx));
    super::run_json(ctx, &Spec::new(argv).timeout(timeout))
}

/// Which releases `helm::list` shows.
#[derive(Debug, Clone, Default)]
pub struct ListScope {
    /// `--namespace NS`.
    pub namespace: Option<String>,
    /// `--all-namespaces`.
    pub all_namespaces: bool,
}

/// The argument vector of `helm list`.
pub fn list_argv(scope: &ListScope) -> Result<Vec<String>, String> {
    if scope.all_namespaces && scope.namespace.is_some() {
        return Err(
            "helm::list: give either `namespace` or `all_namespaces: true`, not both".into(),
        );
    }
    let mut argv = vec!["helm".to_string(), "list".into()];
    argv.extend(super::namespace_args(scope.namespace.as_deref()));
    if scope.all_namespaces {
        argv.push("--all-namespaces".into());
    }
    argv.extend(["-o".into(), "json".into()]);
    Ok(argv)
}

/// One release as `helm list -o json` prints it (Helm 3's fields, names kept).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Release {
    /// `cilium`.
    pub name: String,
    /// `kube-system`.
    pub namespace: String,
    /// The revision, as helm prints it: a string (`"2"`).
    pub revision: String,
    /// When it was last deployed, as helm prints it (`2022-09-14 20:30:00.123 +0000 UTC`).
    pub updated: String,
    /// `deployed`, `failed`, `pending-upgrade`, …
    pub status: String,
    /// The chart and its version: `cilium-1.12.1`.
    pub chart: String,
    /// The chart's application version: `1.12.1`.
    #[serde(default)]
    pub app_version: String,
}

/// `helm list -o json`: one [`Release`] per release.
pub fn list(ctx: &Ctx, scope: &ListScope, timeout: Duration) -> Result<Vec<Release>> {
    let mut argv = list_argv(scope).map_err(Error::Message)?;
    argv.extend(super::kube_context_args(ctx));
    let spec = Spec::new(argv).timeout(timeout);
    releases(&spec.command_line(), super::run_json(ctx, &spec)?)
}

/// The releases of `helm list`'s JSON (`null`: none).
fn releases(command: &str, json: serde_json::Value) -> Result<Vec<Release>> {
    match json {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Array(_) => serde_json::from_value(json).map_err(|e| {
            Error::msg(format!(
                "`{command}` printed releases labsh cannot read: {e}"
            ))
        }),
        other => Err(Error::msg(format!(
            "`{command}` printed JSON that is not a list ({})",
            match other {
                serde_json::Value::Object(_) => "an object",
                serde_json::Value::String(_) => "a string",
                _ => "a scalar",
            }
        ))),
    }
}

/// `helm uninstall RELEASE [--namespace NS]`.
pub fn uninstall(
    ctx: &Ctx,
    release: &str,
    namespace: Option<&str>,
    timeout: Duration,
) -> Result<()> {
    let mut argv = vec!["helm".to_string(), "uninstall".into(), release.into()];
    argv.extend(super::namespace_args(namespace));
    argv.extend(super::kube_context_args(ctx));
    let spec = Spec::new(argv).timeout(timeout);
    super::run(ctx, &spec, Some(format!("helm uninstall {release}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_scopes_give_helms_flags() {
        let join = |s: &ListScope| crate::shell::join(&list_argv(s).unwrap());
        assert_eq!(join(&ListScope::default()), "helm list -o json");
        assert_eq!(
            join(&ListScope {
                namespace: Some("kube-system".into()),
                all_namespaces: false
            }),
            "helm list --namespace kube-system -o json"
        );
        assert_eq!(
            join(&ListScope {
                namespace: None,
                all_namespaces: true
            }),
            "helm list --all-namespaces -o json"
        );
        assert!(
            list_argv(&ListScope {
                namespace: Some("a".into()),
                all_namespaces: true
            })
            .is_err()
        );
    }

    #[test]
    fn helm_lists_json_gives_typed_releases_and_null_none() {
        let json = serde_json::json!([{"name": "cilium", "namespace": "kube-system", "revision": "2",
            "updated": "2022-09-14 20:30:00.123456789 +0000 UTC", "status": "deployed",
            "chart": "cilium-1.12.1", "app_version": "1.12.1"}]);
        let r = releases("helm list -o json", json).unwrap();
        assert_eq!(
            (
                r[0].name.as_str(),
                r[0].revision.as_str(),
                r[0].chart.as_str()
            ),
            ("cilium", "2", "cilium-1.12.1")
        );
        assert_eq!(releases("helm list", serde_json::Value::Null).unwrap(), []);
        let err = releases("helm list -o json", serde_json::json!([{"name": 1}])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`helm list -o json` printed releases labsh cannot read: "),
            "{err}"
        );
        let err = releases("helm list -o json", serde_json::json!({})).unwrap_err();
        assert!(
            err.to_string().ends_with("is not a list (an object)"),
            "{err}"
        );
    }
}
