//! `--report lab.json`: the checks as one JSON document.

use crate::journal::checks::Check;

/// The report as JSON: `{script, passed, failed, error, checks: [{name, step, passed, evidence,
/// reason?}]}` (`reason` when the script gave one).
pub fn to_json(script: &str, checks: &[Check], error: Option<&str>) -> String {
    let failed = checks.iter().filter(|c| !c.passed).count();
    let value = serde_json::json!({
        "script": script,
        "passed": checks.len() - failed,
        "failed": failed,
        "error": error,
        "checks": checks.iter().map(|c| {
            let mut check = serde_json::json!({
                "name": c.name,
                "step": c.step,
                "passed": c.passed,
                "evidence": c.evidence,
            });
            if let Some(reason) = &c.reason {
                check["reason"] = reason.as_str().into();
            }
            check
        }).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
