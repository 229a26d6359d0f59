//! labsh's integration tests: one test crate (one binary, one link), one module per tier.
//! Each module's header says what it runs against and what it needs; shared helpers live in
//! `support` (the test API server double, the real Kubernetes tier, a kube-configured session)
//! or in the tier that owns them (`docker::cluster`, `kind_helm::support`, `lab::support`,
//! `report::browser`), reached by path (`crate::docker::env`), never by `#[path]` includes.
//!
//! One tier: `cargo test --test labsh k8s::`; one test: `cargo test --test labsh
//! k8s::logs_follow_`. The whole crate shares one process: the real Kubernetes cluster
//! (`support::k8s`) starts on the first `k8s::` test that needs it and is taken down when
//! the process exits; the Docker engine client and the test image (`docker::env`) are made
//! once.

mod apiserver;
mod cli;
mod docker;
mod k8s;
mod kind_helm;
mod kube;
mod lab;
mod module_graph;
mod monitor;
mod monitor_exec;
mod rehearsal;
mod report;
mod support;
