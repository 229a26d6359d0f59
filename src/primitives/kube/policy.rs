//! NetworkPolicy enforcement: `kube::policy_enforced()`, and the warning `kube::apply` gives
//! once per session when it applies a NetworkPolicy on a cluster where no enforcing CNI is
//! found (see `crate::kube::policy`): the API server accepts it, and nothing enforces it.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::kube::Conn;
use crate::kube::policy::{enforcer, looked_for};
use crate::primitives::Registry;

use super::{block, conn};

const ENFORCED_DOC: &str = r#"Whether the cluster enforces NetworkPolicy: `true` when the DaemonSet of a CNI
that implements policies is found in any namespace (`cilium`, `calico-node`, `canal`,
`weave-net`, `kube-router`, `antrea-agent`). Without one (kube-proxy and a plain CNI,
kindnet, bridge) a NetworkPolicy is stored and ignored: a lab checks this before expecting
a policy to block anything.

```rhai
if !kube::policy_enforced() { print("this cluster does not enforce NetworkPolicy"); }
```"#;

/// Registers `kube::policy_enforced`.
pub(super) fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "kube",
        "policy_enforced",
        &["bool"],
        ENFORCED_DOC,
        move || -> ScriptResult<bool> {
            let conn = conn(&c)?;
            Ok(block(&c, enforcer(&conn))?.is_some())
        },
    );
}

/// Whether this session already warned.
#[derive(Default)]
struct Warned(AtomicBool);

/// After `kube::apply` applied the NetworkPolicies `names`: the warning, once per session,
/// when nothing enforces them. A failure to look is not the apply's failure: it is said.
pub(super) fn warn_if_not_enforced(ctx: &Ctx, conn: &Conn, names: &[String]) {
    if names.is_empty() || ctx.ext::<Warned>().0.load(Ordering::SeqCst) {
        return;
    }
    let found = match ctx.block_on(enforcer(conn)) {
        Ok(Ok(found)) => found,
        Ok(Err(e)) => {
            ctx.output().eprintln(&format!(
                "kube::apply: could not tell whether NetworkPolicy is enforced: {e}"
            ));
            return;
        }
        Err(_) => return,
    };
    ctx.ext::<Warned>().0.store(true, Ordering::SeqCst);
    if found.is_none() {
        ctx.output().eprintln(&format!(
            "warning: NetworkPolicy {} applied, but this cluster has no CNI that enforces NetworkPolicy (looked for {}): it is stored and ignored; `kube::policy_enforced()` tells a lab",
            names.join(", "),
            looked_for()
        ));
    }
}
