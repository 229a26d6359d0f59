//! The `logs::…` Rhai module, in three parts: pod logs read at once ([`pods`]: `logs::tail`,
//! `logs::since`, and `logs::follow`, the blocking form of `logs::start`), pod logs followed
//! in the background ([`start`]: `logs::start`, the `LogFollow` type) and access-log lines
//! ([`access`]: `logs::parse_access`).

pub mod access;
pub mod pods;
pub mod start;
pub mod target;
