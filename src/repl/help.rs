//! `help()` and `help("kube::apply")` in the REPL: the modules, then one function's doc with
//! its example, from the doc comments the families register.

use rhai::NativeCallContext;

use crate::catalog::Catalog;
use crate::primitives::Family;
use crate::workbench::Session;

/// The overview `help()` prints.
pub fn overview(catalog: &Catalog) -> String {
    let mut out = String::from(
        "labsh: Rhai with lab primitives. Modules (help(\"MODULE\") lists a module's functions,\nhelp(\"MODULE::NAME\") shows one with its example):\n",
    );
    let width = catalog.modules.keys().map(String::len).max().unwrap_or(0);
    for (name, summary) in &catalog.modules {
        out.push_str(&format!("  {name:width$}  {summary}\n"));
    }
    let globals: Vec<String> = catalog
        .globals()
        .into_iter()
        .map(|f| f.name.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    out.push_str(&format!("Global functions: {}\n", globals.join(", ")));
    out.push_str("REPL commands: :load FILE, :reset, :quit (or Ctrl-D). Tab completes.\n");
    out
}

/// The text `help(name)` prints.
pub fn about(catalog: &Catalog, name: &str) -> String {
    match crate::api::describe(catalog, name) {
        Some(text) => text,
        None => {
            let near = crate::api::suggestions(catalog, name);
            if near.is_empty() {
                format!("no function or module named `{name}`; help() lists the modules\n")
            } else {
                format!(
                    "no function or module named `{name}`; did you mean: {}\n",
                    near.join(", ")
                )
            }
        }
    }
}

const HELP_DOC: &str = "Lists the modules (REPL only); `help(\"NAME\")` shows a module's functions or one\nfunction's doc with its example.\n\n```rhai\nhelp();\nhelp(\"fs::read\");\n```";

/// Registers `help()` and `help(name)` in the session's engine.
pub fn install(session: &mut Session) {
    let families: Vec<Family> = session.families().to_vec();
    let out = session.ctx().output().clone();
    let (f, o) = (families.clone(), out.clone());
    rhai::FuncRegistration::new("help")
        .with_params_info(["()"])
        .with_comments([crate::primitives::doc_comment(HELP_DOC)])
        .register_into_engine(session.engine_mut(), move |ctx: NativeCallContext| {
            let catalog = Catalog::of(ctx.engine(), &f, false);
            o.println(overview(&catalog).trim_end());
        });
    rhai::FuncRegistration::new("help")
        .with_params_info(["name: String", "()"])
        .with_comments([crate::primitives::doc_comment(HELP_DOC)])
        .register_into_engine(
            session.engine_mut(),
            move |ctx: NativeCallContext, name: &str| {
                let catalog = Catalog::of(ctx.engine(), &families, false);
                out.println(about(&catalog, name).trim_end());
            },
        );
}
