//! `kube::get`, `kube::list`, `kube::delete`, `kube::table` and the typed lookups
//! `kube::pods`, `kube::pod`, `kube::service`: reading and deleting objects, like
//! `kubectl get`/`delete` (the `Pod` and `Service` types are in [`super::types`]).

use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::kube::objects;
use crate::kube::typed::{Pod, Service};
use crate::options::Opts;
use crate::primitives::Registry;
use crate::shown::{shown, shown_if};

use super::options::{list_flags, list_query};
use super::{DEFAULT_WAIT, block, conn, explain, ns_flag, s, to_dynamic};

const GET_DOC: &str = r#"One object as a map, like `kubectl get KIND NAME -o yaml`: `kube::get(kind, name)` or
kubectl's `kube::get("KIND/NAME")` / `kube::get("KIND NAME")`. `kind` takes kubectl's
names (`svc`, `deploy`, `po`, `cep`, `deployments.apps`). As kubectl, it leaves out
`metadata.managedFields` unless `managed_fields: true` (`--show-managed-fields`). Options:
`namespace`, `managed_fields`.

```rhai
let d = kube::get("deploy", "frontend");
print(d.status.availableReplicas);
let svc = kube::get("svc/frontend");
```"#;

const LIST_DOC: &str = r#"Objects of a kind as an array of maps, without `metadata.managedFields` (as
`kube::get`). Options: `namespace`, `selector` (labels), `field_selector`,
`all_namespaces`, `managed_fields` (`true` keeps them).

```rhai
for p in kube::list("pods", #{namespace: "kube-system", selector: "k8s-app=cilium"}) {
    print(p.metadata.name);
}
```"#;

const DELETE_DOC: &str = r#"Deletes an object; returns `false` when it did not exist. Options: `namespace`,
`wait` (`true` = up to 2m, or a duration): return once it is gone.

```rhai
kube::delete("svc", "frontend", #{wait: "30s"});
```"#;

const TABLE_DOC: &str = r#"Prints and returns the table `kubectl get KIND` prints: the API server's own
columns (it asks for a `Table`, as kubectl does), so every kind has kubectl's columns, a
CRD's `additionalPrinterColumns` included; `wide: true` adds the `-o wide` columns. Nothing
found gives kubectl's `No resources found in NS namespace.`. Options: `namespace`,
`selector`, `field_selector`, `all_namespaces`, `wide`.

```rhai
kube::table("svc");
// NAME       TYPE       CLUSTER-IP     EXTERNAL-IP   PORT(S)        AGE
// frontend   NodePort   10.96.188.84   <none>        80:32150/TCP   107s
let t = kube::table("pods", #{namespace: "kube-system", wide: true});
```"#;

const PODS_DOC: &str = r#"Pods as `Pod` values (`name`, `namespace`, `node`, `ip`, `phase`, `ready`,
`containers` — maps `#{name, image, ready, restarts, state}` —, `labels`). Options:
`namespace`, `selector`, `field_selector`, `all_namespaces`.

```rhai
for p in kube::pods(#{selector: "app=guestbook"}) { print(`${p.name} on ${p.node}: ${p.ip}`); }
```"#;

const POD_DOC: &str = r#"One pod as a `Pod` value. Option `namespace`.

```rhai
let p = kube::pod("frontend-6c6d6dfd4d-xg8lp");
print(p.node);
```"#;

const SERVICE_DOC: &str = r#"A Service as a `Service` value: `name`, `namespace`, `type`, `cluster_ip`, `ports`
(maps `#{name, port, node_port, target_port, protocol}`), `selector`; `svc.node_port()` is
the first port's NodePort. Option `namespace`.

```rhai
let svc = kube::service("frontend");
print(svc.node_port()); // 32150
```"#;

/// `kube::list`'s options (also `crate::checker::options`).
pub(crate) const LIST_OPTS: &[&str] = &[
    "namespace",
    "selector",
    "field_selector",
    "all_namespaces",
    "managed_fields",
];

/// `kube::table`'s options (also `crate::checker::options`).
pub(crate) const TABLE_OPTS: &[&str] = &[
    "namespace",
    "selector",
    "field_selector",
    "all_namespaces",
    "wide",
];

/// Registers `kube::get`, `list`, `delete`, `table`, `pods`, `pod` and `service`.
pub(super) fn register(reg: &mut Registry, ctx: &Ctx) {
    with_and_without_opts!(reg, ctx, "get", GET_DOC,
        [kind: &str = "kind: String", name: &str = "name: String"] -> "Map", kube_get);
    with_and_without_opts!(reg, ctx, "get", GET_DOC,
        [target: &str = "target: String"] -> "Map", kube_get_target);
    with_and_without_opts!(reg, ctx, "list", LIST_DOC,
        [kind: &str = "kind: String"] -> "Array", kube_list);
    with_and_without_opts!(reg, ctx, "delete", DELETE_DOC,
        [kind: &str = "kind: String", name: &str = "name: String"] -> "bool", kube_delete);

    // tables and typed values
    with_and_without_opts!(reg, ctx, "table", TABLE_DOC,
        [kind: &str = "kind: String"] -> "String", kube_table);
    with_and_without_opts!(reg, ctx, "pods", PODS_DOC, [] -> "Array", kube_pods);
    with_and_without_opts!(reg, ctx, "pod", POD_DOC,
        [name: &str = "name: String"] -> "Pod", kube_pod);
    with_and_without_opts!(reg, ctx, "service", SERVICE_DOC,
        [name: &str = "name: String"] -> "Service", kube_service);
}

fn kube_get(ctx: &Ctx, kind: &str, name: &str, opts: Map) -> ScriptResult<Map> {
    let o = Opts::new("kube::get", opts, &["namespace", "managed_fields"])?;
    let ns = o.string("namespace")?;
    let managed = o.bool("managed_fields")?.unwrap_or(false);
    let mut argv = vec![s("get"), s(kind), s(name)];
    argv.extend(ns_flag(&ns));
    argv.extend([s("-o"), s("yaml")]);
    if managed {
        argv.push(s("--show-managed-fields"));
    }
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind(kind))?;
    let mut v = block(ctx, objects::get(&conn, &k, name, ns.as_deref()))?;
    if !managed {
        objects::hide_managed_fields(&mut v);
    }
    Ok(to_dynamic(&v).try_cast::<Map>().unwrap_or_default())
}

fn kube_get_target(ctx: &Ctx, target: &str, opts: Map) -> ScriptResult<Map> {
    let t = crate::kube::target::Target::parse(target)
        .map_err(|e| crate::errors::error(format!("kube::get: {e}")))?;
    match t.kind {
        Some(kind) => kube_get(ctx, &kind, &t.name, opts),
        None => Err(crate::errors::error(format!(
            "{}; {}",
            crate::call_errors::get_without_kind(target),
            crate::call_errors::KUBECTL_GET
        ))),
    }
}

fn kube_list(ctx: &Ctx, kind: &str, opts: Map) -> ScriptResult<Array> {
    let o = Opts::new("kube::list", opts, LIST_OPTS)?;
    let q = list_query(&o)?;
    let managed = o.bool("managed_fields")?.unwrap_or(false);
    let mut argv = vec![s("get"), s(kind)];
    argv.extend(list_flags(&q));
    argv.extend([s("-o"), s("yaml")]);
    if managed {
        argv.push(s("--show-managed-fields"));
    }
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind(kind))?;
    let mut items = block(ctx, objects::list(&conn, &k, &q))?;
    hint_if_empty(ctx, &q, items.is_empty());
    if !managed {
        items.iter_mut().for_each(objects::hide_managed_fields);
    }
    Ok(items.iter().map(to_dynamic).collect())
}

fn kube_delete(ctx: &Ctx, kind: &str, name: &str, opts: Map) -> ScriptResult<Dynamic> {
    let o = Opts::new("kube::delete", opts, &["namespace", "wait"])?;
    let ns = o.string("namespace")?;
    let wait = match o.get("wait") {
        None => None,
        Some(v) if v.is_bool() => v.as_bool().unwrap_or(false).then_some(DEFAULT_WAIT),
        Some(_) => o.duration("wait")?,
    };
    let mut argv = vec![s("delete"), s(kind), s(name)];
    argv.extend(ns_flag(&ns));
    argv.push(format!("--wait={}", wait.is_some()));
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind(kind))?;
    let deleted = block(ctx, objects::delete(&conn, &k, name, ns.as_deref(), wait))?;
    if deleted {
        ctx.output()
            .println(&format!("{} \"{name}\" deleted", k.display()));
    }
    Ok(shown_if(ctx, deleted, deleted.into()))
}

fn kube_table(ctx: &Ctx, kind: &str, opts: Map) -> ScriptResult<Dynamic> {
    let o = Opts::new("kube::table", opts, TABLE_OPTS)?;
    let q = list_query(&o)?;
    let wide = o.bool("wide")?.unwrap_or(false);
    // kubectl's comma list (`deploy,svc`): one table per kind, a blank line between.
    let kinds: Vec<&str> = kind.split(',').map(str::trim).collect();
    if kinds.iter().any(|k| k.is_empty()) {
        return Err(crate::errors::error(format!(
            "kube::table: `{kind}` has an empty kind; write kinds separated by commas (`deploy,svc`)"
        )));
    }
    let mut argv = vec![s("get"), s(&kinds.join(","))];
    argv.extend(list_flags(&q));
    if wide {
        argv.extend([s("-o"), s("wide")]);
    }
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let mut tables = Vec::new();
    for kind in kinds {
        let k = block(ctx, conn.kind(kind))?;
        let options = crate::kube::table::PrintOptions {
            wide,
            with_namespace: q.all_namespaces && k.namespaced,
        };
        let rendered = match block(ctx, crate::kube::table::fetch(&conn, &k, &q))? {
            crate::kube::table::Fetched::Table(t) => crate::kube::table::render(&t, options),
            crate::kube::table::Fetched::Items(items) => crate::kube::table::render_items(
                &items,
                options,
                k8s_openapi::jiff::Timestamp::now(),
            ),
        };
        tables.push(rendered.unwrap_or_else(|| {
            let namespaced = k.namespaced && !q.all_namespaces;
            let ns = conn.namespace(q.namespace.as_deref());
            let mut text = crate::kube::table::no_resources(namespaced.then_some(ns));
            if namespaced && let Some(hint) = all_namespaces_hint(&q) {
                text.push('\n');
                text.push_str(&hint);
            }
            text
        }));
    }
    let table = tables.join("\n\n");
    ctx.output().println(&table);
    Ok(shown(ctx, table.into()))
}

/// [`all_namespaces_hint`] on stderr when nothing was found.
fn hint_if_empty(ctx: &Ctx, q: &crate::kube::objects::ListQuery, empty: bool) {
    if let Some(hint) = all_namespaces_hint(q).filter(|_| empty) {
        ctx.output().eprintln(&hint);
    }
}

/// The hint for `namespace: "all"`, which names a namespace called `all` (as `kubectl -n
/// all` does), when the author meant every namespace.
pub(super) fn all_namespaces_hint(q: &crate::kube::objects::ListQuery) -> Option<String> {
    (q.namespace.as_deref() == Some("all") && !q.all_namespaces).then(|| {
        "hint: `namespace: \"all\"` is the namespace named `all`; for every namespace give `all_namespaces: true`".to_string()
    })
}

fn kube_pods(ctx: &Ctx, opts: Map) -> ScriptResult<Array> {
    let o = Opts::new(
        "kube::pods",
        opts,
        &["namespace", "selector", "field_selector", "all_namespaces"],
    )?;
    let q = list_query(&o)?;
    let mut argv = vec![s("get"), s("pods")];
    argv.extend(list_flags(&q));
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind("pods"))?;
    let items = block(ctx, objects::list(&conn, &k, &q))?;
    hint_if_empty(ctx, &q, items.is_empty());
    Ok(items
        .iter()
        .map(|v| Dynamic::from(Pod::from_json(v)))
        .collect())
}

fn kube_pod(ctx: &Ctx, name: &str, opts: Map) -> ScriptResult<Pod> {
    let o = Opts::new("kube::pod", opts, &["namespace"])?;
    let ns = o.string("namespace")?;
    let mut argv = vec![s("get"), s("pod"), s(name)];
    argv.extend(ns_flag(&ns));
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind("pods"))?;
    let v = block(ctx, objects::get(&conn, &k, name, ns.as_deref()))?;
    Ok(Pod::from_json(&v))
}

fn kube_service(ctx: &Ctx, name: &str, opts: Map) -> ScriptResult<Service> {
    let o = Opts::new("kube::service", opts, &["namespace"])?;
    let ns = o.string("namespace")?;
    let mut argv = vec![s("get"), s("svc"), s(name)];
    argv.extend(ns_flag(&ns));
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind("services"))?;
    let v = block(ctx, objects::get(&conn, &k, name, ns.as_deref()))?;
    Ok(Service::from_json(&v))
}
