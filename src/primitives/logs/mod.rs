//! The `logs::…` Rhai module, in two parts: pod logs ([`pods`]: `logs::tail`, `logs::since`,
//! `logs::follow`) and access-log lines ([`access`]: `logs::parse_access`).

pub mod access;
pub mod pods;
