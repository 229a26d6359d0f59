//! `fs::read`, `fs::write`, `fs::exists`: files relative to the script's folder.

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::primitives::{Family, Registry};

/// `fs::…`
pub const FAMILY: Family = Family {
    name: "fs",
    summary: "read and write files relative to the script",
    register,
};

/// Registers `fs::read`, `fs::write`, `fs::exists`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "fs",
        "read",
        &["path: String", "String"],
        "Reads a text file; a relative path is relative to the script's folder.\n\n```rhai\nlet values = fs::read(\"tp12/ebpf-values.yaml\");\n```",
        move |path: &str| -> ScriptResult<String> { read(&c, path) },
    );
    let c = ctx.clone();
    reg.func(
        "fs",
        "write",
        &["path: String", "text: String", "()"],
        "Writes `text` to a file (created or replaced); a relative path is relative to the script's folder.\n\n```rhai\nfs::write(\"out/nodes.txt\", \"control-plane\\n\");\n```",
        move |path: &str, text: &str| -> ScriptResult<()> {
            let p = c.resolve_path(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| error(format!("cannot create {}: {e}", parent.display())))?;
            }
            std::fs::write(&p, text).map_err(|e| error(format!("cannot write {}: {e}", p.display())))
        },
    );
    let c = ctx.clone();
    reg.func(
        "fs",
        "exists",
        &["path: String", "bool"],
        "Whether a file or folder exists (relative to the script's folder).\n\n```rhai\nif fs::exists(\"tp12/kind.yaml\") { print(\"config found\"); }\n```",
        move |path: &str| c.resolve_path(path).exists(),
    );
}

/// `fs::read`: the file's text, read no further than the string limit allows (issue 23: a
/// read of `/dev/zero` grew until memory ran out).
fn read(ctx: &Ctx, path: &str) -> ScriptResult<String> {
    let p = ctx.resolve_path(path);
    crate::bounded_file::read_to_string(&p, &ctx.settings().limits)
        .map_err(|e| error(e.to_string()))
}
