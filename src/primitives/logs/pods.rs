//! `logs::tail`, `logs::since`, `logs::follow`: pod logs into arrays of lines (the `logs`
//! module also holds `logs::start`, registered from [`super::start`], of which
//! `logs::follow` is the blocking form, and `logs::parse_access`, from [`super::access`]).
//!
//! One result shape whatever the target (a pod name, `pod/NAME`, a `Pod`, or a workload
//! or service whose pods may be several: `deployment/NAME`, `ds NAME`, `svc/NAME`): maps
//! `#{pod, container, line}`. `until` closures receive the line's text.

use kube::api::LogParams;
use rhai::{Array, Dynamic, Map, NativeCallContext};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::logs;
use crate::options::Opts;
use crate::primitives::api_server::{block, conn};
use crate::primitives::logs::start;
use crate::primitives::logs::target::{explain_logs, item, target_of};
use crate::primitives::{Family, Registry};

/// `logs::tail`, `logs::since`, `logs::follow`.
pub const FAMILY: Family = Family {
    name: "logs",
    summary: "pod logs: tail, since, follow (kube-rs)",
    register,
};

const TAIL_DOC: &str = r#"The last `n` lines of a target's logs (`kubectl logs TARGET --tail N`). `target`:
a pod name, a `Pod`, or kubectl's `KIND/NAME` or `KIND NAME` (`deployment/frontend`,
`svc frontend`: its pods through its selector). Each line is a map `#{pod, container,
line}`, whatever the target. Options: `namespace`, `container`.

```rhai
for line in logs::tail("deployment/frontend", 20) { print(line.line); }
let lines = logs::tail(kube::pods(#{selector: "app=guestbook"})[0], 5);
```"#;

const SINCE_DOC: &str = r#"The lines logged in the last `duration` (`kubectl logs TARGET --since 30s`). Same
targets, results and options as `logs::tail`.

```rhai
let recent = logs::since("frontend-6c6d6dfd4d-xg8lp", "30s");
```"#;

const FOLLOW_DOC: &str = r#"Follows a target's logs (`kubectl logs -f`) and returns the lines seen: the blocking
form of `logs::start` + `f.wait` + `f.stop`. Ends on `timeout`, when `until(line)`
returns true (that line included), when every stream ends, or on Ctrl-C; the streams are
closed. A follow that ends because the API server went away is an error. Options: `timeout`, `until` (closure receiving the
line's text), `print` (print lines as they come, prefixed `[pod]` when the target has
several pods), `container`, `namespace`, `tail` (start with the last N lines; default: all),
`since` (a duration), `keep` (the result keeps the last N lines, default 100000; older
ones are dropped and their count printed). Same result shape as `logs::tail`. `until` is a Rhai keyword: quote
the key, `"until": |line| …`.

```rhai
let lines = logs::follow("deployment/frontend", #{
    tail: 0, timeout: "30s", "print": true,
    "until": |line| line.starts_with("172.18.0.1 "),
});
```"#;

/// Registers the pod-log functions into the `logs` module.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let m = "logs";
    let c = ctx.clone();
    reg.func(
        m,
        "tail",
        &["target: Dynamic", "n: i64", "Array"],
        TAIL_DOC,
        move |t: Dynamic, n: i64| tail(&c, t, n, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "tail",
        &["target: Dynamic", "n: i64", "opts: Map", "Array"],
        TAIL_DOC,
        move |t: Dynamic, n: i64, opts: Map| tail(&c, t, n, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "since",
        &["target: Dynamic", "duration: String", "Array"],
        SINCE_DOC,
        move |t: Dynamic, d: &str| since(&c, t, d, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "since",
        &["target: Dynamic", "duration: String", "opts: Map", "Array"],
        SINCE_DOC,
        move |t: Dynamic, d: &str, opts: Map| since(&c, t, d, opts),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "follow",
        &["target: Dynamic", "Array"],
        FOLLOW_DOC,
        move |ncc: NativeCallContext, t: Dynamic| follow(&c, &ncc, t, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "follow",
        &["target: Dynamic", "opts: Map", "Array"],
        FOLLOW_DOC,
        move |ncc: NativeCallContext, t: Dynamic, opts: Map| follow(&c, &ncc, t, opts),
    );
}

fn fetch(
    ctx: &Ctx,
    func: &str,
    t: Dynamic,
    opts: Map,
    params: LogParams,
    extra: Vec<String>,
) -> ScriptResult<Array> {
    let o = Opts::new(func, opts, &["namespace", "container"])?;
    let (target, ns) = target_of(func, &t, o.string("namespace")?)?;
    let container = o.string("container")?;
    explain_logs(ctx, &target, &ns, &container, extra);
    let conn = conn(ctx)?;
    let source = block(ctx, logs::resolve(&conn, &target, ns.as_deref()))?
        .with_container(container.as_deref());
    let limits = ctx.settings().limits;
    // The API server cuts each pod's log at the string limit, so no log is read whole
    // beyond it; the result keeps the newest lines within the array and string limits.
    let params = LogParams {
        container,
        limit_bytes: i64::try_from(limits.string_bytes()).ok(),
        ..params
    };
    let per_pod = block(ctx, logs::fetch(&conn, &source, &params))?;
    let mut cut_by_server = false;
    for (_, lines) in &per_pod {
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        cut_by_server |= bytes >= limits.string_bytes();
    }
    let items: Vec<(String, String)> = per_pod
        .into_iter()
        .flat_map(|(pod, lines)| lines.into_iter().map(move |l| (pod.clone(), l)))
        .collect();
    // Each line reaches the script with its pod's and container's names: they count too.
    let size = |(pod, line): &(String, String)| {
        line.len() + pod.len() + source.containers.get(pod).map_or(0, String::len)
    };
    let (start, bytes) = newest_within(&items, size, limits.array_len(), limits.string_bytes());
    if cut_by_server {
        ctx.output()
            .eprintln(&crate::limits::Limits::truncated_note(
                func,
                "the API server cut the log at the string limit: kept its start, later lines were left out",
                &format!("{} bytes", crate::limits::group(limits.max_string_size)),
                crate::limits::STRING_FLAG,
            ));
    }
    if start > 0 {
        let limit = if items.len() - start == limits.array_len() {
            (
                format!("{} lines", crate::limits::group(limits.max_array_size)),
                crate::limits::ARRAY_FLAG,
            )
        } else {
            (
                format!("{} bytes", crate::limits::group(limits.max_string_size)),
                crate::limits::STRING_FLAG,
            )
        };
        ctx.output()
            .eprintln(&crate::limits::Limits::truncated_note(
                func,
                &format!(
                    "kept the newest {} lines ({bytes} bytes with their pod and container names); older lines were left out",
                    items.len() - start
                ),
                &limit.0,
                limit.1,
            ));
    }
    Ok(items
        .into_iter()
        .skip(start)
        .map(|(pod, l)| item(&source, &pod, l))
        .collect())
}

/// Where the newest lines that fit `max_lines` and `max_bytes` (each line weighing
/// `size`) start, and their bytes.
fn newest_within<T>(
    items: &[T],
    size: impl Fn(&T) -> usize,
    max_lines: usize,
    max_bytes: usize,
) -> (usize, usize) {
    let mut bytes = 0usize;
    let mut start = items.len();
    while start > 0 && items.len() - start < max_lines {
        let len = size(&items[start - 1]);
        if bytes + len > max_bytes {
            break;
        }
        bytes += len;
        start -= 1;
    }
    (start, bytes)
}

fn tail(ctx: &Ctx, t: Dynamic, n: i64, opts: Map) -> ScriptResult<Array> {
    if n < 0 {
        return Err(error(format!(
            "logs::tail: the line count must be 0 or more, got {n}"
        )));
    }
    let params = LogParams {
        tail_lines: Some(n),
        ..Default::default()
    };
    fetch(
        ctx,
        "logs::tail",
        t,
        opts,
        params,
        vec!["--tail".into(), n.to_string()],
    )
}

fn since(ctx: &Ctx, t: Dynamic, d: &str, opts: Map) -> ScriptResult<Array> {
    let dur = crate::duration::parse(d).map_err(|e| error(format!("logs::since: {e}")))?;
    let secs = dur.as_secs().max(1) as i64;
    let params = LogParams {
        since_seconds: Some(secs),
        ..Default::default()
    };
    fetch(
        ctx,
        "logs::since",
        t,
        opts,
        params,
        vec!["--since".into(), d.to_string()],
    )
}

fn follow(ctx: &Ctx, ncc: &NativeCallContext, t: Dynamic, opts: Map) -> ScriptResult<Dynamic> {
    const FUNC: &str = "logs::follow";
    let mut known = start::START_OPTS.to_vec();
    known.extend(["timeout", "until"]);
    let o = Opts::new(FUNC, opts, &known)?;
    // A bad timeout fails before the follow starts (the wait reads it again).
    o.duration("timeout")?;
    let f = start::launch(ctx, FUNC, &t, &o)?;
    let waited = start::wait(ctx, ncc, &f, &o, FUNC);
    // Stop whatever happened (Ctrl-C, an `until` error): nothing is left following.
    let matched = match waited {
        Ok((_, matched)) => matched,
        Err(e) => {
            f.follower().stop(ctx, std::time::Duration::from_secs(5));
            return Err(e);
        }
    };
    let lines = start::stop(ctx, FUNC, &f, matched.as_ref())?;
    // With `print`, the lines were shown as they came: the REPL does not list them again.
    Ok(crate::shown::shown_if(ctx, f.prints(), lines.into()))
}
