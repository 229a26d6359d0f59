//! Small global functions every script uses: `env(name)`, `sleep(duration)`,
//! `poll(f, opts)`, `exit_with(code, message)`, `shown(value)`.

use crate::errors::{Script, error};
use rhai::{Dynamic, FnPtr, Map, NativeCallContext};
use std::time::{Duration, Instant};

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::primitives::{Family, Registry};

/// Global helpers (no module prefix).
pub const FAMILY: Family = Family {
    name: "",
    summary: "env(name), sleep(duration), poll(f, opts), exit_with(code, message), shown(value)",
    register,
};

const POLL_DOC: &str = r#"Calls `f` until it returns something other than `false` or `()`, and returns that:
a wait for a change nothing announces (kube-proxy programming a Service's rules, a
NodePort that starts or stops answering). `f` runs at once, then every `every` (default
500ms) until `timeout` (default 30s). On the timeout it is an error naming `what` (or,
with `fail: false`, the last value `f` returned). An error `f` throws ends the poll (catch
it inside `f` to retry on it).

```rhai
let url = "http://172.18.0.3:32150/";
let r = poll(|| { let r = http::get(url, #{timeout: "2s", fail: false}); if "error" in r { false } else { r } },
             #{timeout: "20s", what: `${url} answers`});
print(r.status);
```"#;

/// The options of `poll`.
pub(crate) const POLL_OPTS: &[&str] = &["timeout", "every", "what", "fail"];

/// Registers `env`, `exit_with`, `sleep`, `poll` and `shown`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    reg.method(
        "env",
        &["name: String", "Dynamic"],
        "The value of environment variable `name`, or `()` when it is not set.\n\n```rhai\nlet kc = env(\"KUBECONFIG\");\nif kc == () { print(\"no KUBECONFIG\"); }\n```",
        |name: &str| -> Dynamic {
            std::env::var(name).map(Dynamic::from).unwrap_or(Dynamic::UNIT)
        },
    );
    reg.method(
        "exit_with",
        &["code: i64", "message: String", "()"],
        "Ends the script now with exit code `code` (0–255) after printing `message` on stderr;\n`try`/`catch` cannot stop it. The lab summary is still printed. Use 2 for a usage error\n(bad script arguments) or a missing prerequisite.\n\n```rhai\nif ARGS.len() > 2 { exit_with(2, \"usage: labsh run x.rhai -- [NAME]\"); }\n```",
        |code: i64, message: &str| -> ScriptResult<()> {
            let code = u8::try_from(code).map_err(|_| {
                crate::errors::error(format!("exit_with: the exit code must be 0 to 255, got {code}"))
            })?;
            Err(crate::errors::exit_with(code, message))
        },
    );
    let c = ctx.clone();
    reg.method(
        "sleep",
        &["duration: Dynamic", "()"],
        "Waits for `duration` (`\"500ms\"`, `\"5s\"`, `\"2m\"`, or seconds). Ctrl-C ends it.\n\n```rhai\nsleep(\"2s\");\n```",
        move |duration: Dynamic| -> ScriptResult<()> {
            let d = crate::options::duration_of(&duration).map_err(crate::errors::error)?;
            c.block_on(tokio::time::sleep(d)).script()?;
            Ok(())
        },
    );
    let c = ctx.clone();
    reg.method(
        "poll",
        &["f: FnPtr", "opts: Map", "Dynamic"],
        POLL_DOC,
        move |ncc: NativeCallContext, f: FnPtr, opts: Map| poll(&c, &ncc, f, opts),
    );
    let c = ctx.clone();
    reg.method(
        "poll",
        &["f: FnPtr", "Dynamic"],
        POLL_DOC,
        move |ncc: NativeCallContext, f: FnPtr| poll(&c, &ncc, f, Map::new()),
    );
    let c = ctx.clone();
    reg.method(
        "shown",
        &["value: Dynamic", "Dynamic"],
        "Returns `value` unchanged, marked as already shown: for a function that prints\nsomething and returns it. When it is the value of what was typed at the REPL, the REPL\ndoes not echo it a second time (as for `kube::table` or `lab::check`); a script sees\nno difference.\n\n```rhai\nfn show_nodes(names) {\n    for n in names { print(n); }\n    shown(names)\n}\nshow_nodes([\"lab-control-plane\", \"lab-worker\"]);\n```",
        move |value: Dynamic| crate::shown::shown(&c, value),
    );
}

fn poll(ctx: &Ctx, ncc: &NativeCallContext, f: FnPtr, opts: Map) -> ScriptResult<Dynamic> {
    let o = crate::options::Opts::new("poll", opts, POLL_OPTS)?;
    let timeout = o.duration("timeout")?.unwrap_or(Duration::from_secs(30));
    let every = o.duration("every")?.unwrap_or(Duration::from_millis(500));
    let what = o.string("what")?;
    let fail = o.bool("fail")?.unwrap_or(true);
    let deadline = Instant::now() + timeout;
    let mut tries = 0u32;
    loop {
        let v: Dynamic = f.call_within_context(ncc, ())?;
        tries += 1;
        let not_yet = v.is_unit() || v.as_bool() == Ok(false);
        if !not_yet {
            return Ok(v);
        }
        let now = Instant::now();
        if now >= deadline {
            if !fail {
                return Ok(v);
            }
            let what = what
                .map(|w| format!("waiting for {w}: "))
                .unwrap_or_default();
            return Err(error(format!(
                "poll: {what}still not the case after {} ({tries} tries, every {})",
                crate::kube::error::human(timeout),
                crate::kube::error::human(every)
            )));
        }
        let pause = every.min(deadline - now);
        ctx.block_on(tokio::time::sleep(pause)).script()?;
    }
}
