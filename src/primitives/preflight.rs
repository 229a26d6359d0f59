//! `preflight::run()`: is this machine ready for a lab, before anything changes? The facts
//! and rules live in [`crate::preflight`]; this family hands them to scripts, and
//! `lab::preflight()` (stdlib) prints the checklist.

use crate::errors::Script;
use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::options::Opts;
use crate::preflight::facts::{self, HostFiles};
use crate::preflight::{self, Item, Need, Profile, Version};
use crate::primitives::{Family, Registry};

// Tests that need capture rights ask the same question (tests/docker/env.rs).
pub use crate::preflight::rules::cap_eff_has_net_raw;

/// `preflight::…`
pub const FAMILY: Family = Family {
    name: "preflight",
    summary: "check the machine before a lab: kernel, cgroups, inotify, Docker, disk, kind, helm, tcpdump, capture rights, memory",
    register,
};

const RUN_DOC: &str = r#"Checks the machine before a lab, changing nothing, and returns `#{ok, items}`:
`ok` is false when an item FAILs; each item is `#{name, level, ok, detail, why, fix}` with
`level` one of "ok", "warn" (may break the lab in some cases; it goes on), "fail" (the lab
cannot work) or "skip" (not checked), `detail` what was found, `why` why it matters and `fix`
the exact fix (`()` for fine items).

Items: kernel (Cilium's kube-proxy replacement floor: 4.19.57 for 1.12, 5.10 for current;
Linux ≥ 7.2 needs Cilium ≥ 1.20.2), cgroups (v2, or Linux ≥ 5.14 for socket LB), inotify
(kind's 524288 watches / 512 instances), Docker (its socket: DOCKER_HOST or
/var/run/docker.sock), Docker cgroupns, disk (~3 GB free under Docker's data root), kind (≥
v0.20; on cgroup v1 a node image built by kind ≥ v0.20 and Kubernetes ≤ 1.34), helm (≥ 3.0.3
for 1.12, ≥ 3.13 for current), tcpdump, capture rights, memory.

Options say what the lab will run: `cilium` (the chart version), `node_image` (`--image`;
`()` for kind's default), `node_image_kind` (the kind release that built it), `only` (the
items the lab needs, by key: `kernel`, `cgroups`, `inotify`, `docker`, `docker_cgroupns`,
`disk`, `kind`, `helm`, `tcpdump`, `capture_rights`, `memory`; default: all). Files are read
below `LABSH_HOST_ROOT` when set (default `/`).

```rhai
let p = preflight::run(#{cilium: "1.12.1"});
for item in p.items {
    if item.level != "ok" { print(item.name + ": " + item.detail + " → " + item.fix); }
}
let q = preflight::run(#{only: ["docker", "tcpdump", "capture_rights"]});
```"#;

/// Registers `preflight::run`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func("preflight", "run", &["Map"], RUN_DOC, move || {
        run(&c, Profile::default(), None)
    });
    let c = ctx.clone();
    reg.func(
        "preflight",
        "run",
        &["opts: Map", "Map"],
        RUN_DOC,
        move |opts: Map| {
            let (profile, only) = profile(opts)?;
            run(&c, profile, only)
        },
    );
}

/// The keys of `preflight::run`'s option map (also the checker's table).
pub const OPTS: &[&str] = &["cilium", "node_image", "node_image_kind", "only"];

fn profile(opts: Map) -> ScriptResult<(Profile, Option<Vec<Need>>)> {
    const FUNC: &str = "preflight::run";
    let o = Opts::new(FUNC, opts, OPTS)?;
    let only = o
        .strings("only")?
        .map(|keys| {
            keys.iter()
                .map(|k| Need::parse(k).map_err(|e| error(format!("{FUNC}: option `only`: {e}"))))
                .collect::<ScriptResult<Vec<Need>>>()
        })
        .transpose()?;
    let version = |key: &str| -> ScriptResult<Option<Version>> {
        match o.string(key)? {
            None => Ok(None),
            Some(text) => labsh_core::version::parse(&text).map(Some).ok_or_else(|| {
                error(format!(
                    "{FUNC}: option `{key}` must be a version like 1.12.1 or v0.22.0, got `{text}`"
                ))
            }),
        }
    };
    let profile = Profile {
        cilium: version("cilium")?,
        node_image: o.string("node_image")?,
        node_image_kind: version("node_image_kind")?,
    };
    Ok((profile, only))
}

fn run(ctx: &Ctx, profile: Profile, only: Option<Vec<Need>>) -> ScriptResult<Map> {
    let token = ctx.cancel_token();
    for argv in [
        &["kind", "version"][..],
        &["helm", "version", "--short"],
        &["tcpdump", "--version"],
    ] {
        ctx.explain(argv);
    }
    let files = HostFiles::from_env();
    let endpoint = facts::docker_endpoint(std::env::var("DOCKER_HOST").ok().as_deref());
    let facts = ctx
        .block_on(facts::gather(&files, &endpoint, &token))
        .script()?;
    let items = preflight::evaluate_only(&facts, &profile, only.as_deref());
    let ok = items.iter().all(|i| i.level != preflight::Level::Fail);
    let mut out = Map::new();
    out.insert("ok".into(), ok.into());
    out.insert(
        "items".into(),
        items
            .into_iter()
            .map(|i| Dynamic::from_map(item_map(i)))
            .collect::<Array>()
            .into(),
    );
    Ok(out)
}

fn item_map(item: Item) -> Map {
    let opt = |s: Option<String>| s.map(Dynamic::from).unwrap_or(Dynamic::UNIT);
    let mut m = Map::new();
    m.insert("name".into(), item.name.into());
    m.insert("level".into(), item.level.as_str().into());
    m.insert("ok".into(), (item.level != preflight::Level::Fail).into());
    m.insert("detail".into(), item.found.into());
    m.insert("why".into(), opt(item.why));
    m.insert("fix".into(), opt(item.fix));
    m
}
