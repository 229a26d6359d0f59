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

/// `helm list -o json`: one map per release (`name`, `namespace`, `status`, `chart`, …).
pub fn list(ctx: &Ctx, scope: &ListScope, timeout: Duration) -> Result<Vec<serde_json::Value>> {
    let mut argv = list_argv(scope).map_err(Error::Message)?;
    argv.extend(super::kube_context_args(ctx));
    let spec = Spec::new(argv).timeout(timeout);
    match super::run_json(ctx, &spec)? {
        serde_json::Value::Null => Ok(Vec::new()),
        serde_json::Value::Array(releases) => Ok(releases),
        other => Err(Error::msg(format!(
            "`{}` printed JSON that is not a list ({})",
            spec.command_line(),
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
}
