//! The lab's journal: what the HTML report shows besides the checks. Each step as it ran
//! (number, id, title, when it started, how long it took, how it ended), the shell commands
//! behind the primitives it called (the `--explain` lines, kept even without `--explain`), the
//! figures the script drew, and the lab's title and parameters. The `steps`, `report` and
//! explain hooks fill it; `labsh run` reads a [`Snapshot`] at the end, also after an error or
//! Ctrl-C, so a partial report still shows how far the lab got.
//!
//! Below the report writers (`crate::report`) and the primitives that fill it, with the other
//! records of a run: the [`checks`], the [`steps`] state and the [`flow`] figures.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use flow::Flow;

pub mod checks;
pub mod flow;
pub mod steps;

/// How a step ended (as far as the journal knows: its checks are in the check log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepEnd {
    /// Still running when the lab ended: the script failed or was interrupted inside it.
    Running,
    /// Its body returned.
    Done,
    /// Not run, with why (`--from dsr`, `skipped at the --step pause`).
    Skipped(String),
    /// The trainee ended the lab at this step's `--step` pause (`q`).
    Quit,
}

/// One step in the journal.
#[derive(Debug, Clone)]
pub struct StepRecord {
    /// Its number in the lab (1-based, counting skipped steps).
    pub number: usize,
    /// Its id (`dsr`).
    pub id: String,
    /// Its title, in the lab's language.
    pub title: String,
    /// How it ended.
    pub end: StepEnd,
    /// How long it ran (`None` when it did not run).
    pub duration: Option<Duration>,
    /// The shell commands behind the primitives it called, in order.
    pub commands: Vec<String>,
    /// The figures it drew, in order.
    pub figures: Vec<Flow>,
}

/// A copy of the journal, for the report.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The lab's title (`report::title`), if the script gave one.
    pub title: Option<String>,
    /// The lab's parameters (`report::param`), in the order given.
    pub params: Vec<(String, String)>,
    /// The steps, in order.
    pub steps: Vec<StepRecord>,
    /// Commands run outside any step.
    pub commands: Vec<String>,
    /// Figures drawn outside any step.
    pub figures: Vec<Flow>,
}

/// The session's journal (a [`crate::Ctx`] extension).
#[derive(Debug, Default)]
pub struct Journal {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    snapshot: Snapshot,
    /// When the running step started (the last step, while it runs).
    started: Option<Instant>,
}

impl Inner {
    fn running(&mut self) -> Option<&mut StepRecord> {
        self.started?;
        self.snapshot.steps.last_mut()
    }

    /// Ends the running step, if any, as done.
    fn close(&mut self) {
        if let Some(started) = self.started.take()
            && let Some(step) = self.snapshot.steps.last_mut()
        {
            step.end = StepEnd::Done;
            step.duration = Some(started.elapsed());
        }
    }
}

impl Journal {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Step `number` starts running (a step still running is closed first).
    pub fn begin(&self, number: usize, id: &str, title: &str) {
        let mut inner = self.lock();
        inner.close();
        inner
            .snapshot
            .steps
            .push(record(number, id, title, StepEnd::Running));
        inner.started = Some(Instant::now());
    }

    /// Step `number` will not run, because of `why`.
    pub fn skip(&self, number: usize, id: &str, title: &str, why: &str) {
        let mut inner = self.lock();
        inner.close();
        let end = StepEnd::Skipped(why.to_string());
        inner.snapshot.steps.push(record(number, id, title, end));
    }

    /// The trainee ended the lab at step `number`'s pause.
    pub fn quit(&self, number: usize, id: &str, title: &str) {
        let mut inner = self.lock();
        inner.close();
        inner
            .snapshot
            .steps
            .push(record(number, id, title, StepEnd::Quit));
    }

    /// The running step's body returned.
    pub fn end(&self) {
        self.lock().close();
    }

    /// A command a primitive ran (or is about to run), as a shell line.
    pub fn command(&self, line: &str) {
        let mut inner = self.lock();
        match inner.running() {
            Some(step) => step.commands.push(line.to_string()),
            None => inner.snapshot.commands.push(line.to_string()),
        }
    }

    /// A figure the script drew.
    pub fn figure(&self, flow: Flow) {
        let mut inner = self.lock();
        match inner.running() {
            Some(step) => step.figures.push(flow),
            None => inner.snapshot.figures.push(flow),
        }
    }

    /// Sets the lab's title.
    pub fn set_title(&self, title: &str) {
        self.lock().snapshot.title = Some(title.to_string());
    }

    /// Sets parameter `name` (replacing an earlier value, keeping its place).
    pub fn set_param(&self, name: &str, value: &str) {
        let mut inner = self.lock();
        let params = &mut inner.snapshot.params;
        match params.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.to_string(),
            None => params.push((name.to_string(), value.to_string())),
        }
    }

    /// A copy of the journal; a step still running gets its duration so far.
    pub fn snapshot(&self) -> Snapshot {
        let inner = self.lock();
        let mut snapshot = inner.snapshot.clone();
        if let (Some(started), Some(step)) = (inner.started, snapshot.steps.last_mut()) {
            step.duration = Some(started.elapsed());
        }
        snapshot
    }
}

fn record(number: usize, id: &str, title: &str, end: StepEnd) -> StepRecord {
    StepRecord {
        number,
        id: id.to_string(),
        title: title.to_string(),
        end,
        duration: None,
        commands: Vec::new(),
        figures: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_belong_to_the_running_step_and_a_step_left_open_stays_running() {
        let j = Journal::default();
        j.command("kind version");
        j.begin(1, "cluster", "Créer le cluster");
        j.command("kind create cluster --name tp12");
        j.end();
        j.skip(2, "cilium", "Installer Cilium", "--from dsr");
        j.begin(3, "dsr", "Sniffer");
        j.command("tcpdump -n -i veth1");
        let s = j.snapshot();
        assert_eq!(s.commands, ["kind version"]);
        assert_eq!(s.steps[0].commands, ["kind create cluster --name tp12"]);
        assert_eq!(s.steps[0].end, StepEnd::Done);
        assert!(s.steps[0].duration.is_some());
        assert_eq!(s.steps[1].end, StepEnd::Skipped("--from dsr".into()));
        assert_eq!(s.steps[1].duration, None);
        assert_eq!(s.steps[2].end, StepEnd::Running);
        assert_eq!(s.steps[2].commands, ["tcpdump -n -i veth1"]);
        assert!(s.steps[2].duration.is_some(), "running: the time so far");
    }

    #[test]
    fn a_parameter_set_twice_keeps_its_place_and_the_last_value() {
        let j = Journal::default();
        j.set_param("Cilium", "1.12.1");
        j.set_param("Cluster", "tp12");
        j.set_param("Cilium", "1.16.5");
        assert_eq!(
            j.snapshot().params,
            [
                ("Cilium".to_string(), "1.16.5".to_string()),
                ("Cluster".to_string(), "tp12".to_string())
            ]
        );
    }
}
