//! Small global functions every script uses: `env(name)`, `sleep(duration)`.

use rhai::Dynamic;

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::primitives::{Family, Registry};

/// Global helpers (no module prefix).
pub const FAMILY: Family = Family {
    name: "",
    summary: "env(name), sleep(duration)",
    register,
};

/// Registers `env` and `sleep`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    reg.method(
        "env",
        &["name: String", "Dynamic"],
        "The value of environment variable `name`, or `()` when it is not set.\n\n```rhai\nlet kc = env(\"KUBECONFIG\");\nif kc == () { print(\"no KUBECONFIG\"); }\n```",
        |name: &str| -> Dynamic {
            std::env::var(name).map(Dynamic::from).unwrap_or(Dynamic::UNIT)
        },
    );
    let c = ctx.clone();
    reg.method(
        "sleep",
        &["duration: Dynamic", "()"],
        "Waits for `duration` (`\"500ms\"`, `\"5s\"`, `\"2m\"`, or seconds). Ctrl-C ends it.\n\n```rhai\nsleep(\"2s\");\n```",
        move |duration: Dynamic| -> ScriptResult<()> {
            let d = crate::duration::from_dynamic(&duration).map_err(crate::errors::error)?;
            c.block_on(tokio::time::sleep(d))?;
            Ok(())
        },
    );
}
