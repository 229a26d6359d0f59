//! Helpers shared by several tiers of the test crate.

/// The loopback test API server, a test double of the Kubernetes API server.
pub mod apiserver;
/// The real Kubernetes 1.20 tier (`tests/k8s/cluster.sh`), one cluster per test process.
pub mod k8s;
/// A labsh session whose `kube::` primitives use a given kubeconfig and context.
pub mod session;
