//! Helm values as JSON objects: reading a values file (or YAML text) for a script to inspect,
//! and writing a script's map to the values file labsh passes last (instead of `--set`,
//! whose escaping of dots, commas and brackets trips people up).

use serde_json::{Map, Value};

use crate::context::Ctx;
use crate::errors::{Error, Result};

/// `helm::values(path_or_string)`: the values of an existing file (relative to the
/// script), else `text` parsed as YAML. Either way the result must be a map.
pub fn load(ctx: &Ctx, path_or_text: &str) -> Result<Map<String, Value>> {
    let single_line = !path_or_text.contains('\n');
    let resolved = ctx.resolve_path(path_or_text);
    let (text, source) = if single_line && !path_or_text.is_empty() && resolved.is_file() {
        let text = crate::bounded_file::read_to_string(&resolved, &ctx.settings().limits)
            .map_err(|e| Error::msg(format!("helm::values: {e}")))?;
        (text, Some(resolved.clone()))
    } else {
        (path_or_text.to_string(), None)
    };
    let from = || match &source {
        Some(p) => p.display().to_string(),
        None => "the YAML text".to_string(),
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: Value = serde_saphyr::from_str(&text)
        .map_err(|e| Error::msg(format!("helm::values: invalid YAML in {}: {e}", from())))?;
    match value {
        Value::Null => return Ok(Map::new()),
        Value::Object(map) => return Ok(map),
        _ => {}
    }
    Err({
        if source.is_none() && single_line {
            Error::msg(format!(
                "helm::values: `{path_or_text}` is neither an existing file (looked for {}) nor YAML values (a map)",
                resolved.display()
            ))
        } else {
            Error::msg(format!(
                "helm::values: {} does not hold a map of values",
                from()
            ))
        }
    })
}

/// Writes `set` as a YAML values file (removed when the returned file is dropped).
pub fn write_set_file(ctx: &Ctx, set: &Value) -> Result<tempfile::NamedTempFile> {
    let yaml = serde_saphyr::to_string(set).map_err(|e| {
        Error::msg(format!(
            "helm::upgrade_install: cannot write `set` as YAML: {e}"
        ))
    })?;
    crate::temp_yaml::write(
        ctx,
        "labsh-helm-set-",
        "helm::upgrade_install",
        "the values file",
        &yaml,
    )
}
