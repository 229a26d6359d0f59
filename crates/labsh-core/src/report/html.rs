//! The lab report as ONE self-contained HTML page (`--report lab.html`): no script, no
//! external stylesheet, font or image, and a Content-Security-Policy that forbids fetching
//! any, so it opens from a USB stick in a classroom. It shows the lab's title and parameters,
//! a table of the steps (number, id, title, status, duration, the commands behind them), then
//! for each step its figures (inline SVG, see [`super::svg`]) and its checks with their
//! verdict, reason and evidence lines. A lab that failed, was interrupted or was stopped says
//! so at the top: the report is partial.
//!
//! Every string from the script or the cluster is escaped ([`super::escape`]).

use std::fmt::Write;
use std::time::Duration;

use super::escape::escape;
use crate::journal::checks::Check;
use crate::journal::flow::Flow;
use crate::journal::{Snapshot, StepEnd, StepRecord};

const STYLE: &str = include_str!("style.css");

/// How the lab run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The script ran to its end (checks may have failed).
    Finished,
    /// The script stopped with this error.
    Failed(String),
    /// Ctrl-C.
    Interrupted,
}

/// What a page is made of.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The script that ran (`scripts/tp12.rhai`).
    pub script: &'a str,
    /// Steps, commands, figures, title and parameters.
    pub journal: &'a Snapshot,
    /// The checks recorded, in order.
    pub checks: &'a [Check],
    /// How the run ended.
    pub outcome: &'a Outcome,
    /// When the report was written (`2026-12-01 20:45 UTC`).
    pub generated: &'a str,
}

/// A step's status as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Ran, and every check in it passed.
    Pass,
    /// Ran, and a check in it failed.
    Fail,
    /// Ran, and recorded no check.
    Done,
    /// Not run.
    Skipped,
    /// The script failed inside it.
    Error,
    /// Ctrl-C inside it.
    Interrupted,
    /// The trainee ended the lab at its pause.
    Stopped,
}

impl Status {
    /// The CSS class and the word shown.
    pub fn word(self) -> (&'static str, &'static str) {
        match self {
            Status::Pass => ("pass", "PASS"),
            Status::Fail => ("fail", "FAIL"),
            Status::Done => ("done", "done"),
            Status::Skipped => ("skipped", "skipped"),
            Status::Error => ("error", "error"),
            Status::Interrupted => ("interrupted", "interrupted"),
            Status::Stopped => ("stopped", "stopped"),
        }
    }
}

/// The status of `step` given the run's outcome and the checks recorded in it.
pub fn status(step: &StepRecord, checks: &[&Check], outcome: &Outcome) -> Status {
    match &step.end {
        StepEnd::Skipped(_) => Status::Skipped,
        StepEnd::Quit => Status::Stopped,
        StepEnd::Running if *outcome == Outcome::Interrupted => Status::Interrupted,
        StepEnd::Running => Status::Error,
        StepEnd::Done if checks.iter().any(|c| !c.passed) => Status::Fail,
        StepEnd::Done if checks.is_empty() => Status::Done,
        StepEnd::Done => Status::Pass,
    }
}

/// Why the report is partial, if it is.
pub fn partial(journal: &Snapshot, outcome: &Outcome) -> Option<String> {
    let last = journal.steps.last();
    let at = |s: &StepRecord| format!("step {} ({})", s.number, s.id);
    let running = last.filter(|s| s.end == StepEnd::Running);
    match outcome {
        Outcome::Interrupted => Some(match running {
            Some(s) => format!("the lab was interrupted (Ctrl-C) during {}", at(s)),
            None => "the lab was interrupted (Ctrl-C)".to_string(),
        }),
        Outcome::Failed(e) => Some(match running {
            Some(s) => format!("the lab stopped with an error during {}: {e}", at(s)),
            None => format!("the lab stopped with an error: {e}"),
        }),
        Outcome::Finished => match last {
            Some(s) if s.end == StepEnd::Quit => {
                Some(format!("the lab was stopped (q) at {}", at(s)))
            }
            _ => None,
        },
    }
}

/// The whole page.
pub fn render(page: &Page<'_>) -> String {
    let title = page
        .journal
        .title
        .clone()
        .unwrap_or_else(|| format!("Lab report: {}", page.script));
    let failed = page.checks.iter().filter(|c| !c.passed).count();
    let passed = page.checks.len() - failed;
    let partial = partial(page.journal, page.outcome);

    let mut h = String::with_capacity(16 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    let _ = writeln!(
        h,
        "<meta name=\"generator\" content=\"labsh {}\">",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(h, "<title>{}</title>", escape(&title));
    let _ = writeln!(h, "<style>\n{STYLE}</style>\n</head>\n<body>");

    // Header: title, verdict, partial banner, parameters.
    let _ = writeln!(h, "<header>\n<h1>{}</h1>", escape(&title));
    let verdict = if failed > 0 || partial.is_some() {
        "fail"
    } else {
        "pass"
    };
    let _ = writeln!(
        h,
        "<p class=\"verdict {verdict}\">{} check{}: {passed} passed, {failed} failed</p>",
        page.checks.len(),
        if page.checks.len() == 1 { "" } else { "s" }
    );
    if let Some(why) = &partial {
        let _ = writeln!(
            h,
            "<p class=\"banner partial\"><strong>Partial report:</strong> {}. Steps after it did not run.</p>",
            escape(why)
        );
    }
    h.push_str("<dl class=\"params\">\n");
    for (name, value) in &page.journal.params {
        let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", escape(name), escape(value));
    }
    let _ = writeln!(
        h,
        "<dt>Script</dt><dd><code>{}</code></dd>\n<dt>Generated</dt><dd>{}</dd>\n</dl>\n</header>\n<main>",
        escape(page.script),
        escape(page.generated)
    );

    // The steps' table.
    h.push_str("<section class=\"summary\">\n<h2>Steps</h2>\n<table class=\"steps\">\n<thead><tr><th>#</th><th>Step</th><th>Title</th><th>Status</th><th>Duration</th><th>Commands</th></tr></thead>\n<tbody>\n");
    for step in &page.journal.steps {
        let checks = checks_of(page.checks, &step.id);
        let (class, word) = status(step, &checks, page.outcome).word();
        let why = match &step.end {
            StepEnd::Skipped(why) => format!(" <span class=\"why\">{}</span>", escape(why)),
            _ => String::new(),
        };
        let id = if has_section(step, &checks) {
            format!(
                "<a href=\"#step-{}\"><code>{}</code></a>",
                anchor(&step.id),
                escape(&step.id)
            )
        } else {
            format!("<code>{}</code>", escape(&step.id))
        };
        let _ = writeln!(
            h,
            "<tr class=\"step status-{class}\"><td class=\"num\">{}</td><td class=\"id\">{id}</td><td class=\"title\">{}</td><td class=\"status\"><span class=\"badge {class}\">{word}</span>{why}</td><td class=\"duration\">{}</td><td class=\"commands\">{}</td></tr>",
            step.number,
            escape(&step.title),
            step.duration.map(duration).unwrap_or_default(),
            commands(&step.commands)
        );
    }
    h.push_str("</tbody>\n</table>\n</section>\n");

    // Each step with a figure or a check.
    let mut figure_n = 0;
    for step in &page.journal.steps {
        let checks = checks_of(page.checks, &step.id);
        if !has_section(step, &checks) {
            continue;
        }
        let (class, word) = status(step, &checks, page.outcome).word();
        let _ = writeln!(
            h,
            "<section class=\"step\" id=\"step-{}\">\n<h2>{}. {} <code>{}</code> <span class=\"badge {class}\">{word}</span></h2>",
            anchor(&step.id),
            step.number,
            escape(&step.title),
            escape(&step.id)
        );
        for flow in &step.figures {
            figure_n += 1;
            h.push_str(&figure(flow, figure_n));
        }
        for c in &checks {
            h.push_str(&check(c));
        }
        h.push_str("</section>\n");
    }

    // What happened outside any step.
    let loose: Vec<&Check> = page.checks.iter().filter(|c| c.step.is_none()).collect();
    if !loose.is_empty() || !page.journal.figures.is_empty() || !page.journal.commands.is_empty() {
        h.push_str("<section class=\"step\" id=\"outside-steps\">\n<h2>Outside the steps</h2>\n");
        if !page.journal.commands.is_empty() {
            let _ = writeln!(
                h,
                "<div class=\"commands\">{}</div>",
                commands(&page.journal.commands)
            );
        }
        for flow in &page.journal.figures {
            figure_n += 1;
            h.push_str(&figure(flow, figure_n));
        }
        for c in loose {
            h.push_str(&check(c));
        }
        h.push_str("</section>\n");
    }
    if let Outcome::Failed(e) = page.outcome {
        let _ = writeln!(
            h,
            "<section class=\"error\" id=\"error\">\n<h2>Script error</h2>\n<pre class=\"error\">{}</pre>\n</section>",
            escape(e.trim_end())
        );
    }
    let _ = writeln!(
        h,
        "</main>\n<footer>Written by labsh {} from what the lab captured.</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    );
    h
}

fn checks_of<'a>(checks: &'a [Check], step: &str) -> Vec<&'a Check> {
    checks
        .iter()
        .filter(|c| c.step.as_deref() == Some(step))
        .collect()
}

fn has_section(step: &StepRecord, checks: &[&Check]) -> bool {
    !step.figures.is_empty() || !checks.is_empty()
}

/// An id usable in a URL fragment: letters, digits, `-` and `_`; others become `_`.
fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The commands as one block, a `$ ` line each (nothing for none).
fn commands(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let text: Vec<String> = lines.iter().map(|l| format!("$ {}", escape(l))).collect();
    format!("<pre class=\"commands\">{}</pre>", text.join("\n"))
}

fn check(c: &Check) -> String {
    let (class, word) = if c.passed {
        ("pass", "PASS")
    } else {
        ("fail", "FAIL")
    };
    let mut s = format!(
        "<div class=\"check {class}\">\n<h3><span class=\"badge {class}\">{word}</span> {}</h3>\n",
        escape(&c.name)
    );
    if let Some(reason) = &c.reason {
        let _ = writeln!(s, "<p class=\"reason\">{}</p>", escape(reason));
    }
    let lines: Vec<String> = if c.lines.is_empty() && !c.evidence.is_empty() {
        vec![c.evidence.clone()]
    } else {
        c.lines.clone()
    };
    if !lines.is_empty() {
        let _ = writeln!(
            s,
            "<pre class=\"evidence\">{}</pre>",
            escape(&lines.join("\n"))
        );
    }
    s.push_str("</div>\n");
    s
}

fn figure(flow: &Flow, n: usize) -> String {
    let mut s = format!(
        "<figure class=\"flow\">\n<figcaption><strong>{}</strong>",
        escape(&flow.title)
    );
    if !flow.caption.is_empty() {
        let _ = write!(s, " — {}", escape(&flow.caption));
    }
    s.push_str("</figcaption>\n");
    if flow.is_empty() {
        let _ = writeln!(s, "<p class=\"empty\">{}</p>", escape(&flow.empty));
    } else {
        s.push_str(&super::svg::render(flow, &format!("flow{n}")));
        s.push('\n');
        s.push_str("<p class=\"legend\"><span><i class=\"swatch\"></i>captured</span><span><i class=\"swatch hl\"></i>what the check relies on</span><span><i class=\"swatch inferred\"></i>inferred: not visible from the capture point</span></p>\n");
    }
    s.push_str("</figure>\n");
    s
}

/// `340 ms`, `12.3 s`, `2 min 05 s`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        let s = d.as_secs();
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_the_right_scale() {
        assert_eq!(duration(Duration::from_millis(340)), "340 ms");
        assert_eq!(duration(Duration::from_millis(12_340)), "12.3 s");
        assert_eq!(duration(Duration::from_secs(125)), "2 min 05 s");
    }

    #[test]
    fn anchors_keep_only_url_safe_characters() {
        assert_eq!(anchor("source-ip"), "source-ip");
        assert_eq!(anchor("a b\"<"), "a_b__");
    }
}
