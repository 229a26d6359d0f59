//! The one output layer: `print`, `debug`, `--explain` lines and spinners all go through here,
//! so a line printed while a spinner turns never garbles it (indicatif's `MultiProgress`
//! suspends the bars around each line).

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

    /// A line on stdout, its control characters escaped (it may hold text from outside: a
    /// log line, a capture, a script's string; see [`crate::escape`]).
    pub fn println(&self, line: &str) {
        self.println_styled(&crate::escape::control(line));
    }

    /// A line a script printed (`print`): escaped like [`Output::println`], except that
    /// labsh's own styles stay when colours are on (a `report::flow` diagram is drawn in
    /// bold); see [`crate::escape::control_keeping_styles`].
    pub fn println_script(&self, line: &str) {
        if self.inner.color {
            self.println_styled(&crate::escape::control_keeping_styles(line));
        } else {
            self.println(line);
        }
    }

    /// A line labsh styled itself with [`Output::paint`], on stdout as it is: whatever came
    /// from outside in it must have been escaped with [`crate::escape::control`].
    pub fn println_styled(&self, line: &str) {
        if self.bars_active() {
            self.inner.multi.suspend(|| crate::stdio::outln(line));
        } else {
            crate::stdio::outln(line);
        }
    }

    /// A line on stderr, its control characters escaped (see [`Output::println`]).
    pub fn eprintln(&self, line: &str) {
        self.eprintln_styled(&crate::escape::control(line));
    }

    /// A line labsh styled itself, on stderr as it is (see [`Output::println_styled`]).
    pub fn eprintln_styled(&self, line: &str) {
        if self.bars_active() {
            self.inner.multi.suspend(|| crate::stdio::errln(line));
        } else {
            crate::stdio::errln(line);
        }
    }

    /// Text on stderr without a newline (a prompt).
    pub fn eprint(&self, text: &str) {
        crate::stdio::err(text);
    }

    /// An `--explain` line: the shell command behind what is about to happen, on stderr.
    pub fn explain(&self, command: &str) {
        let command = crate::escape::control(command);
        let line = self.paint(Style::Dim, &format!("$ {command}"));
        self.eprintln_styled(&line);
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
