//! `kube::…`: Kubernetes objects from scripts — context selection, server-side apply,
//! get/list/delete, kubectl-like tables, typed `Pod` and `Service` values, watch-based
//! waits and exec. The work is in `crate::kube`; this file reads options, prints `--explain`
//! lines and converts values.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, FnPtr, ImmutableString, Map, NativeCallContext};
use serde_json::Value;

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::apply::{self, Document};
use crate::kube::exec::{ExecLine, exec_lines};
use crate::kube::objects::{self, ListQuery};
use crate::kube::target::{Target, selector_subject};
use crate::kube::typed::{Pod, Service};
use crate::kube::wait::{self, Check};
use crate::kube::{Conn, KubeError, connect};
use crate::options::Opts;
use crate::primitives::proc::argv_from;
use crate::primitives::{Family, Registry};
use crate::repl::shown::{shown, shown_if};

/// `kube::…`
pub const FAMILY: Family = Family {
    name: "kube",
    summary: "Kubernetes objects: apply, get, tables, waits, exec (kube-rs)",
    register,
};

/// The default timeout of waits.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(120);

/// Runs a kube future from the engine thread (Ctrl-C ends it).
pub fn block<T>(ctx: &Ctx, fut: impl Future<Output = Result<T, KubeError>>) -> ScriptResult<T> {
    Ok(ctx.block_on(fut)??)
}

/// The connection to the selected context.
pub fn conn(ctx: &Ctx) -> ScriptResult<Arc<Conn>> {
    block(ctx, connect(ctx))
}

/// What [`recv`] got.
pub enum Recv<T> {
    /// An item.
    Item(T),
    /// The channel closed.
    Closed,
    /// The deadline passed.
    TimedOut,
}

/// The next item of a channel, received on the engine thread: straight from the queue when
/// one is waiting (no runtime round-trip per line), otherwise waiting up to `deadline`;
/// Ctrl-C ends it either way.
pub fn recv<T>(
    ctx: &Ctx,
    rx: &mut tokio::sync::mpsc::Receiver<T>,
    deadline: Option<tokio::time::Instant>,
) -> ScriptResult<Recv<T>> {
    use tokio::sync::mpsc::error::TryRecvError;
    if ctx.cancel_token().is_cancelled() {
        return Err(crate::errors::interrupted());
    }
    if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
        return Ok(Recv::TimedOut);
    }
    match rx.try_recv() {
        Ok(v) => return Ok(Recv::Item(v)),
        Err(TryRecvError::Disconnected) => return Ok(Recv::Closed),
        Err(TryRecvError::Empty) => {}
    }
    let got = match deadline {
        Some(d) => match ctx.block_on(tokio::time::timeout_at(d, rx.recv()))? {
            Ok(v) => v,
            Err(_) => return Ok(Recv::TimedOut),
        },
        None => ctx.block_on(rx.recv())?,
    };
    Ok(got.map_or(Recv::Closed, Recv::Item))
}

/// A JSON value as a Rhai value.
pub fn to_dynamic(v: &Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

/// A pod given as a name or a `Pod`: `(namespace, name)`; the namespace falls back to
/// `namespace` (an option) and then to the context's.
pub fn pod_arg(
    func: &str,
    pod: &Dynamic,
    namespace: Option<String>,
) -> ScriptResult<(Option<String>, String)> {
    if let Some(p) = pod.read_lock::<Pod>() {
        return Ok((
            Some(namespace.unwrap_or_else(|| p.namespace.clone())),
            p.name.clone(),
        ));
    }
    if let Some(s) = pod.read_lock::<ImmutableString>() {
        return Ok((namespace, s.to_string()));
    }
    Err(error(format!(
        "{func}: expected a pod name or a Pod, got {} `{pod}`",
        pod.type_name()
    )))
}

/// `["-n", ns]` when a namespace was given.
pub fn ns_flag(namespace: &Option<String>) -> Vec<String> {
    namespace
        .as_ref()
        .map(|n| vec!["-n".to_string(), n.clone()])
        .unwrap_or_default()
}

fn list_query(o: &Opts) -> ScriptResult<ListQuery> {
    Ok(ListQuery {
        namespace: o.string("namespace")?,
        selector: o.string("selector")?,
        field_selector: o.string("field_selector")?,
        all_namespaces: o.bool("all_namespaces")?.unwrap_or(false),
    })
}

fn list_flags(q: &ListQuery) -> Vec<String> {
    let mut v = if q.all_namespaces {
        vec!["-A".to_string()]
    } else {
        ns_flag(&q.namespace)
    };
    if let Some(s) = &q.selector {
        v.extend(["-l".to_string(), s.clone()]);
    }
    if let Some(f) = &q.field_selector {
        v.extend(["--field-selector".to_string(), f.clone()]);
    }
    v
}

fn explain(ctx: &Ctx, parts: Vec<String>) {
    let mut argv = vec!["kubectl".to_string()];
    argv.extend(parts);
    ctx.explain(&argv);
}

fn s(v: &str) -> String {
    v.to_string()
}

// ---------------------------------------------------------------------------------------
// Docs

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

const GET_DOC: &str = r#"One object as a map, like `kubectl get KIND NAME -o yaml`. `kind` takes kubectl's
names (`svc`, `deploy`, `po`, `cep`, `deployments.apps`). As kubectl, it leaves out
`metadata.managedFields` unless `managed_fields: true` (`--show-managed-fields`). Options:
`namespace`, `managed_fields`.

```rhai
let d = kube::get("deploy", "frontend");
print(d.status.availableReplicas);
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

const WAIT_ROLLOUT_DOC: &str = r#"Waits until a rollout is complete, like `kubectl rollout status`: `deployment/NAME`,
`daemonset/NAME` or `statefulset/NAME`. Watch-based; returns the object. Options:
`namespace`, `timeout` (default 2m); a timeout error says what was last seen.

```rhai
kube::wait_rollout("deployment/frontend", #{timeout: "3m"});
```"#;

const WAIT_READY_DOC: &str = r#"Waits until every matching object is ready: `pods` (condition Ready), `nodes`
(Ready), `daemonsets` (every desired pod updated and available); at least one must match.
Watch-based; returns the objects as maps. Options: `namespace`, `selector`,
`field_selector`, `all_namespaces`, `timeout` (default 2m). On timeout the error says what
was last seen, e.g. `2/4 cilium pods Ready; cilium-x7k2p: CrashLoopBackOff`.

```rhai
kube::wait_ready("pods", #{namespace: "kube-system", selector: "k8s-app=cilium", timeout: "5m"});
kube::wait_ready("nodes");
```"#;

const WAIT_FOR_DOC: &str = r#"Waits until `pred(obj)` returns true for object `name` (the closure gets the object
as a map, on every change). Watch-based; returns the object. Options: `namespace`,
`timeout` (default 2m).

```rhai
let svc = kube::wait_for("svc", "frontend", |o| o.spec.ports[0].nodePort != (), #{timeout: "30s"});
```"#;

const EXEC_DOC: &str = r#"Runs a command in a pod (name or `Pod`) and returns `#{code, stdout, stderr}`; a
non-zero exit is not an error. Output is read line by line: each line of `stdout`/`stderr`
ends with a newline (one is added to a last line that had none). Options: `container`,
`namespace`, `timeout` (the exec is closed and an error raised).

```rhai
let agent = monitor::agent_pod("lab-worker");
let r = kube::exec(agent, ["cilium-dbg", "version"], #{container: "cilium-agent"});
let r = kube::exec("frontend-abc", ["cat", "/etc/hostname"]);
print(r.code);
```"#;

const EXEC_STREAM_DOC: &str = r#"Runs a command in a pod and calls `callback(line)` for each stdout line as it
arrives; the callback returning `false` stops the command (the exec is closed). Returns
`#{code, stderr, stopped}`: `code` is `()` when stopped early, `stderr` holds stderr lines.
Options: `container`, `namespace`, `timeout` (stops, without error).

```rhai
kube::exec_stream("cilium-x7k2p", ["cilium-dbg", "monitor"], #{namespace: "kube-system", timeout: "10s"}, |line| {
    print(line);
    !line.contains("drop")
});
```"#;

/// Registers the `kube::` functions and the `Pod`/`Service` types.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    register_types(reg);
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

    // apply
    let c = ctx.clone();
    reg.func(
        m,
        "apply",
        &["x: Dynamic", "Array"],
        APPLY_DOC,
        move |x: Dynamic| kube_apply(&c, x, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "apply",
        &["x: Dynamic", "opts: Map", "Array"],
        APPLY_DOC,
        move |x: Dynamic, opts: Map| kube_apply(&c, x, opts),
    );

    // get / list / delete
    let c = ctx.clone();
    reg.func(
        m,
        "get",
        &["kind: String", "name: String", "Map"],
        GET_DOC,
        move |kind: &str, name: &str| kube_get(&c, kind, name, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "get",
        &["kind: String", "name: String", "opts: Map", "Map"],
        GET_DOC,
        move |kind: &str, name: &str, opts: Map| kube_get(&c, kind, name, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "list",
        &["kind: String", "Array"],
        LIST_DOC,
        move |kind: &str| kube_list(&c, kind, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "list",
        &["kind: String", "opts: Map", "Array"],
        LIST_DOC,
        move |kind: &str, opts: Map| kube_list(&c, kind, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "delete",
        &["kind: String", "name: String", "bool"],
        DELETE_DOC,
        move |kind: &str, name: &str| kube_delete(&c, kind, name, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "delete",
        &["kind: String", "name: String", "opts: Map", "bool"],
        DELETE_DOC,
        move |kind: &str, name: &str, opts: Map| kube_delete(&c, kind, name, opts),
    );

    // tables and typed values
    let c = ctx.clone();
    reg.func(
        m,
        "table",
        &["kind: String", "String"],
        TABLE_DOC,
        move |kind: &str| kube_table(&c, kind, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "table",
        &["kind: String", "opts: Map", "String"],
        TABLE_DOC,
        move |kind: &str, opts: Map| kube_table(&c, kind, opts),
    );
    let c = ctx.clone();
    reg.func(m, "pods", &["Array"], PODS_DOC, move || {
        kube_pods(&c, Map::new())
    });
    let c = ctx.clone();
    reg.func(
        m,
        "pods",
        &["opts: Map", "Array"],
        PODS_DOC,
        move |opts: Map| kube_pods(&c, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "pod",
        &["name: String", "Pod"],
        POD_DOC,
        move |name: &str| kube_pod(&c, name, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "pod",
        &["name: String", "opts: Map", "Pod"],
        POD_DOC,
        move |name: &str, opts: Map| kube_pod(&c, name, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "service",
        &["name: String", "Service"],
        SERVICE_DOC,
        move |name: &str| kube_service(&c, name, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "service",
        &["name: String", "opts: Map", "Service"],
        SERVICE_DOC,
        move |name: &str, opts: Map| kube_service(&c, name, opts),
    );

    // waits
    let c = ctx.clone();
    reg.func(
        m,
        "wait_rollout",
        &["target: String", "Map"],
        WAIT_ROLLOUT_DOC,
        move |t: &str| wait_rollout(&c, t, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "wait_rollout",
        &["target: String", "opts: Map", "Map"],
        WAIT_ROLLOUT_DOC,
        move |t: &str, opts: Map| wait_rollout(&c, t, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "wait_ready",
        &["kind: String", "Array"],
        WAIT_READY_DOC,
        move |k: &str| wait_ready(&c, k, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "wait_ready",
        &["kind: String", "opts: Map", "Array"],
        WAIT_READY_DOC,
        move |k: &str, opts: Map| wait_ready(&c, k, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "wait_for",
        &["kind: String", "name: String", "pred: FnPtr", "Map"],
        WAIT_FOR_DOC,
        move |ncc: NativeCallContext, k: &str, n: &str, pred: FnPtr| {
            wait_for(&c, &ncc, k, n, pred, Map::new())
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "wait_for",
        &[
            "kind: String",
            "name: String",
            "pred: FnPtr",
            "opts: Map",
            "Map",
        ],
        WAIT_FOR_DOC,
        move |ncc: NativeCallContext, k: &str, n: &str, pred: FnPtr, opts: Map| {
            wait_for(&c, &ncc, k, n, pred, opts)
        },
    );

    // exec
    let c = ctx.clone();
    reg.func(
        m,
        "exec",
        &["pod: Dynamic", "argv: Array", "Map"],
        EXEC_DOC,
        move |pod: Dynamic, argv: Array| kube_exec(&c, pod, argv, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "exec",
        &["pod: Dynamic", "argv: Array", "opts: Map", "Map"],
        EXEC_DOC,
        move |pod: Dynamic, argv: Array, opts: Map| kube_exec(&c, pod, argv, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "exec_stream",
        &["pod: Dynamic", "argv: Array", "callback: FnPtr", "Map"],
        EXEC_STREAM_DOC,
        move |ncc: NativeCallContext, pod: Dynamic, argv: Array, cb: FnPtr| {
            exec_stream(&c, &ncc, pod, argv, Map::new(), cb)
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "exec_stream",
        &[
            "pod: Dynamic",
            "argv: Array",
            "opts: Map",
            "callback: FnPtr",
            "Map",
        ],
        EXEC_STREAM_DOC,
        move |ncc: NativeCallContext, pod: Dynamic, argv: Array, opts: Map, cb: FnPtr| {
            exec_stream(&c, &ncc, pod, argv, opts, cb)
        },
    );
}

fn register_types(reg: &mut Registry) {
    let e = reg.engine();
    e.register_type_with_name::<Pod>("Pod")
        .register_get("name", |p: &mut Pod| p.name.clone())
        .register_get("namespace", |p: &mut Pod| p.namespace.clone())
        .register_get("node", |p: &mut Pod| p.node.clone())
        .register_get("ip", |p: &mut Pod| p.ip.clone())
        .register_get("phase", |p: &mut Pod| p.phase.clone())
        .register_get("ready", |p: &mut Pod| p.ready)
        .register_get("containers", |p: &mut Pod| -> Array {
            p.containers
                .iter()
                .map(|c| {
                    let mut m = Map::new();
                    m.insert("name".into(), c.name.clone().into());
                    m.insert("image".into(), c.image.clone().into());
                    m.insert("ready".into(), c.ready.into());
                    m.insert("restarts".into(), c.restarts.into());
                    m.insert("state".into(), c.state.clone().into());
                    Dynamic::from_map(m)
                })
                .collect()
        })
        .register_get("labels", |p: &mut Pod| -> Map {
            p.labels
                .iter()
                .map(|(k, v)| (k.into(), v.clone().into()))
                .collect()
        })
        .register_fn("to_string", |p: &mut Pod| {
            format!("Pod({}/{} on {}, {})", p.namespace, p.name, p.node, p.phase)
        })
        .register_fn("to_debug", |p: &mut Pod| format!("{p:?}"));
    e.register_type_with_name::<Service>("Service")
        .register_get("name", |s: &mut Service| s.name.clone())
        .register_get("namespace", |s: &mut Service| s.namespace.clone())
        .register_get("type", |s: &mut Service| s.type_.clone())
        .register_get("cluster_ip", |s: &mut Service| s.cluster_ip.clone())
        .register_get("ports", |s: &mut Service| -> Array {
            s.ports
                .iter()
                .map(|p| {
                    let mut m = Map::new();
                    m.insert("name".into(), p.name.clone().into());
                    m.insert("port".into(), p.port.into());
                    m.insert(
                        "node_port".into(),
                        p.node_port.map_or(Dynamic::UNIT, Dynamic::from_int),
                    );
                    m.insert("target_port".into(), p.target_port.clone().into());
                    m.insert("protocol".into(), p.protocol.clone().into());
                    Dynamic::from_map(m)
                })
                .collect()
        })
        .register_get("selector", |s: &mut Service| -> Map {
            s.selector
                .iter()
                .map(|(k, v)| (k.into(), v.clone().into()))
                .collect()
        })
        .register_fn("to_string", |s: &mut Service| {
            format!(
                "Service({}/{} {} {})",
                s.namespace, s.name, s.type_, s.cluster_ip
            )
        })
        .register_fn("to_debug", |s: &mut Service| format!("{s:?}"));
    reg.method(
        "node_port",
        &["svc: Service", "i64"],
        "The first port's NodePort; an error for services without one.\n\n```rhai\nlet port = kube::service(\"frontend\").node_port();\n```",
        |svc: &mut Service| -> ScriptResult<i64> { svc.node_port().map_err(error) },
    );
}

// ---------------------------------------------------------------------------------------
// Implementations

fn kube_apply(ctx: &Ctx, x: Dynamic, opts: Map) -> ScriptResult<Dynamic> {
    let o = Opts::new("kube::apply", opts, &["namespace"])?;
    let namespace = o.string("namespace")?;
    let mut docs: Vec<Document> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    let add_string =
        |text: &str, docs: &mut Vec<Document>, files: &mut Vec<String>| -> ScriptResult<()> {
            if text.contains('\n') {
                files.push("-".into());
                docs.extend(apply::parse_documents(text, "<yaml string>")?);
            } else {
                let path = ctx.resolve_path(text);
                let body = std::fs::read_to_string(&path).map_err(|e| {
                    error(format!("kube::apply: cannot read {}: {e}", path.display()))
                })?;
                files.push(text.to_string());
                docs.extend(apply::parse_documents(&body, text)?);
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
    let mut argv = vec![s("apply"), s("--server-side")];
    argv.extend(ns_flag(&namespace));
    files.dedup_by(|a, b| a == "-" && b == "-");
    for f in &files {
        argv.extend([s("-f"), f.clone()]);
    }
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let out = ctx.output().clone();
    let print = move |line: &str| out.println(line);
    let applied = block(ctx, apply::apply(&conn, docs, namespace.as_deref(), &print))?;
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

fn kube_list(ctx: &Ctx, kind: &str, opts: Map) -> ScriptResult<Array> {
    let o = Opts::new(
        "kube::list",
        opts,
        &[
            "namespace",
            "selector",
            "field_selector",
            "all_namespaces",
            "managed_fields",
        ],
    )?;
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
    let o = Opts::new(
        "kube::table",
        opts,
        &[
            "namespace",
            "selector",
            "field_selector",
            "all_namespaces",
            "wide",
        ],
    )?;
    let q = list_query(&o)?;
    let wide = o.bool("wide")?.unwrap_or(false);
    let mut argv = vec![s("get"), s(kind)];
    argv.extend(list_flags(&q));
    if wide {
        argv.extend([s("-o"), s("wide")]);
    }
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind(kind))?;
    let options = crate::kube::table::PrintOptions {
        wide,
        with_namespace: q.all_namespaces && k.namespaced,
    };
    let rendered = match block(ctx, crate::kube::table::fetch(&conn, &k, &q))? {
        crate::kube::table::Fetched::Table(t) => crate::kube::table::render(&t, options),
        crate::kube::table::Fetched::Items(items) => {
            crate::kube::table::render_items(&items, options, k8s_openapi::jiff::Timestamp::now())
        }
    };
    let table = rendered.unwrap_or_else(|| {
        let namespaced = k.namespaced && !q.all_namespaces;
        crate::kube::table::no_resources(namespaced.then(|| conn.namespace(q.namespace.as_deref())))
    });
    ctx.output().println(&table);
    Ok(shown(ctx, table.into()))
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

fn watch_config(q: &ListQuery) -> kube::runtime::watcher::Config {
    let mut c = kube::runtime::watcher::Config::default();
    if let Some(s) = &q.selector {
        c = c.labels(s);
    }
    if let Some(f) = &q.field_selector {
        c = c.fields(f);
    }
    c
}

fn wait_rollout(ctx: &Ctx, target: &str, opts: Map) -> ScriptResult<Dynamic> {
    let o = Opts::new("kube::wait_rollout", opts, &["namespace", "timeout"])?;
    let ns = o.string("namespace")?;
    let timeout = o.duration("timeout")?.unwrap_or(DEFAULT_WAIT);
    let t = Target::parse(target).map_err(error)?;
    let Some(kind_name) = t.kind.clone() else {
        return Err(error(format!(
            "kube::wait_rollout: `{target}` names no kind; write `deployment/{target}`"
        )));
    };
    let mut argv = vec![s("rollout"), s("status"), s(target)];
    argv.extend(ns_flag(&ns));
    argv.push(format!("--timeout={}", crate::kube::error::human(timeout)));
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind(&kind_name))?;
    let which = k.resource.kind.clone();
    if !matches!(which.as_str(), "Deployment" | "DaemonSet" | "StatefulSet") {
        return Err(error(format!(
            "kube::wait_rollout: {} has no rollout; expected a deployment, daemonset or statefulset",
            k.reference(&t.name)
        )));
    }
    let api = conn.api(&k, ns.as_deref());
    let config =
        kube::runtime::watcher::Config::default().fields(&format!("metadata.name={}", t.name));
    let what = format!("kube::wait_rollout({target})");
    let name = t.name.clone();
    let obj = wait::watch_until(
        ctx,
        wait::WatchSpec {
            conn: &conn,
            kind: &k,
            api,
            config,
            timeout,
            what: &what,
        },
        |store| {
            let Some(obj) = store
                .values()
                .find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some(&name))
            else {
                return Ok(Check::Pending(format!(
                    "{} does not exist",
                    k.reference(&name)
                )));
            };
            let progress = match which.as_str() {
                "Deployment" => {
                    wait::deployment_progress(obj).map_err(|e| error(format!("{what}: {e}")))?
                }
                "DaemonSet" => wait::daemonset_progress(obj),
                _ => wait::statefulset_progress(obj),
            };
            Ok(match progress {
                None => Check::Done(obj.clone()),
                Some(p) => Check::Pending(p),
            })
        },
    )?;
    ctx.output().println(&format!(
        "{} \"{}\" successfully rolled out",
        which.to_lowercase(),
        t.name
    ));
    let obj = to_dynamic(&obj).try_cast::<Map>().unwrap_or_default();
    Ok(shown(ctx, obj.into()))
}

fn wait_ready(ctx: &Ctx, kind: &str, opts: Map) -> ScriptResult<Array> {
    let o = Opts::new(
        "kube::wait_ready",
        opts,
        &[
            "namespace",
            "selector",
            "field_selector",
            "all_namespaces",
            "timeout",
        ],
    )?;
    let q = list_query(&o)?;
    let timeout = o.duration("timeout")?.unwrap_or(DEFAULT_WAIT);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind(kind))?;
    let plural = k.resource.plural.clone();
    let mut argv = match plural.as_str() {
        "pods" | "nodes" => vec![s("wait"), s(kind), s("--for=condition=Ready")],
        "daemonsets" => vec![s("get"), s(kind), s("--watch")],
        _ => {
            return Err(error(format!(
                "kube::wait_ready: `{kind}` is {plural}; readiness is known for pods, nodes and daemonsets (use kube::wait_for for others)"
            )));
        }
    };
    argv.extend(list_flags(&q));
    if q.selector.is_none() && plural != "daemonsets" {
        argv.push(s("--all"));
    }
    argv.push(format!("--timeout={}", crate::kube::error::human(timeout)));
    explain(ctx, argv);
    let api = if q.all_namespaces {
        conn.api_all(&k)
    } else {
        conn.api(&k, q.namespace.as_deref())
    };
    let scope = {
        let mut parts = Vec::new();
        if k.namespaced {
            parts.push(if q.all_namespaces {
                "all namespaces".to_string()
            } else {
                conn.namespace(q.namespace.as_deref()).to_string()
            });
        }
        parts.extend(q.selector.clone());
        parts.extend(q.field_selector.clone());
        parts.join(", ")
    };
    let what = if scope.is_empty() {
        format!("kube::wait_ready({plural})")
    } else {
        format!("kube::wait_ready({plural}, {scope})")
    };
    let subject = q
        .selector
        .as_deref()
        .and_then(selector_subject)
        .map(String::from);
    let objs = wait::watch_until(
        ctx,
        wait::WatchSpec {
            conn: &conn,
            kind: &k,
            api,
            config: watch_config(&q),
            timeout,
            what: &what,
        },
        |store| {
            Ok(match plural.as_str() {
                "pods" => wait::pods_ready(store, subject.as_deref(), &scope),
                "nodes" => wait::nodes_ready(store),
                _ => wait::daemonsets_ready(store),
            })
        },
    )?;
    Ok(objs.iter().map(to_dynamic).collect())
}

fn wait_for(
    ctx: &Ctx,
    ncc: &NativeCallContext,
    kind: &str,
    name: &str,
    pred: FnPtr,
    opts: Map,
) -> ScriptResult<Map> {
    let o = Opts::new("kube::wait_for", opts, &["namespace", "timeout"])?;
    let ns = o.string("namespace")?;
    let timeout = o.duration("timeout")?.unwrap_or(DEFAULT_WAIT);
    let mut argv = vec![s("get"), s(kind), s(name)];
    argv.extend(ns_flag(&ns));
    argv.extend([s("--watch"), s("-o"), s("yaml")]);
    explain(ctx, argv);
    let conn = conn(ctx)?;
    let k = block(ctx, conn.kind(kind))?;
    let api = conn.api(&k, ns.as_deref());
    let config = kube::runtime::watcher::Config::default().fields(&format!("metadata.name={name}"));
    let what = format!("kube::wait_for({})", k.reference(name));
    let mut calls = 0usize;
    let obj = wait::watch_until(
        ctx,
        wait::WatchSpec {
            conn: &conn,
            kind: &k,
            api,
            config,
            timeout,
            what: &what,
        },
        |store| {
            let Some(obj) = store
                .values()
                .find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
            else {
                return Ok(Check::Pending(format!(
                    "{} does not exist",
                    k.reference(name)
                )));
            };
            calls += 1;
            let ok: bool = pred.call_within_context(ncc, (to_dynamic(obj),))?;
            Ok(if ok {
                Check::Done(obj.clone())
            } else {
                Check::Pending(format!(
                    "{} exists (resourceVersion {}) but the condition was false on {calls} version(s)",
                    k.reference(name),
                    obj.pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                ))
            })
        },
    )?;
    Ok(to_dynamic(&obj).try_cast::<Map>().unwrap_or_default())
}

struct ExecArgs {
    namespace: String,
    pod: String,
    container: Option<String>,
    argv: Vec<String>,
    timeout: Option<Duration>,
}

fn exec_args(
    ctx: &Ctx,
    func: &str,
    pod: &Dynamic,
    argv: &Array,
    opts: Map,
) -> ScriptResult<(ExecArgs, Arc<Conn>)> {
    let o = Opts::new(func, opts, &["container", "namespace", "timeout"])?;
    let (ns, pod) = pod_arg(func, pod, o.string("namespace")?)?;
    let argv = argv_from(func, argv)?;
    let container = o.string("container")?;
    let timeout = o.duration("timeout")?;
    let mut ex = vec![s("exec")];
    ex.extend(ns_flag(&ns));
    ex.push(pod.clone());
    if let Some(c) = &container {
        ex.extend([s("-c"), c.clone()]);
    }
    ex.push(s("--"));
    ex.extend(argv.iter().cloned());
    explain(ctx, ex);
    let conn = conn(ctx)?;
    let namespace = conn.namespace(ns.as_deref()).to_string();
    Ok((
        ExecArgs {
            namespace,
            pod,
            container,
            argv,
            timeout,
        },
        conn,
    ))
}

pub(crate) fn kube_exec(ctx: &Ctx, pod: Dynamic, argv: Array, opts: Map) -> ScriptResult<Map> {
    let (a, _conn) = exec_args(ctx, "kube::exec", &pod, &argv, opts)?;
    let mut stream = block(
        ctx,
        exec_lines(ctx, &a.namespace, &a.pod, a.container.as_deref(), &a.argv),
    )?;
    let deadline = a.timeout.map(|t| tokio::time::Instant::now() + t);
    let (mut stdout, mut stderr) = (String::new(), String::new());
    loop {
        match recv(ctx, &mut stream.lines, deadline)? {
            Recv::TimedOut => {
                stream.close();
                return Err(error(format!(
                    "kube::exec: `{}` in pod {}/{} timed out after {} (the exec was closed)",
                    a.argv.join(" "),
                    a.namespace,
                    a.pod,
                    crate::kube::error::human(a.timeout.unwrap_or_default())
                )));
            }
            Recv::Closed => break,
            Recv::Item(ExecLine::Stdout(l)) => {
                stdout.push_str(&l);
                stdout.push('\n');
            }
            Recv::Item(ExecLine::Stderr(l)) => {
                stderr.push_str(&l);
                stderr.push('\n');
            }
        }
    }
    let info = ctx.block_on(stream.wait_exit())?;
    let code = match info.code {
        Some(c) => c,
        None => {
            return Err(error(format!(
                "kube::exec: `{}` in pod {}/{}: {}",
                a.argv.join(" "),
                a.namespace,
                a.pod,
                if info.message.is_empty() {
                    "no exit status".to_string()
                } else {
                    info.message
                }
            )));
        }
    };
    let mut out = Map::new();
    out.insert("code".into(), Dynamic::from_int(code as i64));
    out.insert("stdout".into(), stdout.into());
    out.insert("stderr".into(), stderr.into());
    Ok(out)
}

fn exec_stream(
    ctx: &Ctx,
    ncc: &NativeCallContext,
    pod: Dynamic,
    argv: Array,
    opts: Map,
    cb: FnPtr,
) -> ScriptResult<Map> {
    let (a, _conn) = exec_args(ctx, "kube::exec_stream", &pod, &argv, opts)?;
    let mut stream = block(
        ctx,
        exec_lines(ctx, &a.namespace, &a.pod, a.container.as_deref(), &a.argv),
    )?;
    let deadline = a.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut stderr = Array::new();
    let mut stopped = false;
    loop {
        match recv(ctx, &mut stream.lines, deadline)? {
            Recv::TimedOut => {
                stopped = true;
                break;
            }
            Recv::Closed => break,
            Recv::Item(ExecLine::Stderr(l)) => stderr.push(l.into()),
            Recv::Item(ExecLine::Stdout(l)) => {
                // An error in the callback drops the stream, which closes the exec.
                let r: Dynamic = cb.call_within_context(ncc, (l,))?;
                if r.as_bool() == Ok(false) {
                    stopped = true;
                    break;
                }
            }
        }
    }
    let code = if stopped {
        stream.close();
        Dynamic::UNIT
    } else {
        ctx.block_on(stream.wait_exit())?
            .code
            .map_or(Dynamic::UNIT, |c| Dynamic::from_int(c as i64))
    };
    let mut out = Map::new();
    out.insert("code".into(), code);
    out.insert("stderr".into(), stderr.into());
    out.insert("stopped".into(), stopped.into());
    Ok(out)
}
