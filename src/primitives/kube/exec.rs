//! `kube::exec` and `kube::exec_stream`: a command in a pod, like `kubectl exec`, collected
//! or streamed line by line to a callback (`tcpdump::` on pods runs through [`kube_exec`]).

use crate::errors::Script;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, FnPtr, Map, NativeCallContext};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::Conn;
use crate::kube::exec::{ExecLine, exec_lines};
use crate::options::Opts;
use crate::primitives::Registry;
use crate::primitives::proc::argv_from;

use super::{Recv, block, conn, explain, ns_flag, pod_arg, recv, s};

const EXEC_DOC: &str = r#"Runs a command in a pod (name or `Pod`) and returns `#{code, stdout, stderr}`; a
non-zero exit is not an error. Output is read line by line: each line of `stdout`/`stderr`
ends with a newline (one is added to a last line that had none). Options: `container`,
`namespace`, `timeout` (the exec is closed and an error raised).

```rhai
let agent = monitor::agent_pod("lab-worker");
let r = kube::exec(agent, ["cilium-dbg", "version"], #{container: "cilium-agent"});
let r = kube::exec("frontend-abc", ["cat", "/etc/hostname"]);
print(r.code);
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

fn exec_args(
    ctx: &Ctx,
    func: &str,
    pod: &Dynamic,
    argv: &Array,
    opts: Map,
) -> ScriptResult<(ExecArgs, Arc<Conn>)> {
    let o = Opts::new(func, opts, &["container", "namespace", "timeout"])?;
    let (ns, pod) = pod_arg(func, pod, o.string("namespace")?)?;
    let argv = argv_from(func, argv)?;
    let container = o.string("container")?;
    let timeout = o.duration("timeout")?;
    let mut ex = vec![s("exec")];
    ex.extend(ns_flag(&ns));
    ex.push(pod.clone());
    if let Some(c) = &container {
        ex.extend([s("-c"), c.clone()]);
    }
    ex.push(s("--"));
    ex.extend(argv.iter().cloned());
    explain(ctx, ex);
    let conn = conn(ctx)?;
    let namespace = conn.namespace(ns.as_deref()).to_string();
    Ok((
        ExecArgs {
            namespace,
            pod,
            container,
            argv,
            timeout,
        },
        conn,
    ))
}

pub(crate) fn kube_exec(ctx: &Ctx, pod: Dynamic, argv: Array, opts: Map) -> ScriptResult<Map> {
    let (a, _conn) = exec_args(ctx, "kube::exec", &pod, &argv, opts)?;
    let mut stream = block(
        ctx,
        exec_lines(ctx, &a.namespace, &a.pod, a.container.as_deref(), &a.argv),
    )?;
    let deadline = a.timeout.map(|t| tokio::time::Instant::now() + t);
    let (mut stdout, mut stderr) = (String::new(), String::new());
    loop {
        match recv(ctx, &mut stream.lines, deadline)? {
            Recv::TimedOut => {
                stream.close();
                return Err(error(format!(
                    "kube::exec: `{}` in pod {}/{} timed out after {} (the exec was closed)",
                    a.argv.join(" "),
                    a.namespace,
                    a.pod,
                    crate::kube::error::human(a.timeout.unwrap_or_default())
                )));
            }
            Recv::Closed => break,
            Recv::Item(ExecLine::Stdout(l)) => {
                stdout.push_str(&l);
                stdout.push('\n');
            }
            Recv::Item(ExecLine::Stderr(l)) => {
                stderr.push_str(&l);
                stderr.push('\n');
            }
        }
    }
    let info = ctx.block_on(stream.wait_exit()).script()?;
    let code = match info.code {
        Some(c) => c,
        None => {
            return Err(error(format!(
                "kube::exec: `{}` in pod {}/{}: {}",
                a.argv.join(" "),
                a.namespace,
                a.pod,
                if info.message.is_empty() {
                    "no exit status".to_string()
                } else {
                    info.message
                }
            )));
        }
    };
    let mut out = Map::new();
    out.insert("code".into(), Dynamic::from_int(code as i64));
    out.insert("stdout".into(), stdout.into());
    out.insert("stderr".into(), stderr.into());
    Ok(out)
}

fn exec_stream(
    ctx: &Ctx,
    ncc: &NativeCallContext,
    pod: Dynamic,
    argv: Array,
    opts: Map,
    cb: FnPtr,
) -> ScriptResult<Map> {
    let (a, _conn) = exec_args(ctx, "kube::exec_stream", &pod, &argv, opts)?;
    let mut stream = block(
        ctx,
        exec_lines(ctx, &a.namespace, &a.pod, a.container.as_deref(), &a.argv),
    )?;
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
