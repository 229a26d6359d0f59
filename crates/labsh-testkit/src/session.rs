//! A labsh session with every primitive family whose `kube::` primitives use `context` of
//! the kubeconfig at `kubeconfig`: what the tests against the test API server
//! (`apiserver/`) and against the real cluster (`k8s.rs`) both start from.

use std::path::Path;

pub fn labsh_session(kubeconfig: &Path, context: &str) -> labsh::Session {
    let session = labsh::Workbench::new()
        .with_primitives(labsh::primitives::all())
        .build()
        .expect("a labsh session");
    labsh::selection::select(
        session.ctx(),
        Some(context.into()),
        Some(kubeconfig.to_path_buf()),
    );
    session
}
