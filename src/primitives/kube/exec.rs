//! `kube::exec` and `kube::exec_stream`: a command in a pod, like `kubectl exec`, collected
//! or streamed line by line to a callback (`tcpdump::` on pods runs through [`kube_exec`]).

use crate::errors::Script;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::Conn;
use crate::kube::exec::{ExecLine, ExecStream, exec_lines};
use crate::kube::objects;
use crate::kube::target::Target;
use crate::kube::target_pods;
use crate::kube::typed::pod_status;
use crate::options::Opts;
use crate::primitives::Registry;
use crate::primitives::proc::argv_from;

use super::{Recv, block, conn, explain, ns_flag, pod_arg, recv, s};
use crate::output_budget::OutputBudget;

const EXEC_DOC: &str = r#"Runs a command in a pod and returns `#{pod, code, signal, stdout, stderr,
timed_out, error}`. The pod: a name, a `Pod`, or kubectl's `KIND/NAME` / `KIND NAME` for a
workload or service (`deployment/frontend`, `svc frontend`, `ds/cilium`): a running pod of
it is chosen as `kubectl exec` does and named on stderr. How the command ended is a result,
never an error: a non-zero exit (`code`), `signal` named for a `128 + N` exit (`"SIGSEGV"`
for 139, `"SIGTERM"` for 143, else `()`), `timed_out: true` when the `timeout` option ran
out (the exec is closed; `code` is `()`), a binary the image lacks as `code: 127` with the
runtime's message in `error` (`()` otherwise). A pod that is not running (`Pending`,
`ImagePullBackOff`…) is an error giving its state. Output is read line by line: each line
of `stdout`/`stderr` ends with a newline (one is added to a last line that had none).
Options: `container`, `namespace`, `timeout`.

```rhai
let agent = monitor::agent_pod("lab-worker");
let r = kube::exec(agent, ["cilium-dbg", "version"], #{container: "cilium-agent"});
let r = kube::exec("deployment/frontend", ["cat", "/etc/hostname"], #{timeout: "5s"});
if r.code != 0 { print(`${r.pod}: ${r.error ?? r.stderr}`); }
```"#;

const EXEC_STREAM_DOC: &str = r#"Runs a command in a pod and calls `callback(line)` for each stdout line as it
arrives; the callback returning `false` stops the command (the exec is closed). Returns
`#{code, stderr, stopped}`: `code` is `()` when stopped early, `stderr` holds stderr lines.
Options: `container`, `namespace`, `timeout` (stops, without error).

```rhai
kube::exec_stream("cilium-x7k2p", ["cilium-dbg", "monitor"], #{namespace: "kube-system", timeout: "10s"}, |line| {
    print(line);
    !line.contains("drop")
});
```"#;

/// Registers `kube::exec` and `kube::exec_stream`.
pub(super) fn register(reg: &mut Registry, ctx: &Ctx) {
    let m = "kube";
    with_and_without_opts!(reg, ctx, "exec", EXEC_DOC,
        [pod: Dynamic = "pod: Dynamic", argv: Array = "argv: Array"] -> "Map", kube_exec);
    let c = ctx.clone();
    reg.func(
        m,
        "exec_stream",
        &["pod: Dynamic", "argv: Array", "callback: FnPtr", "Map"],
        EXEC_STREAM_DOC,
        move |ncc: NativeCallContext, pod: Dynamic, argv: Array, cb: FnPtr| {
            exec_stream(&c, &ncc, pod, argv, Map::new(), cb)
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "exec_stream",
        &[
            "pod: Dynamic",
            "argv: Array",
            "opts: Map",
            "callback: FnPtr",
            "Map",
        ],
        EXEC_STREAM_DOC,
        move |ncc: NativeCallContext, pod: Dynamic, argv: Array, opts: Map, cb: FnPtr| {
            exec_stream(&c, &ncc, pod, argv, opts, cb)
        },
    );
}

struct ExecArgs {
    namespace: String,
    pod: String,
    container: Option<String>,
    argv: Vec<String>,
    timeout: Option<Duration>,
}

impl ExecArgs {
    /// `` `cat /etc/hostname` in pod lab/web-abc `` with the argv quoted as `--explain`
    /// shows it.
    fn what(&self) -> String {
        format!(
            "`{}` in pod {}/{}",
            crate::shell::join(&self.argv),
            self.namespace,
            self.pod
        )
    }
}

/// The exec options every exec-like call takes (`container`, `namespace`, `timeout`).
pub(super) struct ExecOpts {
    pub namespace: Option<String>,
    pub container: Option<String>,
    pub timeout: Option<Duration>,
}

impl ExecOpts {
    pub(super) fn read(o: &Opts) -> ScriptResult<ExecOpts> {
        Ok(ExecOpts {
            namespace: o.string("namespace")?,
            container: o.string("container")?,
            timeout: o.duration("timeout")?,
        })
    }
}

fn exec_args(
    ctx: &Ctx,
    func: &str,
    pod: &Dynamic,
    argv: &Array,
    opts: Map,
) -> ScriptResult<(ExecArgs, Arc<Conn>)> {
    let o = Opts::new(func, opts, &["container", "namespace", "timeout"])?;
    let argv = argv_from(func, argv)?;
    resolve(ctx, func, pod, argv, ExecOpts::read(&o)?)
}

/// Prints the `kubectl exec` line and finds the pod.
fn resolve(
    ctx: &Ctx,
    func: &str,
    pod: &Dynamic,
    argv: Vec<String>,
    opts: ExecOpts,
) -> ScriptResult<(ExecArgs, Arc<Conn>)> {
    let (ns, target) = pod_arg(func, pod, opts.namespace)?;
    let mut ex = vec![s("exec")];
    ex.extend(ns_flag(&ns));
    ex.push(target.clone());
    if let Some(c) = &opts.container {
        ex.extend([s("-c"), c.clone()]);
    }
    ex.push(s("--"));
    ex.extend(argv.iter().cloned());
    explain(ctx, ex);
    let conn = conn(ctx)?;
    let (namespace, pod) = exec_pod(ctx, func, &conn, &target, ns.as_deref())?;
    Ok((
        ExecArgs {
            namespace,
            pod,
            container: opts.container,
            argv,
            timeout: opts.timeout,
        },
        conn,
    ))
}

/// The pod to exec in: the named one, or for a workload or service target
/// (`deployment/frontend`, `svc frontend`) a running pod of it, chosen as `kubectl exec`
/// does and named on stderr.
fn exec_pod(
    ctx: &Ctx,
    func: &str,
    conn: &Conn,
    target: &str,
    ns: Option<&str>,
) -> ScriptResult<(String, String)> {
    let t = Target::parse(target).map_err(|e| error(format!("{func}: {e}")))?;
    if t.is_pod() {
        return Ok((conn.namespace(ns).to_string(), t.name));
    }
    let found = block(ctx, target_pods::resolve(conn, target, ns))?;
    let pod = found
        .pick_running()
        .map_err(|e| error(format!("{func}: {e}")))?;
    let name = target_pods::pod_name(pod).to_string();
    let running = found
        .pods
        .iter()
        .filter(|p| p.pointer("/status/phase").and_then(|v| v.as_str()) == Some("Running"))
        .count();
    ctx.output().eprintln(&format!(
        "{func}: {} → pod {name} ({running} of {} running)",
        found.display,
        found.pods.len()
    ));
    Ok((found.namespace, name))
}

/// Why an exec could not start in a pod that is not running: its state as `kubectl get
/// pods` shows it (`ImagePullBackOff`, `Pending`, `CrashLoopBackOff`); `None` when it runs
/// or cannot be read.
fn not_running(ctx: &Ctx, conn: &Conn, a: &ExecArgs) -> Option<String> {
    let pods = ctx.block_on(conn.kind("pods")).ok()?.ok()?;
    let pod = ctx
        .block_on(objects::get(conn, &pods, &a.pod, Some(&a.namespace)))
        .ok()?
        .ok()?;
    let phase = pod.pointer("/status/phase").and_then(|v| v.as_str());
    let state = pod_status(&pod);
    (phase != Some("Running") || state != "Running").then(|| {
        format!(
            "pod {}/{} is not running: {state}{}",
            a.namespace,
            a.pod,
            waiting_image(&pod)
                .map(|i| format!(" (image {i})"))
                .unwrap_or_default()
        )
    })
}

/// The image of the first container waiting on an image pull.
fn waiting_image(pod: &serde_json::Value) -> Option<String> {
    pod.pointer("/status/containerStatuses")?
        .as_array()?
        .iter()
        .find(|c| {
            c.pointer("/state/waiting/reason")
                .and_then(|r| r.as_str())
                .is_some_and(|r| r.contains("Image"))
        })
        .and_then(|c| c.get("image")?.as_str().map(str::to_string))
}

/// Starts the exec; a pod that is not running is an error giving its state.
fn start(ctx: &Ctx, func: &str, conn: &Conn, a: &ExecArgs) -> ScriptResult<ExecStream> {
    let started = ctx
        .block_on(exec_lines(
            ctx,
            &a.namespace,
            &a.pod,
            a.container.as_deref(),
            &a.argv,
        ))
        .script()?;
    started.or_else(|e| match not_running(ctx, conn, a) {
        Some(state) => Err(error(format!("{func}: {}: {state}", a.what()))),
        None => Err(e).script(),
    })
}

/// How a collected exec ended, as scripts get it: `#{pod, code, signal, stdout, stderr,
/// timed_out, error}`.
pub(super) struct ExecResult {
    pub pod: String,
    pub code: Option<i64>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
    pub error: Option<String>,
}

impl ExecResult {
    /// Cuts stdout and stderr so that the map fits the string limit beside its other strings
    /// (the pod, the signal, the error); whether it cut.
    fn fit(&mut self, limit: usize) -> bool {
        let signal = self.code.and_then(crate::exit_signal::signal_of_exit);
        let others = self.pod.len()
            + signal.map_or(0, str::len)
            + self.error.as_ref().map_or(0, String::len);
        crate::primitives::output_fit::fit_beside(&mut self.stdout, &mut self.stderr, others, limit)
    }

    fn into_map(self) -> Map {
        let opt = |v: Option<String>| v.map_or(Dynamic::UNIT, Dynamic::from);
        let signal = self
            .code
            .and_then(crate::exit_signal::signal_of_exit)
            .map(str::to_string);
        let mut out = Map::new();
        out.insert("pod".into(), self.pod.into());
        out.insert(
            "code".into(),
            self.code.map_or(Dynamic::UNIT, Dynamic::from_int),
        );
        out.insert("signal".into(), opt(signal));
        out.insert("stdout".into(), self.stdout.into());
        out.insert("stderr".into(), self.stderr.into());
        out.insert("timed_out".into(), self.timed_out.into());
        out.insert("error".into(), opt(self.error));
        out
    }
}

/// The exit status a shell gives a command the runtime could not start: 127 for a binary
/// that is not there, 126 for one that cannot be executed; `None` for other failures.
fn start_failure_code(message: &str) -> Option<i64> {
    let m = message.to_lowercase();
    if m.contains("not found") || m.contains("no such file") {
        Some(127)
    } else if m.contains("permission denied") {
        Some(126)
    } else {
        None
    }
}

pub(crate) fn kube_exec(ctx: &Ctx, pod: Dynamic, argv: Array, opts: Map) -> ScriptResult<Map> {
    const FUNC: &str = "kube::exec";
    let (a, conn) = exec_args(ctx, FUNC, &pod, &argv, opts)?;
    collect(ctx, FUNC, &a, &conn).map(ExecResult::into_map)
}

/// Runs `argv` in `pod` (a name, a `Pod` or a workload target) as `kube::exec` does.
pub(super) fn run(
    ctx: &Ctx,
    func: &str,
    pod: &Dynamic,
    argv: Vec<String>,
    opts: ExecOpts,
) -> ScriptResult<ExecResult> {
    let (a, conn) = resolve(ctx, func, pod, argv, opts)?;
    collect(ctx, func, &a, &conn)
}

/// Runs the exec to its end (or its timeout) and collects its output.
fn collect(ctx: &Ctx, func: &str, a: &ExecArgs, conn: &Conn) -> ScriptResult<ExecResult> {
    let mut stream = start(ctx, func, conn, a)?;
    let deadline = a.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut result = ExecResult {
        pod: a.pod.clone(),
        code: None,
        stdout: String::new(),
        stderr: String::new(),
        timed_out: false,
        error: None,
    };
    // stdout and stderr count together against the string limit (they share one map).
    let limits = ctx.settings().limits;
    let budget = OutputBudget::new(limits.string_bytes());
    loop {
        match recv(ctx, &mut stream.lines, deadline)? {
            Recv::TimedOut => {
                stream.close();
                result.timed_out = true;
                result.error = Some(format!(
                    "{} timed out after {} (the exec was closed)",
                    a.what(),
                    crate::kube::error::human(a.timeout.unwrap_or_default())
                ));
                result.fit(limits.string_bytes());
                return Ok(result);
            }
            Recv::Closed => break,
            Recv::Item(line) => {
                let kept = match line {
                    ExecLine::Stdout(l) => budget.keep_line(&mut result.stdout, &l),
                    ExecLine::Stderr(l) => budget.keep_line(&mut result.stderr, &l),
                };
                if !kept {
                    // Past the limit: closing the exec ends the command in the container.
                    stream.close();
                    break;
                }
            }
        }
    }
    let info = ctx.block_on(stream.wait_exit()).script()?;
    // A command stopped at the limit has no exit status: 128 + SIGTERM, as a shell says.
    match info
        .code
        .or(budget.is_full().then_some(128 + libc::SIGTERM))
    {
        Some(c) => result.code = Some(i64::from(c)),
        None => {
            let message = if info.message.is_empty() {
                "no exit status".to_string()
            } else {
                info.message
            };
            result.code = start_failure_code(&message);
            result.error = Some(format!("{}: {message}", a.what()));
        }
    }
    let cut = result.fit(limits.string_bytes());
    if budget.is_full() || cut {
        ctx.output().eprintln(&limits.string_note(
            func,
            &format!(
                "kept the first {} bytes of the output of `{}` in pod {}/{}{}",
                result.stdout.len() + result.stderr.len(),
                crate::shell::join(&a.argv),
                a.namespace,
                a.pod,
                if budget.is_full() {
                    ", then stopped it"
                } else {
                    ""
                }
            ),
        ));
    }
    Ok(result)
}

fn exec_stream(
    ctx: &Ctx,
    ncc: &NativeCallContext,
    pod: Dynamic,
    argv: Array,
    opts: Map,
    cb: FnPtr,
) -> ScriptResult<Map> {
    const FUNC: &str = "kube::exec_stream";
    let (a, conn) = exec_args(ctx, FUNC, &pod, &argv, opts)?;
    let mut stream = start(ctx, FUNC, &conn, &a)?;
    let deadline = a.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut stderr = Array::new();
    let mut stopped = false;
    loop {
        match recv(ctx, &mut stream.lines, deadline)? {
            Recv::TimedOut => {
                stopped = true;
                break;
            }
            Recv::Closed => break,
            Recv::Item(ExecLine::Stderr(l)) => stderr.push(l.into()),
            Recv::Item(ExecLine::Stdout(l)) => {
                // An error in the callback drops the stream, which closes the exec.
                let r: Dynamic = cb.call_within_context(ncc, (l,))?;
                if r.as_bool() == Ok(false) {
                    stopped = true;
                    break;
                }
            }
        }
    }
    let code = if stopped {
        stream.close();
        Dynamic::UNIT
    } else {
        ctx.block_on(stream.wait_exit())
            .script()?
            .code
            .map_or(Dynamic::UNIT, |c| Dynamic::from_int(c as i64))
    };
    let mut out = Map::new();
    out.insert("code".into(), code);
    out.insert("stderr".into(), stderr.into());
    out.insert("stopped".into(), stopped.into());
    Ok(out)
}
