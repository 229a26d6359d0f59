//! What labsh's tests (`tests/lib.rs`) and benches share, as one crate instead of `#[path]`
//! includes: the loopback test API server (a test double of the Kubernetes API server) and
//! the real Kubernetes 1.20 tier of `tests/k8s/`.

/// The loopback test API server, a test double of the Kubernetes API server.
pub mod apiserver;
/// The real Kubernetes 1.20 tier (`tests/k8s/cluster.sh`), one cluster per test process.
pub mod k8s;
/// A labsh session whose `kube::` primitives use a given kubeconfig and context.
pub mod session;
