//! `--report lab.json`: the checks as one JSON document.

use crate::primitives::checks::Check;

/// The report as JSON: `{script, passed, failed, error, checks: [{name, step, passed, evidence}]}`.
pub fn to_json(script: &str, checks: &[Check], error: Option<&str>) -> String {
    let failed = checks.iter().filter(|c| !c.passed).count();
    let value = serde_json::json!({
        "script": script,
        "passed": checks.len() - failed,
        "failed": failed,
        "error": error,
        "checks": checks.iter().map(|c| serde_json::json!({
            "name": c.name,
            "step": c.step,
            "passed": c.passed,
            "evidence": c.evidence,
            "reason": c.reason,
        })).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

