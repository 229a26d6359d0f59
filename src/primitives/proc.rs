//! `proc::run`: run a program from an argument vector and get its exit code and output.

use crate::errors::Script;
use rhai::{Array, Dynamic, ImmutableString, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::options::Opts;
use crate::primitives::{Family, Registry};
use crate::process::{self, Spec};

/// `proc::…`
pub const FAMILY: Family = Family {
    name: "proc",
    summary: "run programs from argument vectors",
    register,
};

const RUN_DOC: &str = r#"Runs a program from an argument vector (never a shell string) and returns
`#{code, signal, stdout, stderr, truncated}`. `signal` names the signal behind a status
128 + N (`"SIGSEGV"` for 139), else `()`. A non-zero exit is not an error: check `code`.
Options: `timeout` (kills the program and its children), `env` (a map), `cwd`
(relative to the script's folder). A missing program is an error naming it. Output past
the string limit (`--max-string-size`, stdout and stderr together) is not kept: the
program is stopped there, `truncated` is true and stderr says so.

```rhai
let r = proc::run(["uname", "-r"]);
print(r.stdout);
let r = proc::run(["ls", "/nope"], #{timeout: "5s"});
if r.code != 0 { print("ls failed: " + r.stderr); }
```"#;

/// Registers `proc::run`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "proc",
        "run",
        &["argv: Array", "Map"],
        RUN_DOC,
        move |argv: Array| run(&c, argv, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        "proc",
        "run",
        &["argv: Array", "opts: Map", "Map"],
        RUN_DOC,
        move |argv: Array, opts: Map| run(&c, argv, opts),
    );
}

/// Converts a script array of strings (or numbers) into an argument vector.
pub fn argv_from(func: &str, argv: &Array) -> ScriptResult<Vec<String>> {
    if argv.is_empty() {
        return Err(error(format!("{func}: the argument vector is empty")));
    }
    argv.iter()
        .map(|a| {
            if let Some(s) = a.read_lock::<ImmutableString>() {
                Ok(s.to_string())
            } else if a.is_int() || a.is_float() || a.is_bool() {
                Ok(a.to_string())
            } else {
                Err(error(format!(
                    "{func}: argument vectors hold strings, got {} `{a}`",
                    a.type_name()
                )))
            }
        })
        .collect()
}

fn run(ctx: &Ctx, argv: Array, opts: Map) -> ScriptResult<Map> {
    let o = Opts::new("proc::run", opts, &["timeout", "env", "cwd"])?;
    let mut spec = Spec::new(argv_from("proc::run", &argv)?);
    spec.timeout = o.duration("timeout")?;
    if let Some(env) = o.map("env")? {
        spec.env = env
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }
    spec.cwd = o.string("cwd")?.map(|d| ctx.resolve_path(&d));
    ctx.explain(&spec.argv);
    let token = ctx.cancel_token();
    let limits = ctx.settings().limits;
    // stdout and stderr count together against the string limit (they share one map).
    let budget = limits.string_bytes();
    let (mut captured, stopped) = ctx
        .runtime()
        .block_on(process::run_bounded(&spec, &token, budget))
        .script()?;
    // Bytes that are not UTF-8 widen to U+FFFD, and the map's signal counts too: cut again,
    // at a character.
    let code = captured.code as i64;
    let signal = crate::exit_signal::signal_of_exit(code);
    let truncated = stopped
        | super::output_fit::fit_beside(
            &mut captured.stdout,
            &mut captured.stderr,
            signal.map_or(0, str::len),
            budget,
        );
    if truncated {
        ctx.output().eprintln(&limits.string_note(
            "proc::run",
            &format!(
                "kept the first {} bytes of the output of `{}`{}",
                captured.stdout.len() + captured.stderr.len(),
                spec.command_line(),
                if stopped { ", then stopped it" } else { "" }
            ),
        ));
    }
    let mut out = Map::new();
    out.insert("code".into(), Dynamic::from_int(code));
    out.insert("signal".into(), signal.map_or(Dynamic::UNIT, Dynamic::from));
    out.insert("stdout".into(), captured.stdout.into());
    out.insert("stderr".into(), captured.stderr.into());
    out.insert("truncated".into(), truncated.into());
    Ok(out)
}
