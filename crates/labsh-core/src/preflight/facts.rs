//! The one place the preflight reads the machine: files under `/proc` and `/sys`, free space
//! under Docker's data root, the Docker engine's `/version` and `/info`, and the tools' own
//! version output (`kind version`, `helm version --short`, `tcpdump --version`).
//!
//! Files are read below a root, `/` unless `LABSH_HOST_ROOT` names another (a container
//! that mounts the host's `/proc` and `/sys` under `/host`, or a test's fixture folder), so
//! every rule can be exercised on fixture files. Tool output and Docker answers are kept as
//! the text the tools printed; the parsers here turn them into [`Facts`] and are unit-tested
//! on real lines.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
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
        let v = self.api_version.as_deref()?;
        let (major, minor) = v.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    }
}

/// Asks the engine at `endpoint` for `/version` and `/info`.
pub async fn probe_docker(endpoint: &DockerEndpoint) -> DockerState {
    let start_fix =
        "start the Docker daemon (sudo systemctl start docker), or point DOCKER_HOST at its socket";
    if let DockerEndpoint::Other(h) = endpoint {
        return DockerState::Unreachable {
            detail: format!("DOCKER_HOST={h}: labsh talks to Docker over a unix socket or tcp://"),
            fix: "unset DOCKER_HOST to use /var/run/docker.sock, or set it to unix://PATH or tcp://HOST:PORT".into(),
        };
    }
    let version = match http_get(endpoint, "/version").await {
        Ok(text) => text,
        Err(GetError::Connect(e)) => return connect_failure(endpoint, e, start_fix),
        Err(GetError::Other(e)) => {
            return DockerState::Unreachable {
                detail: format!("{endpoint} does not answer like a Docker engine: {e}"),
                fix: start_fix.into(),
            };
        }
    };
    let info = match http_get(endpoint, "/info").await {
        Ok(text) => text,
        Err(GetError::Connect(e)) => return connect_failure(endpoint, e, start_fix),
        Err(GetError::Other(e)) => format!("HTTP/1.0 599 {e}\r\n\r\n"),
    };
    match parse_docker(&endpoint.to_string(), &version, &info) {
        Ok(info) => DockerState::Reached(info),
        Err(e) => DockerState::Unreachable {
            detail: format!("{endpoint} does not answer like a Docker engine: {e}"),
            fix: start_fix.into(),
        },
    }
}

fn connect_failure(endpoint: &DockerEndpoint, e: std::io::Error, start_fix: &str) -> DockerState {
    use std::io::ErrorKind;
    let (what, fix) = match e.kind() {
        ErrorKind::NotFound => ("no such socket".to_string(), start_fix.to_string()),
        ErrorKind::PermissionDenied => (
            "permission denied".to_string(),
            "run labsh as root, or join the docker group: sudo usermod -aG docker $USER (then log in again)"
                .to_string(),
        ),
        ErrorKind::ConnectionRefused => (
            "connection refused (nothing listens there)".to_string(),
            start_fix.to_string(),
        ),
        _ => (e.to_string(), start_fix.to_string()),
    };
    DockerState::Unreachable {
        detail: format!("cannot connect to {endpoint}: {what}"),
        fix,
    }
}

enum GetError {
    Connect(std::io::Error),
    Other(String),
}

/// `GET path` with HTTP/1.0 (the engine closes the connection after the answer).
async fn http_get(endpoint: &DockerEndpoint, path: &str) -> Result<String, GetError> {
    let timeout = || GetError::Other(format!("no answer in {}s", PROBE_TIMEOUT.as_secs()));
    match endpoint {
        DockerEndpoint::Unix(p) => {
            match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::UnixStream::connect(p)).await {
                Ok(Ok(stream)) => exchange(stream, path).await,
                Ok(Err(e)) => Err(GetError::Connect(e)),
                Err(_) => Err(timeout()),
            }
        }
        DockerEndpoint::Tcp(addr) => {
            match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => exchange(stream, path).await,
                Ok(Err(e)) => Err(GetError::Connect(e)),
                Err(_) => Err(timeout()),
            }
        }
        DockerEndpoint::Other(h) => Err(GetError::Other(format!("cannot speak to {h}"))),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    path: &str,
) -> Result<String, GetError> {
    let talk = async {
        stream
            .write_all(format!("GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").as_bytes())
            .await?;
        let mut buf = Vec::new();
        stream.take(4 << 20).read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&buf).into_owned())
    };
    tokio::time::timeout(PROBE_TIMEOUT, talk)
        .await
        .map_err(|_| GetError::Other(format!("no answer in {}s", PROBE_TIMEOUT.as_secs())))?
        .map_err(|e| GetError::Other(e.to_string()))
}

/// The JSON body of a raw HTTP response, or why it is not a 200 with JSON.
pub fn response_json(text: &str) -> Result<serde_json::Value, String> {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "not an HTTP response".to_string())?;
    let status = head.lines().next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if code != "200" {
        return Err(format!("HTTP status `{status}`"));
    }
    serde_json::from_str(body.trim()).map_err(|e| format!("bad JSON: {e}"))
}

/// [`DockerInfo`] from the raw responses to `GET /version` and `GET /info`. `/version` must
/// answer; an `/info` that does not leaves the cgroup fields unknown.
pub fn parse_docker(endpoint: &str, version: &str, info: &str) -> Result<DockerInfo, String> {
    let v = response_json(version).map_err(|e| format!("GET /version: {e}"))?;
    let i = response_json(info).unwrap_or(serde_json::Value::Null);
    Ok(DockerInfo {
        endpoint: endpoint.to_string(),
        version: v["Version"]
            .as_str()
            .unwrap_or("(unknown version)")
            .to_string(),
        api_version: v["ApiVersion"].as_str().map(String::from),
        cgroup_version: i["CgroupVersion"].as_str().map(String::from),
        cgroupns_private: i["SecurityOptions"]
            .as_array()
            .is_some_and(|opts| opts.iter().any(|o| o.as_str() == Some("name=cgroupns"))),
        root_dir: i["DockerRootDir"]
            .as_str()
            .unwrap_or("/var/lib/docker")
            .to_string(),
    })
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

    const VERSION_20_10: &str = "HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n\r\n{\"Version\":\"20.10.24+dfsg1\",\"ApiVersion\":\"1.41\"}\n";

    #[test]
    fn docker_info_gives_cgroup_version_cgroupns_mode_and_data_root() {
        // What Docker 20.10 on a cgroup v1 host (this machine) and on a cgroup v2 host answer.
        let v1 = "HTTP/1.0 200 OK\r\n\r\n{\"CgroupVersion\":\"1\",\"CgroupDriver\":\"cgroupfs\",\"SecurityOptions\":[\"name=seccomp,profile=default\"],\"DockerRootDir\":\"/var/lib/docker\"}";
        let d = parse_docker("unix:///var/run/docker.sock", VERSION_20_10, v1).unwrap();
        assert_eq!(d.version, "20.10.24+dfsg1");
        assert_eq!(d.api(), Some((1, 41)));
        assert_eq!(d.cgroup_version.as_deref(), Some("1"));
        assert!(!d.cgroupns_private);
        assert_eq!(d.root_dir, "/var/lib/docker");
        let v2 = "HTTP/1.0 200 OK\r\n\r\n{\"CgroupVersion\":\"2\",\"SecurityOptions\":[\"name=apparmor\",\"name=seccomp,profile=default\",\"name=cgroupns\"],\"DockerRootDir\":\"/srv/docker\"}";
        let d = parse_docker("unix:///var/run/docker.sock", VERSION_20_10, v2).unwrap();
        assert!(d.cgroupns_private);
        assert_eq!(d.root_dir, "/srv/docker");
        // An /info that fails leaves the cgroup facts unknown, not the engine unreachable.
        let d = parse_docker("x", VERSION_20_10, "HTTP/1.0 500 Oops\r\n\r\n").unwrap();
        assert_eq!(d.cgroup_version, None);
    }

    #[test]
    fn a_version_response_that_is_not_docker_says_why() {
        assert_eq!(
            parse_docker("x", "HTTP/1.0 404 Not Found\r\n\r\n", "").unwrap_err(),
            "GET /version: HTTP status `HTTP/1.0 404 Not Found`"
        );
        assert_eq!(
            parse_docker("x", "garbage", "").unwrap_err(),
            "GET /version: not an HTTP response"
        );
    }
}
