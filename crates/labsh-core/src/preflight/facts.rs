//! The one place the preflight reads the machine: files under `/proc` and `/sys`, free space
//! under Docker's data root, the Docker engine's `/version` and `/info`, and the tools' own
//! version output (`kind version`, `helm version --short`, `tcpdump --version`).
//!
//! Files are read below a root, `/` unless `LABSH_HOST_ROOT` names another (a container
//! that mounts the host's `/proc` and `/sys` under `/host`, or a test's fixture folder), so
//! every rule can be exercised on fixture files. Tool output and Docker answers are kept as
//! the text the tools printed (Docker's as bollard's typed answers); the parsers here turn
//! them into [`Facts`] and are unit-tested on real lines and a stand-in engine socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::process::{self, Spec};
use crate::version::{self, Version};

/// Names another root for `/proc`, `/sys` and Docker's data root (default `/`).
pub const HOST_ROOT_ENV: &str = "LABSH_HOST_ROOT";
/// How long each probe (a tool, a Docker request) may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything the rules look at.
#[derive(Debug, Clone)]
pub struct Facts {
    pub host: HostFacts,
    pub docker: DockerState,
    /// Free space on the filesystem of Docker's data root, or why it could not be measured
    /// (`None`: not measured, the engine is unreachable or remote).
    pub disk: Option<Result<DiskFree, String>>,
    pub kind: Tool,
    pub helm: Tool,
    pub tcpdump: Tool,
    /// The effective uid of this process.
    pub euid: u32,
    /// Whether tcpdump has file capabilities (`setcap`).
    pub tcpdump_has_file_caps: bool,
}

/// What `/proc` and `/sys` say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// `/proc/sys/kernel/osrelease`, e.g. `6.18.44-fc-v857`.
    pub kernel_release: Option<String>,
    pub cgroup: CgroupMode,
    /// `/proc/sys/fs/inotify/max_user_watches`.
    pub inotify_watches: Option<u64>,
    /// `/proc/sys/fs/inotify/max_user_instances`.
    pub inotify_instances: Option<u64>,
    /// `/proc/meminfo`'s text.
    pub meminfo: Option<String>,
    /// `/proc/self/status`'s text (for `CapEff`).
    pub self_status: Option<String>,
}

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CgroupMode {
    /// cgroup v2 only (`/sys/fs/cgroup` is a cgroup2 mount: it has `cgroup.controllers`).
    V2,
    /// cgroup v1 controllers, with an empty v2 hierarchy at `/sys/fs/cgroup/unified`.
    Hybrid,
    /// cgroup v1 only.
    V1,
    /// Nothing readable at `/sys/fs/cgroup`.
    #[default]
    Unknown,
}

impl CgroupMode {
    /// What a trainee reads.
    pub fn describe(self) -> &'static str {
        match self {
            CgroupMode::V2 => "cgroup v2 (unified)",
            CgroupMode::Hybrid => {
                "cgroup v1 (hybrid: controllers on v1, an empty v2 tree at /sys/fs/cgroup/unified)"
            }
            CgroupMode::V1 => "cgroup v1",
            CgroupMode::Unknown => "unknown cgroup layout (nothing readable at /sys/fs/cgroup)",
        }
    }
}

/// Reads the host's files below a root.
#[derive(Debug, Clone)]
pub struct HostFiles {
    root: PathBuf,
}

impl HostFiles {
    /// `/`, or `LABSH_HOST_ROOT` when set and not empty.
    pub fn from_env() -> Self {
        match std::env::var_os(HOST_ROOT_ENV).filter(|v| !v.is_empty()) {
            Some(root) => HostFiles::at(root),
            None => HostFiles::at("/"),
        }
    }

    /// Files below `root` (a fixture folder in tests).
    pub fn at(root: impl Into<PathBuf>) -> Self {
        HostFiles { root: root.into() }
    }

    /// Where the absolute path `abs` is under the root.
    pub fn path(&self, abs: &str) -> PathBuf {
        self.root.join(abs.trim_start_matches('/'))
    }

    fn read(&self, abs: &str) -> Option<String> {
        std::fs::read_to_string(self.path(abs)).ok()
    }

    fn read_number(&self, abs: &str) -> Option<u64> {
        self.read(abs)?.trim().parse().ok()
    }

    /// Everything the rules need from `/proc` and `/sys`.
    pub fn host_facts(&self) -> HostFacts {
        HostFacts {
            kernel_release: self
                .read("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            cgroup: self.cgroup_mode(),
            inotify_watches: self.read_number("/proc/sys/fs/inotify/max_user_watches"),
            inotify_instances: self.read_number("/proc/sys/fs/inotify/max_user_instances"),
            meminfo: self.read("/proc/meminfo"),
            self_status: self.read("/proc/self/status"),
        }
    }

    /// cgroup v2 has `cgroup.controllers` at the top of its mount (the kernel's own test,
    /// as runc and systemd make it, is the filesystem's magic; the file is what a fixture
    /// can hold).
    fn cgroup_mode(&self) -> CgroupMode {
        if self.path("/sys/fs/cgroup/cgroup.controllers").exists() {
            CgroupMode::V2
        } else if self
            .path("/sys/fs/cgroup/unified/cgroup.controllers")
            .exists()
        {
            CgroupMode::Hybrid
        } else if std::fs::read_dir(self.path("/sys/fs/cgroup"))
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
        {
            CgroupMode::V1
        } else {
            CgroupMode::Unknown
        }
    }

    /// Free bytes for an unprivileged writer on the filesystem holding `abs` (`statvfs`).
    pub fn free_bytes(&self, abs: &str) -> Result<DiskFree, String> {
        use std::os::unix::ffi::OsStrExt;
        let path = self.path(abs);
        let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| format!("{} has a NUL byte", path.display()))?;
        // SAFETY: statvfs writes into the zeroed struct it is given; the path is NUL-terminated.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut st) };
        if rc != 0 {
            return Err(format!(
                "statvfs {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(DiskFree {
            path: abs.to_string(),
            bytes: st.f_bavail as u64 * st.f_frsize as u64,
        })
    }
}

/// Free space where Docker keeps images and containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskFree {
    /// Docker's data root (`DockerRootDir`), as Docker names it.
    pub path: String,
    pub bytes: u64,
}

// ─── Tools ───────────────────────────────────────────────────────────────────────────────

/// What running `PROGRAM version` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tool {
    /// Not on PATH; `hint` says how to install it.
    Missing { hint: String },
    /// Ran and failed (or could not run): `problem` says how.
    Failed {
        path: PathBuf,
        problem: String,
        hint: String,
    },
    /// Ran: its first line of output.
    Ran { path: PathBuf, output: String },
}

impl Tool {
    /// The first non-empty line it printed, when it ran.
    pub fn output(&self) -> Option<&str> {
        match self {
            Tool::Ran { output, .. } => Some(output),
            _ => None,
        }
    }
}

/// Runs `program args…` (found on PATH) and keeps its first line of output.
pub async fn run_tool(program: &str, args: &[&str], token: &CancellationToken) -> Tool {
    let hint = process::install_hint(program)
        .unwrap_or("install it and put it on PATH")
        .to_string();
    let Some(path) = process::which(program) else {
        return Tool::Missing { hint };
    };
    let mut argv = vec![path.display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let spec = Spec::new(argv).timeout(PROBE_TIMEOUT);
    match process::run(&spec, token).await {
        Ok(out) if out.code == 0 => {
            let output = first_line(&out.stdout)
                .or_else(|| first_line(&out.stderr))
                .unwrap_or("(no version printed)")
                .to_string();
            Tool::Ran { path, output }
        }
        Ok(out) => Tool::Failed {
            problem: format!(
                "`{}` exited with status {}: {}",
                spec.command_line(),
                out.code,
                first_line(&out.stderr).unwrap_or_default()
            ),
            path,
            hint,
        },
        Err(e) => Tool::Failed {
            path,
            problem: e.to_string(),
            hint,
        },
    }
}

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

/// kind's version from `kind version` (`kind v0.20.0 go1.20.4 linux/amd64`).
pub fn parse_kind_version(line: &str) -> Option<Version> {
    line.split_whitespace()
        .find(|w| w.starts_with('v'))
        .and_then(version::parse)
}

/// Helm's version from `helm version --short` (`v3.14.0+g3fc9f4b`) or the long form
/// (`version.BuildInfo{Version:"v3.14.0", …}`).
pub fn parse_helm_version(line: &str) -> Option<Version> {
    let t = line.trim();
    if let Some(rest) = t.split("Version:\"").nth(1) {
        return version::parse(rest);
    }
    version::parse(t)
}

// ─── Docker ──────────────────────────────────────────────────────────────────────────────

/// Where the Docker engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerEndpoint {
    /// A unix socket (`unix:///var/run/docker.sock`, the default).
    Unix(PathBuf),
    /// `tcp://host:port`.
    Tcp(String),
    /// A scheme this check cannot speak (`ssh://…`, `npipe://…`).
    Other(String),
}

impl std::fmt::Display for DockerEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DockerEndpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            DockerEndpoint::Tcp(a) => write!(f, "tcp://{a}"),
            DockerEndpoint::Other(s) => f.write_str(s),
        }
    }
}

/// The endpoint `DOCKER_HOST` names (unset or empty: the default socket).
pub fn docker_endpoint(docker_host: Option<&str>) -> DockerEndpoint {
    match docker_host.map(str::trim).filter(|s| !s.is_empty()) {
        None => DockerEndpoint::Unix(PathBuf::from("/var/run/docker.sock")),
        Some(h) => {
            if let Some(path) = h.strip_prefix("unix://") {
                DockerEndpoint::Unix(PathBuf::from(path))
            } else if let Some(addr) = h.strip_prefix("tcp://") {
                DockerEndpoint::Tcp(addr.trim_end_matches('/').to_string())
            } else {
                DockerEndpoint::Other(h.to_string())
            }
        }
    }
}

/// Whether the engine answered, and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerState {
    /// It did not: what happened and how to fix it.
    Unreachable {
        detail: String,
        fix: String,
    },
    Reached(DockerInfo),
}

/// The engine's `/version` and `/info`, as far as the rules need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerInfo {
    pub endpoint: String,
    /// `20.10.24+dfsg1`.
    pub version: String,
    /// `1.41`.
    pub api_version: Option<String>,
    /// `"1"` or `"2"` (`CgroupVersion`; absent before Docker 20.10).
    pub cgroup_version: Option<String>,
    /// The daemon's default cgroup namespace mode is private (`name=cgroupns` among its
    /// `SecurityOptions`, which Docker lists when it unshares cgroup namespaces by default).
    pub cgroupns_private: bool,
    /// `DockerRootDir` (`/var/lib/docker`).
    pub root_dir: String,
}

impl DockerInfo {
    /// `(major, minor)` of the engine's API version (`1.41` → `(1, 41)`).
    pub fn api(&self) -> Option<(u64, u64)> {
        let v = version::parse(self.api_version.as_deref()?)?;
        Some((v.major, v.minor))
    }
}

/// Asks the engine at `endpoint` for `/version` and `/info`, through bollard (after
/// negotiating the API version: bollard's default is newer than many engines).
pub async fn probe_docker(endpoint: &DockerEndpoint) -> DockerState {
    use bollard::{API_DEFAULT_VERSION, Docker};
    let secs = PROBE_TIMEOUT.as_secs();
    let connected = match endpoint {
        DockerEndpoint::Unix(p) => {
            Docker::connect_with_unix(&p.to_string_lossy(), secs, API_DEFAULT_VERSION)
        }
        DockerEndpoint::Tcp(addr) => {
            Docker::connect_with_http(&format!("tcp://{addr}"), secs, API_DEFAULT_VERSION)
        }
        DockerEndpoint::Other(h) => {
            return DockerState::Unreachable {
                detail: format!(
                    "DOCKER_HOST={h}: labsh talks to Docker over a unix socket or tcp://"
                ),
                fix: "unset DOCKER_HOST to use /var/run/docker.sock, or set it to unix://PATH or tcp://HOST:PORT".into(),
            };
        }
    };
    let docker = match connected {
        Ok(d) => d,
        Err(e) => return failure(endpoint, &e),
    };
    let no_answer = || DockerState::Unreachable {
        detail: format!("{endpoint} does not answer like a Docker engine: no answer in {secs}s"),
        fix: START_FIX.into(),
    };
    let docker = match tokio::time::timeout(PROBE_TIMEOUT, docker.negotiate_version()).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return failure(endpoint, &e),
        Err(_) => return no_answer(),
    };
    let version = match tokio::time::timeout(PROBE_TIMEOUT, docker.version()).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return failure(endpoint, &e),
        Err(_) => return no_answer(),
    };
    // An /info that fails leaves the cgroup facts unknown, not the engine unreachable.
    let info = tokio::time::timeout(PROBE_TIMEOUT, docker.info())
        .await
        .ok()
        .and_then(Result::ok);
    DockerState::Reached(docker_info(&endpoint.to_string(), &version, info.as_ref()))
}

const START_FIX: &str =
    "start the Docker daemon (sudo systemctl start docker), or point DOCKER_HOST at its socket";

/// What a failed request says: a connection that failed (the I/O error in bollard's chain,
/// or its missing-socket check), or an engine that answered something else.
fn failure(endpoint: &DockerEndpoint, e: &bollard::errors::Error) -> DockerState {
    use std::io::ErrorKind;
    if let bollard::errors::Error::SocketNotFoundError(_) = e {
        return connect_failure(endpoint, ErrorKind::NotFound, String::new());
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return connect_failure(endpoint, io.kind(), io.to_string());
        }
        source = s.source();
    }
    DockerState::Unreachable {
        detail: format!(
            "{endpoint} does not answer like a Docker engine: {}",
            crate::docker::client::error_chain(e)
        ),
        fix: START_FIX.into(),
    }
}

fn connect_failure(
    endpoint: &DockerEndpoint,
    kind: std::io::ErrorKind,
    message: String,
) -> DockerState {
    use std::io::ErrorKind;
    let (what, fix) = match kind {
        ErrorKind::NotFound => ("no such socket".to_string(), START_FIX.to_string()),
        ErrorKind::PermissionDenied => (
            "permission denied".to_string(),
            "run labsh as root, or join the docker group: sudo usermod -aG docker $USER (then log in again)"
                .to_string(),
        ),
        ErrorKind::ConnectionRefused => (
            "connection refused (nothing listens there)".to_string(),
            START_FIX.to_string(),
        ),
        _ => (message, START_FIX.to_string()),
    };
    DockerState::Unreachable {
        detail: format!("cannot connect to {endpoint}: {what}"),
        fix,
    }
}

/// [`DockerInfo`] from the engine's answers to `/version` and `/info` (`None`: `/info`
/// failed, the cgroup fields stay unknown).
pub fn docker_info(
    endpoint: &str,
    version: &bollard::models::SystemVersion,
    info: Option<&bollard::models::SystemInfo>,
) -> DockerInfo {
    DockerInfo {
        endpoint: endpoint.to_string(),
        version: version
            .version
            .clone()
            .unwrap_or_else(|| "(unknown version)".into()),
        api_version: version.api_version.clone(),
        cgroup_version: info
            .and_then(|i| i.cgroup_version.as_ref())
            .map(ToString::to_string)
            .filter(|v| !v.is_empty()),
        cgroupns_private: info
            .and_then(|i| i.security_options.as_ref())
            .is_some_and(|opts| opts.iter().any(|o| o == "name=cgroupns")),
        root_dir: info
            .and_then(|i| i.docker_root_dir.clone())
            .unwrap_or_else(|| "/var/lib/docker".into()),
    }
}

/// Whether `path` carries file capabilities (`security.capability`, set by `setcap`).
pub fn has_file_capabilities(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    let name = c"security.capability";
    // SAFETY: both strings are NUL-terminated; a null buffer of size 0 only asks for the size.
    let size = unsafe { libc::getxattr(c_path.as_ptr(), name.as_ptr(), std::ptr::null_mut(), 0) };
    size > 0
}

/// Reads everything: the host's files (below `files`' root), the Docker engine at
/// `endpoint`, free space under its data root, and the tools on PATH, concurrently.
pub async fn gather(
    files: &HostFiles,
    endpoint: &DockerEndpoint,
    token: &CancellationToken,
) -> Facts {
    let (docker, kind, helm, tcpdump) = tokio::join!(
        probe_docker(endpoint),
        run_tool("kind", &["version"], token),
        run_tool("helm", &["version", "--short"], token),
        run_tool("tcpdump", &["--version"], token),
    );
    let disk = match &docker {
        DockerState::Reached(info) if matches!(endpoint, DockerEndpoint::Unix(_)) => {
            Some(files.free_bytes(&info.root_dir))
        }
        // A remote engine keeps its images on another machine.
        _ => None,
    };
    let tcpdump_has_file_caps = match &tcpdump {
        Tool::Ran { path, .. } => has_file_capabilities(path),
        _ => false,
    };
    Facts {
        host: files.host_facts(),
        docker,
        disk,
        kind,
        helm,
        tcpdump,
        // SAFETY: geteuid has no preconditions and cannot fail.
        euid: unsafe { libc::geteuid() },
        tcpdump_has_file_caps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> HostFiles {
        HostFiles::at(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/preflight/testdata")
                .join(name),
        )
    }

    #[test]
    fn host_facts_come_from_the_files_below_the_root() {
        let f = fixture("debian12-cgroup1").host_facts();
        assert_eq!(f.kernel_release.as_deref(), Some("6.1.0-26-amd64"));
        assert_eq!(f.cgroup, CgroupMode::Hybrid);
        assert_eq!(f.inotify_watches, Some(122_186));
        assert_eq!(f.inotify_instances, Some(128));
        assert!(f.meminfo.unwrap().contains("MemAvailable:"));
        let f = fixture("ubuntu24-cgroup2").host_facts();
        assert_eq!(f.kernel_release.as_deref(), Some("6.8.0-45-generic"));
        assert_eq!(f.cgroup, CgroupMode::V2);
        assert_eq!(f.inotify_watches, Some(524_288));
        assert_eq!(f.inotify_instances, Some(512));
        let f = fixture("centos7").host_facts();
        assert_eq!(f.cgroup, CgroupMode::V1);
        assert_eq!(f.kernel_release.as_deref(), Some("3.10.0-1160.el7.x86_64"));
    }

    #[test]
    fn an_empty_root_knows_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let f = HostFiles::at(dir.path()).host_facts();
        assert_eq!(f, HostFacts::default());
    }

    #[test]
    fn free_space_is_measured_below_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/docker")).unwrap();
        let files = HostFiles::at(dir.path());
        let free = files.free_bytes("/var/lib/docker").unwrap();
        assert_eq!(free.path, "/var/lib/docker");
        assert!(free.bytes > 0);
        let err = files.free_bytes("/nope").unwrap_err();
        assert!(err.starts_with("statvfs "), "{err}");
        assert!(
            err.ends_with("No such file or directory (os error 2)"),
            "{err}"
        );
    }

    #[test]
    fn tool_versions_parse_from_their_real_output() {
        assert_eq!(
            parse_kind_version("kind v0.20.0 go1.20.4 linux/amd64"),
            Some(Version::new(0, 20, 0))
        );
        assert_eq!(
            parse_kind_version("kind v0.33.0 go1.25.1 linux/arm64"),
            Some(Version::new(0, 33, 0))
        );
        assert_eq!(parse_kind_version("kind version unknown"), None);
        assert_eq!(
            parse_helm_version("v3.14.0+g3fc9f4b"),
            Some(Version::new(3, 14, 0))
        );
        assert_eq!(
            parse_helm_version(
                r#"version.BuildInfo{Version:"v3.2.4", GitCommit:"0ad800ef43d3b826f31a5ad8dfbb4fe05d143688", GitTreeState:"clean", GoVersion:"go1.13.12"}"#
            ),
            Some(Version::new(3, 2, 4))
        );
        assert_eq!(parse_helm_version("Client: &version.Version{SemVer:"), None);
    }

    #[test]
    fn docker_host_unset_means_the_default_socket() {
        assert_eq!(
            docker_endpoint(None),
            DockerEndpoint::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            docker_endpoint(Some("")),
            DockerEndpoint::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            docker_endpoint(Some("unix:///run/user/1000/docker.sock")),
            DockerEndpoint::Unix("/run/user/1000/docker.sock".into())
        );
        assert_eq!(
            docker_endpoint(Some("tcp://127.0.0.1:2375")),
            DockerEndpoint::Tcp("127.0.0.1:2375".into())
        );
        assert_eq!(
            docker_endpoint(Some("ssh://me@host")),
            DockerEndpoint::Other("ssh://me@host".into())
        );
    }

    /// What Docker 20.10 answers to `/version`.
    const VERSION_20_10: &str = r#"{"Version":"20.10.24+dfsg1","ApiVersion":"1.41"}"#;

    fn docker_from(version: &str, info: Option<&str>) -> DockerInfo {
        let v: bollard::models::SystemVersion = serde_json::from_str(version).unwrap();
        let i: Option<bollard::models::SystemInfo> = info.map(|i| serde_json::from_str(i).unwrap());
        docker_info("unix:///var/run/docker.sock", &v, i.as_ref())
    }

    #[test]
    fn docker_info_gives_cgroup_version_cgroupns_mode_and_data_root() {
        // What Docker 20.10 on a cgroup v1 host (this machine) and on a cgroup v2 host answer.
        let v1 = r#"{"CgroupVersion":"1","CgroupDriver":"cgroupfs","SecurityOptions":["name=seccomp,profile=default"],"DockerRootDir":"/var/lib/docker"}"#;
        let d = docker_from(VERSION_20_10, Some(v1));
        assert_eq!(d.version, "20.10.24+dfsg1");
        assert_eq!(d.api(), Some((1, 41)));
        assert_eq!(d.cgroup_version.as_deref(), Some("1"));
        assert!(!d.cgroupns_private);
        assert_eq!(d.root_dir, "/var/lib/docker");
        let v2 = r#"{"CgroupVersion":"2","SecurityOptions":["name=apparmor","name=seccomp,profile=default","name=cgroupns"],"DockerRootDir":"/srv/docker"}"#;
        let d = docker_from(VERSION_20_10, Some(v2));
        assert!(d.cgroupns_private);
        assert_eq!(d.root_dir, "/srv/docker");
        // An /info that fails leaves the cgroup facts unknown, not the engine unreachable.
        let d = docker_from(VERSION_20_10, None);
        assert_eq!(d.cgroup_version, None);
    }

    /// A stand-in engine on a unix socket: answers each request with `answer(request line)`.
    async fn fake_engine(answer: fn(&str) -> String) -> (tempfile::TempDir, DockerEndpoint) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = conn.read(&mut buf).await.unwrap_or(0);
                    let request = String::from_utf8_lossy(&buf[..n]);
                    let line = request.lines().next().unwrap_or_default().to_string();
                    let _ = conn.write_all(answer(&line).as_bytes()).await;
                });
            }
        });
        (dir, DockerEndpoint::Unix(path))
    }

    fn json_200(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn an_engine_on_a_socket_is_probed_through_bollard() {
        let (_dir, endpoint) = fake_engine(|line| {
            if line.contains("/info") {
                json_200(r#"{"CgroupVersion":"2","SecurityOptions":["name=cgroupns"],"DockerRootDir":"/srv/docker"}"#)
            } else {
                json_200(VERSION_20_10)
            }
        })
        .await;
        let DockerState::Reached(d) = probe_docker(&endpoint).await else {
            panic!("the stand-in engine was not reached")
        };
        assert_eq!(d.endpoint, endpoint.to_string());
        assert_eq!(d.version, "20.10.24+dfsg1");
        assert_eq!(d.api(), Some((1, 41)));
        assert_eq!(d.cgroup_version.as_deref(), Some("2"));
        assert!(d.cgroupns_private);
        assert_eq!(d.root_dir, "/srv/docker");
    }

    #[tokio::test]
    async fn a_socket_that_does_not_answer_like_docker_says_why() {
        let (_dir, endpoint) = fake_engine(|_| {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot here\n"
                .into()
        })
        .await;
        let DockerState::Unreachable { detail, fix } = probe_docker(&endpoint).await else {
            panic!("a 404 is not an engine")
        };
        assert!(
            detail.starts_with(&format!(
                "{endpoint} does not answer like a Docker engine: "
            )),
            "{detail}"
        );
        assert!(detail.contains("404"), "{detail}");
        assert_eq!(fix, START_FIX);
    }

    #[tokio::test]
    async fn a_missing_socket_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = DockerEndpoint::Unix(dir.path().join("nope.sock"));
        let DockerState::Unreachable { detail, fix } = probe_docker(&endpoint).await else {
            panic!("no socket, no engine")
        };
        assert_eq!(
            detail,
            format!("cannot connect to {endpoint}: no such socket")
        );
        assert_eq!(fix, START_FIX);
    }

    #[tokio::test]
    async fn a_closed_tcp_port_is_connection_refused() {
        // A port just released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let endpoint = DockerEndpoint::Tcp(format!("127.0.0.1:{port}"));
        let DockerState::Unreachable { detail, .. } = probe_docker(&endpoint).await else {
            panic!("nothing listens")
        };
        assert_eq!(
            detail,
            format!("cannot connect to {endpoint}: connection refused (nothing listens there)")
        );
    }
}
