//! `--report lab.json`: the run as one JSON document, for tools. `schema` names its shape
//! and changes with it: `labsh-report/2` is
//!
//! ```text
//! {schema, script, title, params: {name: value}, passed, failed, error,
//!  steps: [{number, id, title, status, skipped_because?, duration_ms, commands: [line]}],
//!  checks: [{name, step, passed, evidence: [line], reason}],
//!  flows: [{step, title, caption, lifelines: [{id, name, detail}],
//!           arrows: [{from, to, label: [line], note, highlight, inferred}]}],
//!  commands: [line]}
//! ```
//!
//! `status` is `done`, `running` (the lab ended inside it), `skipped` or `quit`;
//! `duration_ms` is `null` for a step that did not run; `commands` at the top are those run
//! outside any step; a flow's `step` is `null` when it was drawn outside any step.

use serde_json::{Value, json};

use super::Contents;
use crate::journal::StepEnd;
use crate::journal::flow::Flow;

/// The `schema` field of the JSON report.
pub const SCHEMA: &str = "labsh-report/2";

/// The report as JSON (see the module's doc for the shape).
pub fn to_json(contents: &Contents<'_>) -> String {
    let checks = contents.checks;
    let journal = contents.journal;
    let failed = checks.iter().filter(|c| !c.passed).count();
    let steps: Vec<Value> = journal
        .steps
        .iter()
        .map(|s| {
            let (status, why) = match &s.end {
                StepEnd::Done => ("done", None),
                StepEnd::Running => ("running", None),
                StepEnd::Skipped(why) => ("skipped", Some(why.as_str())),
                StepEnd::Quit => ("quit", None),
            };
            let mut step = json!({
                "number": s.number,
                "id": s.id,
                "title": s.title,
                "status": status,
                "duration_ms": s.duration.map(|d| d.as_millis() as u64),
                "commands": s.commands,
            });
            if let Some(why) = why {
                step["skipped_because"] = why.into();
            }
            step
        })
        .collect();
    let mut flows: Vec<Value> = journal.figures.iter().map(|f| flow(None, f)).collect();
    for s in &journal.steps {
        flows.extend(s.figures.iter().map(|f| flow(Some(&s.id), f)));
    }
    let params: serde_json::Map<String, Value> = journal
        .params
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    let value = json!({
        "schema": SCHEMA,
        "script": contents.script,
        "title": journal.title,
        "params": params,
        "passed": checks.len() - failed,
        "failed": failed,
        "error": contents.error(),
        "steps": steps,
        "checks": checks.iter().map(|c| {
            let evidence: Vec<&str> = if c.lines.is_empty() {
                c.evidence.lines().collect()
            } else {
                c.lines.iter().map(String::as_str).collect()
            };
            json!({
                "name": c.name,
                "step": c.step,
                "passed": c.passed,
                "evidence": evidence,
                "reason": c.reason,
            })
        }).collect::<Vec<_>>(),
        "flows": flows,
        "commands": journal.commands,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn flow(step: Option<&str>, f: &Flow) -> Value {
    json!({
        "step": step,
        "title": f.title,
        "caption": f.caption,
        "lifelines": f.lifelines.iter().map(|l| json!({
            "id": l.id,
            "name": l.name,
            "detail": l.detail,
        })).collect::<Vec<_>>(),
        "arrows": f.arrows.iter().map(|a| json!({
            "from": f.lifelines.get(a.from).map(|l| l.id.as_str()),
            "to": f.lifelines.get(a.to).map(|l| l.id.as_str()),
            "label": a.label,
            "note": a.note,
            "highlight": a.highlight,
            "inferred": a.inferred,
        })).collect::<Vec<_>>(),
    })
}
