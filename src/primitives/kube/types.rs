//! The `Pod` and `Service` types scripts get from `kube::pods`, `kube::pod` and
//! `kube::service`: their properties, `to_string`, and the `svc.node_port()` method.

use crate::errors::{ScriptResult, error};
use crate::kube::typed::{Pod, Service};
use crate::primitives::Registry;
use crate::records::{POD, POD_FIELDS, SERVICE, SERVICE_FIELDS, register_fields};

/// Registers the `Pod` and `Service` types and their methods.
pub(super) fn register(reg: &mut Registry) {
    let e = reg.engine();
    // Their properties are their serialised fields (`pod.ip`, `svc.ports`: arrays of maps);
    // another name is an error listing them.
    register_fields::<Pod>(e, &POD, POD_FIELDS);
    register_fields::<Service>(e, &SERVICE, SERVICE_FIELDS);
    e.register_type_with_name::<Pod>("Pod")
        .register_fn("to_string", |p: &mut Pod| {
            format!("Pod({}/{} on {}, {})", p.namespace, p.name, p.node, p.phase)
        })
        .register_fn("to_debug", |p: &mut Pod| format!("{p:?}"));
    e.register_type_with_name::<Service>("Service")
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
