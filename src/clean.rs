//! `labsh clean`: removes the node debug pods labsh left on a cluster — those of runs that
//! were killed (SIGKILL, a crash, a machine switched off) before they could delete them, of
//! this host or another — and says what it removed. Pods of runs still going on this host
//! are left alone.

use labsh_core::escape;

use crate::exit_code::{EXIT_FAILURE, EXIT_INTERRUPTED};
use crate::node::NodeError;
use crate::node::debug_pod::SELECTOR;
use crate::node::leftovers::{self, Cleaned};
use crate::stdio;
use crate::workbench::Session;

/// Cleans the context `context` (the kubeconfig's current one when `None`); the exit code.
pub fn execute(session: &mut Session, context: Option<&str>) -> u8 {
    let ctx = session.ctx().clone();
    if let Some(name) = context {
        crate::kube::use_context(&ctx, name);
    }
    ctx.explain(&["kubectl", "get", "pods", "-A", "-l", SELECTOR]);
    let result = ctx.block_on(async {
        let conn = crate::kube::connect(&ctx).await?;
        let cleaned = leftovers::clean(&conn, |f| {
            ctx.explain(&[
                "kubectl",
                "delete",
                "pod",
                "-n",
                &f.namespace,
                &f.name,
                "--grace-period=0",
            ])
        })
        .await?;
        Ok::<_, NodeError>((conn.context.clone(), cleaned))
    });
    let (context, cleaned) = match result {
        Err(_) => {
            stdio::errln("labsh: interrupted");
            return EXIT_INTERRUPTED;
        }
        Ok(Err(e)) => {
            stdio::errln(&escape::control(&format!("error: labsh clean: {e}")));
            return EXIT_FAILURE;
        }
        Ok(Ok(c)) => c,
    };
    let mut code = 0;
    let mut removed = 0;
    for c in &cleaned {
        match c {
            Cleaned::Removed(f) => {
                removed += 1;
                stdio::outln(&escape::control(&format!(
                    "removed the debug pod {}/{} on node {} ({})",
                    f.namespace,
                    f.name,
                    f.node,
                    f.owner()
                )));
            }
            Cleaned::Kept(f) => stdio::outln(&escape::control(&format!(
                "kept the debug pod {}/{} on node {}: {}",
                f.namespace,
                f.name,
                f.node,
                f.owner()
            ))),
            Cleaned::Failed(f, e) => {
                code = EXIT_FAILURE;
                stdio::errln(&escape::control(&format!(
                    "error: could not remove the debug pod {}/{} on node {}: {e}",
                    f.namespace, f.name, f.node
                )));
            }
        }
    }
    if cleaned.is_empty() {
        stdio::outln(&escape::control(&format!(
            "no labsh debug pod on context `{context}` (pods labelled {SELECTOR})"
        )));
    } else if removed > 0 {
        stdio::outln(&escape::control(&format!(
            "{removed} debug pod(s) removed from context `{context}`"
        )));
    }
    code
}
