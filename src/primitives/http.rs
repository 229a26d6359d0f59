//! `http::get` and `http::get_all`: HTTP probes returning structured results.

use crate::errors::Script;
use std::time::Duration;

use rhai::{Array, Dynamic, ImmutableString, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::options::Opts;
use crate::primitives::{Family, Registry};
use crate::probe::{self, ProbeError, Request, Response};

/// `http::…`
pub const FAMILY: Family = Family {
    name: "http",
    summary: "HTTP probes (curl a NodePort, get status, timing and body)",
    register,
};

/// `http::get`'s options (also `crate::checker::options`).
pub(crate) const OPTS: &[&str] = &["timeout", "headers", "fail"];
/// `http::get_all`'s: [`OPTS`] and `concurrency`.
pub(crate) const GET_ALL_OPTS: &[&str] = &["timeout", "headers", "fail", "concurrency"];

const GET_DOC: &str = r#"GETs `url` and returns `#{url, status, ms, bytes, body, truncated, headers}` (`ms`: time
to the last body byte, a float; `headers`: a map with lower-case names; a body longer than
the sandbox string limit, `--max-string-size`, is cut there: `truncated` is then true). A connection failure or timeout is
an error naming the URL, unless `fail: false`, which returns `#{url, error}` instead. Options:
`timeout` (default `"10s"`), `headers` (a map), `fail`. Any status (404, 503) is a result,
not an error. Only `http://`.

```rhai
let r = http::get("http://172.18.0.3:30080/", #{timeout: "2s"});
print(`${r.status} in ${r.ms} ms, ${r.bytes} bytes`);
let r = http::get("http://127.0.0.1:9/", #{fail: false});
if "error" in r { print("down: " + r.error); }
```"#;

const GET_ALL_DOC: &str = r#"GETs the URLs concurrently and returns the results in input order: probing four nodes
costs the slowest one, not the sum. Same options and result maps as `http::get`, and
`concurrency` (how many at once, default 64). With `fail: true` (the default) any failure
is an error: how many failed, the count of each cause, and the first five in full.

```rhai
let urls = cluster::nodes("lab").map(|n| "http://" + n.ip + ":30080/");
for r in http::get_all(urls, #{fail: false}) { print(r.url + " " + (r.status ?? r.error)); }
```"#;

/// Registers `http::get` and `http::get_all`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "http",
        "get",
        &["url: String", "Map"],
        GET_DOC,
        move |url: &str| get(&c, url, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        "http",
        "get",
        &["url: String", "opts: Map", "Map"],
        GET_DOC,
        move |url: &str, opts: Map| get(&c, url, opts),
    );
    let c = ctx.clone();
    reg.func(
        "http",
        "get_all",
        &["urls: Array", "Array"],
        GET_ALL_DOC,
        move |urls: Array| get_all(&c, urls, Map::new()),
    );
    let c = ctx.clone();
    reg.func(
        "http",
        "get_all",
        &["urls: Array", "opts: Map", "Array"],
        GET_ALL_DOC,
        move |urls: Array, opts: Map| get_all(&c, urls, opts),
    );
}

struct Settings {
    timeout: Duration,
    headers: Vec<(String, String)>,
    fail: bool,
}

fn settings(func: &str, opts: Map, known: &[&str]) -> ScriptResult<Settings> {
    let o = Opts::new(func, opts, known)?;
    let headers = o
        .map("headers")?
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Ok(Settings {
        timeout: o.duration("timeout")?.unwrap_or(probe::DEFAULT_TIMEOUT),
        headers,
        fail: o.bool("fail")?.unwrap_or(true),
    })
}

fn request(ctx: &Ctx, url: &str, s: &Settings) -> Request {
    Request {
        max_body: ctx.settings().limits.string_bytes(),
        url: url.to_string(),
        headers: s.headers.clone(),
        timeout: s.timeout,
    }
}

fn to_map(url: &str, r: Result<Response, ProbeError>) -> Map {
    let mut m = Map::new();
    m.insert("url".into(), url.into());
    match r {
        Ok(r) => {
            m.insert("status".into(), Dynamic::from_int(r.status as i64));
            m.insert(
                "ms".into(),
                Dynamic::from_float(r.elapsed.as_secs_f64() * 1000.0),
            );
            m.insert("bytes".into(), Dynamic::from_int(r.bytes as i64));
            m.insert("body".into(), r.body.into());
            m.insert("truncated".into(), Dynamic::from_bool(r.truncated));
            let headers: Map = r
                .headers
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            m.insert("headers".into(), headers.into());
        }
        Err(e) => {
            m.insert("error".into(), e.to_string().into());
        }
    }
    m
}

/// Says on stderr that a body was cut at the string limit (the result has `truncated: true`).
fn note_truncated(ctx: &Ctx, func: &str, url: &str, r: &Result<Response, ProbeError>) {
    if let Ok(r) = r
        && r.truncated
    {
        ctx.output().eprintln(&ctx.settings().limits.string_note(
            func,
            &format!("kept the first {} bytes of the body of {url}", r.bytes),
        ));
    }
}

fn get(ctx: &Ctx, url: &str, opts: Map) -> ScriptResult<Map> {
    let s = settings("http::get", opts, OPTS)?;
    let req = request(ctx, url, &s);
    ctx.explain(&probe::curl_argv(&req));
    let r = ctx.block_on(probe::get(&req)).script()?;
    note_truncated(ctx, "http::get", url, &r);
    if s.fail
        && let Err(e) = &r
    {
        return Err(error(e.to_string()));
    }
    Ok(to_map(url, r))
}

fn get_all(ctx: &Ctx, urls: Array, mut opts: Map) -> ScriptResult<Array> {
    const F: &str = "http::get_all";
    let concurrency = match opts.remove("concurrency") {
        None => probe::DEFAULT_CONCURRENCY,
        Some(v) => match v.as_int() {
            Ok(n) if n >= 1 => n as usize,
            _ => {
                return Err(error(format!(
                    "{F}: option `concurrency` must be a positive integer, got `{v}`"
                )));
            }
        },
    };
    let s = settings(F, opts, GET_ALL_OPTS)?;
    let urls = urls
        .iter()
        .map(|u| {
            u.read_lock::<ImmutableString>()
                .map(|s| s.to_string())
                .ok_or_else(|| {
                    error(format!(
                        "http::get_all: URLs must be strings, got {} `{u}`",
                        u.type_name()
                    ))
                })
        })
        .collect::<ScriptResult<Vec<_>>>()?;
    let reqs: Vec<Request> = urls.iter().map(|u| request(ctx, u, &s)).collect();
    for r in &reqs {
        ctx.explain(&probe::curl_argv(r));
    }
    let results = ctx.block_on(probe::get_all(&reqs, concurrency)).script()?;
    for (u, r) in urls.iter().zip(&results) {
        note_truncated(ctx, "http::get_all", u, r);
    }
    if s.fail
        && let Some(summary) = probe::summary(&results, 5)
    {
        return Err(error(format!("{F}: {summary}")));
    }
    Ok(urls
        .iter()
        .zip(results)
        .map(|(u, r)| Dynamic::from_map(to_map(u, r)))
        .collect())
}
