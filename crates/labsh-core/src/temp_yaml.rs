//! YAML files labsh writes for a tool to read (kind's cluster config, Helm's extra values
//! from `set`): a temporary file removed when dropped, shown with `--explain` as the heredoc a
//! trainee would type.

use std::io::Write;

use tempfile::NamedTempFile;

use crate::context::Ctx;
use crate::errors::{Error, Result};

/// Writes `yaml` to a new temporary `<prefix>XXXX.yaml`; `func` and `what` name the primitive
/// and the file in error messages (`cluster::create: cannot write the kind config file …`).
pub fn write(ctx: &Ctx, prefix: &str, func: &str, what: &str, yaml: &str) -> Result<NamedTempFile> {
    let mut file = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".yaml")
        .tempfile()
        .map_err(|e| Error::msg(format!("{func}: cannot create {what}: {e}")))?;
    file.write_all(yaml.as_bytes())
        .and_then(|_| file.flush())
        .map_err(|e| {
            Error::msg(format!(
                "{func}: cannot write {what} {}: {e}",
                file.path().display()
            ))
        })?;
    if ctx.settings().explain {
        ctx.output().explain(&format!(
            "cat > {} <<'EOF'\n{}EOF",
            crate::shell::quote(&file.path().display().to_string()),
            yaml
        ));
    }
    Ok(file)
}
