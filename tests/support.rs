//! Helpers shared by several tiers of the test crate: the `labsh-testkit` crate
//! (`crates/labsh-testkit`), which the benches use too.

pub use labsh_testkit::{apiserver, k8s};
