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

/// What a rehearsal of `scripts/tp12.rhai` against the test doubles printed, and how it ended.
pub struct Rehearsal {
    pub result: Result<(), String>,
    pub lines: Vec<String>,
}

impl Rehearsal {
    /// Whether some printed line is exactly `line`.
    pub fn has(&self, line: &str) -> bool {
        self.lines.iter().any(|l| l == line)
    }

    /// The lines starting with `prefix`.
    pub fn starting(&self, prefix: &str) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|l| l.starts_with(prefix))
            .map(String::as_str)
            .collect()
    }
}

/// Runs `scripts/tp12.rhai` with `args` in-process, with the rehearsal doubles
/// (tests/lab/rehearsal, see its README) registered as the `cluster`, `kube`, `helm`, `http`,
/// `logs`, `tcpdump` and `monitor` modules and a double `lab` module that starts at step
/// `from` (`""`: all). `mode` is the datapath the doubles replay: `dsr` or `snat`.
pub fn rehearse(mode: &str, from: &str, args: &[&str]) -> Rehearsal {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().expect("a temp dir");
    let log = dir.path().join("access.log");
    let doubles = root().join("tests/lab/rehearsal");
    let cluster = args
        .iter()
        .position(|a| *a == "--cluster")
        .map_or("tp12", |i| args[i + 1]);
    let fill = |name: &str| {
        std::fs::read_to_string(doubles.join(name))
            .expect("double exists")
            .replace("__MODE__", mode)
            .replace("__LOG__", log.to_str().expect("utf-8 temp path"))
            .replace("__FROM__", from)
            .replace("__CLUSTER__", cluster)
    };
    let stdlib = dir.path().join("stdlib");
    std::fs::create_dir(&stdlib).unwrap();
    std::fs::write(stdlib.join("lab.rhai"), fill("stdlib/lab.rhai")).unwrap();

    let mut session = Workbench::new()
        .with_primitives(primitives::all())
        .with_stdlib_dir(Some(stdlib))
        .build()
        .expect("a tokio runtime");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    session
        .engine_mut()
        .on_print(move |s| sink.lock().unwrap().extend(s.lines().map(str::to_string)));
    // The script's waits are for real packets and events; the doubles have them at once.
    let engine = session.engine_mut();
    engine.register_fn("sleep", |_duration: Dynamic| ());
    register_double_methods(engine);
    for name in [
        "cluster", "kube", "helm", "http", "logs", "tcpdump", "monitor",
    ] {
        let source = fill(&format!("{name}.rhai"));
        let mut ast = session
            .engine()
            .compile(&source)
            .unwrap_or_else(|e| panic!("double {name}: {e}"));
        ast.set_source(format!("rehearsal/{name}.rhai"));
        let module = rhai::Module::eval_ast_as_new(rhai::Scope::new(), &ast, session.engine())
            .unwrap_or_else(|e| panic!("double {name}: {e}"));
        session
            .engine_mut()
            .register_static_module(name, module.into());
    }
    let args = args.iter().map(|a| a.to_string()).collect();
    let result = session
        .run_file(&root().join("scripts/tp12.rhai"), args)
        .map(|_| ())
        .map_err(|e| e.to_string());
    drop(session);
    let lines = lines.lock().unwrap().clone();
    // LABSH_SHOW_REHEARSAL=1 shows what a trainee would have seen.
    if std::env::var_os("LABSH_SHOW_REHEARSAL").is_some() {
        eprintln!("{}", lines.join("\n"));
    }
    Rehearsal { result, lines }
}

/// The methods of the doubles' values (maps): `c.nodes()`, `c.control_plane()`,
/// `c.node(name)`, `n.host_veth()`, `svc.node_port()`, `cap.stop()`, `mon.stop()`,
/// `mon.wait_ready()`, `cap.wait_idle(…)`.
fn register_double_methods(engine: &mut rhai::Engine) {
    fn field(m: &Map, key: &str) -> Dynamic {
        m.get(key).cloned().unwrap_or(Dynamic::UNIT)
    }
    fn nodes(c: &Map) -> rhai::Array {
        field(c, "list").cast::<rhai::Array>()
    }
    engine.register_fn("nodes", |c: &mut Map| nodes(c));
    engine.register_fn("control_plane", |c: &mut Map| nodes(c)[0].clone());
    engine.register_fn(
        "node",
        |c: &mut Map, name: &str| -> Result<Dynamic, Box<rhai::EvalAltResult>> {
            nodes(c)
                .into_iter()
                .find(|n| field(&n.clone().cast::<Map>(), "name").to_string() == name)
                .ok_or_else(|| format!("double: no node {name}").into())
        },
    );
    engine.register_fn("host_veth", |n: &mut Map| field(n, "veth"));
    engine.register_fn("node_port", |s: &mut Map| {
        field(
            &field(s, "ports").cast::<rhai::Array>()[0]
                .clone()
                .cast::<Map>(),
            "node_port",
        )
    });
    engine.register_fn("stop", |m: &mut Map| field(m, "items"));
    // The doubles hold every packet and event at once: subscribed, and drained.
    engine.register_fn("wait_ready", |_m: &mut Map| ());
    engine.register_fn("wait_idle", |_m: &mut Map, _idle: &str, _timeout: &str| {
        true
    });
    // A log follow's wait: `until` on each line of the log file the http double writes.
    engine.register_fn(
        "wait",
        |ctx: rhai::NativeCallContext,
         m: &mut Map,
         opts: Map|
         -> Result<bool, Box<rhai::EvalAltResult>> {
            let text = std::fs::read_to_string(field(m, "log").to_string()).unwrap_or_default();
            let until = opts
                .get("until")
                .and_then(|u| u.clone().try_cast::<rhai::FnPtr>())
                .ok_or("double: a log follow's wait needs `until`")?;
            for line in text.lines().filter(|l| !l.is_empty()) {
                if until.call_within_context::<bool>(&ctx, (Dynamic::from(line.to_string()),))? {
                    return Ok(true);
                }
            }
            Ok(false)
        },
    );
}
