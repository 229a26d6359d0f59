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
        "The checks recorded so far, as maps `#{name, step, passed, evidence, reason}`.\n\n```rhai\nlet failed = checks::list().filter(|c| !c.passed);\n```",
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
                    Dynamic::from_map(m)
                })
                .collect()
        },
    );
}

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
    let lines: Vec<String> = if evidence.is_unit() {
        Vec::new()
    } else if let Some(items) = evidence.read_lock::<Array>() {
        items.iter().map(|d| d.to_string()).collect()
    } else {
        evidence.to_string().lines().map(str::to_string).collect()
    };
    let evidence = if evidence.is_unit() {
        String::new()
    } else {
        evidence.to_string()
    };
    let out = ctx.output();
    let verdict = if passed {
        out.paint(Style::Green, "PASS")
    } else {
        out.paint(Style::Red, "FAIL")
    };
    let shown_name = escape::control(name);
    let line = if evidence.is_empty() {
        format!("  {verdict} {shown_name}")
    } else {
        format!("  {verdict} {shown_name}: {}", escape::control(&evidence))
    };
    out.println_styled(&line);
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
