//! `steps::enter`: the native side of `lab::step`. It numbers the steps, honours `--from ID`
//! (steps before ID are skipped) and `--step` (a pause before each step: Enter runs it, `s`
//! skips it, `q` quits; one key on a terminal, no Enter after `s` or `q`), and remembers the current step so checks can name it. Each step is
//! also entered in the report's [`Journal`] (when it ran, how it ended); `steps::leave`, called
//! by `lab::step` when the body returns, closes it there.

use crate::errors::Script;
use rhai::{Dynamic, EvalAltResult, Position};

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::journal::Journal;
use crate::journal::steps::StepState;
use crate::output::Style;
use crate::primitives::{Family, Registry};
use labsh_core::escape;

/// `steps::…`
pub const FAMILY: Family = Family {
    name: "steps",
    summary: "the step bookkeeping behind lab::step",
    register,
};

/// What the trainee answered at a `--step` pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Enter: run the step.
    Run,
    /// `s`: skip it.
    Skip,
    /// `q` (or end of input): stop the lab.
    Quit,
}

/// Reads one answer line (`""` runs, `s` skips, `q` quits; anything else asks again).
pub fn parse_answer(line: Option<&str>) -> Option<Answer> {
    match line.map(str::trim) {
        None => Some(Answer::Quit),
        Some("") | Some("r") | Some("y") => Some(Answer::Run),
        Some("s") | Some("S") => Some(Answer::Skip),
        Some("q") | Some("Q") => Some(Answer::Quit),
        Some(_) => None,
    }
}

const ENTER_DOC: &str = r#"Starts lab step `id` (what `lab::step` calls): prints the numbered
header and returns whether the step should run (`false` when `--from` skips it or the
trainee answers `s` at a `--step` pause; `q` ends the script). Scripts use `lab::step`.

```rhai
if steps::enter("cluster", "Create the kind cluster") { print("creating"); }
```"#;

const LEAVE_DOC: &str = r#"Ends the running lab step (what `lab::step` calls when the step's body
returns): the report gets its duration. A step whose body failed stays open, and the report
marks it as where the lab stopped.

```rhai
if steps::enter("cluster", "Create the kind cluster") { print("creating"); steps::leave(); }
```"#;

/// Registers `steps::enter`, `steps::leave` and `steps::say`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "steps",
        "enter",
        &["id: String", "title: String", "bool"],
        ENTER_DOC,
        move |id: &str, title: &str| enter(&c, id, title),
    );
    let c = ctx.clone();
    reg.func("steps", "leave", &["()"], LEAVE_DOC, move || {
        c.ext::<Journal>().end();
    });
    let c = ctx.clone();
    reg.func(
        "steps",
        "say",
        &["text: String", "()"],
        "Prints an explanation for the current step, indented under its header (what\n`lab::say` calls).\n\n```rhai\nsteps::say(\"kube-proxy is absent: Cilium replaces it.\");\n```",
        move |text: &str| {
            let out = c.output();
            for line in text.lines() {
                out.println(&format!("   {line}"));
            }
        },
    );
}

fn enter(ctx: &Ctx, id: &str, title: &str) -> ScriptResult<bool> {
    let state = ctx.ext::<StepState>();
    let settings = ctx.settings();
    let out = ctx.output();
    let n = {
        let mut s = state.inner.lock().expect("step state");
        s.count += 1;
        s.current = None;
        if let Some(from) = &settings.from {
            if !s.from_reached && from == id {
                s.from_reached = true;
            }
            if !s.from_reached {
                let line = format!(
                    "-- Step {}: {title} [{id}]: skipped (--from {from})",
                    s.count
                );
                let n = s.count;
                drop(s);
                ctx.ext::<Journal>()
                    .skip(n, id, title, &format!("--from {from}"));
                out.println_styled(&out.paint(Style::Dim, &escape::control(&line)));
                return Ok(false);
            }
        }
        s.count
    };
    let header = format!("== Step {n}: {title} [{id}]");
    out.println_styled(&out.paint(Style::Bold, &escape::control(&header)));
    if settings.step {
        match ask(ctx, n)? {
            Answer::Run => {}
            Answer::Skip => {
                ctx.ext::<Journal>()
                    .skip(n, id, title, "skipped at the --step pause");
                out.println_styled(&out.paint(Style::Dim, "   skipped"));
                return Ok(false);
            }
            Answer::Quit => {
                ctx.ext::<Journal>().quit(n, id, title);
                out.println_styled(&out.paint(Style::Dim, "   stopped (q)"));
                return Err(Box::new(EvalAltResult::Exit(Dynamic::UNIT, Position::NONE)));
            }
        }
    }
    state.inner.lock().expect("step state").current = Some(id.to_string());
    ctx.ext::<Journal>().begin(n, id, title);
    Ok(true)
}

/// Asks on stderr and reads the answer from stdin: one key on a terminal (`s`, no Enter
/// after it), one line from a pipe (tests, scripted runs). Ctrl-C interrupts the wait.
fn ask(ctx: &Ctx, n: usize) -> ScriptResult<Answer> {
    let keys = labsh_core::keys::SingleKeys::enable();
    loop {
        ctx.output()
            .eprint(&format!("Run step {n}? [Enter] run, s skip, q quit: "));
        let answer = if keys.is_some() {
            let key = ctx.block_on(read_key()).script()?;
            let answer = parse_key(key);
            // The key is not echoed: say what it did, on the prompt's line.
            ctx.output().eprintln(match answer {
                Some(Answer::Run) => "run",
                Some(Answer::Skip) => "skip",
                Some(Answer::Quit) => "quit",
                None => "?",
            });
            answer
        } else {
            let line = ctx.block_on(read_line()).script()?;
            parse_answer(line.as_deref())
        };
        if let Some(answer) = answer {
            return Ok(answer);
        }
    }
}

/// Reads one key (`Enter` runs, `s` skips, `q` quits; anything else asks again; `None`,
/// the end of input, quits).
pub fn parse_key(key: Option<u8>) -> Option<Answer> {
    match key {
        None | Some(b'q') | Some(b'Q') | Some(4) => Some(Answer::Quit),
        Some(b'\r') | Some(b'\n') | Some(b'r') | Some(b'y') => Some(Answer::Run),
        Some(b's') | Some(b'S') => Some(Answer::Skip),
        Some(_) => None,
    }
}

/// One byte of stdin; `None` at EOF.
async fn read_key() -> Option<u8> {
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 1];
    match tokio::io::stdin().read(&mut byte).await {
        Ok(1) => Some(byte[0]),
        _ => None,
    }
}

/// One line of stdin, byte by byte so nothing past the newline is consumed; `None` at EOF.
async fn read_line() -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut stdin = tokio::io::stdin();
    let mut bytes = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match stdin.read(&mut byte).await {
            Ok(0) | Err(_) if bytes.is_empty() => return None,
            Ok(0) | Err(_) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => bytes.push(byte[0]),
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enter_runs_s_skips_q_and_end_of_input_quit() {
        assert_eq!(parse_answer(Some("")), Some(Answer::Run));
        assert_eq!(parse_answer(Some("s")), Some(Answer::Skip));
        assert_eq!(parse_answer(Some(" q ")), Some(Answer::Quit));
        assert_eq!(parse_answer(None), Some(Answer::Quit));
        assert_eq!(parse_answer(Some("what")), None);
    }

    #[test]
    fn a_single_key_answers_without_enter() {
        assert_eq!(parse_key(Some(b's')), Some(Answer::Skip));
        assert_eq!(parse_key(Some(b'q')), Some(Answer::Quit));
        assert_eq!(parse_key(Some(b'\r')), Some(Answer::Run));
        assert_eq!(parse_key(None), Some(Answer::Quit));
        assert_eq!(parse_key(Some(b'x')), None);
    }
}
