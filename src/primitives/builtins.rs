//! Small global functions every script uses: `env(name)`, `sleep(duration)`,
//! `exit_with(code, message)`, `shown(value)`.

use crate::errors::Script;
use rhai::Dynamic;

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::primitives::{Family, Registry};

/// Global helpers (no module prefix).
pub const FAMILY: Family = Family {
    name: "",
    summary: "env(name), sleep(duration), exit_with(code, message), shown(value)",
    register,
};

/// Registers `env`, `exit_with`, `sleep` and `shown`.
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
        "shown",
        &["value: Dynamic", "Dynamic"],
        "Returns `value` unchanged, marked as already shown: for a function that prints\nsomething and returns it. When it is the value of what was typed at the REPL, the REPL\ndoes not echo it a second time (as for `kube::table` or `lab::check`); a script sees\nno difference.\n\n```rhai\nfn show_nodes(names) {\n    for n in names { print(n); }\n    shown(names)\n}\nshow_nodes([\"lab-control-plane\", \"lab-worker\"]);\n```",
        move |value: Dynamic| crate::shown::shown(&c, value),
    );
}
