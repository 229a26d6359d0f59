//! The one output layer: `print`, `debug`, `--explain` lines and spinners all go through here,
//! so a line printed while a spinner turns never garbles it (indicatif's `MultiProgress`
//! suspends the bars around each line).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// ANSI styles used in labsh output.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    Bold,
    Dim,
    Red,
    Green,
    Yellow,
    Cyan,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Red => "31",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Cyan => "36",
        }
    }
}

/// Where script output goes. Clone is cheap; clones share the same bars.
#[derive(Clone)]
pub struct Output {
    inner: Arc<Inner>,
}

struct Inner {
    multi: MultiProgress,
    active: Mutex<usize>,
    quiet: bool,
    color: bool,
}

impl Output {
    /// `quiet` hides spinners; `color` enables ANSI styles.
    pub fn new(quiet: bool, color: bool) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        Output {
            inner: Arc::new(Inner {
                multi,
                active: Mutex::new(0),
                quiet,
                color,
            }),
        }
    }

    /// Whether ANSI styles are on.
    pub fn color(&self) -> bool {
        self.inner.color
    }

    /// Whether spinners are hidden.
    pub fn quiet(&self) -> bool {
        self.inner.quiet
    }

    /// `text` in `style` when colors are on, plain otherwise.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.inner.color {
            format!("\x1b[{}m{}\x1b[0m", style.code(), text)
        } else {
            text.to_string()
        }
    }

    fn bars_active(&self) -> bool {
        *self.inner.active.lock().expect("output lock") > 0
    }

    /// A line on stdout.
    pub fn println(&self, line: &str) {
        if self.bars_active() {
            self.inner
                .multi
                .suspend(|| write_line(&mut std::io::stdout(), line));
        } else {
            write_line(&mut std::io::stdout(), line);
        }
    }

    /// A line on stderr.
    pub fn eprintln(&self, line: &str) {
        if self.bars_active() {
            self.inner
                .multi
                .suspend(|| write_line(&mut std::io::stderr(), line));
        } else {
            write_line(&mut std::io::stderr(), line);
        }
    }

    /// Text on stderr without a newline (a prompt).
    pub fn eprint(&self, text: &str) {
        let mut err = std::io::stderr();
        let _ = write!(err, "{text}");
        let _ = err.flush();
    }

    /// An `--explain` line: the shell command behind what is about to happen, on stderr.
    pub fn explain(&self, command: &str) {
        let line = self.paint(Style::Dim, &format!("$ {command}"));
        self.eprintln(&line);
    }

    /// A spinner with `message` and the elapsed time, until the guard is dropped.
    /// Hidden with `--quiet` or when stderr is not a terminal.
    pub fn spinner(&self, message: &str) -> Spinner {
        use std::io::IsTerminal;
        let visible = !self.inner.quiet && std::io::stderr().is_terminal();
        let bar = if visible {
            let bar = self.inner.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            *self.inner.active.lock().expect("output lock") += 1;
            Some(bar)
        } else {
            None
        };
        let spinner = Spinner {
            bar,
            output: self.clone(),
        };
        spinner.set_message(message);
        spinner
    }
}

fn write_line(w: &mut dyn Write, line: &str) {
    let _ = writeln!(w, "{line}");
    let _ = w.flush();
}

/// A running spinner; dropping it clears it.
pub struct Spinner {
    bar: Option<ProgressBar>,
    output: Output,
}

impl Spinner {
    /// Changes the spinner's message (e.g. kind's current step).
    pub fn set_message(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            self.output.inner.multi.remove(&bar);
            *self.output.inner.active.lock().expect("output lock") -= 1;
        }
    }
}
