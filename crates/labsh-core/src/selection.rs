//! Which kubeconfig context the `kube::` primitives use. `kube::use_context` and the kind
//! lifecycle (`cluster::create`, `cluster::get`) select one; the Kubernetes client is rebuilt
//! when the selection's generation changes.

use std::path::PathBuf;
use std::sync::Mutex;

use crate::context::Ctx;

/// The selected context: `None` fields mean "the kubeconfig's current context" and
/// "`KUBECONFIG` or `~/.kube/config`".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The context name (`kind-lab`).
    pub context: Option<String>,
    /// A kubeconfig file to read instead of the default.
    pub kubeconfig: Option<PathBuf>,
    /// Bumped on every change, so a cached client knows it is stale.
    pub generation: u64,
}

/// Per-session selection state (a [`Ctx::ext`] extension).
#[derive(Default)]
pub struct KubeSelection(Mutex<Selection>);

impl KubeSelection {
    /// The current selection.
    pub fn current(&self) -> Selection {
        self.0.lock().expect("selection lock").clone()
    }

    /// Selects `context` (and optionally a kubeconfig file).
    pub fn select(&self, context: Option<String>, kubeconfig: Option<PathBuf>) {
        let mut s = self.0.lock().expect("selection lock");
        s.context = context;
        s.kubeconfig = kubeconfig;
        s.generation += 1;
    }
}

/// Selects the context `kube::` primitives use next.
pub fn select(ctx: &Ctx, context: Option<String>, kubeconfig: Option<PathBuf>) {
    ctx.ext::<KubeSelection>().select(context, kubeconfig);
}

/// The context `kube::` primitives use.
pub fn current(ctx: &Ctx) -> Selection {
    ctx.ext::<KubeSelection>().current()
}
