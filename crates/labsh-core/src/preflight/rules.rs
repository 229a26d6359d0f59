//! The preflight's rules: what each fact means for a kind + Cilium lab, with the threshold's
//! source (lab-facts §9), what was found, why it matters and the exact fix. Pure functions
//! of the [`facts`](super::facts); each is tested on fixture files on both sides of its
//! thresholds.

use super::facts::{CgroupMode, DiskFree, DockerState, HostFacts, Tool};
use super::facts::{parse_helm_version, parse_kind_version};
use super::{Item, Profile};
use crate::version::{self, Version};

/// Kube-proxy replacement in Cilium 1.12 to 1.15 needs 4.19.57 (Cilium's
/// `system_requirements.rst`; cilium/cilium#24258 for 1.14).
pub const KERNEL_MIN_LEGACY: Version = Version::new(4, 19, 57);
/// Cilium 1.16 and 1.17's docs ask for 5.4 (which of the two raised it is not verified).
pub const KERNEL_MIN_1_16: Version = Version::new(5, 4, 0);
/// Current Cilium (1.18 and later, the lab's "current" is 1.20) needs 5.10.
pub const KERNEL_MIN_CURRENT: Version = Version::new(5, 10, 0);
/// The first Cilium of the lab's "current" profile (cilium.rhai: 1.14 changed the values).
pub const CILIUM_CURRENT_ERA: Version = Version::new(1, 14, 0);
/// Linux 7.2 breaks the agent's start of Cilium 1.18.0–1.20.1 (cilium/cilium#48016)…
pub const KERNEL_BREAKS_CILIUM: Version = Version::new(7, 2, 0);
/// …fixed in 1.20.2.
pub const CILIUM_FIXED_FOR_7_2: Version = Version::new(1, 20, 2);
/// Without cgroup v2, socket LB on kind needs a host kernel ≥ 5.14 (Cilium's kind guide).
pub const KERNEL_SOCKET_LB_WITHOUT_CGROUP2: Version = Version::new(5, 14, 0);
/// kind's known issue for multi-node clusters ("too many open files").
pub const INOTIFY_WATCHES: u64 = 524_288;
pub const INOTIFY_INSTANCES: u64 = 512;
/// kind v0.20 runs every node with `--cgroupns=private` (which needs Docker 20.10, API 1.41)
/// and, on cgroup v1 hosts, node images built by kind ≥ v0.20.
pub const KIND_CGROUPNS: Version = Version::new(0, 20, 0);
/// kind v0.31's default node image is Kubernetes 1.35, the first without cgroup v1 support.
pub const KIND_DEFAULT_WITHOUT_CGROUP1: Version = Version::new(0, 31, 0);
pub const K8S_WITHOUT_CGROUP1: Version = Version::new(1, 35, 0);
/// Helm for Cilium 1.12's docs, and for current Cilium's.
pub const HELM_MIN_LEGACY: Version = Version::new(3, 0, 3);
pub const HELM_MIN_CURRENT: Version = Version::new(3, 13, 0);
/// The node image, then Cilium's and the app's images in each of the four nodes.
pub const DISK_MIN_BYTES: u64 = 3 * GIB;
/// Below this much available memory a four-node cluster with Cilium will not come up.
pub const MIN_MEMORY_KIB: u64 = 4 * 1024 * 1024;
/// What four kind nodes with Cilium and the app comfortably need.
pub const RECOMMENDED_MEMORY_KIB: u64 = 8 * 1024 * 1024;
/// CAP_NET_RAW's bit in the capability sets (linux/capability.h).
const CAP_NET_RAW: u32 = 13;
const GIB: u64 = 1024 * 1024 * 1024;

fn kernel_version(host: &HostFacts) -> Option<Version> {
    host.kernel_release.as_deref().and_then(version::parse)
}

fn cilium_name(profile: &Profile) -> String {
    match &profile.cilium {
        Some(v) => format!("Cilium {v}"),
        None => "Cilium".into(),
    }
}

// ─── kernel ──────────────────────────────────────────────────────────────────────────────

/// FAIL below the kube-proxy-replacement floor of the profile's Cilium (4.19.57 for 1.12,
/// 5.10 for current); FAIL on Linux ≥ 7.2 with a Cilium below 1.20.2.
pub fn kernel(host: &HostFacts, profile: &Profile) -> Item {
    const NAME: &str = "kernel";
    let Some(release) = host.kernel_release.as_deref() else {
        return Item::fail(
            NAME,
            "cannot read /proc/sys/kernel/osrelease",
            "Cilium's eBPF datapath runs in the host's kernel: its version decides what works",
            "run labsh on Linux with /proc mounted",
        );
    };
    let Some(found) = version::parse(release) else {
        return Item::warn(
            NAME,
            format!("Linux {release}: not a version number labsh can compare"),
            "Cilium's kube-proxy replacement needs Linux ≥ 4.19.57 (1.12) or ≥ 5.10 (current Cilium)",
            "check the kernel version yourself: uname -r",
        );
    };
    let (floor, for_whom) = match &profile.cilium {
        Some(c) if *c < Version::new(1, 16, 0) => (KERNEL_MIN_LEGACY, format!("Cilium {c}")),
        Some(c) if *c < Version::new(1, 18, 0) => (KERNEL_MIN_1_16, format!("Cilium {c}")),
        Some(c) => (KERNEL_MIN_CURRENT, format!("Cilium {c}")),
        None => (
            KERNEL_MIN_LEGACY,
            "Cilium 1.12 (current Cilium needs ≥ 5.10)".to_string(),
        ),
    };
    if found < floor {
        return Item::fail(
            NAME,
            format!("Linux {release}"),
            format!(
                "{for_whom}'s kube-proxy replacement needs Linux ≥ {} (Cilium's system requirements): below it the agent refuses to replace kube-proxy and no Service works",
                short(&floor)
            ),
            format!(
                "run the lab on a host with Linux ≥ {} (Debian 12, Ubuntu 22.04 or later ship one)",
                short(&floor)
            ),
        );
    }
    if found >= KERNEL_BREAKS_CILIUM
        && let Some(c) = &profile.cilium
        && *c < CILIUM_FIXED_FOR_7_2
    {
        return Item::fail(
            NAME,
            format!("Linux {release}"),
            format!(
                "on Linux ≥ 7.2 the agent of Cilium before 1.20.2 does not start (the kernel rejects one of its BPF programs: `FnSetRetval … R1 is not a scalar`, cilium/cilium#48016; 1.18.0–1.20.1 are known broken, older releases predate that kernel): Cilium {c} would never become Ready"
            ),
            format!(
                "use Cilium {CILIUM_FIXED_FOR_7_2} or later: labsh run scripts/tp12.rhai -- --cilium {CILIUM_FIXED_FOR_7_2} (or run the handout's 1.12 on a host with Linux < 7.2)"
            ),
        );
    }
    Item::ok(
        NAME,
        format!("Linux {release} ({for_whom} needs ≥ {})", short(&floor)),
    )
}

/// `5.10` rather than `5.10.0` when the patch is 0 (how the docs write thresholds).
fn short(v: &Version) -> String {
    if v.patch == 0 {
        format!("{}.{}", v.major, v.minor)
    } else {
        v.to_string()
    }
}

// ─── cgroups ─────────────────────────────────────────────────────────────────────────────

/// WARN when the host has no cgroup v2 and its kernel is below 5.14: Cilium's socket LB on
/// kind then cannot tell the nodes apart.
pub fn cgroups(host: &HostFacts) -> Item {
    const NAME: &str = "cgroups";
    let mode = host.cgroup;
    let found = mode.describe();
    if mode == CgroupMode::V2 {
        return Item::ok(NAME, found);
    }
    let why = "Cilium's socket load-balancing on kind needs every node in its own cgroup namespace on cgroup v2, or a host kernel ≥ 5.14 (Cilium's kind guide, cilium/cilium#16259): otherwise all nodes share the host's cgroup and a pod's connections to Services can be translated by the wrong node's agent";
    let fix = "boot the host with cgroup v2 (kernel parameter systemd.unified_cgroup_hierarchy=1, then reboot), or use a host with Linux ≥ 5.14";
    let release = host.kernel_release.as_deref().unwrap_or_default();
    match kernel_version(host) {
        Some(k) if k >= KERNEL_SOCKET_LB_WITHOUT_CGROUP2 => Item::ok(
            NAME,
            format!("{found}; Linux {release} (≥ 5.14) does socket LB without cgroup v2"),
        ),
        Some(_) => Item::warn(NAME, format!("{found}, Linux {release}"), why, fix),
        None => Item::warn(NAME, format!("{found}, kernel version unknown"), why, fix),
    }
}

// ─── inotify ─────────────────────────────────────────────────────────────────────────────

/// WARN when `fs.inotify.max_user_watches` < 524288 or `max_user_instances` < 512.
pub fn inotify(host: &HostFacts) -> Item {
    const NAME: &str = "inotify";
    let why = "kind's known issue: the kubelets and systemd of four nodes exhaust the host's inotify limits, and pods fail with \"too many open files\" (kind known-issues)";
    let (Some(watches), Some(instances)) = (host.inotify_watches, host.inotify_instances) else {
        return Item::warn(
            NAME,
            "cannot read /proc/sys/fs/inotify/max_user_watches and max_user_instances",
            why,
            format!(
                "check them: sysctl fs.inotify (kind wants max_user_watches ≥ {INOTIFY_WATCHES} and max_user_instances ≥ {INOTIFY_INSTANCES})"
            ),
        );
    };
    let mut low = Vec::new();
    let mut found = Vec::new();
    for (key, value, min) in [
        ("max_user_watches", watches, INOTIFY_WATCHES),
        ("max_user_instances", instances, INOTIFY_INSTANCES),
    ] {
        if value < min {
            found.push(format!("{key}={value} (< {min})"));
            low.push(format!("fs.inotify.{key}={min}"));
        } else {
            found.push(format!("{key}={value}"));
        }
    }
    let found = found.join(", ");
    if low.is_empty() {
        return Item::ok(NAME, found);
    }
    Item::warn(
        NAME,
        found,
        why,
        format!(
            "sudo sysctl {}  (to keep it after a reboot: printf '%s\\n' {} | sudo tee /etc/sysctl.d/99-kind.conf)",
            low.join(" "),
            low.join(" ")
        ),
    )
}

// ─── Docker ──────────────────────────────────────────────────────────────────────────────

/// FAIL when the engine does not answer: kind runs every node as a Docker container.
pub fn docker(state: &DockerState) -> Item {
    const NAME: &str = "Docker";
    match state {
        DockerState::Reached(info) => Item::ok(
            NAME,
            match &info.api_version {
                Some(api) => format!("Docker {} (API {api}) at {}", info.version, info.endpoint),
                None => format!("Docker {} at {}", info.version, info.endpoint),
            },
        ),
        DockerState::Unreachable { detail, fix } => Item::fail(
            NAME,
            detail.clone(),
            "kind runs every node of the cluster as a Docker container",
            fix.clone(),
        ),
    }
}

/// Docker's cgroup namespace mode. FAIL when the engine is older than 20.10 (API 1.41) and
/// kind ≥ v0.20 (or unknown) will ask for `--cgroupns=private`; WARN when kind < v0.20 leaves
/// the nodes in Docker's default mode and that mode is the host's.
pub fn docker_cgroupns(state: &DockerState, kind: &Tool) -> Item {
    const NAME: &str = "Docker cgroupns";
    let DockerState::Reached(info) = state else {
        return Item::skip(NAME, "not checked: Docker is not reachable");
    };
    let mode = if info.cgroupns_private {
        "private"
    } else {
        "host"
    };
    let cgroup = match info.cgroup_version.as_deref() {
        Some(v) => format!("cgroup v{v}"),
        None => "cgroup version not reported".into(),
    };
    let found = format!("Docker's default cgroup namespace: {mode} ({cgroup})");
    let kind_version = kind.output().and_then(parse_kind_version);
    let old_engine = info.api().is_some_and(|api| api < (1, 41));
    match kind_version {
        Some(k) if k < KIND_CGROUPNS => {
            if info.cgroupns_private {
                Item::ok(NAME, format!("{found}: kind v{k}'s nodes get their own"))
            } else {
                Item::warn(
                    NAME,
                    found,
                    format!(
                        "kind v{k} (before v0.20) leaves its nodes in Docker's default cgroup namespace, here the host's: the nodes share the host's cgroups, which Cilium's socket LB on kind needs apart"
                    ),
                    "upgrade kind to v0.20 or later (it asks for --cgroupns=private), or set \"default-cgroupns-mode\": \"private\" in /etc/docker/daemon.json and restart Docker (sudo systemctl restart docker)",
                )
            }
        }
        _ if old_engine => Item::fail(
            NAME,
            format!(
                "{found}; Docker {} (API {})",
                info.version,
                info.api_version.as_deref().unwrap_or("?")
            ),
            "kind v0.20 and later start every node with --cgroupns=private, which Docker supports from 20.10 (API 1.41) on: kind cannot create the nodes",
            "upgrade Docker Engine to 20.10 or later: https://docs.docker.com/engine/install/",
        ),
        Some(k) => Item::ok(
            NAME,
            format!("{found}; kind v{k} starts each node with --cgroupns=private"),
        ),
        None => Item::ok(
            NAME,
            format!("{found}; kind ≥ v0.20 starts each node with --cgroupns=private"),
        ),
    }
}

/// FAIL below about 3 GB free where Docker keeps images and containers.
pub fn disk(state: &DockerState, free: Option<&Result<DiskFree, String>>) -> Item {
    const NAME: &str = "disk";
    let DockerState::Reached(info) = state else {
        return Item::skip(NAME, "not checked: Docker is not reachable");
    };
    let free = match free {
        None => {
            return Item::skip(
                NAME,
                format!(
                    "not checked: the engine at {} keeps its images on its own machine",
                    info.endpoint
                ),
            );
        }
        Some(Err(e)) => {
            return Item::warn(
                NAME,
                format!("cannot measure the free space of {}: {e}", info.root_dir),
                "the node image and the images each node pulls (Cilium, the app) take about 3 GB",
                format!("check it yourself: df -h {}", info.root_dir),
            );
        }
        Some(Ok(free)) => free,
    };
    let gib = free.bytes as f64 / GIB as f64;
    let found = format!("{gib:.1} GiB free for Docker's data in {}", free.path);
    if free.bytes < DISK_MIN_BYTES {
        return Item::fail(
            NAME,
            found,
            "the kind node image (about 1 GB), then Cilium's and the app's images pulled by each of the four nodes take about 3 GB: a full disk leaves pods in ErrImagePull or nodes evicting them",
            format!(
                "free at least 3 GiB on the filesystem of {}: docker system prune (stopped containers, unused networks, dangling images), docker image prune -a, kind delete cluster --name OLD",
                free.path
            ),
        );
    }
    Item::ok(NAME, format!("{found} (about 3 GB needed)"))
}

// ─── kind, helm, tcpdump ─────────────────────────────────────────────────────────────────

fn missing_or_failed(name: &str, tool: &Tool, why: &str) -> Option<Item> {
    match tool {
        Tool::Missing { hint } => Some(Item::fail(name, "not found on PATH", why, hint.clone())),
        Tool::Failed {
            path,
            problem,
            hint,
        } => Some(Item::fail(
            name,
            problem.clone(),
            why,
            format!(
                "check that {} works, or reinstall it: {hint}",
                path.display()
            ),
        )),
        Tool::Ran { .. } => None,
    }
}

fn ran_found(tool: &Tool) -> String {
    match tool {
        Tool::Ran { path, output } => format!("{output} ({})", path.display()),
        _ => String::new(),
    }
}

/// The Kubernetes version in a `kindest/node:v1.24.17@sha256:…` reference.
fn image_k8s_version(image: &str) -> Option<Version> {
    let tag = image.split('@').next()?.rsplit_once(':')?.1;
    version::parse(tag)
}

/// FAIL without kind; WARN when it is older than v0.20, when the host is cgroup v1 and the
/// node image was built for kind < v0.20 (or is a Kubernetes ≥ 1.35 image, which dropped
/// cgroup v1), or when the node image is not pinned by digest.
pub fn kind(tool: &Tool, cgroup: CgroupMode, profile: &Profile) -> Item {
    const NAME: &str = "kind";
    if let Some(item) = missing_or_failed(
        NAME,
        tool,
        "kind creates the lab's cluster: one Docker container per node",
    ) {
        return item;
    }
    let image = match (&profile.node_image, &profile.node_image_kind) {
        (Some(i), Some(k)) => format!("node image {i} (built with kind v{k})"),
        (Some(i), None) => format!("node image {i}"),
        (None, _) => "kind's default node image".into(),
    };
    let found = format!("{}; {image}", ran_found(tool));
    let Some(version) = tool.output().and_then(parse_kind_version) else {
        return Item::warn(
            NAME,
            found,
            "kind ≥ v0.20 is needed for today's node images and Docker's cgroup namespaces",
            "check `kind version`; install kind v0.20 or later: https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
        );
    };
    let cgroup_v1 = matches!(cgroup, CgroupMode::V1 | CgroupMode::Hybrid);
    let mut why = Vec::new();
    let mut fix = Vec::new();
    if version < KIND_CGROUPNS {
        why.push(format!(
            "kind v{version} is older than v0.20: it does not give each node a private cgroup namespace, and kind supports a node image only with the kind release that built it (best effort with others)"
        ));
        fix.push("install kind v0.20 or later (the 1.12 profile's image comes with kind v0.22.0): https://kind.sigs.k8s.io/docs/user/quick-start/#installation".to_string());
    }
    if cgroup_v1 {
        if let Some(built) = &profile.node_image_kind
            && *built < KIND_CGROUPNS
            && version >= KIND_CGROUPNS
        {
            why.push(format!(
                "on a cgroup v1 host kind ≥ v0.20 needs node images built by kind ≥ v0.20; this one was built with kind v{built}"
            ));
            fix.push("pass -- --node-image with an image from the release notes of kind v0.20 or later, pinned by @sha256".into());
        }
        let k8s = match &profile.node_image {
            Some(i) => image_k8s_version(i),
            // kind's default image follows kind's release.
            None if version >= KIND_DEFAULT_WITHOUT_CGROUP1 => Some(K8S_WITHOUT_CGROUP1),
            None => None,
        };
        if let Some(k8s) = k8s
            && k8s >= K8S_WITHOUT_CGROUP1
        {
            why.push(format!(
                "the node image runs Kubernetes ≥ 1.35 ({}), which no longer supports cgroup v1 hosts: the kubelet does not start",
                profile
                    .node_image
                    .clone()
                    .unwrap_or_else(|| format!("kind v{version}'s default"))
            ));
            fix.push("boot the host with cgroup v2 (systemd.unified_cgroup_hierarchy=1), or pass -- --node-image with a Kubernetes ≤ 1.34 image from kind's release notes, pinned by @sha256".into());
        }
    }
    if let Some(i) = &profile.node_image
        && !i.contains("@sha256:")
    {
        why.push(format!(
            "{i} is not pinned by digest: kind's release notes require the @sha256 form, a tag alone can fetch an image built for another kind release"
        ));
        fix.push("add the image's @sha256:… digest from kind's release notes".into());
    }
    if why.is_empty() {
        return Item::ok(NAME, found);
    }
    Item::warn(NAME, found, why.join("; "), fix.join("; "))
}

/// FAIL without helm or below the profile's floor (3.0.3 for Cilium 1.12, 3.13 for current).
pub fn helm(tool: &Tool, profile: &Profile) -> Item {
    const NAME: &str = "helm";
    if let Some(item) = missing_or_failed(NAME, tool, "helm installs Cilium from its chart") {
        return item;
    }
    let (floor, whose) = match &profile.cilium {
        Some(c) if *c < CILIUM_CURRENT_ERA => (HELM_MIN_LEGACY, format!("Cilium {c}'s docs")),
        Some(c) => (HELM_MIN_CURRENT, format!("Cilium {c}'s chart")),
        None => (
            HELM_MIN_LEGACY,
            "Cilium 1.12's docs (current Cilium needs ≥ 3.13)".into(),
        ),
    };
    let found = ran_found(tool);
    let Some(version) = tool.output().and_then(parse_helm_version) else {
        return Item::warn(
            NAME,
            found,
            format!("{whose} need Helm ≥ {}", short(&floor)),
            "check `helm version --short`",
        );
    };
    if version < floor {
        return Item::fail(
            NAME,
            found,
            format!(
                "{} needs Helm ≥ {} (Cilium's install docs): an older helm cannot install its chart",
                cilium_name(profile),
                short(&floor)
            ),
            format!(
                "install Helm {} or later: https://helm.sh/docs/intro/install/",
                short(&floor)
            ),
        );
    }
    Item::ok(NAME, format!("{found} ({whose}: ≥ {})", short(&floor)))
}

/// FAIL without tcpdump: the `dsr` step captures on the host.
pub fn tcpdump(tool: &Tool) -> Item {
    missing_or_failed(
        "tcpdump",
        tool,
        "the dsr step captures the node's traffic with the host's tcpdump",
    )
    .unwrap_or_else(|| Item::ok("tcpdump", ran_found(tool)))
}

// ─── capture rights, memory ──────────────────────────────────────────────────────────────

/// FAIL unless root, CAP_NET_RAW, or a tcpdump with file capabilities.
pub fn capture_rights(
    euid: u32,
    self_status: Option<&str>,
    tcpdump: &Tool,
    tcpdump_has_file_caps: bool,
) -> Item {
    const NAME: &str = "capture rights";
    if euid == 0 {
        return Item::ok(NAME, "running as root");
    }
    if self_status.and_then(cap_eff_has_net_raw) == Some(true) {
        return Item::ok(NAME, "CAP_NET_RAW in the effective set");
    }
    if let Tool::Ran { path, .. } = tcpdump
        && tcpdump_has_file_caps
    {
        return Item::ok(
            NAME,
            format!("{} has file capabilities (setcap)", path.display()),
        );
    }
    Item::fail(
        NAME,
        format!("uid {euid} without CAP_NET_RAW"),
        "tcpdump cannot capture on the host's veths without CAP_NET_RAW",
        "run the lab as root (sudo -E labsh run …), or: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)",
    )
}

/// Whether the `CapEff` line of a `/proc/<pid>/status` text holds CAP_NET_RAW (`None`: no such
/// line, or not hexadecimal).
pub fn cap_eff_has_net_raw(status: &str) -> Option<bool> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    let caps = u64::from_str_radix(hex, 16).ok()?;
    Some(caps & (1 << CAP_NET_RAW) != 0)
}

/// FAIL below 4 GiB available; below 8 GiB the item is fine but says to expect slowness.
pub fn memory(meminfo: Option<&str>) -> Item {
    const NAME: &str = "memory";
    let Some(kib) = meminfo.and_then(parse_mem_available) else {
        return Item::fail(
            NAME,
            "cannot read MemAvailable from /proc/meminfo",
            "four kind nodes with Cilium need ~8 GiB",
            "check that /proc is mounted (labsh needs Linux)",
        );
    };
    let gib = kib as f64 / (1024.0 * 1024.0);
    if kib < MIN_MEMORY_KIB {
        Item::fail(
            NAME,
            format!("{gib:.1} GiB available, at least 4 GiB needed (~8 GiB recommended)"),
            "four kind nodes with Cilium and the app do not come up in less",
            "free memory (close applications, delete unused kind clusters: kind get clusters) — four kind nodes with Cilium need ~8 GiB",
        )
    } else if kib < RECOMMENDED_MEMORY_KIB {
        Item::ok(
            NAME,
            format!(
                "{gib:.1} GiB available (~8 GiB recommended for four nodes: expect it to be slow)"
            ),
        )
    } else {
        Item::ok(
            NAME,
            format!("{gib:.1} GiB available (~8 GiB recommended for four nodes)"),
        )
    }
}

/// `MemAvailable` in KiB from a `/proc/meminfo` text.
pub fn parse_mem_available(meminfo: &str) -> Option<u64> {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::Level;
    use super::super::facts::{DockerInfo, HostFiles};
    use super::*;

    /// A host tree written to a temp dir, read back through [`HostFiles`] like the real one.
    struct Fixture {
        dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                dir: tempfile::tempdir().unwrap(),
            }
        }

        fn file(self, abs: &str, text: &str) -> Self {
            let p = self.dir.path().join(abs.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
            self
        }

        fn kernel(self, release: &str) -> Self {
            self.file("/proc/sys/kernel/osrelease", &format!("{release}\n"))
        }

        fn inotify(self, watches: u64, instances: u64) -> Self {
            self.file(
                "/proc/sys/fs/inotify/max_user_watches",
                &format!("{watches}\n"),
            )
            .file(
                "/proc/sys/fs/inotify/max_user_instances",
                &format!("{instances}\n"),
            )
        }

        fn cgroup2(self) -> Self {
            self.file("/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n")
        }

        fn cgroup1(self) -> Self {
            self.file("/sys/fs/cgroup/memory/cgroup.procs", "1\n")
        }

        fn host(&self) -> HostFacts {
            HostFiles::at(self.dir.path()).host_facts()
        }
    }

    fn shipped(name: &str) -> HostFacts {
        HostFiles::at(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/preflight/testdata")
                .join(name),
        )
        .host_facts()
    }

    fn profile(cilium: &str) -> Profile {
        Profile {
            cilium: version::parse(cilium),
            ..Profile::default()
        }
    }

    fn kernel_on(release: &str, cilium: &str) -> Item {
        kernel(&Fixture::new().kernel(release).host(), &profile(cilium))
    }

    #[test]
    fn kernel_floor_for_cilium_1_12_is_4_19_57() {
        let below = kernel_on("4.19.56", "1.12.1");
        assert_eq!(below.level, Level::Fail);
        assert_eq!(below.found, "Linux 4.19.56");
        assert!(
            below
                .why
                .as_deref()
                .unwrap()
                .starts_with("Cilium 1.12.1's kube-proxy replacement needs Linux ≥ 4.19.57")
        );
        assert_eq!(
            below.fix.as_deref(),
            Some(
                "run the lab on a host with Linux ≥ 4.19.57 (Debian 12, Ubuntu 22.04 or later ship one)"
            )
        );
        let at = kernel_on("4.19.57-1-amd64", "1.12.1");
        assert_eq!(at.level, Level::Ok, "{at:?}");
        assert_eq!(
            at.found,
            "Linux 4.19.57-1-amd64 (Cilium 1.12.1 needs ≥ 4.19.57)"
        );
        assert_eq!(
            kernel_on("3.10.0-1160.el7.x86_64", "1.12.1").level,
            Level::Fail
        );
    }

    #[test]
    fn kernel_floor_for_current_cilium_is_5_10() {
        let below = kernel_on("5.9.16", "1.20.2");
        assert_eq!(below.level, Level::Fail);
        assert!(below.why.unwrap().contains("needs Linux ≥ 5.10"));
        // 5.4 is fine for 1.12, not for current Cilium.
        assert_eq!(kernel_on("5.4.0-150-generic", "1.12.1").level, Level::Ok);
        assert_eq!(kernel_on("5.4.0-150-generic", "1.20.2").level, Level::Fail);
        let at = kernel_on("5.10.0-32-amd64", "1.20.2");
        assert_eq!(at.level, Level::Ok);
        assert_eq!(
            at.found,
            "Linux 5.10.0-32-amd64 (Cilium 1.20.2 needs ≥ 5.10)"
        );
        // In between, the floor rose with the releases.
        assert_eq!(kernel_on("4.19.57", "1.15.19").level, Level::Ok);
        assert_eq!(kernel_on("4.19.57", "1.16.0").level, Level::Fail);
        assert_eq!(kernel_on("5.4.0", "1.17.9").level, Level::Ok);
        assert_eq!(kernel_on("5.4.0", "1.18.0").level, Level::Fail);
    }

    #[test]
    fn linux_7_2_fails_with_cilium_below_1_20_2_naming_the_version_to_use() {
        let broken = kernel_on("7.2.0", "1.20.1");
        assert_eq!(broken.level, Level::Fail);
        assert!(
            broken
                .why
                .as_deref()
                .unwrap()
                .contains("cilium/cilium#48016")
        );
        assert_eq!(
            broken.fix.as_deref(),
            Some(
                "use Cilium 1.20.2 or later: labsh run scripts/tp12.rhai -- --cilium 1.20.2 (or run the handout's 1.12 on a host with Linux < 7.2)"
            )
        );
        assert_eq!(kernel_on("7.3.1", "1.12.1").level, Level::Fail);
        assert_eq!(kernel_on("7.2.0", "1.20.2").level, Level::Ok);
        assert_eq!(kernel_on("7.1.9", "1.20.1").level, Level::Ok);
        assert_eq!(kernel_on("7.1.9", "1.12.1").level, Level::Ok);
    }

    #[test]
    fn kernel_without_a_profile_uses_the_lowest_floor_and_says_so() {
        let k = kernel(&Fixture::new().kernel("5.4.0").host(), &Profile::default());
        assert_eq!(k.level, Level::Ok);
        assert_eq!(
            k.found,
            "Linux 5.4.0 (Cilium 1.12 (current Cilium needs ≥ 5.10) needs ≥ 4.19.57)"
        );
        let unknown = kernel(&Fixture::new().host(), &Profile::default());
        assert_eq!(unknown.level, Level::Fail);
        assert_eq!(unknown.found, "cannot read /proc/sys/kernel/osrelease");
    }

    #[test]
    fn cgroup_v1_warns_only_below_linux_5_14() {
        let w = cgroups(&Fixture::new().cgroup1().kernel("5.13.19").host());
        assert_eq!(w.level, Level::Warn);
        assert_eq!(w.found, "cgroup v1, Linux 5.13.19");
        assert!(w.why.as_deref().unwrap().contains("cgroup namespace"));
        assert!(w.fix.as_deref().unwrap().starts_with(
            "boot the host with cgroup v2 (kernel parameter systemd.unified_cgroup_hierarchy=1"
        ));
        let ok = cgroups(&Fixture::new().cgroup1().kernel("5.14.0").host());
        assert_eq!(ok.level, Level::Ok);
        assert_eq!(
            ok.found,
            "cgroup v1; Linux 5.14.0 (≥ 5.14) does socket LB without cgroup v2"
        );
        let v2 = cgroups(&Fixture::new().cgroup2().kernel("5.4.0").host());
        assert_eq!(
            (v2.level, v2.found.as_str()),
            (Level::Ok, "cgroup v2 (unified)")
        );
        // Hybrid counts as v1: the controllers are on v1.
        assert_eq!(cgroups(&shipped("debian12-cgroup1")).level, Level::Ok);
        assert_eq!(
            cgroups(
                &Fixture::new()
                    .kernel("5.10.0")
                    .file("/sys/fs/cgroup/unified/cgroup.controllers", "")
                    .host()
            )
            .level,
            Level::Warn
        );
        assert_eq!(cgroups(&shipped("centos7")).level, Level::Warn);
    }

    #[test]
    fn inotify_warns_below_kinds_limits_with_the_sysctl_commands() {
        let ok = inotify(&Fixture::new().inotify(524_288, 512).host());
        assert_eq!(ok.level, Level::Ok);
        assert_eq!(ok.found, "max_user_watches=524288, max_user_instances=512");
        let watches = inotify(&Fixture::new().inotify(524_287, 512).host());
        assert_eq!(watches.level, Level::Warn);
        assert_eq!(
            watches.found,
            "max_user_watches=524287 (< 524288), max_user_instances=512"
        );
        assert_eq!(
            watches.fix.as_deref(),
            Some(
                "sudo sysctl fs.inotify.max_user_watches=524288  (to keep it after a reboot: printf '%s\\n' fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/99-kind.conf)"
            )
        );
        let instances = inotify(&Fixture::new().inotify(1_048_576, 511).host());
        assert_eq!(instances.level, Level::Warn);
        assert!(
            instances
                .fix
                .as_deref()
                .unwrap()
                .starts_with("sudo sysctl fs.inotify.max_user_instances=512  ")
        );
        let both = inotify(&shipped("debian12-cgroup1"));
        assert!(both.fix.as_deref().unwrap().starts_with(
            "sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512  "
        ));
        assert!(both.why.as_deref().unwrap().contains("too many open files"));
        assert_eq!(inotify(&Fixture::new().host()).level, Level::Warn);
    }

    fn reached(api: &str, private: bool, cgroup: &str) -> DockerState {
        DockerState::Reached(DockerInfo {
            endpoint: "unix:///var/run/docker.sock".into(),
            version: "20.10.24".into(),
            api_version: Some(api.into()),
            cgroup_version: Some(cgroup.into()),
            cgroupns_private: private,
            root_dir: "/var/lib/docker".into(),
        })
    }

    fn kind_ran(line: &str) -> Tool {
        Tool::Ran {
            path: PathBuf::from("/usr/local/bin/kind"),
            output: line.into(),
        }
    }

    #[test]
    fn docker_cgroupns_host_warns_only_with_kind_before_v0_20() {
        let old_kind = kind_ran("kind v0.19.0 go1.20.4 linux/amd64");
        let w = docker_cgroupns(&reached("1.41", false, "1"), &old_kind);
        assert_eq!(w.level, Level::Warn);
        assert_eq!(
            w.found,
            "Docker's default cgroup namespace: host (cgroup v1)"
        );
        assert!(
            w.fix
                .as_deref()
                .unwrap()
                .contains("\"default-cgroupns-mode\": \"private\"")
        );
        assert_eq!(
            docker_cgroupns(&reached("1.41", true, "2"), &old_kind).level,
            Level::Ok
        );
        let new_kind = kind_ran("kind v0.20.0 go1.20.4 linux/amd64");
        let ok = docker_cgroupns(&reached("1.41", false, "1"), &new_kind);
        assert_eq!(ok.level, Level::Ok);
        assert_eq!(
            ok.found,
            "Docker's default cgroup namespace: host (cgroup v1); kind v0.20.0 starts each node with --cgroupns=private"
        );
    }

    #[test]
    fn docker_before_20_10_fails_with_kind_v0_20_or_later() {
        let new_kind = kind_ran("kind v0.22.0 go1.21.7 linux/amd64");
        let f = docker_cgroupns(&reached("1.40", false, "1"), &new_kind);
        assert_eq!(f.level, Level::Fail);
        assert!(f.why.as_deref().unwrap().contains("20.10 (API 1.41)"));
        assert_eq!(
            docker_cgroupns(&reached("1.41", false, "1"), &new_kind).level,
            Level::Ok
        );
        // Without kind on PATH (its own item fails), an old engine still fails here.
        let missing = Tool::Missing { hint: "x".into() };
        assert_eq!(
            docker_cgroupns(&reached("1.40", false, "1"), &missing).level,
            Level::Fail
        );
        let unreachable = DockerState::Unreachable {
            detail: "x".into(),
            fix: "y".into(),
        };
        assert_eq!(docker_cgroupns(&unreachable, &new_kind).level, Level::Skip);
    }

    #[test]
    fn disk_fails_below_3_gib_free_for_docker() {
        let state = reached("1.41", false, "1");
        let free = |bytes| {
            Some(Ok(DiskFree {
                path: "/var/lib/docker".into(),
                bytes,
            }))
        };
        let low = disk(&state, free(3 * GIB - 1).as_ref());
        assert_eq!(low.level, Level::Fail);
        assert_eq!(
            low.found,
            "3.0 GiB free for Docker's data in /var/lib/docker"
        );
        assert!(low.fix.as_deref().unwrap().contains("docker system prune"));
        let enough = disk(&state, free(3 * GIB).as_ref());
        assert_eq!(enough.level, Level::Ok);
        assert_eq!(
            enough.found,
            "3.0 GiB free for Docker's data in /var/lib/docker (about 3 GB needed)"
        );
        let unmeasured = disk(&state, Some(&Err("statvfs x: denied".into())));
        assert_eq!(unmeasured.level, Level::Warn);
        assert_eq!(disk(&state, None).level, Level::Skip);
    }

    #[test]
    fn disk_is_measured_through_the_host_root() {
        // The real statvfs, below a fixture root holding Docker's data root.
        let f = Fixture::new().file("/var/lib/docker/.keep", "");
        let free = HostFiles::at(f.dir.path()).free_bytes("/var/lib/docker");
        let item = disk(&reached("1.41", false, "1"), Some(&free));
        assert!(
            item.found
                .contains(" GiB free for Docker's data in /var/lib/docker"),
            "{item:?}"
        );
    }

    const IMAGE_1_24: &str = "kindest/node:v1.24.17@sha256:bad10f9b98d54586cba05a7eaa1b61c6b90bfc4ee174fdc43a7b75ca75c95e51";

    fn lab_1_12() -> Profile {
        Profile {
            cilium: version::parse("1.12.1"),
            node_image: Some(IMAGE_1_24.into()),
            node_image_kind: version::parse("v0.22.0"),
        }
    }

    #[test]
    fn kind_before_v0_20_warns() {
        let w = kind(
            &kind_ran("kind v0.19.0 go1.20.4 linux/amd64"),
            CgroupMode::V2,
            &lab_1_12(),
        );
        assert_eq!(w.level, Level::Warn);
        assert!(
            w.why
                .as_deref()
                .unwrap()
                .starts_with("kind v0.19.0 is older than v0.20")
        );
        let ok = kind(
            &kind_ran("kind v0.20.0 go1.20.4 linux/amd64"),
            CgroupMode::V2,
            &lab_1_12(),
        );
        assert_eq!(ok.level, Level::Ok, "{ok:?}");
        assert_eq!(
            ok.found,
            format!(
                "kind v0.20.0 go1.20.4 linux/amd64 (/usr/local/bin/kind); node image {IMAGE_1_24} (built with kind v0.22.0)"
            )
        );
    }

    #[test]
    fn on_cgroup_v1_an_image_built_before_kind_v0_20_warns() {
        let kind_v0_22 = kind_ran("kind v0.22.0 go1.21.7 linux/amd64");
        let old_image = Profile {
            node_image: Some("kindest/node:v1.24.7@sha256:577c630ce8e509131eab1aea12c022190978dd2f745aac5eb1fe65c0807eb315".into()),
            node_image_kind: version::parse("v0.17.0"),
            ..lab_1_12()
        };
        let w = kind(&kind_v0_22, CgroupMode::Hybrid, &old_image);
        assert_eq!(w.level, Level::Warn);
        assert!(
            w.why
                .as_deref()
                .unwrap()
                .contains("built with kind v0.17.0")
        );
        assert_eq!(
            kind(&kind_v0_22, CgroupMode::V2, &old_image).level,
            Level::Ok
        );
        assert_eq!(
            kind(&kind_v0_22, CgroupMode::V1, &lab_1_12()).level,
            Level::Ok
        );
    }

    #[test]
    fn on_cgroup_v1_kubernetes_1_35_images_warn_including_kinds_default() {
        let current = Profile {
            cilium: version::parse("1.20.2"),
            ..Profile::default()
        };
        let kind_v0_31 = kind_ran("kind v0.31.0 go1.25.5 linux/amd64");
        let w = kind(&kind_v0_31, CgroupMode::V1, &current);
        assert_eq!(w.level, Level::Warn);
        assert!(
            w.why.as_deref().unwrap().contains("kind v0.31.0's default"),
            "{w:?}"
        );
        assert_eq!(kind(&kind_v0_31, CgroupMode::V2, &current).level, Level::Ok);
        let kind_v0_30 = kind_ran("kind v0.30.0 go1.24.6 linux/amd64");
        assert_eq!(kind(&kind_v0_30, CgroupMode::V1, &current).level, Level::Ok);
        let pinned = |tag: &str| Profile {
            node_image: Some(format!("kindest/node:{tag}@sha256:0123")),
            ..current.clone()
        };
        assert_eq!(
            kind(&kind_v0_31, CgroupMode::V1, &pinned("v1.35.0")).level,
            Level::Warn
        );
        assert_eq!(
            kind(&kind_v0_31, CgroupMode::V1, &pinned("v1.34.3")).level,
            Level::Ok
        );
    }

    #[test]
    fn a_node_image_without_digest_warns() {
        let tag_only = Profile {
            node_image: Some("kindest/node:v1.24.17".into()),
            ..Profile::default()
        };
        let w = kind(&kind_ran("kind v0.22.0"), CgroupMode::V2, &tag_only);
        assert_eq!(w.level, Level::Warn);
        assert_eq!(
            w.fix.as_deref(),
            Some("add the image's @sha256:… digest from kind's release notes")
        );
    }

    #[test]
    fn kind_missing_fails_with_how_to_install_it() {
        let missing = Tool::Missing {
            hint: "install kind: https://kind.sigs.k8s.io/".into(),
        };
        let f = kind(&missing, CgroupMode::V2, &lab_1_12());
        assert_eq!(f.level, Level::Fail);
        assert_eq!(f.found, "not found on PATH");
        assert_eq!(
            f.fix.as_deref(),
            Some("install kind: https://kind.sigs.k8s.io/")
        );
    }

    fn helm_ran(line: &str) -> Tool {
        Tool::Ran {
            path: PathBuf::from("/usr/local/bin/helm"),
            output: line.into(),
        }
    }

    #[test]
    fn helm_floor_is_3_0_3_for_cilium_1_12() {
        let f = helm(&helm_ran("v3.0.2+g19e47ee"), &profile("1.12.1"));
        assert_eq!(f.level, Level::Fail);
        assert_eq!(
            f.fix.as_deref(),
            Some("install Helm 3.0.3 or later: https://helm.sh/docs/intro/install/")
        );
        let ok = helm(&helm_ran("v3.0.3+g0a9a9a8"), &profile("1.12.1"));
        assert_eq!(ok.level, Level::Ok);
        assert_eq!(
            ok.found,
            "v3.0.3+g0a9a9a8 (/usr/local/bin/helm) (Cilium 1.12.1's docs: ≥ 3.0.3)"
        );
    }

    #[test]
    fn helm_floor_is_3_13_for_current_cilium() {
        let f = helm(&helm_ran("v3.12.3+g3a31588"), &profile("1.20.2"));
        assert_eq!(f.level, Level::Fail);
        assert!(
            f.why
                .as_deref()
                .unwrap()
                .starts_with("Cilium 1.20.2 needs Helm ≥ 3.13")
        );
        assert_eq!(
            helm(&helm_ran("v3.13.0+g825e86f"), &profile("1.20.2")).level,
            Level::Ok
        );
        assert_eq!(
            helm(&helm_ran("v4.0.1+g1234567"), &profile("1.20.2")).level,
            Level::Ok
        );
        assert_eq!(
            helm(&helm_ran("v3.12.3"), &profile("1.12.1")).level,
            Level::Ok
        );
    }

    #[test]
    fn cap_net_raw_is_bit_13_of_cap_eff() {
        assert_eq!(
            cap_eff_has_net_raw("Name:\tx\nCapEff:\t000001fffeffffff\n"),
            Some(true)
        );
        assert_eq!(
            cap_eff_has_net_raw("CapEff:\t0000000000000000\n"),
            Some(false)
        );
        assert_eq!(
            cap_eff_has_net_raw("CapEff:\t0000000000002000\n"),
            Some(true)
        );
        assert_eq!(cap_eff_has_net_raw("Name:\tx\n"), None);
        let none = Tool::Missing { hint: "x".into() };
        assert_eq!(capture_rights(0, None, &none, false).level, Level::Ok);
        assert_eq!(
            capture_rights(1000, Some("CapEff:\t0000000000000000\n"), &none, false).level,
            Level::Fail
        );
        assert_eq!(
            capture_rights(1000, Some("CapEff:\t0000000000002000\n"), &none, false).level,
            Level::Ok
        );
    }

    #[test]
    fn memory_below_four_gib_fails_with_a_fix() {
        let low = memory(shipped("centos7").meminfo.as_deref());
        assert_eq!(low.level, Level::Fail);
        assert_eq!(
            low.found,
            "2.0 GiB available, at least 4 GiB needed (~8 GiB recommended)"
        );
        assert!(low.fix.unwrap().contains("~8 GiB"));
        let slow = memory(shipped("ubuntu24-cgroup2").meminfo.as_deref());
        assert_eq!(slow.level, Level::Ok);
        assert_eq!(
            slow.found,
            "5.6 GiB available (~8 GiB recommended for four nodes: expect it to be slow)"
        );
        let plenty = memory(Some("MemAvailable:   23430296 kB\n"));
        assert_eq!(
            plenty.found,
            "22.3 GiB available (~8 GiB recommended for four nodes)"
        );
        assert_eq!(memory(None).level, Level::Fail);
    }
}
