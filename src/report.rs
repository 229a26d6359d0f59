//! The end of a lab run: the summary table of checks, and `--report FILE` as JSON or JUnit
//! XML (one testcase per check, so CI systems show the lab's checks as tests).

use std::path::Path;

use crate::cli::EXIT_FAILURE;
use crate::context::Ctx;
use crate::output::{Output, Style};
use crate::primitives::checks::{Check, CheckLog};
use crate::primitives::steps::StepState;

/// The formats `--report` writes, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.json`
    Json,
    /// `.xml` (JUnit)
    Junit,
}

impl Format {
    /// The format for `path`, or an error naming the extensions accepted.
    pub fn for_path(path: &Path) -> Result<Format, String> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Ok(Format::Json),
            Some("xml") => Ok(Format::Junit),
            _ => Err(format!(
                "--report {}: the file must end in .json or .xml (JUnit)",
                path.display()
            )),
        }
    }
}

/// The summary table printed at the end of `labsh run`: name, PASS/FAIL, evidence.
pub fn summary(checks: &[Check], out: &Output) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let failed = checks.iter().filter(|c| !c.passed).count();
    let mut text = String::from("\nChecks:\n");
    for c in checks {
        let verdict = if c.passed {
            out.paint(Style::Green, "PASS")
        } else {
            out.paint(Style::Red, "FAIL")
        };
        let line = format!("  {:width$}  {verdict}  {}", c.name, c.evidence);
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.push_str(&format!(
        "{} check{}: {} passed, {} failed\n",
        checks.len(),
        if checks.len() == 1 { "" } else { "s" },
        checks.len() - failed,
        failed
    ));
    text
}

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
        })).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// The report as JUnit XML: one testsuite for the script, one testcase per check; a script
/// error becomes an `<error>` testcase so it is not mistaken for success.
pub fn to_junit(script: &str, checks: &[Check], error: Option<&str>) -> String {
    let failed = checks.iter().filter(|c| !c.passed).count();
    let tests = checks.len() + usize::from(error.is_some());
    let errors = usize::from(error.is_some());
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites tests=\"{tests}\" failures=\"{failed}\" errors=\"{errors}\">\n"
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failed}\" errors=\"{errors}\">\n",
        escape(script)
    ));
    for c in checks {
        let class = c.step.as_deref().unwrap_or("lab");
        x.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"{}\">\n",
            escape(&c.name),
            escape(class)
        ));
        if c.passed {
            x.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                escape(&c.evidence)
            ));
        } else {
            x.push_str(&format!(
                "      <failure message=\"{}\">{}</failure>\n",
                escape(&c.evidence),
                escape(&c.evidence)
            ));
        }
        x.push_str("    </testcase>\n");
    }
    if let Some(e) = error {
        x.push_str("    <testcase name=\"script\" classname=\"lab\">\n");
        x.push_str(&format!(
            "      <error message=\"the script failed\">{}</error>\n",
            escape(e)
        ));
        x.push_str("    </testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Writes the report for `checks` to `path` in the format its extension names.
pub fn write(
    path: &Path,
    script: &str,
    checks: &[Check],
    error: Option<&str>,
) -> Result<(), String> {
    let text = match Format::for_path(path)? {
        Format::Json => to_json(script, checks, error),
        Format::Junit => to_junit(script, checks, error),
    };
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
}

/// The end of `labsh run` (also after a script error or Ctrl-C): the checks' summary table,
/// `--report`, and a `--from` that named no step. Returns 1 when a check failed, `--from`
/// matched nothing or the report could not be written, else 0.
pub fn finish(ctx: &Ctx, script: &str, error: Option<&str>) -> u8 {
    let checks = ctx.ext::<CheckLog>().all();
    let mut code = 0;
    if !checks.is_empty() {
        print!("{}", summary(&checks, ctx.output()));
        if checks.iter().any(|c| !c.passed) {
            code = EXIT_FAILURE;
        }
    }
    if let Some(from) = &ctx.settings().from
        && error.is_none()
        && !ctx.ext::<StepState>().from_reached()
    {
        eprintln!("error: --from {from}: the script has no step with this id");
        code = EXIT_FAILURE;
    }
    if let Some(path) = &ctx.settings().report
        && let Err(msg) = write(path, script, &checks, error)
    {
        eprintln!("error: {msg}");
        code = EXIT_FAILURE;
    }
    code
}

/// XML text and attribute escaping.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, passed: bool, evidence: &str) -> Check {
        Check {
            name: name.into(),
            step: Some("s1".into()),
            passed,
            evidence: evidence.into(),
        }
    }

    #[test]
    fn junit_has_one_testcase_per_check_and_escapes_text() {
        let xml = to_junit(
            "lab.rhai",
            &[check("a", true, "ok"), check("b<c", false, "saw \"x\" & y")],
            None,
        );
        assert_eq!(xml.matches("<testcase ").count(), 2);
        assert!(xml.contains("name=\"b&lt;c\""), "{xml}");
        assert!(
            xml.contains("<failure message=\"saw &quot;x&quot; &amp; y\">"),
            "{xml}"
        );
        assert!(
            xml.contains("tests=\"2\" failures=\"1\" errors=\"0\""),
            "{xml}"
        );
    }

    #[test]
    fn report_extension_must_be_json_or_xml() {
        assert_eq!(Format::for_path(Path::new("r.json")), Ok(Format::Json));
        assert_eq!(Format::for_path(Path::new("r.xml")), Ok(Format::Junit));
        assert!(Format::for_path(Path::new("r.txt")).is_err());
    }
}
