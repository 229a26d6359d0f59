//! `monitor::agent_pod` and `monitor::endpoint_id`: from a node or a pod to Cilium (the
//! `monitor` module also holds `monitor::parse` and the `Monitor` methods, registered from
//! `primitives::monitor`, and `monitor::start`, registered from [`super::start`]).

use rhai::{Dynamic, ImmutableString, Map};

use crate::context::Ctx;
use crate::docker::Node;
use crate::errors::{ScriptResult, error};
use crate::kube::lookup::{self, CILIUM_NAMESPACE, CILIUM_SELECTOR};
use crate::kube::typed::Pod;
use crate::node::ClusterNode;
use crate::options::Opts;
use crate::primitives::api_server::{block, conn, ns_flag, pod_arg};
use crate::primitives::{Family, Registry};

/// `monitor::agent_pod`, `monitor::endpoint_id`.
pub const FAMILY: Family = Family {
    name: "monitor",
    summary: "find a node's Cilium agent pod and a pod's Cilium endpoint id",
    register,
};

const AGENT_POD_DOC: &str = r#"The Cilium agent pod on a node (`kube-system`, label `k8s-app=cilium`, field
`spec.nodeName`). `node` is a node name, a `Node` (kind's or `cluster::current()`'s) or a
`Pod` (its node). An error says
when Cilium is not installed or has no agent on that node.

```rhai
let agent = monitor::agent_pod("lab-worker2");
print(agent.name); // cilium-x7k2p
```"#;

const ENDPOINT_ID_DOC: &str = r#"A pod's Cilium endpoint id (its CiliumEndpoint's `.status.id`). `pod` is a name or
a `Pod`; option `namespace`. An error says when Cilium is not installed or the pod has no
endpoint.

```rhai
let id = monitor::endpoint_id(kube::pods(#{selector: "app=guestbook"})[0]);
print(id); // 1890
```"#;

/// Registers the lookups into the `monitor` module.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "monitor",
        "agent_pod",
        &["node: Dynamic", "Pod"],
        AGENT_POD_DOC,
        move |node: Dynamic| agent_pod(&c, node),
    );
    let c = ctx.clone();
    reg.func(
        "monitor",
        "endpoint_id",
        &["pod: Dynamic", "i64"],
        ENDPOINT_ID_DOC,
        move |pod: Dynamic| endpoint_id(&c, pod, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        "monitor",
        "endpoint_id",
        &["pod: Dynamic", "opts: Map", "i64"],
        ENDPOINT_ID_DOC,
        move |pod: Dynamic, opts: Map| endpoint_id(&c, pod, opts),
    );
}

/// The node name in a node name, a `Node` or a `Pod`.
pub fn node_name(func: &str, node: &Dynamic) -> ScriptResult<String> {
    if let Some(s) = node.read_lock::<ImmutableString>() {
        return Ok(s.to_string());
    }
    if let Some(n) = node.read_lock::<Node>() {
        return Ok(n.name.clone());
    }
    if let Some(n) = node.read_lock::<ClusterNode>() {
        return Ok(n.name().to_string());
    }
    if let Some(p) = node.read_lock::<Pod>() {
        if p.node.is_empty() {
            return Err(error(format!(
                "{func}: pod {}/{} is not scheduled on a node yet",
                p.namespace, p.name
            )));
        }
        return Ok(p.node.clone());
    }
    Err(error(format!(
        "{func}: expected a node name, a Node or a Pod, got {} `{node}`",
        node.type_name()
    )))
}

/// The agent pod on `node` (from Rust: the monitor uses it).
pub fn agent_pod_of(ctx: &Ctx, node: &str) -> ScriptResult<Pod> {
    explain_agent_pod(ctx, node);
    let conn = conn(ctx)?;
    let v = block(ctx, lookup::agent_pod(&conn, node))?;
    Ok(Pod::from_json(&v))
}

/// `kubectl get pods -n kube-system -l k8s-app=cilium --field-selector spec.nodeName=NODE`.
fn explain_agent_pod(ctx: &Ctx, node: &str) {
    ctx.explain(&[
        "kubectl",
        "get",
        "pods",
        "-n",
        CILIUM_NAMESPACE,
        "-l",
        CILIUM_SELECTOR,
        "--field-selector",
        &format!("spec.nodeName={node}"),
    ]);
}

/// The agent pod on `node`, or `None` when the cluster has no agent pod at all (Cilium's
/// agents may run on the nodes themselves).
pub fn agent_pod_if_any(ctx: &Ctx, node: &str) -> ScriptResult<Option<Pod>> {
    explain_agent_pod(ctx, node);
    let conn = conn(ctx)?;
    let v = block(ctx, lookup::agent_pod_if_any(&conn, node))?;
    Ok(v.as_ref().map(Pod::from_json))
}

fn agent_pod(ctx: &Ctx, node: Dynamic) -> ScriptResult<Pod> {
    let node = node_name("monitor::agent_pod", &node)?;
    agent_pod_of(ctx, &node)
}

/// `monitor::endpoint_id`: the endpoint id of a pod given as a name or a `Pod` (option
/// `namespace`).
pub fn endpoint_id(ctx: &Ctx, pod: Dynamic, opts: Map) -> ScriptResult<i64> {
    let o = Opts::new("monitor::endpoint_id", opts, &["namespace"])?;
    let (ns, name) = pod_arg("monitor::endpoint_id", &pod, o.string("namespace")?)?;
    let mut argv = vec![
        "kubectl".to_string(),
        "get".into(),
        "cep".into(),
        name.clone(),
    ];
    argv.extend(ns_flag(&ns));
    argv.extend(["-o".to_string(), "jsonpath={.status.id}".into()]);
    ctx.explain(&argv);
    let conn = conn(ctx)?;
    let namespace = conn.namespace(ns.as_deref()).to_string();
    block(ctx, lookup::endpoint_id(&conn, &namespace, &name))
}
