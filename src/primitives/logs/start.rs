//! `logs::start`: a target's pod logs followed in the background (`kubectl logs -f`
//! while the script goes on), and the `LogFollow` type (`lines`, `wait`, `stop`,
//! `dropped`, `running`). `logs::follow` (in `pods.rs`) is its blocking form: start,
//! wait, stop.

use std::sync::Arc;
use std::time::Duration;

use kube::api::LogParams;
use rhai::{Array, Dynamic, Map, NativeCallContext};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::follow::WaitOutcome;
use crate::kube::log_follow::{DEFAULT_KEEP, LogFollow, LogLine, LogOptions};
use crate::kube::logs;
use crate::options::Opts;
use crate::primitives::api_server::{block, conn};
use crate::primitives::follower;
use crate::primitives::logs::target::{explain_logs, item, target_of};
use crate::primitives::{Family, Registry};

/// `logs::start` and the `LogFollow` methods.
pub const FAMILY: Family = Family {
    name: "logs",
    summary: "start: pod logs followed in the background (lines, wait, stop)",
    register,
};

/// How long `stop()` waits for the streams to close.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The options of `logs::start` (and of `logs::follow`, which adds `timeout` and `until`).
pub const START_OPTS: &[&str] = &["container", "namespace", "tail", "since", "keep", "print"];

const START_DOC: &str = r#"Follows a target's logs in the background (`kubectl logs -f`) and returns a
`LogFollow` at once; the script goes on. Same targets as `logs::tail` (a pod name,
`pod/NAME`, a `Pod`, `deployment/NAME`, …). Options: `container`, `namespace`, `tail`
(start with the last N lines; default: all), `since` (a duration), `keep` (the newest N
lines are kept, default 100000; `f.dropped()` counts the older ones), `print` (print
lines as they come, prefixed `[pod]` when the target has several pods; quote the key).
`f.lines()` gives the lines so far (maps `#{pod, container, line}`, whatever the
target), `f.wait(#{count, timeout, "until"})` waits, `f.stop()` closes the streams and
returns the lines. The streams also close when the last variable holding it goes and when
the session ends (script error, Ctrl-C in `labsh run`). A follow that ends because the API
server went away is an error (from `wait` and `stop`), not a normal end.

```rhai
let f = logs::start("deployment/frontend", #{tail: 0});
http::get("http://172.18.0.3:32150/");
if f.wait(#{"until": |line| line.contains("GET / "), timeout: "10s"}) { print("logged"); }
let lines = f.stop();
```"#;

const START_BARE_DOC: &str = r#"Follows a target's logs in the background with the default options (every line
from the start of the log). See `logs::start(target, opts)`.

```rhai
let f = logs::start("frontend-6c6d6dfd4d-xg8lp");
sleep(2);
print(f.lines().len());
```"#;

const LINES_DOC: &str = r#"The lines followed so far, oldest first (the follow goes on): maps `#{pod,
container, line}`, whatever the target.

```rhai
let f = logs::start("deployment/frontend", #{tail: 0});
sleep(1);
for l in f.lines() { print(l.pod + ": " + l.line); }
```"#;

const WAIT_DOC: &str = r#"Waits until a line satisfies `until` (a closure receiving the line's text, called on
every kept line from the oldest, then on each new one), or `count` lines were received,
or the follow ends (every stream ended), or `timeout` passes — whichever comes first.
Returns `true` when `until` or `count` was met, `false` on the timeout or when the follow
ended first. An error when the follow ended because the API server went away. Ctrl-C
interrupts it (the follow goes on until `stop`). Without `count` nor `until`, waits for
the end. `until` is a Rhai keyword: quote the key.

```rhai
let f = logs::start("deployment/frontend", #{tail: 0});
let seen = f.wait(#{"until": |line| line.contains("\"GET /followed"), timeout: "30s"});
f.stop();
```"#;

const STOP_DOC: &str = r#"Stops following: the log streams close. Returns the lines kept (as `f.lines()`);
says on stderr how many older lines were dropped, if any. An error when the follow had
ended because the API server went away. Calling it again returns the same lines.

```rhai
let f = logs::start("deployment/frontend", #{tail: 0});
sleep(2);
let lines = f.stop();
```"#;

const DROPPED_DOC: &str = r#"How many lines were dropped because more than `keep` arrived (the oldest go first).

```rhai
let f = logs::start("deployment/frontend", #{keep: 10});
sleep(2);
print(f.dropped());
```"#;

/// Registers `logs::start` and the `LogFollow` type.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    reg.engine()
        .register_type_with_name::<LogFollow>("LogFollow")
        .register_fn("to_string", describe)
        .register_fn("to_debug", describe)
        .register_get("running", |f: &mut LogFollow| {
            f.follower().ended().is_none()
        })
        .register_get("received", |f: &mut LogFollow| {
            f.follower().received() as i64
        });
    let c = ctx.clone();
    reg.func(
        "logs",
        "start",
        &["target: Dynamic", "LogFollow"],
        START_BARE_DOC,
        move |t: Dynamic| start(&c, t, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        "logs",
        "start",
        &["target: Dynamic", "opts: Map", "LogFollow"],
        START_DOC,
        move |t: Dynamic, opts: Map| start(&c, t, opts),
    );
    reg.method(
        "lines",
        &["f: LogFollow", "Array"],
        LINES_DOC,
        |f: &mut LogFollow| -> Array { lines(f, None) },
    );
    let c = ctx.clone();
    reg.method(
        "wait",
        &["f: LogFollow", "opts: Map", "bool"],
        WAIT_DOC,
        move |nctx: NativeCallContext, f: &mut LogFollow, opts: Map| -> ScriptResult<bool> {
            let o = Opts::new("LogFollow.wait", opts, follower::WAIT_OPTS)?;
            wait(&c, &nctx, f, &o, "LogFollow.wait").map(|(met, _)| met)
        },
    );
    let c = ctx.clone();
    reg.method(
        "wait",
        &["f: LogFollow", "bool"],
        WAIT_DOC,
        move |nctx: NativeCallContext, f: &mut LogFollow| -> ScriptResult<bool> {
            let o = Opts::empty("LogFollow.wait");
            wait(&c, &nctx, f, &o, "LogFollow.wait").map(|(met, _)| met)
        },
    );
    let c = ctx.clone();
    reg.method(
        "stop",
        &["f: LogFollow", "Array"],
        STOP_DOC,
        move |f: &mut LogFollow| -> ScriptResult<Dynamic> {
            let lines = stop(&c, "LogFollow.stop", f, None)?;
            // With `print`, each line was shown as it came: the REPL does not list them again.
            Ok(crate::shown::shown_if(&c, f.prints(), lines.into()))
        },
    );
    reg.method(
        "dropped",
        &["f: LogFollow", "i64"],
        DROPPED_DOC,
        |f: &mut LogFollow| -> i64 { f.follower().dropped() as i64 },
    );
}

fn describe(f: &mut LogFollow) -> String {
    let state = match f.follower().ended() {
        None => "running".to_string(),
        Some(reason) => format!("ended: {reason:?}"),
    };
    format!(
        "LogFollow({}, {} lines, {} dropped, {state})",
        f.source().display,
        f.follower().received(),
        f.follower().dropped()
    )
}

fn start(ctx: &Ctx, t: Dynamic, opts: Map) -> ScriptResult<LogFollow> {
    let o = Opts::new("logs::start", opts, START_OPTS)?;
    launch(ctx, "logs::start", &t, &o)
}

/// Reads the start options of `o`, resolves the target and starts following it.
pub fn launch(ctx: &Ctx, func: &str, t: &Dynamic, o: &Opts) -> ScriptResult<LogFollow> {
    let (target, ns) = target_of(func, t, o.string("namespace")?)?;
    let container = o.string("container")?;
    let print = o.bool("print")?.unwrap_or(false);
    let tail = match o.int("tail")? {
        Some(n) if n < 0 => {
            return Err(error(format!(
                "{func}: option `tail` must be 0 or more, got {n}"
            )));
        }
        n => n,
    };
    let since = o.duration("since")?;
    let keep = follower::kept(ctx, func, o, "keep", DEFAULT_KEEP)?;
    let mut extra = vec!["-f".to_string()];
    if let Some(n) = tail {
        extra.extend(["--tail".to_string(), n.to_string()]);
    }
    if let Some(s) = since {
        extra.extend(["--since".to_string(), crate::kube::error::human(s)]);
    }
    let conn = conn(ctx)?;
    let source = block(ctx, logs::resolve(&conn, &target, ns.as_deref()))?
        .with_container(container.as_deref());
    if source.workload {
        extra.push("--prefix".into());
    }
    explain_logs(ctx, &target, &ns, &container, extra);
    let params = LogParams {
        container,
        tail_lines: tail,
        since_seconds: since.map(|s| s.as_secs().max(1) as i64),
        ..Default::default()
    };
    Ok(LogFollow::start(
        ctx,
        conn,
        source,
        params,
        LogOptions { keep, print },
    ))
}

/// The kept lines as script values, up to and including `last` when given.
pub fn lines(f: &LogFollow, last: Option<&Arc<LogLine>>) -> Array {
    let source = f.source();
    f.follower().with_store(|store| {
        let mut out = Array::new();
        for l in store.iter() {
            out.push(item(source, &l.pod, l.line.clone()));
            if last.is_some_and(|last| Arc::ptr_eq(last, l)) {
                break;
            }
        }
        out
    })
}

/// Waits as `o` says (`count`, `timeout`, `until`); returns whether `count` or `until` was
/// met, and the line `until` accepted. The follow's own failure (a lost server) is an error.
pub fn wait(
    ctx: &Ctx,
    nctx: &NativeCallContext,
    f: &LogFollow,
    o: &Opts,
    func: &str,
) -> ScriptResult<(bool, Option<Arc<LogLine>>)> {
    let (outcome, matched) = follower::wait(
        nctx,
        func,
        o,
        "line",
        |l: &Arc<LogLine>| l.line.clone().into(),
        |spec, until| f.follower().wait(ctx, spec, until),
    )?;
    if outcome == WaitOutcome::Ended
        && let Some(failure) = f.follower().error()
    {
        return Err(error(format!("{func}: {failure}")));
    }
    Ok((follower::met(outcome), matched))
}

/// Stops following and returns the lines kept (up to `last`); the follow's own failure is
/// an error. Reports dropped lines on stderr.
pub fn stop(
    ctx: &Ctx,
    func: &str,
    f: &LogFollow,
    last: Option<&Arc<LogLine>>,
) -> ScriptResult<Array> {
    f.follower().stop(ctx, STOP_GRACE);
    if let Some(failure) = f.follower().error() {
        return Err(error(format!("{func}: {failure}")));
    }
    let dropped = f.follower().dropped();
    if dropped > 0 {
        ctx.output().eprintln(&format!(
            "{func}: kept the last {} lines; {dropped} older lines were dropped (option `keep`)",
            f.follower().capacity()
        ));
    }
    Ok(lines(f, last))
}
