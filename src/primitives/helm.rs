//! `helm::upgrade_install`, `helm::status`, `helm::list`, `helm::uninstall`,
//! `helm::values`, `helm::version`: Helm through its real CLI.

use crate::convert::{to_json, to_map};
use crate::errors::Script;
use rhai::{Array, Dynamic, Map};

use crate::context::Ctx;
use crate::errors::ScriptResult;
use crate::helm::release::ListScope;
use crate::helm::upgrade::UpgradeInstall;
use crate::helm::{self, release, upgrade, values, version};
use crate::options::Opts;
use crate::primitives::{Family, Registry};

/// `helm::…`
pub const FAMILY: Family = Family {
    name: "helm",
    summary: "Helm releases: upgrade_install, status, list, uninstall, values, version",
    register,
};

const UPGRADE_DOC: &str = r#"Installs or upgrades a release (`helm upgrade --install`) and returns its status
(the map `helm status -o json` gives: `info.status`, `chart.metadata.version`, `config`, …).
Options: `repo` (`--repo URL`), `version` (chart version), `namespace`, `create_namespace`
(false), `values` (a file or an array of files, relative to the script), `set` (a map of
values that labsh writes to a file passed last with `--values`: no `--set` escaping),
`wait` (false; true adds `--wait --timeout 10m0s`), `timeout` (helm's `--timeout`; labsh
kills helm 30s after it, or after 10m when none is given). A spinner shows while helm works.

```rhai
let r = helm::upgrade_install("cilium", "cilium", #{
    repo: "https://helm.cilium.io", version: "1.12.1",
    namespace: "kube-system", values: "ebpf-values.yaml",
    set: #{ k8sServiceHost: "lab-control-plane" },
});
print(r.info.status); // deployed
```"#;

const STATUS_DOC: &str = r#"The release's status as a map (`helm status RELEASE -o json`). Options: `namespace`,
`timeout` ("1m").

```rhai
let s = helm::status("cilium", #{namespace: "kube-system"});
print(s.chart.metadata.version);
```"#;

const LIST_DOC: &str = r#"The releases (`helm list -o json`), one record each: `name`, `namespace`,
`revision`, `updated`, `status`, `chart`, `app_version` (a misspelt field is an error naming
them). Options: `namespace`, `all_namespaces` (false), `timeout` ("1m").

```rhai
for r in helm::list(#{all_namespaces: true}) { print(r.name + " " + r.chart); }
```"#;

const UNINSTALL_DOC: &str = r#"Uninstalls a release (`helm uninstall RELEASE`). Options: `namespace`, `timeout` ("1m").

```rhai
helm::uninstall("cilium", #{namespace: "kube-system"});
```"#;

const VALUES_DOC: &str = r#"Helm values as a map: from a file when `path_or_yaml` names one (relative to the
script), else parsed as YAML text.

```rhai
let v = helm::values("ebpf-values.yaml");
if v.loadBalancer.mode != "dsr" { print("not DSR"); }
```"#;

const VERSION_DOC: &str = r#"The Helm version (`helm version`): `#{version: "v3.14.0", major: 3, minor: 14,
patch: 0, git_commit, go_version}`.

```rhai
let h = helm::version();
if h.major < 3 { throw "Helm 3 or later is needed, found " + h.version; }
```"#;

/// `helm::upgrade_install`'s options (also `crate::checker::options`).
pub(crate) const UPGRADE_INSTALL_OPTS: &[&str] = &[
    "repo",
    "version",
    "namespace",
    "create_namespace",
    "values",
    "set",
    "wait",
    "timeout",
];

fn upgrade_request(
    ctx: &Ctx,
    release: &str,
    chart: &str,
    opts: Map,
) -> ScriptResult<UpgradeInstall> {
    const FUNC: &str = "helm::upgrade_install";
    let o = Opts::new(FUNC, opts, UPGRADE_INSTALL_OPTS)?;
    let values = o
        .strings("values")?
        .unwrap_or_default()
        .iter()
        .map(|p| helm::existing_file(ctx, FUNC, "values file", p))
        .collect::<Result<Vec<_>, _>>()
        .script()?;
    Ok(UpgradeInstall {
        release: release.to_string(),
        chart: chart.to_string(),
        repo: o.string("repo")?,
        version: o.string("version")?,
        namespace: o.string("namespace")?,
        create_namespace: o.bool("create_namespace")?.unwrap_or(false),
        values,
        set: o
            .map("set")?
            .map(|m| to_json("helm::upgrade_install: option `set`", &Dynamic::from_map(m)))
            .transpose()?,
        wait: o.bool("wait")?.unwrap_or(false),
        timeout: o.duration("timeout")?,
    })
}

fn ns_timeout(func: &str, opts: Map) -> ScriptResult<(Option<String>, std::time::Duration)> {
    let o = Opts::new(func, opts, &["namespace", "timeout"])?;
    Ok((
        o.string("namespace")?,
        o.duration("timeout")?.unwrap_or(helm::CALL_TIMEOUT),
    ))
}

/// `helm list`'s releases as records (a misspelt field is an error naming the fields).
fn releases(list: labsh_core::errors::Result<Vec<release::Release>>) -> ScriptResult<Array> {
    Ok(list
        .script()?
        .iter()
        .map(|r| crate::records::Record::new(&crate::records::RELEASE, r).into_dynamic())
        .collect())
}

/// Registers the `helm` module.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let m = "helm";
    let c = ctx.clone();
    reg.func(
        m,
        "upgrade_install",
        &["release: String", "chart: String", "Map"],
        UPGRADE_DOC,
        move |rel: &str, chart: &str| {
            let status = upgrade::run(&c, &upgrade_request(&c, rel, chart, Map::new())?);
            status.script().map(|s| to_map(&s))
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "upgrade_install",
        &["release: String", "chart: String", "opts: Map", "Map"],
        UPGRADE_DOC,
        move |rel: &str, chart: &str, opts: Map| {
            let status = upgrade::run(&c, &upgrade_request(&c, rel, chart, opts)?);
            status.script().map(|s| to_map(&s))
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "status",
        &["release: String", "Map"],
        STATUS_DOC,
        move |rel: &str| {
            release::status(&c, rel, None, helm::CALL_TIMEOUT)
                .script()
                .map(|s| to_map(&s))
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "status",
        &["release: String", "opts: Map", "Map"],
        STATUS_DOC,
        move |rel: &str, opts: Map| {
            let (ns, t) = ns_timeout("helm::status", opts)?;
            release::status(&c, rel, ns.as_deref(), t)
                .script()
                .map(|s| to_map(&s))
        },
    );
    let c = ctx.clone();
    reg.func(m, "list", &["Array"], LIST_DOC, move || {
        releases(release::list(&c, &ListScope::default(), helm::CALL_TIMEOUT))
    });
    let c = ctx.clone();
    reg.func(
        m,
        "list",
        &["opts: Map", "Array"],
        LIST_DOC,
        move |opts: Map| -> ScriptResult<Array> {
            let o = Opts::new(
                "helm::list",
                opts,
                &["namespace", "all_namespaces", "timeout"],
            )?;
            let scope = ListScope {
                namespace: o.string("namespace")?,
                all_namespaces: o.bool("all_namespaces")?.unwrap_or(false),
            };
            releases(release::list(
                &c,
                &scope,
                o.duration("timeout")?.unwrap_or(helm::CALL_TIMEOUT),
            ))
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "uninstall",
        &["release: String", "()"],
        UNINSTALL_DOC,
        move |rel: &str| release::uninstall(&c, rel, None, helm::CALL_TIMEOUT).script(),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "uninstall",
        &["release: String", "opts: Map", "()"],
        UNINSTALL_DOC,
        move |rel: &str, opts: Map| {
            let (ns, t) = ns_timeout("helm::uninstall", opts)?;
            release::uninstall(&c, rel, ns.as_deref(), t).script()
        },
    );
    let c = ctx.clone();
    reg.func(
        m,
        "values",
        &["path_or_yaml: String", "Map"],
        VALUES_DOC,
        move |s: &str| values::load(&c, s).script().map(|v| to_map(&v)),
    );
    let c = ctx.clone();
    reg.func(
        m,
        "version",
        &["Map"],
        VERSION_DOC,
        move || -> ScriptResult<Map> {
            version::run(&c, helm::CALL_TIMEOUT)
                .script()
                .map(|v| to_map(&v))
        },
    );
}
