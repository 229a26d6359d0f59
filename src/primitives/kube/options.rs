//! The list options `kube::list`, `kube::table`, `kube::pods` and `kube::wait_ready` share
//! (`namespace`, `selector`, `field_selector`, `all_namespaces`), and the kubectl flags they
//! stand for in `--explain` lines.

use crate::errors::ScriptResult;
use crate::kube::objects::ListQuery;
use crate::options::Opts;

use super::ns_flag;

pub(super) fn list_query(o: &Opts) -> ScriptResult<ListQuery> {
    Ok(ListQuery {
        namespace: o.string("namespace")?,
        selector: o.string("selector")?,
        field_selector: o.string("field_selector")?,
        all_namespaces: o.bool("all_namespaces")?.unwrap_or(false),
    })
}

pub(super) fn list_flags(q: &ListQuery) -> Vec<String> {
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
