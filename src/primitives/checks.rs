//! `checks::record`: the native side of `lab::check`. Rhai functions in a module cannot keep
//! mutable state, so the checks a lab records live in the session's [`CheckLog`], and
//! `labsh run` prints their summary and writes `--report` at the end.

use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::journal::checks::{Check, CheckLog};
use crate::journal::steps::StepState;
use crate::output::Style;
use crate::primitives::{Family, Registry};
use crate::records::{CHECK, Record, VERDICT};
use labsh_core::escape;

/// `checks::…`
pub const FAMILY: Family = Family {
    name: "checks",
    summary: "the check records behind lab::check",
    register,
};

const RECORD_DOC: &str = r#"Records a lab check (what `lab::check` calls): prints `PASS name` or
`FAIL name` with the evidence, and keeps it for the summary printed at the end of `labsh run`
and for `--report`. `evidence` is a string or an array of lines. Returns `passed`. Scripts use
`lab::check` instead.

```rhai
checks::record("nodes-ready", true, "4/4 nodes Ready");
```"#;

const RECORD_REASON_DOC: &str = r#"Records a lab check with the reason of its verdict (what the
4-argument `lab::check` calls); the HTML report shows the reason above the evidence lines.

```rhai
checks::record("dsr", false, ["IP 10.0.0.1.80 > 10.0.0.2.4242: Flags [S.]"], "the reply left as the pod's address: SNAT");
```"#;

/// Registers `checks::record` and `checks::list`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "checks",
        "record",
        &["name: String", "passed: bool", "evidence: Dynamic", "bool"],
        RECORD_DOC,
        move |name: &str, passed: Dynamic, evidence: Dynamic| {
            record(&c, name, passed, evidence, None)
        },
    );
    let c = ctx.clone();
    reg.func(
        "checks",
        "record",
        &[
            "name: String",
            "passed: bool",
            "evidence: Dynamic",
            "reason: Dynamic",
            "bool",
        ],
        RECORD_REASON_DOC,
        move |name: &str, passed: Dynamic, evidence: Dynamic, reason: Dynamic| {
            let reason = (!reason.is_unit()).then(|| reason.to_string());
            record(&c, name, passed, evidence, reason)
        },
    );
    let c = ctx.clone();
    reg.func(
        "checks",
        "list",
        &["Array"],
        "The checks recorded so far, as records `#{name, step, passed, evidence, reason}`.\n\n```rhai\nlet failed = checks::list().filter(|c| !c.passed);\n```",
        move || -> Array {
            c.ext::<CheckLog>()
                .all()
                .into_iter()
                .map(|check| {
                    let mut m = Map::new();
                    m.insert("name".into(), check.name.into());
                    m.insert(
                        "step".into(),
                        check.step.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
                    );
                    m.insert("passed".into(), check.passed.into());
                    m.insert("evidence".into(), check.evidence.into());
                    m.insert(
                        "reason".into(),
                        check.reason.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
                    );
                    Record::from_map(&CHECK, m).into_dynamic()
                })
                .collect()
        },
    );
    reg.func(
        "checks",
        "verdict",
        &[
            "passed: bool",
            "evidence: Dynamic",
            "reason: Dynamic",
            "Record",
        ],
        VERDICT_DOC,
        |passed: bool, evidence: Dynamic, reason: Dynamic| -> Dynamic {
            let mut m = Map::new();
            m.insert("passed".into(), passed.into());
            m.insert("evidence".into(), evidence);
            m.insert("reason".into(), reason);
            Record::from_map(&VERDICT, m).into_dynamic()
        },
    );
}

const VERDICT_DOC: &str = r#"A check's verdict as the `verdicts` module returns it: the record
`#{passed, evidence, reason}` (reading another field, like `v.pased`, is an error naming these).

```rhai
let v = checks::verdict(true, ["SYN-ACK from 10.244.1.5"], "the pod answered directly: DSR");
checks::record("dsr", v.passed, v.evidence, v.reason);
```"#;

fn record(
    ctx: &Ctx,
    name: &str,
    passed: Dynamic,
    evidence: Dynamic,
    reason: Option<String>,
) -> ScriptResult<Dynamic> {
    let passed = passed.as_bool().map_err(|t| {
        error(format!(
            "lab::check(\"{name}\", …): `passed` must be true or false, got {t}"
        ))
    })?;
    // Packets or events given as evidence print as the maps they are.
    let evidence = crate::records::plain(&evidence);
    let lines: Vec<String> = if evidence.is_unit() {
        Vec::new()
    } else if let Some(items) = evidence.read_lock::<Array>() {
        items.iter().map(|d| d.to_string()).collect()
    } else {
        evidence.to_string().lines().map(str::to_string).collect()
    };
    // One text for the summary, JUnit and `checks::list()`: an array's items one per line,
    // never Rhai's `[…]` debug form.
    let evidence = lines.join("\n");
    let out = ctx.output();
    let verdict = if passed {
        out.paint(Style::Green, "PASS")
    } else {
        out.paint(Style::Red, "FAIL")
    };
    let shown_lines: Vec<String> = lines
        .iter()
        .map(|l| escape::control(l).into_owned())
        .collect();
    let shown_reason = reason.as_deref().map(escape::control);
    out.println_styled(
        check_lines(
            &verdict,
            &escape::control(name),
            shown_reason.as_deref(),
            &shown_lines,
        )
        .trim_end_matches('\n'),
    );
    ctx.ext::<CheckLog>().push(Check {
        name: name.to_string(),
        step: ctx.ext::<StepState>().current(),
        passed,
        evidence,
        reason,
        lines,
    });
    // The PASS/FAIL line is how the verdict shows: the REPL does not echo `true` after it.
    Ok(crate::shown::shown(ctx, passed.into()))
}

/// How a check shows on the terminal: `  PASS name: evidence` when the evidence is one line
/// and there is no reason; else `  PASS name: reason` (or `  PASS name`) with the evidence
/// lines indented under it.
pub fn check_lines(verdict: &str, name: &str, reason: Option<&str>, lines: &[String]) -> String {
    let mut text = match (reason, lines) {
        (None, []) => format!("  {verdict} {name}\n"),
        (None, [one]) => format!("  {verdict} {name}: {one}\n"),
        (None, _) => format!("  {verdict} {name}\n"),
        (Some(reason), _) => format!("  {verdict} {name}: {reason}\n"),
    };
    if reason.is_some() || lines.len() > 1 {
        for line in lines {
            text.push_str(&format!("      {line}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_line_of_evidence_stays_on_the_verdict_line() {
        assert_eq!(
            check_lines("PASS", "nodes", None, &strings(&["4/4 Ready"])),
            "  PASS nodes: 4/4 Ready\n"
        );
        assert_eq!(check_lines("PASS", "nodes", None, &[]), "  PASS nodes\n");
    }

    #[test]
    fn several_evidence_lines_go_one_per_line_under_the_verdict() {
        assert_eq!(
            check_lines("FAIL", "dsr", None, &strings(&["a > b: S", "c > a: S."])),
            "  FAIL dsr\n      a > b: S\n      c > a: S.\n"
        );
    }

    #[test]
    fn a_reason_goes_on_the_verdict_line_and_the_evidence_under_it() {
        assert_eq!(
            check_lines(
                "FAIL",
                "source-ip",
                Some("SNAT"),
                &strings(&["10.0.0.1 GET /"])
            ),
            "  FAIL source-ip: SNAT\n      10.0.0.1 GET /\n"
        );
    }
}
