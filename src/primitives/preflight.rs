//! `preflight::run()`: is this machine ready for a lab, before anything changes? Docker
//! reachable, `kind`, `helm` and `tcpdump` present (with their versions), the right to capture
//! packets on the host, enough free memory for a four-node kind cluster. Each item says how to
//! fix what is missing; `lab::preflight()` (stdlib) prints the checklist.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rhai::{Array, Dynamic, Map};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::primitives::{Family, Registry};
use crate::process::{self, Spec};

/// `preflight::…`
pub const FAMILY: Family = Family {
    name: "preflight",
    summary: "check the machine before a lab: Docker, kind, helm, tcpdump, capture rights, memory",
    register,
};

/// Below this much available memory a four-node cluster with Cilium will not come up.
pub const MIN_MEMORY_KIB: u64 = 4 * 1024 * 1024;
/// What four kind nodes with Cilium and the app comfortably need.
pub const RECOMMENDED_MEMORY_KIB: u64 = 8 * 1024 * 1024;
/// CAP_NET_RAW's bit in the capability sets (linux/capability.h).
const CAP_NET_RAW: u32 = 13;
/// How long each probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

const RUN_DOC: &str = r#"Checks the machine before a lab, changing nothing, and returns
`#{ok, items}`: `ok` is true when every item is; each item is `#{name, ok, detail, fix}`
(`fix` says what to do, `()` when nothing is needed). Items: Docker reachable (its socket:
DOCKER_HOST or /var/run/docker.sock), `kind`, `helm` and `tcpdump` on PATH with their
versions, root or CAP_NET_RAW for host-side captures, free memory for four nodes.
`lab::preflight()` prints it as a checklist.

```rhai
let p = preflight::run();
for item in p.items {
    if !item.ok { print(item.name + ": " + item.detail + " → " + item.fix); }
}
```"#;

/// Registers `preflight::run`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func("preflight", "run", &["Map"], RUN_DOC, move || run(&c));
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What is checked (`Docker`, `kind`, …).
    pub name: String,
    /// Whether it is fine.
    pub ok: bool,
    /// What was found (a version, a path, an amount, an error).
    pub detail: String,
    /// How to fix it, when it is not fine.
    pub fix: Option<String>,
}

impl Item {
    fn ok(name: &str, detail: impl Into<String>) -> Self {
        Item {
            name: name.into(),
            ok: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Item {
            name: name.into(),
            ok: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn into_map(self) -> Map {
        let mut m = Map::new();
        m.insert("name".into(), self.name.into());
        m.insert("ok".into(), self.ok.into());
        m.insert("detail".into(), self.detail.into());
        m.insert(
            "fix".into(),
            self.fix.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
        );
        m
    }
}

fn run(ctx: &Ctx) -> ScriptResult<Map> {
    let token = ctx.cancel_token();
    for argv in [
        &["kind", "version"][..],
        &["helm", "version", "--short"],
        &["tcpdump", "--version"],
    ] {
        ctx.explain(argv);
    }
    let (docker, kind, helm, tcpdump) = ctx.block_on(async {
        tokio::join!(
            docker_item(docker_endpoint(
                std::env::var("DOCKER_HOST").ok().as_deref()
            )),
            tool_item("kind", &["version"], &token),
            tool_item("helm", &["version", "--short"], &token),
            tool_item("tcpdump", &["--version"], &token),
        )
    })?;
    let items = vec![
        docker,
        kind,
        helm,
        tcpdump,
        capture_item(),
        memory_item(std::fs::read_to_string("/proc/meminfo").ok().as_deref()),
    ];
    let ok = items.iter().all(|i| i.ok);
    let mut out = Map::new();
    out.insert("ok".into(), ok.into());
    out.insert(
        "items".into(),
        items
            .into_iter()
            .map(|i| Dynamic::from_map(i.into_map()))
            .collect::<Array>()
            .into(),
    );
    Ok(out)
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

async fn docker_item(endpoint: DockerEndpoint) -> Item {
    const NAME: &str = "Docker";
    let start_fix =
        "start the Docker daemon (sudo systemctl start docker), or point DOCKER_HOST at its socket";
    let response = match &endpoint {
        DockerEndpoint::Unix(path) => {
            match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::UnixStream::connect(path)).await {
                Ok(Ok(stream)) => get_version(stream).await,
                Ok(Err(e)) => return docker_connect_failure(&endpoint, e, start_fix),
                Err(_) => Err(format!("no answer in {}s", PROBE_TIMEOUT.as_secs())),
            }
        }
        DockerEndpoint::Tcp(addr) => {
            match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => get_version(stream).await,
                Ok(Err(e)) => return docker_connect_failure(&endpoint, e, start_fix),
                Err(_) => Err(format!("no answer in {}s", PROBE_TIMEOUT.as_secs())),
            }
        }
        DockerEndpoint::Other(h) => {
            return Item::fail(
                NAME,
                format!("DOCKER_HOST={h}: labsh talks to Docker over a unix socket or tcp://"),
                "unset DOCKER_HOST to use /var/run/docker.sock, or set it to unix://PATH or tcp://HOST:PORT",
            );
        }
    };
    match response {
        Ok(version) => Item::ok(NAME, format!("Docker {version} at {endpoint}")),
        Err(e) => Item::fail(
            NAME,
            format!("{endpoint} does not answer like a Docker engine: {e}"),
            start_fix,
        ),
    }
}

fn docker_connect_failure(endpoint: &DockerEndpoint, e: std::io::Error, start_fix: &str) -> Item {
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
    Item::fail(
        "Docker",
        format!("cannot connect to {endpoint}: {what}"),
        fix,
    )
}

/// `GET /version` over an open connection → `"20.10.24 (API 1.41)"`.
async fn get_version<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) -> Result<String, String> {
    let exchange = async {
        stream
            .write_all(b"GET /version HTTP/1.0\r\nHost: docker\r\n\r\n")
            .await?;
        let mut buf = Vec::new();
        stream.take(1 << 20).read_to_end(&mut buf).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&buf).into_owned())
    };
    let text = tokio::time::timeout(PROBE_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("no answer in {}s", PROBE_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?;
    parse_version_response(&text)
}

/// The engine's version from a raw HTTP response to `GET /version`.
pub fn parse_version_response(text: &str) -> Result<String, String> {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "not an HTTP response".to_string())?;
    let status = head.lines().next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if code != "200" {
        return Err(format!("HTTP status `{status}`"));
    }
    let v: serde_json::Value =
        serde_json::from_str(body.trim()).map_err(|e| format!("bad JSON from /version: {e}"))?;
    let version = v["Version"].as_str().unwrap_or("(unknown version)");
    Ok(match v["ApiVersion"].as_str() {
        Some(api) => format!("{version} (API {api})"),
        None => version.to_string(),
    })
}

// ─── Tools ───────────────────────────────────────────────────────────────────────────────

async fn tool_item(
    program: &str,
    args: &[&str],
    token: &tokio_util::sync::CancellationToken,
) -> Item {
    let hint = process::install_hint(program).unwrap_or("install it and put it on PATH");
    let Some(path) = process::which(program) else {
        return Item::fail(program, "not found on PATH", hint);
    };
    let mut argv = vec![path.display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let spec = Spec::new(argv).timeout(PROBE_TIMEOUT);
    match process::run(&spec, token).await {
        Ok(out) if out.code == 0 => {
            let version = first_line(&out.stdout)
                .or_else(|| first_line(&out.stderr))
                .unwrap_or("(no version printed)");
            Item::ok(program, format!("{version} ({})", path.display()))
        }
        Ok(out) => Item::fail(
            program,
            format!(
                "`{}` exited with status {}: {}",
                spec.command_line(),
                out.code,
                first_line(&out.stderr).unwrap_or_default()
            ),
            format!(
                "check that {} works, or reinstall it: {hint}",
                path.display()
            ),
        ),
        Err(e) => Item::fail(program, e.to_string(), hint),
    }
}

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

// ─── Capture rights ──────────────────────────────────────────────────────────────────────

fn capture_item() -> Item {
    const NAME: &str = "capture rights";
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 {
        return Item::ok(NAME, "running as root");
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if cap_eff_has_net_raw(&status) == Some(true) {
        return Item::ok(NAME, "CAP_NET_RAW in the effective set");
    }
    if let Some(tcpdump) = process::which("tcpdump")
        && has_file_capabilities(&tcpdump)
    {
        return Item::ok(
            NAME,
            format!("{} has file capabilities (setcap)", tcpdump.display()),
        );
    }
    Item::fail(
        NAME,
        format!("uid {euid} without CAP_NET_RAW: tcpdump cannot capture on the host's veths"),
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

fn has_file_capabilities(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    let name = c"security.capability";
    // SAFETY: both strings are NUL-terminated; a null buffer of size 0 only asks for the size.
    let size = unsafe { libc::getxattr(c_path.as_ptr(), name.as_ptr(), std::ptr::null_mut(), 0) };
    size > 0
}

// ─── Memory ──────────────────────────────────────────────────────────────────────────────

fn memory_item(meminfo: Option<&str>) -> Item {
    const NAME: &str = "memory";
    let fix = "free memory (close applications, delete unused kind clusters: kind get clusters) — four kind nodes with Cilium need ~8 GiB";
    let Some(kib) = meminfo.and_then(parse_mem_available) else {
        return Item::fail(
            NAME,
            "cannot read MemAvailable from /proc/meminfo",
            "check that /proc is mounted (labsh needs Linux)",
        );
    };
    let gib = kib as f64 / (1024.0 * 1024.0);
    if kib < MIN_MEMORY_KIB {
        Item::fail(
            NAME,
            format!("{gib:.1} GiB available, at least 4 GiB needed (~8 GiB recommended)"),
            fix,
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
    use super::*;

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

    #[test]
    fn version_response_gives_engine_and_api_versions() {
        let resp = "HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n\r\n{\"Version\":\"20.10.24+dfsg1\",\"ApiVersion\":\"1.41\"}\n";
        assert_eq!(
            parse_version_response(resp).unwrap(),
            "20.10.24+dfsg1 (API 1.41)"
        );
        assert_eq!(
            parse_version_response("HTTP/1.0 404 Not Found\r\n\r\n").unwrap_err(),
            "HTTP status `HTTP/1.0 404 Not Found`"
        );
        assert_eq!(
            parse_version_response("garbage").unwrap_err(),
            "not an HTTP response"
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
    }

    #[test]
    fn memory_below_four_gib_fails_with_a_fix() {
        let low = memory_item(Some("MemTotal: 4000000 kB\nMemAvailable:    2097152 kB\n"));
        assert!(!low.ok);
        assert_eq!(
            low.detail,
            "2.0 GiB available, at least 4 GiB needed (~8 GiB recommended)"
        );
        assert!(low.fix.unwrap().contains("~8 GiB"));
        let plenty = memory_item(Some("MemAvailable:   23430296 kB\n"));
        assert!(plenty.ok);
        assert_eq!(
            plenty.detail,
            "22.3 GiB available (~8 GiB recommended for four nodes)"
        );
        assert!(!memory_item(None).ok);
    }
}
