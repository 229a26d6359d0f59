//! `kube::apply`: server-side apply of files, YAML strings and maps, like
//! `kubectl apply --server-side -f` (the work is in `crate::kube::apply`).

use crate::errors::Script;
use rhai::{Array, Dynamic, ImmutableString, Map};
use serde_json::Value;

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::apply::{self, Document};
use crate::options::Opts;
use crate::primitives::Registry;
use crate::shown::shown;

use super::{block, conn, explain, ns_flag, s};

const APPLY_DOC: &str = r#"Server-side apply (field manager `labsh`), like `kubectl apply --server-side -f`.
`x` is a path (relative to the script), an array of paths, a YAML string (with a newline:
multi-document allowed) or a map. Every document is checked before the first is applied.
Prints `deployment.apps/frontend serverside-applied` per object and returns their references
`#{api_version, kind, name, namespace, ref}`. Discovery is re-run after a CRD is applied.
Option `namespace`: for documents that do not name one (default: the context's).
Bad YAML is an error naming the file, line and column; an unknown kind names its
apiVersion/kind.

```rhai
let applied = kube::apply(["frontend-deployment.yaml", "frontend-svc.yaml"]);
print(applied[0].ref); // deployment.apps/frontend
kube::apply(#{apiVersion: "v1", kind: "Namespace", metadata: #{name: "lab"}});
```"#;

/// Registers `kube::apply`.
pub(super) fn register(reg: &mut Registry, ctx: &Ctx) {
    with_and_without_opts!(reg, ctx, "apply", APPLY_DOC,
        [x: Dynamic = "x: Dynamic"] -> "Array", kube_apply);
}

fn kube_apply(ctx: &Ctx, x: Dynamic, opts: Map) -> ScriptResult<Dynamic> {
    let o = Opts::new("kube::apply", opts, &["namespace"])?;
    let namespace = o.string("namespace")?;
    let mut docs: Vec<Document> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let add_string =
        |text: &str, docs: &mut Vec<Document>, files: &mut Vec<String>| -> ScriptResult<()> {
            if text.contains('\n') {
                files.push("-".into());
                let parsed = apply::parse_documents(text, "<yaml string>").map_err(|e| {
                    // The string's bad line, quoted: the diagnostic finds it in the script.
                    let quoted = match &e {
                        crate::kube::KubeError::Yaml { error, .. } => error
                            .location
                            .map(|(line, _)| crate::yaml_quote::quote_yaml_line(text, line))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    error(format!("{e}{quoted}"))
                })?;
                docs.extend(parsed);
            } else {
                let path = ctx.resolve_path(text);
                let body = crate::bounded_file::read_to_string(&path, &ctx.settings().limits)
                    .map_err(|e| error(format!("kube::apply: {e}")))?;
                files.push(text.to_string());
                docs.extend(apply::parse_documents(&body, text).script()?);
            }
            Ok(())
        };
    if let Some(text) = x.read_lock::<ImmutableString>() {
        add_string(&text, &mut docs, &mut files)?;
    } else if let Some(arr) = x.read_lock::<Array>() {
        for item in arr.iter() {
            if let Some(text) = item.read_lock::<ImmutableString>() {
                add_string(&text, &mut docs, &mut files)?;
            } else if item.is_map() {
                files.push("-".into());
                let v: Value = rhai::serde::from_dynamic(item)?;
                docs.extend(apply::value_documents(v, "<map>"));
            } else {
                return Err(error(format!(
                    "kube::apply: array items must be paths, YAML strings or maps, got {}",
                    item.type_name()
                )));
            }
        }
    } else if x.is_map() {
        files.push("-".into());
        let v: Value = rhai::serde::from_dynamic(&x)?;
        docs.extend(apply::value_documents(v, "<map>"));
    } else {
        return Err(error(format!(
            "kube::apply: expected a path, an array of paths, a YAML string or a map, got {}",
            x.type_name()
        )));
    }
    files.dedup_by(|a, b| a == "-" && b == "-");
    if docs.is_empty() {
        // Issue 23, item 8: an empty manifest applied nothing without a word.
        let what = files
            .iter()
            .map(|f| {
                if f == "-" {
                    "the YAML given"
                } else {
                    f.as_str()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        ctx.output().eprintln(&format!(
            "kube::apply: no objects in {what}: nothing was applied"
        ));
        return Ok(Dynamic::from_array(Array::new()));
    }
    let mut argv = vec![s("apply"), s("--server-side")];
    argv.extend(ns_flag(&namespace));
    for f in &files {
        argv.extend([s("-f"), f.clone()]);
    }
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let out = ctx.output().clone();
    let print = move |line: &str| out.println(line);
    let applied = block(ctx, apply::apply(&conn, docs, namespace.as_deref(), &print))?;
    let policies: Vec<String> = applied
        .iter()
        .filter(|a| a.kind == "NetworkPolicy")
        .map(|a| a.name.clone())
        .collect();
    super::policy::warn_if_not_enforced(ctx, &conn, &policies);
    // Each object's `… serverside-applied` line shows the result.
    let refs: Array = applied
        .into_iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("api_version".into(), a.api_version.into());
            m.insert("kind".into(), a.kind.into());
            m.insert("name".into(), a.name.into());
            m.insert(
                "namespace".into(),
                a.namespace.map_or(Dynamic::UNIT, Dynamic::from),
            );
            m.insert("ref".into(), a.reference.into());
            Dynamic::from_map(m)
        })
        .collect();
    Ok(shown(ctx, refs.into()))
}
