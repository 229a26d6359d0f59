//! `kube::probe`: can this pod reach that URL? An HTTP or TCP probe run from inside a pod
//! with the tools its image has (see `crate::kube::reach`), as a lab checks that a Service
//! answers a client pod, or that a NetworkPolicy blocks it.

use std::time::Duration;

use rhai::{Dynamic, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::kube::reach::{Outcome, Reach, outcome};
use crate::options::Opts;
use crate::primitives::Registry;

use super::exec::{ExecOpts, run};

/// The default time a probe gets.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

const PROBE_DOC: &str = r#"Probes `url` from inside the pod `from` (a name, a `Pod`, or `deployment/NAME`…
as `kube::exec` takes them) and returns `#{ok, code, error, timed_out, tool}`: `ok` when an
HTTP status below 400 came back (`http://…`) or a TCP connection was made (`tcp://HOST:PORT`);
`code` the HTTP status (`()` for TCP or without a response); `error` why it failed
(`Connection refused`, `HTTP 404`) or `()`; `timed_out` when nothing answered within
`timeout`; `tool` what ran in the pod: `curl`, else `wget` (busybox images) for HTTP, `nc`
for TCP. A pod with none of them is an error. Options: `namespace`, `container`, `timeout`
(default "5s").

```rhai
let r = kube::probe("client", "http://frontend/", #{namespace: "lab"});
if !r.ok { print(`blocked: ${r.error}`); }
let dns = kube::probe("client", "tcp://10.96.0.10:53");
```"#;

/// Registers `kube::probe`.
pub(super) fn register(reg: &mut Registry, ctx: &Ctx) {
    with_and_without_opts!(reg, ctx, "probe", PROBE_DOC,
        [from: Dynamic = "from: Dynamic", url: &str = "url: String"] -> "Map", probe);
}

fn probe(ctx: &Ctx, from: Dynamic, url: &str, opts: Map) -> ScriptResult<Map> {
    const FUNC: &str = "kube::probe";
    let o = Opts::new(FUNC, opts, &["namespace", "container", "timeout"])?;
    let reach = Reach::parse(url).map_err(|e| error(format!("{FUNC}: {e}")))?;
    let timeout = o.duration("timeout")?.unwrap_or(DEFAULT_TIMEOUT);
    let mut missing = Vec::new();
    for (tool, argv) in reach.attempts(timeout) {
        let mut exec = ExecOpts::read(&o)?;
        // The tool's own timeout ends it first; the exec's is the backstop.
        exec.timeout = Some(timeout + Duration::from_secs(2));
        let r = run(ctx, FUNC, &from, argv, exec)?;
        if r.code == Some(127) {
            missing.push(tool);
            continue;
        }
        let out = if r.timed_out {
            Outcome {
                ok: false,
                code: None,
                error: Some(format!(
                    "no answer within {}",
                    crate::kube::error::human(timeout)
                )),
            }
        } else {
            outcome(tool, r.code.unwrap_or(-1), &r.stdout, &r.stderr)
        };
        // curl and wget say "timed out" themselves before the exec's backstop.
        let timed_out = r.timed_out
            || out
                .error
                .as_deref()
                .is_some_and(|e| e.contains("timed out") || e.contains("Timeout"));
        let mut m = Map::new();
        m.insert("ok".into(), out.ok.into());
        m.insert(
            "code".into(),
            out.code.map_or(Dynamic::UNIT, Dynamic::from_int),
        );
        m.insert(
            "error".into(),
            out.error.map_or(Dynamic::UNIT, Dynamic::from),
        );
        m.insert("timed_out".into(), timed_out.into());
        m.insert("tool".into(), tool.into());
        return Ok(m);
    }
    Err(error(format!(
        "{FUNC}: pod {} has none of {} to probe `{url}` with: use a client pod whose image has one",
        r_pod(&from),
        missing.join(", ")
    )))
}

/// The pod as written, for the message.
fn r_pod(from: &Dynamic) -> String {
    from.read_lock::<crate::kube::typed::Pod>()
        .map(|p| format!("{}/{}", p.namespace, p.name))
        .unwrap_or_else(|| from.to_string())
}
