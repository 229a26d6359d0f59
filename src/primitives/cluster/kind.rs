//! `cluster::create`, `cluster::delete`, `cluster::delete_all`, `cluster::list`,
//! `cluster::get` and the `Cluster` type: kind's cluster lifecycle. (The Docker-side
//! `cluster::nodes`, `cluster::node`, `cluster::control_plane` live in [`super::nodes`].)

use crate::errors::Script;
use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kind::cli::CreateOptions;
use crate::kind::{self, Cluster};
use crate::options::Opts;
use crate::primitives::{Family, Registry};
use crate::records::{CLUSTER, CLUSTER_FIELDS};

/// `cluster::…` (kind).
pub const FAMILY: Family = Family {
    name: "cluster",
    summary: "kind clusters: cluster::create, delete, delete_all, list, get; the Cluster type",
    register,
};

const CREATE_DOC: &str = r#"Creates a kind cluster and returns it as a `Cluster`; its context (`kind-<name>`)
becomes the one `kube::` primitives use. A cluster of that name that already exists is
reused (and labsh says so), unless `recreate: true` deletes it first.

Without `config`, labsh writes the kind config from the options: `workers` (3),
`cni` (true; false → `disableDefaultCNI: true`), `kube_proxy` (true; false →
`kubeProxyMode: none`), `pod_subnet` ("10.244.0.0/16"). `config` is a kind config file
(relative to the script) used instead. Other options: `image` (`--image kindest/node:…`, pin
it by digest as kind's release notes do: `kindest/node:v1.24.17@sha256:…`; `()` or absent:
kind's default image),
`wait` (kind's `--wait`, "5m" by default; false leaves it out), `recreate` (false),
`timeout` ("10m"; kind and its children are killed after it).
Runs `kind create cluster --name NAME --config FILE --wait 5m [--image IMAGE]` (`--explain`
prints it); a spinner shows kind's
current step, and kind's full output is shown if it fails.

```rhai
let c = cluster::create("lab", #{cni: false, kube_proxy: false});
print(c.context); // kind-lab
```"#;

const DELETE_DOC: &str = r#"Deletes the kind cluster `name` (`kind delete cluster --name NAME`).
Option: `timeout` ("1m").

```rhai
cluster::delete("lab");
```"#;

const DELETE_ALL_DOC: &str = r#"Deletes every kind cluster (`kind delete clusters --all`), like the handout's
clean-kind.sh. Option: `timeout` ("1m").

```rhai
cluster::delete_all();
```"#;

const LIST_DOC: &str = r#"The names of the existing kind clusters (`kind get clusters`). Option: `timeout` ("1m").

```rhai
if cluster::list().contains("lab") { print("lab is up"); }
```"#;

const GET_DOC: &str = r#"The existing kind cluster `name` as a `Cluster`; its context becomes the one `kube::`
primitives use (the kubeconfig's current-context is not changed). An unknown name is an error
listing the existing clusters. Option: `timeout` ("1m").

```rhai
let c = cluster::get("lab");
print(c.kubeconfig);
```"#;

/// `cluster::create`'s options (also `crate::checker::options`).
pub(crate) const CREATE_OPTS: &[&str] = &[
    "workers",
    "cni",
    "kube_proxy",
    "pod_subnet",
    "image",
    "config",
    "wait",
    "recreate",
    "timeout",
];

fn timeout_opt(func: &str, opts: Map) -> ScriptResult<std::time::Duration> {
    let o = Opts::new(func, opts, &["timeout"])?;
    Ok(o.duration("timeout")?.unwrap_or(kind::CALL_TIMEOUT))
}

fn create_options(ctx: &Ctx, opts: Map) -> ScriptResult<CreateOptions> {
    const FUNC: &str = "cluster::create";
    const SHAPE: [&str; 4] = ["workers", "cni", "kube_proxy", "pod_subnet"];
    let o = Opts::new(FUNC, opts, CREATE_OPTS)?;
    let mut c = CreateOptions::default();
    if let Some(config) = o.string("config")? {
        if let Some(k) = SHAPE.iter().find(|k| o.get(k).is_some()) {
            return Err(error(format!(
                "{FUNC}: option `{k}` has no effect with `config` (the config file describes the cluster); give one or the other"
            )));
        }
        c.config = Some(ctx.resolve_path(&config));
    }
    if let Some(w) = o.int("workers")? {
        c.shape.workers = u32::try_from(w).ok().filter(|w| *w <= 100).ok_or_else(|| {
            error(format!(
                "{FUNC}: option `workers` must be between 0 and 100, got {w}"
            ))
        })?;
    }
    if let Some(cni) = o.bool("cni")? {
        c.shape.cni = cni;
    }
    if let Some(kp) = o.bool("kube_proxy")? {
        c.shape.kube_proxy = kp;
    }
    if let Some(subnet) = o.string("pod_subnet")? {
        c.shape.pod_subnet = subnet;
    }
    if let Some(image) = o.string("image")? {
        c.image = Some(kind::validate_image(FUNC, &image).map_err(error)?);
    }
    c.wait = match o.get("wait") {
        Some(v) if v.is_bool() => v.as_bool().unwrap_or(true).then_some(kind::DEFAULT_WAIT),
        Some(_) => o.duration("wait")?,
        None => Some(kind::DEFAULT_WAIT),
    };
    c.recreate = o.bool("recreate")?.unwrap_or(false);
    if let Some(t) = o.duration("timeout")? {
        c.timeout = t;
    }
    Ok(c)
}

fn nodes_array(nodes: Vec<crate::docker::Node>) -> Array {
    nodes.into_iter().map(Dynamic::from).collect()
}

/// Registers the kind lifecycle into `cluster` and the `Cluster` type.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let m = "cluster";
    let c = ctx.clone();
    reg.func(
        m,
        "create",
        &["name: String", "Cluster"],
        CREATE_DOC,
        move |name: &str| kind::cli::create(&c, name, &CreateOptions::default()).script(),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "create",
        &["name: String", "opts: Map", "Cluster"],
        CREATE_DOC,
        move |name: &str, opts: Map| {
            let o = create_options(&c, opts)?;
            kind::cli::create(&c, name, &o).script()
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "delete",
        &["name: String", "()"],
        DELETE_DOC,
        move |name: &str| kind::cli::delete(&c, name, kind::CALL_TIMEOUT).script(),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "delete",
        &["name: String", "opts: Map", "()"],
        DELETE_DOC,
        move |name: &str, opts: Map| {
            kind::cli::delete(&c, name, timeout_opt("cluster::delete", opts)?).script()
        },
    );
    let c = ctx.clone();
    reg.func(m, "delete_all", &["()"], DELETE_ALL_DOC, move || {
        kind::cli::delete_all(&c, kind::CALL_TIMEOUT).script()
    });
    let c = ctx.clone();
    reg.func(
        m,
        "delete_all",
        &["opts: Map", "()"],
        DELETE_ALL_DOC,
        move |opts: Map| {
            kind::cli::delete_all(&c, timeout_opt("cluster::delete_all", opts)?).script()
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "list",
        &["Array"],
        LIST_DOC,
        move || -> ScriptResult<Array> {
            Ok(kind::cli::list(&c, kind::CALL_TIMEOUT)
                .script()?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "list",
        &["opts: Map", "Array"],
        LIST_DOC,
        move |opts: Map| -> ScriptResult<Array> {
            Ok(kind::cli::list(&c, timeout_opt("cluster::list", opts)?)
                .script()?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "get",
        &["name: String", "Cluster"],
        GET_DOC,
        move |name: &str| kind::cli::get(&c, name, kind::CALL_TIMEOUT).script(),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "get",
        &["name: String", "opts: Map", "Cluster"],
        GET_DOC,
        move |name: &str, opts: Map| {
            kind::cli::get(&c, name, timeout_opt("cluster::get", opts)?).script()
        },
    );
    register_cluster_type(reg, ctx);
}

fn register_cluster_type(reg: &mut Registry, ctx: &Ctx) {
    // `c.name`, `c.context`, …: its serialised fields; another name is an error listing them.
    crate::records::register_fields::<Cluster>(reg.engine(), &CLUSTER, CLUSTER_FIELDS);
    reg.engine()
        .register_type_with_name::<Cluster>("Cluster")
        .register_fn("to_string", |c: &mut Cluster| c.to_string())
        .register_fn("to_debug", |c: &mut Cluster| c.to_string());
    let c = ctx.clone();
    reg.method(
        "nodes",
        &["cluster: Cluster", "Array"],
        "The cluster's nodes (`Node`s: Docker containers), control-plane first.\n\n```rhai\nfor n in cluster::get(\"lab\").nodes() { print(n.name + \" \" + n.ip); }\n```",
        move |cl: &mut Cluster| -> ScriptResult<Array> { Ok(nodes_array(cl.nodes(&c).script()?)) },
    );
    let c = ctx.clone();
    reg.method(
        "node",
        &["cluster: Cluster", "index: INT", "Node"],
        "The cluster's node number `index` (0 is the control-plane, then the workers by name).\n\n```rhai\nlet w = cluster::get(\"lab\").node(1);\n```",
        move |cl: &mut Cluster, index: i64| cl.node_at(&c, index).script(),
    );
    let c = ctx.clone();
    reg.method(
        "node",
        &["cluster: Cluster", "name: String", "Node"],
        "The cluster's node `name`, in full (`lab-worker2`) or without the cluster prefix (`worker2`).\n\n```rhai\nlet w2 = cluster::get(\"lab\").node(\"worker2\");\n```",
        move |cl: &mut Cluster, name: &str| cl.node_named(&c, name).script(),
    );
    let c = ctx.clone();
    reg.method(
        "control_plane",
        &["cluster: Cluster", "Node"],
        "The cluster's control-plane node.\n\n```rhai\nprint(cluster::get(\"lab\").control_plane().ip);\n```",
        move |cl: &mut Cluster| cl.control_plane(&c).script(),
    );
}
