//! Helpers for the lab tests: evaluate Rhai in-process through the labsh library, read back
//! verdict maps, run the `labsh` binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use labsh::{Workbench, primitives};
use rhai::{Dynamic, Map};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Evaluates `code` in a fresh session whose script folder is `dir` (relative to the root):
/// imports resolve to the embedded stdlib first, then to files in `dir`.
pub fn eval_in(dir: &str, code: &str) -> Result<Dynamic, String> {
    let mut session = Workbench::new()
        .with_primitives(primitives::all())
        .build()
        .expect("a tokio runtime");
    session.set_script_dir(&root().join(dir));
    session.eval("test.rhai", code).map_err(|e| e.to_string())
}

/// A verdict read back from Rhai.
#[derive(Debug)]
pub struct Verdict {
    pub passed: bool,
    pub reason: String,
    pub evidence: Vec<String>,
}

/// Evaluates `call` (an expression returning a verdict) with `verdicts` and the handout's data
/// (`h`, tests/lab/handout.rhai) imported.
pub fn verdict(call: &str) -> Verdict {
    let code = format!("import \"verdicts\" as verdicts;\nimport \"handout\" as h;\n{call}");
    let v = eval_in("tests/lab", &code).unwrap_or_else(|e| panic!("{call} failed:\n{e}"));
    let map = v
        .try_cast::<Map>()
        .unwrap_or_else(|| panic!("{call} did not return a map"));
    let passed = map
        .get("passed")
        .and_then(|d| d.as_bool().ok())
        .expect("verdict.passed is a bool");
    let reason = map
        .get("reason")
        .and_then(|d| d.clone().into_string().ok())
        .expect("verdict.reason is a string");
    let evidence = map
        .get("evidence")
        .and_then(|d| d.clone().try_cast::<rhai::Array>())
        .expect("verdict.evidence is an array")
        .into_iter()
        .map(|d| d.into_string().expect("evidence lines are strings"))
        .collect();
    Verdict {
        passed,
        reason,
        evidence,
    }
}

/// Runs the labsh binary from the repository root with `args` and extra environment.
pub fn labsh(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_labsh"));
    cmd.args(args).current_dir(root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("labsh runs")
}

/// stdout and stderr as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether a Docker engine answers on the default socket (or DOCKER_HOST). Tests that need
/// it skip with a message, but fail when LABSH_REQUIRE_DOCKER=1 (CI).
pub fn docker_available(test: &str) -> bool {
    let socket = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
        .unwrap_or_else(|| "/var/run/docker.sock".into());
    let up = std::os::unix::net::UnixStream::connect(Path::new(&socket)).is_ok();
    if !up {
        if std::env::var("LABSH_REQUIRE_DOCKER").as_deref() == Ok("1") {
            panic!("{test}: LABSH_REQUIRE_DOCKER=1 but no Docker engine at {socket}");
        }
        eprintln!("skipping {test}: no Docker engine at {socket}");
    }
    up
}
