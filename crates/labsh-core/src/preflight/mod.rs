//! The preflight: is this machine ready for the lab, before anything changes? [`facts`]
//! reads the machine (the one place that does), [`rules`] turns what it read into a
//! checklist of [`Item`]s for the Cilium version and node image the lab will use
//! ([`Profile`]). A `Fail` item stops a lab (`lab::preflight()` returns false); a `Warn` item
//! says what may break and how to avoid it, and the lab goes on.

pub mod facts;
pub mod rules;

pub use crate::version::Version;
pub use facts::Facts;

/// How bad an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    /// Something that is known to break labs in some cases: the lab goes on.
    Warn,
    /// The lab cannot work: it stops.
    Fail,
    /// Not checked (what it depends on is missing, and has its own item).
    Skip,
}

impl Level {
    /// `ok`, `warn`, `fail`, `skip` (the `level` field scripts read).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "fail",
            Level::Skip => "skip",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What is checked (`kernel`, `kind`, …).
    pub name: String,
    pub level: Level,
    /// What was found (a version, a path, an amount, an error).
    pub found: String,
    /// Why it matters, when it is not fine.
    pub why: Option<String>,
    /// The exact fix, when it is not fine.
    pub fix: Option<String>,
}

impl Item {
    pub fn ok(name: &str, found: impl Into<String>) -> Self {
        Item {
            name: name.into(),
            level: Level::Ok,
            found: found.into(),
            why: None,
            fix: None,
        }
    }

    pub fn skip(name: &str, found: impl Into<String>) -> Self {
        Item {
            level: Level::Skip,
            ..Item::ok(name, found)
        }
    }

    pub fn warn(
        name: &str,
        found: impl Into<String>,
        why: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Item {
            name: name.into(),
            level: Level::Warn,
            found: found.into(),
            why: Some(why.into()),
            fix: Some(fix.into()),
        }
    }

    pub fn fail(
        name: &str,
        found: impl Into<String>,
        why: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Item {
            level: Level::Fail,
            ..Item::warn(name, found, why, fix)
        }
    }
}

/// What the lab will run, as far as the rules depend on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The Cilium chart version (`None`: the rules use the lowest requirement of any
    /// Cilium the lab supports and say so).
    pub cilium: Option<Version>,
    /// `--image` for `kind create cluster` (`None`: kind's default image).
    pub node_image: Option<String>,
    /// The kind release that built `node_image`, when known (kind's release notes).
    pub node_image_kind: Option<Version>,
}

/// Every item, in the order the checklist prints them.
pub fn evaluate(facts: &Facts, profile: &Profile) -> Vec<Item> {
    vec![
        rules::kernel(&facts.host, profile),
        rules::cgroups(&facts.host),
        rules::inotify(&facts.host),
        rules::docker(&facts.docker),
        rules::docker_cgroupns(&facts.docker, &facts.kind),
        rules::disk(&facts.docker, facts.disk.as_ref()),
        rules::kind(&facts.kind, facts.host.cgroup, profile),
        rules::helm(&facts.helm, profile),
        rules::tcpdump(&facts.tcpdump),
        rules::capture_rights(
            facts.euid,
            facts.host.self_status.as_deref(),
            &facts.tcpdump,
            facts.tcpdump_has_file_caps,
        ),
        rules::memory(facts.host.meminfo.as_deref()),
    ]
}
