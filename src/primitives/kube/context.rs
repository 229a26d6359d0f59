//! `kube::use_context`, `kube::context`, `kube::kinds`: which cluster the `kube::` functions
//! talk to, and what kinds it serves (discovery).

use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::options::Opts;
use crate::primitives::Registry;

use super::{block, conn, explain, s};

const USE_CONTEXT_DOC: &str = r#"Selects the kubeconfig context `kube::` primitives use from now on (the client is
rebuilt on next use). Option `kubeconfig`: a kubeconfig file to read instead of `KUBECONFIG`
or `~/.kube/config`.

```rhai
kube::use_context("kind-lab");
kube::use_context("kind-lab", #{kubeconfig: "/tmp/lab.kubeconfig"});
```"#;

const CONTEXT_DOC: &str = r#"The selected context: `#{name, server, namespace}` (reads the kubeconfig; does
not contact the server).

```rhai
let c = kube::context();
print(`${c.name} at ${c.server}`);
```"#;

const KINDS_DOC: &str = r#"The resource kinds the cluster serves (discovery): maps `#{name, kind, api_version,
namespaced, short_names}`.

```rhai
for k in kube::kinds() { if k.short_names.contains("cep") { print(k.name); } }
```"#;

/// Registers `kube::use_context`, `kube::context` and `kube::kinds`.
pub(super) fn register(reg: &mut Registry, ctx: &Ctx) {
    let m = "kube";
    let c = ctx.clone();
    reg.func(
        m,
        "use_context",
        &["name: String", "()"],
        USE_CONTEXT_DOC,
        move |name: &str| {
            crate::kube::use_context(&c, name);
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "use_context",
        &["name: String", "opts: Map", "()"],
        USE_CONTEXT_DOC,
        move |name: &str, opts: Map| -> ScriptResult<()> {
            let o = Opts::new("kube::use_context", opts, &["kubeconfig"])?;
            let path = o.string("kubeconfig")?.map(|p| c.resolve_path(&p));
            crate::selection::select(&c, Some(name.to_string()), path);
            Ok(())
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "context",
        &["Map"],
        CONTEXT_DOC,
        move || -> ScriptResult<Map> {
            let conn = conn(&c)?;
            let mut out = Map::new();
            out.insert("name".into(), conn.context.clone().into());
            out.insert("server".into(), conn.server.clone().into());
            out.insert("namespace".into(), conn.default_namespace.clone().into());
            Ok(out)
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "kinds",
        &["Array"],
        KINDS_DOC,
        move || -> ScriptResult<Array> {
            explain(&c, vec![s("api-resources")]);
            let conn = conn(&c)?;
            let catalog = block(&c, conn.catalog())?;
            Ok(catalog
                .kinds()
                .iter()
                .filter(|k| k.preferred)
                .map(|k| {
                    let mut m = Map::new();
                    m.insert("name".into(), k.resource.plural.clone().into());
                    m.insert("kind".into(), k.resource.kind.clone().into());
                    m.insert("api_version".into(), k.resource.api_version.clone().into());
                    m.insert("namespaced".into(), k.namespaced.into());
                    m.insert(
                        "short_names".into(),
                        k.short_names
                            .iter()
                            .cloned()
                            .map(Dynamic::from)
                            .collect::<Array>()
                            .into(),
                    );
                    Dynamic::from_map(m)
                })
                .collect())
        },
    );
}
