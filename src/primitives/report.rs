//! `report::…`: what a lab adds to its report besides checks. A title and parameters for the
//! page's header, and figures: `report::flow` draws a sequence diagram from captured data
//! (lifelines and one arrow per message) into the HTML report, under the running step, and
//! returns the same flow as a text diagram for the terminal. Which lifeline sends which arrow
//! is the script's knowledge (see `stdlib/flows.rhai` for NodePort captures and monitor
//! traces); nothing here knows a lab.

use rhai::{Array, Dynamic, ImmutableString, Map};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error};
use crate::journal::Journal;
use crate::journal::flow::{self, Arrow, Flow, Lifeline};
use crate::options::Opts;
use crate::output::Style;
use crate::primitives::{Family, Registry};
use crate::report::flow_text;

/// `report::…`
pub const FAMILY: Family = Family {
    name: "report",
    summary: "the lab report's title, parameters and flow figures (--report lab.html)",
    register,
};

const TITLE_DOC: &str = r#"Sets the lab's title, shown at the top of the HTML report
(`--report lab.html`; default: the script's name).

```rhai
report::title("TP12 — eBPF : Cilium remplace kube-proxy");
```"#;

const PARAM_DOC: &str = r#"Adds a parameter to the HTML report's header (`Cilium: 1.12.1`), in
the order given; setting a name again replaces its value. `value` may be any value.

```rhai
report::param("Cilium", "1.12.1");
report::param("Cluster", "tp12");
```"#;

const FLOW_DOC: &str = r#"Draws a sequence diagram from captured data: into the HTML report
(`--report lab.html`), under the running step, as an SVG figure; and returns it as a text
diagram for the terminal (box drawing, ASCII with `--no-color` or `LANG=C`, at most 100
columns), which the script may print.

`lifelines` are the participants, left to right: strings, or maps `#{id, name, detail,
addresses}` (`name` defaults to `id`; `detail` is a second heading line such as an address;
`addresses` resolve arrows' `src`/`dst`, default `[detail]`).

`arrows` are the messages in time order, maps with:
- `from`, `to`: lifeline ids; or `src`, `dst` addresses found in the lifelines' `addresses`;
- `label`: the text above the arrow (lines split on `\n`); without it, a packet's name and
  addresses: a tcpdump packet or a cilium monitor event map works as is
  (`SYN 172.18.0.1:52216 → 10.244.4.66:80`, from `flags`, `src`, `sport`, `dst`, `dport`);
- `detail`: more lines under the label; `note`: a remark beside the arrow;
- `highlight: true`: one of the arrows a check relies on (drawn thick);
- `inferred: true`: not captured, what must have happened (drawn dashed, labelled inferred).
Other keys are ignored, so captured maps can be passed with `from`/`to` added.

`opts`: `empty` (what to say when `arrows` is empty; default "nothing was captured"),
`caption` (a sentence under the figure).

```rhai
let lifelines = [#{id: "client", detail: "172.18.0.1"}, #{id: "node", name: "tp12-worker", detail: "172.18.0.2"}];
let arrows = [
    #{from: "client", to: "node", flags: "S", src: "172.18.0.1", sport: 52216, dst: "172.18.0.2", dport: 32150},
    #{from: "node", to: "client", label: "SYN-ACK", highlight: true, note: "seen on veth"},
];
print(report::flow("NodePort", lifelines, arrows));
```"#;

/// Registers `report::title`, `report::param` and `report::flow`.
pub fn register(reg: &mut Registry, ctx: &Ctx) {
    let c = ctx.clone();
    reg.func(
        "report",
        "title",
        &["title: String", "()"],
        TITLE_DOC,
        move |title: &str| c.ext::<Journal>().set_title(title),
    );
    let c = ctx.clone();
    reg.func(
        "report",
        "param",
        &["name: String", "value: Dynamic", "()"],
        PARAM_DOC,
        move |name: &str, value: Dynamic| {
            let value = if value.is_unit() {
                String::new()
            } else {
                value.to_string()
            };
            c.ext::<Journal>().set_param(name, &value);
        },
    );
    let c = ctx.clone();
    reg.func(
        "report",
        "flow",
        &[
            "title: String",
            "lifelines: Array",
            "arrows: Array",
            "String",
        ],
        FLOW_DOC,
        move |title: &str, lifelines: Array, arrows: Array| {
            draw(&c, title, lifelines, arrows, Map::new())
        },
    );
    let c = ctx.clone();
    reg.func(
        "report",
        "flow",
        &[
            "title: String",
            "lifelines: Array",
            "arrows: Array",
            "opts: Map",
            "String",
        ],
        FLOW_DOC,
        move |title: &str, lifelines: Array, arrows: Array, opts: Map| {
            draw(&c, title, lifelines, arrows, opts)
        },
    );
}

fn draw(
    ctx: &Ctx,
    title: &str,
    lifelines: Array,
    arrows: Array,
    opts: Map,
) -> ScriptResult<String> {
    let flow = build(title, lifelines, arrows, opts)?;
    let out = ctx.output();
    let charset = if ctx.settings().unicode {
        flow_text::UNICODE
    } else {
        flow_text::ASCII
    };
    let text = flow_text::render(&flow, &charset, &|s| out.paint(Style::Bold, s));
    ctx.ext::<Journal>().figure(flow);
    Ok(text.trim_end_matches('\n').to_string())
}

/// The flow `report::flow` was given, checked: every arrow names lifelines that exist.
pub fn build(title: &str, lifelines: Array, arrows: Array, opts: Map) -> ScriptResult<Flow> {
    const F: &str = "report::flow";
    let opts = Opts::new(F, opts, &["empty", "caption"])?;
    let lifelines = lifelines
        .into_iter()
        .enumerate()
        .map(|(i, l)| lifeline(i, l))
        .collect::<ScriptResult<Vec<_>>>()?;
    for (i, l) in lifelines.iter().enumerate() {
        if lifelines[..i].iter().any(|o| o.id == l.id) {
            return Err(error(format!(
                "{F}: two lifelines have the id `{}`: ids must be unique",
                l.id
            )));
        }
    }
    let arrows = arrows
        .into_iter()
        .enumerate()
        .map(|(i, a)| arrow(i, a, &lifelines))
        .collect::<ScriptResult<Vec<_>>>()?;
    if !arrows.is_empty() && lifelines.is_empty() {
        return Err(error(format!("{F}: arrows need lifelines; none given")));
    }
    Ok(Flow {
        title: title.to_string(),
        lifelines,
        arrows,
        empty: opts
            .string("empty")?
            .unwrap_or_else(|| flow::NOTHING_CAPTURED.to_string()),
        caption: opts.string("caption")?.unwrap_or_default(),
    })
}

fn text(v: Option<&Dynamic>) -> Option<String> {
    v.filter(|d| !d.is_unit()).map(|d| d.to_string())
}

fn lifeline(i: usize, value: Dynamic) -> ScriptResult<Lifeline> {
    if let Some(s) = value.read_lock::<ImmutableString>() {
        return Ok(Lifeline {
            id: s.to_string(),
            name: s.to_string(),
            detail: String::new(),
            addresses: Vec::new(),
        });
    }
    let Some(m) = crate::records::as_map(&value) else {
        return Err(error(format!(
            "report::flow: lifeline {} must be a string or a map #{{id, name, detail, addresses}}, got {}",
            i + 1,
            value.type_name()
        )));
    };
    let id = text(m.get("id")).ok_or_else(|| {
        error(format!(
            "report::flow: lifeline {} has no `id` (the name arrows use in `from`/`to`)",
            i + 1
        ))
    })?;
    let detail = text(m.get("detail")).unwrap_or_default();
    let addresses = match m.get("addresses").filter(|d| !d.is_unit()) {
        Some(d) => match d.read_lock::<Array>() {
            Some(a) => a.iter().map(|x| x.to_string()).collect(),
            None => vec![d.to_string()],
        },
        None if detail.is_empty() => Vec::new(),
        None => vec![detail.clone()],
    };
    Ok(Lifeline {
        name: text(m.get("name")).unwrap_or_else(|| id.clone()),
        id,
        detail,
        addresses,
    })
}

fn arrow(i: usize, value: Dynamic, lifelines: &[Lifeline]) -> ScriptResult<Arrow> {
    let n = i + 1;
    let Some(m) = crate::records::as_map(&value) else {
        return Err(error(format!(
            "report::flow: arrow {n} must be a map (#{{from, to, label}} or a captured packet with from/to), got {}",
            value.type_name()
        )));
    };
    let ids = || {
        lifelines
            .iter()
            .map(|l| l.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let end = |by_id: &str, by_addr: &str| -> ScriptResult<usize> {
        if let Some(id) = text(m.get(by_id)) {
            return lifelines.iter().position(|l| l.id == id).ok_or_else(|| {
                error(format!(
                    "report::flow: arrow {n}: `{by_id}` names no lifeline (\"{id}\"); the lifelines are {}",
                    ids()
                ))
            });
        }
        if let Some(addr) = text(m.get(by_addr)) {
            return lifelines
                .iter()
                .position(|l| l.addresses.contains(&addr))
                .ok_or_else(|| {
                    error(format!(
                        "report::flow: arrow {n}: no lifeline has the address {addr} (its `{by_addr}`); give `{by_id}` or add it to a lifeline's addresses"
                    ))
                });
        }
        Err(error(format!(
            "report::flow: arrow {n} has neither `{by_id}` (a lifeline id) nor `{by_addr}` (an address)"
        )))
    };
    let from = end("from", "src")?;
    let to = end("to", "dst")?;
    let mut label: Vec<String> = match text(m.get("label")) {
        Some(l) => l.lines().map(str::to_string).collect(),
        None => vec![packet_label(&m)],
    };
    if let Some(detail) = text(m.get("detail")) {
        label.extend(detail.lines().map(str::to_string));
    }
    let flag = |key: &str| -> ScriptResult<bool> {
        match m.get(key).filter(|d| !d.is_unit()) {
            None => Ok(false),
            Some(d) => d.as_bool().map_err(|t| {
                error(format!(
                    "report::flow: arrow {n}: `{key}` must be true or false, got {t}"
                ))
            }),
        }
    };
    Ok(Arrow {
        from,
        to,
        label,
        note: text(m.get("note")),
        highlight: flag("highlight")?,
        inferred: flag("inferred")?,
    })
}

/// A captured packet's or event's label: its TCP name (or protocol) and addresses.
fn packet_label(m: &Map) -> String {
    let flags: Vec<String> = match m.get("flags").filter(|d| !d.is_unit()) {
        Some(d) => match d.read_lock::<Array>() {
            Some(a) => a.iter().map(|f| f.to_string()).collect(),
            None => vec![d.to_string()],
        },
        None => Vec::new(),
    };
    let mut name = flow::tcp_name(&flags);
    if name.is_empty() {
        name = text(m.get("proto")).unwrap_or_default();
    }
    let (Some(src), Some(dst)) = (text(m.get("src")), text(m.get("dst"))) else {
        return name;
    };
    let sport = text(m.get("sport"));
    let dport = text(m.get("dport"));
    flow::packet_label(&name, &src, sport.as_deref(), &dst, dport.as_deref())
}
