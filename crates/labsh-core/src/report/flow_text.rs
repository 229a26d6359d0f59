//! A flow as a compact text sequence diagram for the terminal, at most [`MAX_WIDTH`] columns:
//! one column per lifeline, each arrow on its own line under its label. Box drawing in a
//! UTF-8 terminal ([`UNICODE`]), plain ASCII otherwise ([`ASCII`]: `--no-color`, `LANG=C`).
//!
//! ```text
//!      client         tp12-worker2      tp12-worker         pod
//!    172.18.0.1        172.18.0.3        172.18.0.2      10.244.1.5
//!         │                 │                 │               │
//!         │ SYN 172.18.0.1 → 172.18.0.3:32150 (inferred)
//!         │╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌▶│                 │               │
//! ```

use crate::journal::flow::{Arrow, Flow};

/// No line is wider than this.
pub const MAX_WIDTH: usize = 100;

/// The characters a diagram is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset {
    /// A lifeline.
    pub bar: char,
    /// An arrow seen in the capture.
    pub line: char,
    /// An arrow a check relies on.
    pub strong: char,
    /// An inferred arrow.
    pub dashed: char,
    /// Arrowheads.
    pub right: char,
    /// Arrowheads.
    pub left: char,
    /// An event on one lifeline.
    pub event: char,
    /// Marks a cut text.
    pub cut: char,
    /// Replaces `→` in labels.
    pub to: &'static str,
}

/// Box drawing, for UTF-8 terminals.
pub const UNICODE: Charset = Charset {
    bar: '│',
    line: '─',
    strong: '━',
    dashed: '╌',
    right: '▶',
    left: '◀',
    event: '●',
    cut: '…',
    to: "→",
};

/// Plain ASCII.
pub const ASCII: Charset = Charset {
    bar: '|',
    line: '-',
    strong: '=',
    dashed: '.',
    right: '>',
    left: '<',
    event: '*',
    cut: '~',
    to: "->",
};

/// The diagram of `flow`; `strong` styles the lines of highlighted arrows (bold in a colour
/// terminal, the identity otherwise). Ends with a newline.
pub fn render(flow: &Flow, cs: &Charset, strong: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    out.push_str(&fit(&flow.title, MAX_WIDTH, cs));
    out.push('\n');
    if flow.lifelines.is_empty() || flow.is_empty() {
        out.push_str(&fit(&format!("  ({})", flow.empty), MAX_WIDTH, cs));
        out.push('\n');
        return out;
    }
    let layout = Layout::new(flow);
    let names: Vec<&str> = flow.lifelines.iter().map(|l| l.name.as_str()).collect();
    let details: Vec<&str> = flow.lifelines.iter().map(|l| l.detail.as_str()).collect();
    out.push_str(&layout.headings(&names, cs));
    if details.iter().any(|d| !d.is_empty()) {
        out.push_str(&layout.headings(&details, cs));
    }
    out.push_str(layout.bars(cs).trim_end_matches(' '));
    out.push('\n');
    for arrow in &flow.arrows {
        for line in layout.label_lines(flow, arrow, cs) {
            out.push_str(&line);
            out.push('\n');
        }
        let line = layout.arrow_line(arrow, cs);
        if arrow.highlight {
            out.push_str(&strong(&line));
        } else {
            out.push_str(&line);
        }
        out.push('\n');
    }
    out.push_str(layout.bars(cs).trim_end_matches(' '));
    out.push('\n');
    if !flow.caption.is_empty() {
        out.push_str(&fit(&flow.caption, MAX_WIDTH, cs));
        out.push('\n');
    }
    out
}

/// Where each lifeline's bar is.
struct Layout {
    /// Column of each bar.
    x: Vec<usize>,
    /// Width of each lifeline's column.
    w: Vec<usize>,
    /// Total width of the bars' area.
    width: usize,
}

impl Layout {
    fn new(flow: &Flow) -> Layout {
        let n = flow.lifelines.len();
        let cap = (MAX_WIDTH / n).max(6);
        let mut w: Vec<usize> = flow
            .lifelines
            .iter()
            .map(|l| (len(&l.name).max(len(&l.detail)) + 3).clamp(12, cap))
            .collect();
        // Spread the room the labels need between the columns, within the width.
        let room = flow
            .arrows
            .iter()
            .map(|a| {
                let span = a.from.abs_diff(a.to).max(1);
                let longest = flow
                    .label_lines(a)
                    .iter()
                    .map(|l| len(l))
                    .max()
                    .unwrap_or(0);
                (longest + 4).div_ceil(span)
            })
            .max()
            .unwrap_or(0);
        let sum: usize = w.iter().sum();
        if room > 0 && sum < MAX_WIDTH - 8 {
            let grow = room.min(cap);
            for wi in &mut w {
                if *wi < grow {
                    *wi = grow;
                }
            }
            while w.iter().sum::<usize>() > MAX_WIDTH - 8 {
                let widest = (0..n).max_by_key(|&i| w[i]).unwrap_or(0);
                w[widest] -= 1;
            }
        }
        let mut x = Vec::with_capacity(n);
        let mut start = 0;
        for wi in &w {
            x.push(start + wi / 2);
            start += wi;
        }
        Layout { x, w, width: start }
    }

    /// One heading line: each text centred over its bar, cut to its column.
    fn headings(&self, texts: &[&str], cs: &Charset) -> String {
        let mut buf = vec![' '; self.width];
        for (i, text) in texts.iter().enumerate() {
            let t = fit(text, self.w[i] - 1, cs);
            let l = len(&t);
            let start = (self.x[i] + 1).saturating_sub(l.div_ceil(2));
            let start = start.min(self.width.saturating_sub(l));
            for (k, c) in t.chars().enumerate() {
                if let Some(slot) = buf.get_mut(start + k) {
                    *slot = c;
                }
            }
        }
        let mut s: String = buf.into_iter().collect();
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    }

    fn bars(&self, cs: &Charset) -> String {
        let mut buf = vec![' '; self.width];
        for &x in &self.x {
            buf[x] = cs.bar;
        }
        buf.into_iter().collect()
    }

    /// Whether notes go right of the last bar (else on a label line of their own).
    fn note_fits(&self) -> bool {
        MAX_WIDTH.saturating_sub(self.width + 2) >= 16
    }

    /// The label above an arrow, starting just right of its left end, over the bars.
    fn label_lines(&self, flow: &Flow, arrow: &Arrow, cs: &Charset) -> Vec<String> {
        let lo = self.x[arrow.from.min(arrow.to)];
        let mut lines = flow.label_lines(arrow);
        if let Some(note) = &arrow.note
            && (arrow.from == arrow.to || !self.note_fits())
        {
            lines.push(format!("({note})"));
        }
        lines
            .iter()
            .map(|text| {
                let text = fit(text, MAX_WIDTH - 2, cs);
                let mut buf: Vec<char> = self.bars(cs).chars().collect();
                let l = len(&text);
                let start = (lo + 2).min(MAX_WIDTH - l - 1);
                if buf.len() < start + l + 1 {
                    buf.resize(start + l + 1, ' ');
                }
                buf[start - 1] = ' ';
                for (k, c) in text.chars().enumerate() {
                    buf[start + k] = c;
                }
                buf[start + l] = ' ';
                let s: String = buf.into_iter().collect();
                s.trim_end().to_string()
            })
            .collect()
    }

    /// The arrow itself, with its note to the right of the last bar when it fits.
    fn arrow_line(&self, arrow: &Arrow, cs: &Charset) -> String {
        let mut buf: Vec<char> = self.bars(cs).chars().collect();
        let (a, b) = (self.x[arrow.from], self.x[arrow.to]);
        if a == b {
            buf[a] = cs.event;
        } else {
            let (lo, hi) = (a.min(b), a.max(b));
            let ch = if arrow.inferred {
                cs.dashed
            } else if arrow.highlight {
                cs.strong
            } else {
                cs.line
            };
            for slot in &mut buf[lo + 1..hi] {
                *slot = ch;
            }
            if b > a {
                buf[hi - 1] = cs.right;
            } else {
                buf[lo + 1] = cs.left;
            }
        }
        let mut s: String = buf.into_iter().collect();
        if let Some(note) = &arrow.note
            && a != b
            && self.note_fits()
        {
            s.push_str("  ");
            s.push_str(&fit(note, MAX_WIDTH - self.width - 2, cs));
        }
        s.trim_end().to_string()
    }
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// `text` cut to `width` characters, the cut marked.
fn fit(text: &str, width: usize, cs: &Charset) -> String {
    let text = text.replace('\n', " ").replace('→', cs.to);
    if len(&text) <= width {
        return text;
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push(cs.cut);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::flow::Lifeline;

    fn lifeline(id: &str, detail: &str) -> Lifeline {
        Lifeline {
            id: id.into(),
            name: id.into(),
            detail: detail.into(),
            addresses: vec![],
        }
    }

    fn arrow(from: usize, to: usize, label: &str) -> Arrow {
        Arrow {
            from,
            to,
            label: vec![label.into()],
            note: None,
            highlight: false,
            inferred: false,
        }
    }

    #[test]
    fn no_line_is_wider_than_100_columns_even_with_long_names_and_labels() {
        let long = "x".repeat(300);
        let flow = Flow {
            title: long.clone(),
            lifelines: (0..6)
                .map(|i| lifeline(&format!("{i}{long}"), &long))
                .collect(),
            arrows: vec![arrow(0, 5, &long), arrow(5, 0, &long), arrow(3, 3, &long)],
            empty: String::new(),
            caption: long.clone(),
        };
        let mut last = flow.arrows[0].clone();
        last.note = Some(long.clone());
        let mut flow = flow;
        flow.arrows.push(last);
        for cs in [UNICODE, ASCII] {
            let text = render(&flow, &cs, &|s| s.to_string());
            for line in text.lines() {
                assert!(line.chars().count() <= MAX_WIDTH, "{}: {line}", line.len());
            }
        }
    }

    #[test]
    fn ascii_diagrams_use_only_ascii() {
        let flow = Flow {
            title: "t".into(),
            lifelines: vec![lifeline("a", "1.1.1.1"), lifeline("b", "2.2.2.2")],
            arrows: vec![
                arrow(0, 1, "SYN 1.1.1.1:5 → 2.2.2.2:80"),
                Arrow {
                    inferred: true,
                    ..arrow(1, 0, "back")
                },
            ],
            empty: String::new(),
            caption: String::new(),
        };
        let text = render(&flow, &ASCII, &|s| s.to_string());
        assert!(text.is_ascii(), "{text}");
        assert!(
            text.contains("|---------->|") || text.contains("->|"),
            "{text}"
        );
        assert!(text.contains("|<."), "{text}");
    }
}
