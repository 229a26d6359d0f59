//! The end of a lab run: the summary table of checks, and `--report FILE` as an HTML page
//! (steps, checks and the flow figures the script drew), JSON, or JUnit XML (one testcase per
//! check, so CI systems show the lab's checks as tests). The report is written also when the
//! lab failed or was interrupted; the HTML page then says it is partial.
//!
//! The figures (`report::flow` in scripts) are [`crate::journal::flow::Flow`]s, drawn by [`svg`] for the page
//! and by [`flow_text`] for the terminal.

use std::path::Path;

use crate::context::Ctx;
use crate::exit_code::EXIT_FAILURE;
use crate::journal;
use crate::journal::checks::{Check, CheckLog};
use crate::journal::steps::StepState;
use crate::output::{Output, Style};

pub mod escape;
pub mod flow_text;
pub mod html;
pub mod json;
pub mod junit;
pub mod svg;
pub mod timestamp;

pub use html::Outcome;
pub use json::to_json;
pub use junit::to_junit;

/// The formats `--report` writes, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.html`: one self-contained page.
    Html,
    /// `.json`
    Json,
    /// `.xml` (JUnit)
    Junit,
}

impl Format {
    /// The format for `path`, or an error naming the extensions accepted.
    pub fn for_path(path: &Path) -> Result<Format, String> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("html" | "htm") => Ok(Format::Html),
            Some("json") => Ok(Format::Json),
            Some("xml") => Ok(Format::Junit),
            _ => Err(format!(
                "--report {}: the file must end in .html, .json or .xml (JUnit)",
                path.display()
            )),
        }
    }
}

/// The summary table printed at the end of `labsh run`: name, PASS/FAIL, then the reason or
/// the one line of evidence; several evidence lines (or evidence beside a reason) go one per
/// line under it, indented to the text column.
pub fn summary(checks: &[Check], out: &Output) -> String {
    let width = checks
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    let failed = checks.iter().filter(|c| !c.passed).count();
    let mut text = String::from("\nChecks:\n");
    let indent = " ".repeat(2 + width + 2 + 4 + 2);
    for c in checks {
        let verdict = if c.passed {
            out.paint(Style::Green, "PASS")
        } else {
            out.paint(Style::Red, "FAIL")
        };
        let lines: Vec<&str> = if c.lines.is_empty() {
            c.evidence.lines().collect()
        } else {
            c.lines.iter().map(String::as_str).collect()
        };
        let (head, under): (&str, &[&str]) = match (&c.reason, lines.as_slice()) {
            (Some(reason), all) => (reason, all),
            (None, [one]) => (one, &[]),
            (None, []) => ("", &[]),
            (None, all) => ("", all),
        };
        let pad = width.saturating_sub(c.name.chars().count());
        let line = format!(
            "  {}{}  {verdict}  {}",
            crate::escape::control(&c.name),
            " ".repeat(pad),
            crate::escape::control(head)
        );
        text.push_str(line.trim_end());
        text.push('\n');
        for l in under {
            text.push_str(&format!("{indent}{l}\n"));
        }
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

/// Everything a report is made of.
#[derive(Debug, Clone)]
pub struct Contents<'a> {
    /// The script that ran.
    pub script: &'a str,
    /// The checks recorded.
    pub checks: &'a [Check],
    /// Steps, commands, figures, title and parameters.
    pub journal: &'a journal::Snapshot,
    /// How the run ended.
    pub outcome: &'a Outcome,
}

impl Contents<'_> {
    /// The script's error, for the JSON and JUnit reports.
    fn error(&self) -> Option<&str> {
        match self.outcome {
            Outcome::Finished => None,
            Outcome::Failed(e) => Some(e),
            Outcome::Interrupted => Some("interrupted"),
        }
    }
}

/// The report text in the format `path`'s extension names.
pub fn render(path: &Path, contents: &Contents<'_>) -> Result<String, String> {
    Ok(match Format::for_path(path)? {
        Format::Html => html::render(&html::Page {
            script: contents.script,
            journal: contents.journal,
            checks: contents.checks,
            outcome: contents.outcome,
            generated: &timestamp::utc(std::time::SystemTime::now()),
        }),
        Format::Json => to_json(contents),
        Format::Junit => to_junit(contents.script, contents.checks, contents.error()),
    })
}

/// Writes the report to `path` in the format its extension names.
pub fn write(path: &Path, contents: &Contents<'_>) -> Result<(), String> {
    let text = render(path, contents)?;
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write the report {}: {e}", path.display()))
}

/// The end of `labsh run` (also after a script error or Ctrl-C): the checks' summary table,
/// each `--report`, and a `--from` that named no step. Returns 1 when a check failed, `--from`
/// matched nothing or a report could not be written, else 0.
pub fn finish(ctx: &Ctx, script: &str, error: Option<&str>) -> u8 {
    let checks = ctx.ext::<CheckLog>().all();
    let mut code = 0;
    if !checks.is_empty() {
        crate::stdio::out(&summary(&checks, ctx.output()));
        if checks.iter().any(|c| !c.passed) {
            code = EXIT_FAILURE;
        }
    }
    if let Some(from) = &ctx.settings().from
        && error.is_none()
        && !ctx.ext::<StepState>().from_reached()
    {
        crate::stdio::errln(&format!(
            "error: --from {from}: the script has no step with this id"
        ));
        code = EXIT_FAILURE;
    }
    let outcome = match error {
        None => Outcome::Finished,
        Some(_) if ctx.is_interrupted() => Outcome::Interrupted,
        Some(e) => Outcome::Failed(e.to_string()),
    };
    let journal = ctx.ext::<journal::Journal>().snapshot();
    let contents = Contents {
        script,
        checks: &checks,
        journal: &journal,
        outcome: &outcome,
    };
    for path in &ctx.settings().report {
        if let Err(msg) = write(path, &contents) {
            crate::stdio::errln(&format!("error: {msg}"));
            code = EXIT_FAILURE;
        }
    }
    code
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
            reason: None,
            lines: vec![evidence.into()],
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
    fn summary_puts_several_evidence_lines_and_a_reason_one_per_line() {
        let out = Output::new(true, false);
        let mut dsr = check("dsr", false, "");
        dsr.lines = vec!["a > b: S".into(), "c > a: S.".into()];
        dsr.evidence = dsr.lines.join("\n");
        let mut ip = check("source-ip", true, "10.0.0.1 GET /");
        ip.reason = Some("the pod saw the client".into());
        let text = summary(&[check("nodes", true, "4/4 Ready"), dsr, ip], &out);
        assert_eq!(
            text,
            "\nChecks:\n  nodes      PASS  4/4 Ready\n  dsr        FAIL\n                   a > b: S\n                   c > a: S.\n  source-ip  PASS  the pod saw the client\n                   10.0.0.1 GET /\n3 checks: 2 passed, 1 failed\n"
        );
    }

    #[test]
    fn report_extension_must_be_html_json_or_xml() {
        assert_eq!(Format::for_path(Path::new("r.html")), Ok(Format::Html));
        assert_eq!(Format::for_path(Path::new("r.json")), Ok(Format::Json));
        assert_eq!(Format::for_path(Path::new("r.xml")), Ok(Format::Junit));
        assert!(Format::for_path(Path::new("r.txt")).is_err());
    }
}
