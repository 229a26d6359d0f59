//! A flow as an inline SVG sequence diagram for the HTML report: a heading box and a dashed
//! lifeline per participant, one horizontal arrow per message with its label above it.
//! Highlighted arrows (what a check relies on) are thick and coloured; inferred ones are
//! dashed. Colours come from the page's CSS variables (`--fg`, `--accent`, `--muted`), so the
//! figure follows the light, dark and print styles. Every arrow is a
//! `<g class="arrow" data-from=… data-to=…>` so a test can read the picture back from the DOM.

use std::fmt::Write;

use super::escape::escape;
use crate::journal::flow::{Arrow, Flow};

/// Width of one character of the labels' 12px monospace font.
const CHAR_W: f64 = 7.3;
/// Height of one label line.
const LINE_H: f64 = 15.0;
const MARGIN: f64 = 12.0;
const HEAD_Y: f64 = 8.0;
const HEAD_H: f64 = 42.0;
const FIRST_ROW: f64 = HEAD_Y + HEAD_H + 22.0;

/// The `<svg>` element for `flow`; `id` prefixes its element ids (one per figure on a page).
/// An empty flow has no picture: see [`Flow::is_empty`].
pub fn render(flow: &Flow, id: &str) -> String {
    let n = flow.lifelines.len().max(1);
    let heading_w: Vec<f64> = flow
        .lifelines
        .iter()
        .map(|l| text_w(&l.name).max(text_w(&l.detail)) + 20.0)
        .collect();
    let mut col = heading_w.iter().fold(150.0_f64, |a, &b| a.max(b + 16.0));
    for a in &flow.arrows {
        let span = a.from.abs_diff(a.to);
        if span > 0 {
            let need = lines(flow, a).iter().map(|l| text_w(l)).fold(0.0, f64::max) + 24.0;
            col = col.max((need / span as f64).min(240.0));
        }
    }
    let x: Vec<f64> = (0..n).map(|i| col / 2.0 + i as f64 * col).collect();

    // Rows: each arrow's label lines, then the arrow.
    let mut rows = Vec::with_capacity(flow.arrows.len());
    let mut y = FIRST_ROW;
    let (mut min_x, mut max_x) = (0.0_f64, n as f64 * col);
    for a in &flow.arrows {
        let text = lines(flow, a);
        let line_y = y + LINE_H * text.len() as f64 + 2.0;
        let w = text.iter().map(|l| text_w(l)).fold(0.0, f64::max);
        let (xa, xb) = (x[a.from], x[a.to]);
        let (anchor_x, left) = if a.from == a.to {
            (xa + 36.0, xa + 36.0)
        } else {
            let mid = (xa + xb) / 2.0;
            (mid, mid - w / 2.0)
        };
        min_x = min_x.min(left - MARGIN);
        max_x = max_x.max(left + w + MARGIN);
        rows.push((a, text, y, line_y, anchor_x));
        y = line_y + if a.from == a.to { 30.0 } else { 20.0 };
    }
    let shift = -min_x;
    let width = (max_x - min_x).ceil();
    let height = (y + 8.0).ceil();

    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"flow\" id=\"{id}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}-title\">\n<title id=\"{id}-title\">{}</title>\n",
        escape(&flow.title)
    );
    s.push_str("<defs>\n");
    for (kind, class) in [("", "head"), ("-hl", "head hl"), ("-inf", "head inferred")] {
        let _ = writeln!(
            s,
            "<marker id=\"{id}-head{kind}\" class=\"{class}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"11\" markerHeight=\"11\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\"/></marker>"
        );
    }
    s.push_str("</defs>\n");
    for (i, l) in flow.lifelines.iter().enumerate() {
        let cx = x[i] + shift;
        let w = heading_w[i];
        let _ = write!(
            s,
            "<g class=\"lifeline\" data-id=\"{}\">\n<rect x=\"{:.1}\" y=\"{HEAD_Y}\" width=\"{w:.1}\" height=\"{HEAD_H}\" rx=\"4\"/>\n<text class=\"name\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            escape(&l.id),
            cx - w / 2.0,
            HEAD_Y + 17.0,
            escape(&l.name)
        );
        if !l.detail.is_empty() {
            let _ = writeln!(
                s,
                "<text class=\"detail\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                HEAD_Y + 33.0,
                escape(&l.detail)
            );
        }
        let _ = write!(
            s,
            "<line class=\"life\" x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\"/>\n</g>\n",
            HEAD_Y + HEAD_H,
            height - 4.0
        );
    }
    for (k, (a, text, top, line_y, anchor_x)) in rows.into_iter().enumerate() {
        s.push_str(&arrow(
            flow,
            a,
            k + 1,
            &text,
            top,
            line_y,
            anchor_x + shift,
            &x,
            shift,
            id,
        ));
    }
    s.push_str("</svg>");
    s
}

/// One arrow's `<g>`: its label lines and its line (a loop for an event on one lifeline).
#[allow(clippy::too_many_arguments)]
fn arrow(
    flow: &Flow,
    a: &Arrow,
    number: usize,
    text: &[String],
    top: f64,
    line_y: f64,
    anchor_x: f64,
    x: &[f64],
    shift: f64,
    id: &str,
) -> String {
    let mut class = String::from("arrow");
    let mut head = format!("{id}-head");
    if a.highlight {
        class.push_str(" hl");
        head.push_str("-hl");
    }
    if a.inferred {
        class.push_str(" inferred");
        if !a.highlight {
            head.push_str("-inf");
        }
    }
    let from = &flow.lifelines[a.from].id;
    let to = &flow.lifelines[a.to].id;
    let mut s = format!(
        "<g class=\"{class}\" data-n=\"{number}\" data-from=\"{}\" data-to=\"{}\">\n",
        escape(from),
        escape(to)
    );
    let anchor = if a.from == a.to { "start" } else { "middle" };
    for (i, line) in text.iter().enumerate() {
        let is_note = a.note.is_some() && i + 1 == text.len();
        let _ = writeln!(
            s,
            "<text class=\"{}\" x=\"{anchor_x:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            if is_note { "note" } else { "label" },
            top + LINE_H * (i as f64 + 1.0) - 3.0,
            escape(line)
        );
    }
    let dash = if a.inferred {
        " stroke-dasharray=\"7 5\""
    } else {
        ""
    };
    let (xa, xb) = (x[a.from] + shift, x[a.to] + shift);
    if a.from == a.to {
        let _ = writeln!(
            s,
            "<path class=\"line\" d=\"M{xa:.1},{line_y:.1} h28 v14 h-26\" fill=\"none\"{dash} marker-end=\"url(#{head})\"/>"
        );
    } else {
        // Stop short of the target's lifeline so the head touches it.
        let end = if xb > xa { xb - 1.5 } else { xb + 1.5 };
        let _ = writeln!(
            s,
            "<line class=\"line\" x1=\"{xa:.1}\" y1=\"{line_y:.1}\" x2=\"{end:.1}\" y2=\"{line_y:.1}\"{dash} marker-end=\"url(#{head})\"/>"
        );
    }
    s.push_str("</g>\n");
    s
}

/// The text lines drawn above an arrow: its label, then its note.
fn lines(flow: &Flow, a: &Arrow) -> Vec<String> {
    let mut text = flow.label_lines(a);
    if let Some(note) = &a.note {
        text.push(note.clone());
    }
    text
}

fn text_w(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::flow::Lifeline;

    #[test]
    fn each_arrow_is_a_group_naming_its_lifelines_and_inferred_ones_are_dashed() {
        let flow = Flow {
            title: "DSR <a>".into(),
            lifelines: ["client", "node"]
                .iter()
                .map(|n| Lifeline {
                    id: n.to_string(),
                    name: n.to_string(),
                    detail: String::new(),
                    addresses: vec![],
                })
                .collect(),
            arrows: vec![
                Arrow {
                    from: 0,
                    to: 1,
                    label: vec!["SYN".into()],
                    note: None,
                    highlight: false,
                    inferred: true,
                },
                Arrow {
                    from: 1,
                    to: 0,
                    label: vec!["SYN-ACK".into()],
                    note: Some("DSR".into()),
                    highlight: true,
                    inferred: false,
                },
            ],
            empty: String::new(),
            caption: String::new(),
        };
        let svg = render(&flow, "f1");
        assert!(
            svg.contains("<title id=\"f1-title\">DSR &lt;a&gt;</title>"),
            "{svg}"
        );
        assert!(
            svg.contains(
                "<g class=\"arrow inferred\" data-n=\"1\" data-from=\"client\" data-to=\"node\">"
            ),
            "{svg}"
        );
        assert!(
            svg.contains(
                "<g class=\"arrow hl\" data-n=\"2\" data-from=\"node\" data-to=\"client\">"
            ),
            "{svg}"
        );
        assert!(svg.contains(">SYN (inferred)</text>"), "{svg}");
        assert!(svg.contains("<text class=\"note\""), "{svg}");
        assert_eq!(svg.matches("stroke-dasharray").count(), 1, "{svg}");
    }
}
