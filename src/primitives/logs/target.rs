//! What `logs::tail`, `since`, `follow` and `start` share: reading the target argument,
//! the `kubectl logs` line `--explain` prints, and a line as scripts get it.

use rhai::{Dynamic, ImmutableString, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::logs::LogSource;
use crate::kube::typed::Pod;
use crate::primitives::api_server::ns_flag;

/// The target as text (`deployment/frontend`, a pod name) and its namespace.
pub(crate) fn target_of(
    func: &str,
    t: &Dynamic,
    namespace: Option<String>,
) -> ScriptResult<(String, Option<String>)> {
    if let Some(p) = t.read_lock::<Pod>() {
        return Ok((
            p.name.clone(),
            Some(namespace.unwrap_or_else(|| p.namespace.clone())),
        ));
    }
    if let Some(s) = t.read_lock::<ImmutableString>() {
        return Ok((s.to_string(), namespace));
    }
    Err(error(format!(
        "{func}: expected a pod name, a Pod or `deployment/NAME`, got {} `{t}`",
        t.type_name()
    )))
}

pub(crate) fn explain_logs(
    ctx: &Ctx,
    target: &str,
    ns: &Option<String>,
    container: &Option<String>,
    extra: Vec<String>,
) {
    let mut argv = vec![
        "kubectl".to_string(),
        "logs".to_string(),
        target.to_string(),
    ];
    argv.extend(ns_flag(ns));
    if let Some(c) = container {
        argv.extend(["-c".to_string(), c.clone()]);
    }
    argv.extend(extra);
    ctx.explain(&argv);
}

/// A line as scripts get it, whatever the target: `#{pod, container, line}` (`container`
/// is `()` only when the pod's spec could not tell it).
pub(crate) fn item(source: &LogSource, pod: &str, line: String) -> Dynamic {
    let mut m = Map::new();
    m.insert("pod".into(), pod.to_string().into());
    m.insert(
        "container".into(),
        source
            .containers
            .get(pod)
            .map_or(Dynamic::UNIT, |c| c.clone().into()),
    );
    m.insert("line".into(), line.into());
    Dynamic::from_map(m)
}
