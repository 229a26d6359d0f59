//! The harness for the kind/helm tests: a temporary lab folder with a `bin/` of stand-ins
//! (test doubles for kind and helm, see `standins/`), a script folder, a fake HOME, and the
//! labsh binary run as a child process with only that environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const LABSH: &str = env!("CARGO_BIN_EXE_labsh");

fn standins() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kind_helm/standins")
}

/// The programs the stand-in scripts run.
const STANDIN_TOOLS: &[&str] = &[
    "sh", "readlink", "dirname", "basename", "cat", "cp", "mv", "touch", "mkdir", "wc", "grep",
    "seq", "sleep", "awk", "tr",
];

/// One test's world.
pub struct Lab {
    pub tmp: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// What a labsh run left.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, Some(0), "labsh failed:\n{}", self.stderr);
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Lab {
    /// A lab with the stand-ins (kind, helm, docker) on PATH and no cluster.
    pub fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        for dir in ["bin", "tools", "standin", "home", "script"] {
            std::fs::create_dir(tmp.path().join(dir)).unwrap();
        }
        let lab = Lab {
            tmp,
            env: Vec::new(),
        };
        for program in ["kind", "helm", "docker"] {
            std::os::unix::fs::symlink(standins().join(program), lab.bin().join(program)).unwrap();
        }
        // Only the utilities the stand-ins use are on PATH besides them, so a real kind, helm
        // or docker installed on the machine can never be found by mistake.
        for tool in STANDIN_TOOLS {
            let real = ["/usr/bin", "/bin"]
                .iter()
                .map(|d| Path::new(d).join(tool))
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("the stand-ins need `{tool}`"));
            std::os::unix::fs::symlink(real, lab.tmp.path().join("tools").join(tool)).unwrap();
        }
        lab
    }

    /// The same lab without `program` on PATH.
    pub fn without(self, program: &str) -> Lab {
        std::fs::remove_file(self.bin().join(program)).unwrap();
        self
    }

    /// Sets an environment variable for labsh (and so the stand-ins).
    pub fn env(mut self, key: &str, value: &str) -> Lab {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn bin(&self) -> PathBuf {
        self.tmp.path().join("bin")
    }

    /// Where the stand-ins log and keep state.
    pub fn standin_dir(&self) -> PathBuf {
        self.tmp.path().join("standin")
    }

    pub fn script_dir(&self) -> PathBuf {
        self.tmp.path().join("script")
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    /// Kind clusters that exist before the script runs.
    pub fn with_clusters(self, names: &[&str]) -> Lab {
        let text: String = names.iter().map(|n| format!("{n}\n")).collect();
        std::fs::write(self.standin_dir().join("kind-clusters"), text).unwrap();
        self
    }

    /// A file in the script's folder.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.script_dir().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A host tree for the preflight (files like `/proc/sys/kernel/osrelease`, written below
    /// the lab's `host/` folder), which labsh reads instead of `/` (`LABSH_HOST_ROOT`).
    pub fn with_host(self, files: &[(&str, &str)]) -> Lab {
        let root = self.tmp.path().join("host");
        for (abs, text) in files {
            let p = root.join(abs.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::create_dir_all(&root).unwrap();
        let root = root.display().to_string();
        self.env("LABSH_HOST_ROOT", &root)
    }

    /// Puts the machine's `program` (e.g. tcpdump) on the lab's PATH.
    pub fn with_real(self, program: &str) -> Lab {
        let real = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
            .iter()
            .map(|d| Path::new(d).join(program))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("`{program}` is not installed"));
        std::os::unix::fs::symlink(real, self.bin().join(program)).unwrap();
        self
    }

    /// `labsh FLAGS run scripts/tp12.rhai -- ARGS` (the repository's lab) with the lab's
    /// environment only.
    pub fn tp12(&self, flags: &[&str], args: &[&str]) -> Run {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tp12.rhai");
        let mut cmd = self.command_path(flags, &script);
        cmd.arg("--").args(args);
        cmd.output().unwrap().into()
    }

    /// `labsh FLAGS run script.rhai` with the lab's environment only.
    pub fn command(&self, flags: &[&str], script: &str) -> Command {
        let path = self.file("script.rhai", script);
        self.command_path(flags, &path)
    }

    fn command_path(&self, flags: &[&str], path: &Path) -> Command {
        let mut cmd = Command::new(LABSH);
        cmd.args(flags)
            .arg("run")
            .arg(path)
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin().display(),
                    self.tmp.path().join("tools").display()
                ),
            )
            .env("HOME", self.home())
            .env("STANDIN_DIR", self.standin_dir())
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, script: &str) -> Run {
        self.run_with(&[], script)
    }

    pub fn run_with(&self, flags: &[&str], script: &str) -> Run {
        self.command(flags, script).output().unwrap().into()
    }

    /// Every stand-in call, in order: `[program, args…]`.
    pub fn calls(&self) -> Vec<Vec<String>> {
        let Ok(bytes) = std::fs::read(self.standin_dir().join("calls.log")) else {
            return Vec::new();
        };
        let mut fields = bytes
            .split(|b| *b == 0)
            .map(|f| String::from_utf8_lossy(f).into_owned());
        let mut calls = Vec::new();
        while let Some(program) = fields.next() {
            if program.is_empty() {
                break;
            }
            let n: usize = fields.next().unwrap().parse().unwrap();
            let mut call = vec![program];
            call.extend(fields.by_ref().take(n));
            calls.push(call);
        }
        calls
    }

    /// The calls as shell-like lines, for readable assertions.
    pub fn call_lines(&self) -> Vec<String> {
        self.calls().iter().map(|c| c.join(" ")).collect()
    }

    /// Files the stand-ins were given: (path labsh passed, copy of its content at the time).
    pub fn kept(&self) -> Vec<(PathBuf, String)> {
        let Ok(log) = std::fs::read_to_string(self.standin_dir().join("files.log")) else {
            return Vec::new();
        };
        log.lines()
            .map(|l| {
                let (orig, copy) = l.split_once('\t').unwrap();
                (PathBuf::from(orig), std::fs::read_to_string(copy).unwrap())
            })
            .collect()
    }

    /// Waits until the stand-in that hangs wrote its pid and its child's.
    pub fn hang_pids(&self, within: Duration) -> (i32, i32) {
        let start = Instant::now();
        let read = |name: &str| -> Option<i32> {
            std::fs::read_to_string(self.standin_dir().join(name))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        loop {
            if let (Some(p), Some(c)) = (read("hang.pid"), read("hang-child.pid")) {
                return (p, c);
            }
            assert!(
                start.elapsed() < within,
                "the stand-in never started hanging"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Parses YAML into JSON values, to compare documents whatever their layout.
pub fn yaml(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("invalid YAML ({e}):\n{text}"))
}

/// Whether `pid` is gone (no such process, or a zombie nobody reaped yet).
pub fn gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
    }
}

/// Polls until every pid is gone; false if one is still alive after `within`.
pub fn all_gone(pids: &[i32], within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if pids.iter().all(|p| gone(*p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    pids.iter().all(|p| gone(*p))
}

impl Drop for Lab {
    /// A failed test must not leave the hanging stand-in behind.
    fn drop(&mut self) {
        for name in ["hang.pid", "hang-child.pid"] {
            if let Ok(text) = std::fs::read_to_string(self.standin_dir().join(name))
                && let Ok(pid) = text.trim().parse::<i32>()
                && !gone(pid)
            {
                // SAFETY: kill(2) on a pid this test's stand-in wrote; no memory involved.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

impl Lab {
    /// Runs labsh on a pseudo-terminal (util-linux `script`), where spinners draw.
    pub fn run_in_terminal(&self, flags: &[&str], script: &str) -> Run {
        let inner = self.command(flags, script);
        let line: Vec<String> = std::iter::once(inner.get_program())
            .chain(inner.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let script_program = ["/usr/bin/script", "/bin/script"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("util-linux `script` runs labsh on a pseudo-terminal");
        let mut cmd = Command::new(script_program);
        cmd.args(["-qec", &line.join(" "), "/dev/null"])
            .env_clear()
            .envs(inner.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env("TERM", "xterm")
            .stdin(Stdio::null());
        cmd.output().unwrap().into()
    }
}
