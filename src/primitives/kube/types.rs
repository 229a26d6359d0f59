//! The `Pod` and `Service` types scripts get from `kube::pods`, `kube::pod` and
//! `kube::service`: their properties, `to_string`, and the `svc.node_port()` method.

use rhai::{Array, Dynamic, Map};

use crate::errors::{ScriptResult, error};
use crate::kube::typed::{Pod, Service};
use crate::primitives::Registry;

/// Registers the `Pod` and `Service` types and their methods.
pub(super) fn register(reg: &mut Registry) {
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
