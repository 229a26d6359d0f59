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

/// The items a lab may ask for, by the key a script names them with
/// (`lab::preflight(#{only: ["docker", "tcpdump"]})`), in the checklist's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Kernel,
    Cgroups,
    Inotify,
    Docker,
    DockerCgroupns,
    Disk,
    Kind,
    Helm,
    Tcpdump,
    CaptureRights,
    Memory,
}

impl Need {
    /// Every item, in the checklist's order.
    pub const ALL: [Need; 11] = [
        Need::Kernel,
        Need::Cgroups,
        Need::Inotify,
        Need::Docker,
        Need::DockerCgroupns,
        Need::Disk,
        Need::Kind,
        Need::Helm,
        Need::Tcpdump,
        Need::CaptureRights,
        Need::Memory,
    ];

    /// The key scripts use (`capture_rights`).
    pub fn key(self) -> &'static str {
        match self {
            Need::Kernel => "kernel",
            Need::Cgroups => "cgroups",
            Need::Inotify => "inotify",
            Need::Docker => "docker",
            Need::DockerCgroupns => "docker_cgroupns",
            Need::Disk => "disk",
            Need::Kind => "kind",
            Need::Helm => "helm",
            Need::Tcpdump => "tcpdump",
            Need::CaptureRights => "capture_rights",
            Need::Memory => "memory",
        }
    }

    /// The item named by `key`; else an error listing the keys, with the closest one.
    pub fn parse(key: &str) -> Result<Need, String> {
        if let Some(n) = Need::ALL.iter().find(|n| n.key() == key) {
            return Ok(*n);
        }
        let keys: Vec<&str> = Need::ALL.iter().map(|n| n.key()).collect();
        let hint = crate::spelling::closest(key, keys.iter().copied())
            .map(|k| format!("did you mean `{k}`? "))
            .unwrap_or_default();
        Err(format!(
            "unknown preflight item `{key}`; {hint}expected one of: {}",
            keys.join(", ")
        ))
    }
}

/// The items of `only` (every item when `None`), in the checklist's order.
pub fn evaluate_only(facts: &Facts, profile: &Profile, only: Option<&[Need]>) -> Vec<Item> {
    Need::ALL
        .iter()
        .zip(evaluate(facts, profile))
        .filter(|(need, _)| only.is_none_or(|o| o.contains(need)))
        .map(|(_, item)| item)
        .collect()
}

/// Every item, in the order the checklist prints them (the order of [`Need::ALL`]).
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

#[cfg(test)]
mod tests {
    use super::facts::{DockerState, HostFacts, Tool};
    use super::*;

    fn nothing_installed() -> Facts {
        let missing = || Tool::Missing {
            hint: "install it".into(),
        };
        Facts {
            host: HostFacts::default(),
            docker: DockerState::Unreachable {
                detail: "no socket".into(),
                fix: "start Docker".into(),
            },
            disk: None,
            kind: missing(),
            helm: missing(),
            tcpdump: missing(),
            euid: 0,
            tcpdump_has_file_caps: false,
        }
    }

    #[test]
    fn each_key_names_its_item_in_the_checklists_order() {
        let items = evaluate(&nothing_installed(), &Profile::default());
        assert_eq!(items.len(), Need::ALL.len());
        for (need, item) in Need::ALL.iter().zip(&items) {
            assert_eq!(item.name.to_lowercase().replace(' ', "_"), need.key());
        }
    }

    #[test]
    fn only_keeps_the_items_a_lab_needs_so_a_missing_kind_does_not_fail_it() {
        let only = [Need::Tcpdump, Need::Docker];
        let items = evaluate_only(&nothing_installed(), &Profile::default(), Some(&only));
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["Docker", "tcpdump"]);
        assert!(
            evaluate_only(&nothing_installed(), &Profile::default(), None)
                .iter()
                .any(|i| i.name == "kind" && i.level == Level::Fail)
        );
    }

    #[test]
    fn a_misspelt_key_says_what_to_type() {
        assert_eq!(
            Need::parse("tcpdum"),
            Err("unknown preflight item `tcpdum`; did you mean `tcpdump`? expected one of: kernel, cgroups, inotify, docker, docker_cgroupns, disk, kind, helm, tcpdump, capture_rights, memory".into())
        );
        assert_eq!(Need::parse("capture_rights"), Ok(Need::CaptureRights));
    }
}
