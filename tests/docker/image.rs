//! The test image: a minimal Debian with iproute2, nginx-light, procps and nftables (the
//! rehearsal's datapath), built locally because no registry is reachable. Like kind's node
//! images it has no tcpdump: node-side captures run this host's tcpdump in the node's network
//! namespace.
//!
//! Recipe (what [`ensure`] runs once, then reuses):
//!
//! ```sh
//! debootstrap --variant=minbase --include=iproute2,nginx-light,procps,nftables bookworm ROOT MIRROR
//! tar -C ROOT -c . > /var/tmp/labsh-test-image/<hash>.tar        # cached rootfs
//! docker import /var/tmp/labsh-test-image/<hash>.tar labsh-test:<hash>   # bollard create_image fromSrc=-
//! ```
//!
//! `<hash>` is an FNV-1a hash of [`recipe`]: change the recipe and a new image is built. MIRROR
//! is `LABSH_TEST_MIRROR`, else the Debian mirror this machine's apt uses, else
//! deb.debian.org. A file lock (`/var/tmp/labsh-test-image/build.lock`) keeps concurrent
//! test processes from building it twice. Building needs root (debootstrap) and about a
//! minute; the tarball is ~230 MB.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;

use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::StreamExt;

/// Packages debootstrap adds.
pub const PACKAGES: &str = "iproute2,nginx-light,procps,nftables";
/// The Debian release.
pub const SUITE: &str = "bookworm";

/// Everything that shapes the image; its hash is the tag (bump `v1` to force a rebuild).
pub fn recipe() -> String {
    format!(
        "debootstrap --variant=minbase --include={PACKAGES} {SUITE} | tar | docker import (labsh test image v1)"
    )
}
/// Where the rootfs tarball and the lock live.
pub const CACHE_DIR: &str = "/var/tmp/labsh-test-image";

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `labsh-test:<hash of the recipe>`.
pub fn tag() -> (String, String) {
    (
        "labsh-test".to_string(),
        format!("{:016x}", fnv1a(&recipe())),
    )
}

/// The Debian mirror: `LABSH_TEST_MIRROR`, else the one apt uses here, else deb.debian.org.
pub fn mirror() -> String {
    if let Ok(m) = std::env::var("LABSH_TEST_MIRROR")
        && !m.is_empty()
    {
        return m;
    }
    let mut candidates = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for e in dir.flatten() {
            if e.path().extension().is_some_and(|x| x == "sources")
                && let Ok(text) = std::fs::read_to_string(e.path())
            {
                for stanza in text.split("\n\n") {
                    let get = |k: &str| {
                        stanza
                            .lines()
                            .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
                    };
                    if let (Some(uris), Some(suites)) = (get("URIs:"), get("Suites:"))
                        && suites.split_whitespace().any(|s| s == SUITE)
                    {
                        candidates.extend(uris.split_whitespace().map(str::to_string));
                    }
                }
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string("/etc/apt/sources.list") {
        for l in text.lines() {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() >= 3 && w[0] == "deb" && w[2] == SUITE {
                candidates.push(w[1].to_string());
            }
        }
    }
    candidates
        .into_iter()
        .find(|u| u.starts_with("http"))
        .unwrap_or_else(|| "http://deb.debian.org/debian".to_string())
}

async fn image_exists(docker: &Docker, name: &str) -> bool {
    docker.inspect_image(name).await.is_ok()
}

/// Holds an exclusive `flock` on a file until dropped.
struct FileLock(std::fs::File);

impl FileLock {
    fn acquire(path: &Path) -> std::io::Result<FileLock> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // SAFETY: flock on a file descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(FileLock(f))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: unlocking our own descriptor.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

/// The rootfs tarball, built with debootstrap if it is not cached yet (caller holds the lock).
fn rootfs_tarball(hash: &str) -> Result<PathBuf, String> {
    let dir = Path::new(CACHE_DIR);
    let tar = dir.join(format!("{hash}.tar"));
    if tar.exists() {
        return Ok(tar);
    }
    if which("debootstrap").is_none() {
        return Err("debootstrap is not installed (apt-get install debootstrap)".to_string());
    }
    let root = dir.join(format!("{hash}.rootfs"));
    let _ = std::fs::remove_dir_all(&root);
    eprintln!(
        "building the test image rootfs with debootstrap into {} (about a minute)…",
        root.display()
    );
    run(Command::new("debootstrap")
        .arg("--variant=minbase")
        .arg(format!("--include={PACKAGES}"))
        .arg(SUITE)
        .arg(&root)
        .arg(mirror()))?;
    let partial = dir.join(format!("{hash}.tar.partial"));
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-c")
        .arg("-f")
        .arg(&partial)
        .arg("."))?;
    std::fs::rename(&partial, &tar).map_err(|e| format!("renaming {}: {e}", partial.display()))?;
    let _ = std::fs::remove_dir_all(&root);
    Ok(tar)
}

fn which(program: &str) -> Option<PathBuf> {
    labsh::process::which(program)
}

/// Makes sure the test image exists; returns its name. Built at most once across
/// concurrent test processes.
pub async fn ensure(docker: &Docker) -> Result<String, String> {
    let (repo, hash) = tag();
    let name = format!("{repo}:{hash}");
    if image_exists(docker, &name).await {
        return Ok(name);
    }
    std::fs::create_dir_all(CACHE_DIR).map_err(|e| format!("creating {CACHE_DIR}: {e}"))?;
    let lock_path = Path::new(CACHE_DIR).join("build.lock");
    let _lock = tokio::task::spawn_blocking(move || FileLock::acquire(&lock_path))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("locking {CACHE_DIR}/build.lock: {e}"))?;
    if image_exists(docker, &name).await {
        return Ok(name);
    }
    let h = hash.clone();
    let tar = tokio::task::spawn_blocking(move || rootfs_tarball(&h))
        .await
        .map_err(|e| e.to_string())??;
    eprintln!("importing {} as {name}…", tar.display());
    let bytes = tokio::fs::read(&tar)
        .await
        .map_err(|e| format!("reading {}: {e}", tar.display()))?;
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(&repo)
        .tag(&hash)
        .build();
    let mut stream =
        docker.create_image(Some(options), Some(bollard::body_full(bytes.into())), None);
    while let Some(item) = stream.next().await {
        item.map_err(|e| format!("docker import of {}: {e}", tar.display()))?;
    }
    if !image_exists(docker, &name).await {
        return Err(format!("{name} is still missing after the import"));
    }
    let _ = std::io::stderr().flush();
    Ok(name)
}
