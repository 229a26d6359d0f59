//! `kube::wait_rollout`, `kube::wait_ready`, `kube::wait_for`: watch-based waits, like
//! `kubectl rollout status` and `kubectl wait` (the watch loop is `crate::kube::wait`).

use crate::errors::Script;
use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};
use serde_json::Value;

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::objects::ListQuery;
use crate::kube::target::{Target, selector_subject};
use crate::kube::wait::{self, Check};
use crate::options::Opts;
use crate::primitives::Registry;
use crate::shown::shown;

use super::options::{list_flags, list_query};
use super::{DEFAULT_WAIT, block, conn, explain, ns_flag, s, to_dynamic};

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

/// Registers `kube::wait_rollout`, `kube::wait_ready` and `kube::wait_for`.
pub(super) fn register(reg: &mut Registry, ctx: &Ctx) {
    let m = "kube";
    with_and_without_opts!(reg, ctx, "wait_rollout", WAIT_ROLLOUT_DOC,
        [t: &str = "target: String"] -> "Map", wait_rollout);
    with_and_without_opts!(reg, ctx, "wait_ready", WAIT_READY_DOC,
        [k: &str = "kind: String"] -> "Array", wait_ready);
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
    let pods_kind = block(ctx, conn.kind("pods"))?;
    let name = t.name.clone();
    let obj = watch_until(
        ctx,
        wait::WatchSpec {
            conn: &conn,
            kind: &k,
            api,
            config,
            timeout,
            what: &what,
            pods: wait::Pods::Selected {
                kind: &pods_kind,
                api: conn.api(&pods_kind, ns.as_deref()),
            },
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

/// `kube::wait_ready`'s options (also `crate::checker::options`).
pub(crate) const WAIT_READY_OPTS: &[&str] = &[
    "namespace",
    "selector",
    "field_selector",
    "all_namespaces",
    "timeout",
];

fn wait_ready(ctx: &Ctx, kind: &str, opts: Map) -> ScriptResult<Array> {
    let o = Opts::new("kube::wait_ready", opts, WAIT_READY_OPTS)?;
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
    let pods_kind = block(ctx, conn.kind("pods"))?;
    let pods = match plural.as_str() {
        "pods" => wait::Pods::Watched,
        "daemonsets" => wait::Pods::Selected {
            kind: &pods_kind,
            api: if q.all_namespaces {
                conn.api_all(&pods_kind)
            } else {
                conn.api(&pods_kind, q.namespace.as_deref())
            },
        },
        _ => wait::Pods::None,
    };
    let objs = watch_until(
        ctx,
        wait::WatchSpec {
            conn: &conn,
            kind: &k,
            api,
            config: watch_config(&q),
            timeout,
            what: &what,
            pods,
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
    let pods_kind = block(ctx, conn.kind("pods"))?;
    let pods = match k.resource.kind.as_str() {
        "Pod" => wait::Pods::Watched,
        "Deployment" | "DaemonSet" | "StatefulSet" | "ReplicaSet" | "Job" => wait::Pods::Selected {
            kind: &pods_kind,
            api: conn.api(&pods_kind, ns.as_deref()),
        },
        _ => wait::Pods::None,
    };
    let obj = watch_until(
        ctx,
        wait::WatchSpec {
            conn: &conn,
            kind: &k,
            api,
            config,
            timeout,
            what: &what,
            pods,
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

/// [`wait::watch_until`] for checks that fail as scripts do (`kube::wait_for` calls the
/// script's predicate in its check).
fn watch_until<T>(
    ctx: &Ctx,
    spec: wait::WatchSpec<'_>,
    mut check: impl FnMut(&wait::Store) -> ScriptResult<Check<T>>,
) -> ScriptResult<T> {
    let mut watch = wait::StoreWatch::new(spec);
    let mut last_seen = wait::NOTHING_SEEN.to_string();
    loop {
        let store = watch.next(ctx, &last_seen).script()?.script()?;
        match check(store)? {
            Check::Done(v) => return Ok(v),
            Check::Pending(summary) => {
                watch.blocked(ctx, &summary).script()?.script()?;
                last_seen = summary;
            }
        }
    }
}
