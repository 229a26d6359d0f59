//! The option maps labsh's functions take, for the check of literal option maps
//! (`kube::apply(m, #{namspace: "x"})`): which argument is the option map and which keys it
//! accepts. The longer key lists are the primitives' own constants; the primitives validate
//! the same keys when called (`crate::options::Opts`);
//! the test `every_spec_lists_the_keys_its_function_accepts` calls each function with an
//! unknown key and compares its "expected one of" list with this table, and
//! `every_option_map_parameter_has_a_spec` holds the table against the catalog, so the two
//! cannot drift apart.

use rhai::{Expr, Position};

/// One function's option map.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// The function (`kube::apply`).
    pub func: &'static str,
    /// The overload's argument count.
    pub arity: usize,
    /// The option map's argument (0-based).
    pub index: usize,
    /// The keys it accepts.
    pub keys: &'static [&'static str],
}

const fn spec(
    func: &'static str,
    arity: usize,
    index: usize,
    keys: &'static [&'static str],
) -> OptionSpec {
    OptionSpec {
        func,
        arity,
        index,
        keys,
    }
}

const KIND_TIMEOUT: &[&str] = &["timeout"];
const HELM_NS_TIMEOUT: &[&str] = &["namespace", "timeout"];
const KUBE_EXEC: &[&str] = &["container", "namespace", "timeout"];
const LOGS_PODS: &[&str] = &["namespace", "container"];
const MONITOR_START: &[&str] = &[
    "related_to",
    "from",
    "to",
    "types",
    "verbose",
    "json",
    "print",
    "capacity",
    "agent",
];

/// Every labsh function that takes an option map, one entry per overload.
pub const SPECS: &[OptionSpec] = &[
    spec(
        "args::parse",
        2,
        1,
        &["name", "about", "positional", "options", "footer"],
    ),
    spec(
        "args::usage",
        1,
        0,
        &["name", "about", "positional", "options", "footer"],
    ),
    spec(
        "cluster::context",
        2,
        1,
        crate::primitives::cluster::any::OPTS,
    ),
    spec(
        "cluster::create",
        2,
        1,
        crate::primitives::cluster::kind::CREATE_OPTS,
    ),
    spec(
        "cluster::current",
        1,
        0,
        crate::primitives::cluster::any::OPTS,
    ),
    spec("cluster::delete", 2, 1, KIND_TIMEOUT),
    spec("cluster::delete_all", 1, 0, KIND_TIMEOUT),
    spec("cluster::get", 2, 1, KIND_TIMEOUT),
    spec("cluster::list", 1, 0, KIND_TIMEOUT),
    spec(
        "helm::list",
        1,
        0,
        &["namespace", "all_namespaces", "timeout"],
    ),
    spec("helm::status", 2, 1, HELM_NS_TIMEOUT),
    spec("helm::uninstall", 2, 1, HELM_NS_TIMEOUT),
    spec(
        "helm::upgrade_install",
        3,
        2,
        crate::primitives::helm::UPGRADE_INSTALL_OPTS,
    ),
    spec("http::get", 2, 1, crate::primitives::http::OPTS),
    spec("http::get_all", 2, 1, crate::primitives::http::GET_ALL_OPTS),
    spec("kube::apply", 2, 1, &["namespace"]),
    spec("kube::delete", 3, 2, &["namespace", "wait"]),
    spec("kube::exec", 3, 2, KUBE_EXEC),
    spec("kube::exec_stream", 4, 2, KUBE_EXEC),
    spec("kube::get", 3, 2, &["namespace", "managed_fields"]),
    spec("kube::get", 2, 1, &["namespace", "managed_fields"]),
    spec(
        "kube::list",
        2,
        1,
        crate::primitives::kube::objects::LIST_OPTS,
    ),
    spec("kube::pod", 2, 1, &["namespace"]),
    spec("kube::probe", 3, 2, KUBE_EXEC),
    spec(
        "kube::pods",
        1,
        0,
        &["namespace", "selector", "field_selector", "all_namespaces"],
    ),
    spec("kube::service", 2, 1, &["namespace"]),
    spec(
        "kube::table",
        2,
        1,
        crate::primitives::kube::objects::TABLE_OPTS,
    ),
    spec("kube::use_context", 2, 1, &["kubeconfig"]),
    spec("kube::wait_for", 4, 3, &["namespace", "timeout"]),
    spec(
        "kube::wait_ready",
        2,
        1,
        crate::primitives::kube::waits::WAIT_READY_OPTS,
    ),
    spec("kube::wait_rollout", 2, 1, &["namespace", "timeout"]),
    spec(
        "logs::follow",
        2,
        1,
        &[
            "container",
            "namespace",
            "tail",
            "since",
            "keep",
            "print",
            "timeout",
            "until",
        ],
    ),
    spec("logs::since", 3, 2, LOGS_PODS),
    spec(
        "logs::start",
        2,
        1,
        crate::primitives::logs::start::START_OPTS,
    ),
    spec("logs::tail", 3, 2, LOGS_PODS),
    spec(
        "monitor::capture",
        2,
        1,
        &[
            "related_to",
            "from",
            "to",
            "types",
            "verbose",
            "json",
            "print",
            "capacity",
            "agent",
            "count",
            "timeout",
        ],
    ),
    spec("monitor::endpoint_id", 2, 1, &["namespace"]),
    spec("monitor::start", 2, 1, MONITOR_START),
    spec("preflight::run", 1, 0, crate::primitives::preflight::OPTS),
    spec("proc::run", 2, 1, &["timeout", "env", "cwd"]),
    spec("report::flow", 4, 3, &["empty", "caption"]),
    spec(
        "tcpdump::capture",
        2,
        1,
        &[
            "filter", "side", "iface", "count", "snaplen", "print", "verbose", "ether", "timeout",
        ],
    ),
    spec(
        "tcpdump::read",
        2,
        1,
        &["filter", "verbose", "ether", "count"],
    ),
    spec(
        "tcpdump::start",
        2,
        1,
        crate::primitives::tcpdump::START_OPTS,
    ),
];

/// Every global function or method that takes an option map (`node.exec(argv, #{timeout: …})`,
/// `poll(f, #{…})`), by name and argument count *with* the receiver, as the catalog lists them.
/// A method's receiver type is not known before the run, so each entry holds the keys that
/// every receiver with that method accepts (today they are the same).
pub const GLOBAL_SPECS: &[OptionSpec] = &[
    spec("exec", 3, 2, crate::primitives::cluster::exec::EXEC_OPTS),
    spec(
        "exec_stream",
        4,
        2,
        crate::primitives::cluster::exec::EXEC_OPTS,
    ),
    spec("poll", 2, 1, crate::primitives::builtins::POLL_OPTS),
    spec("wait", 2, 1, crate::primitives::follower::WAIT_OPTS),
];

/// The option map of the global function or method `name` given `arity` arguments, the
/// receiver counted.
pub fn global_spec_of(name: &str, arity: usize) -> Option<&'static OptionSpec> {
    GLOBAL_SPECS
        .iter()
        .find(|s| s.func == name && s.arity == arity)
}

/// The option map of `func` called with `arity` arguments, if it takes one.
pub fn spec_of(func: &str, arity: usize) -> Option<&'static OptionSpec> {
    SPECS.iter().find(|s| s.func == func && s.arity == arity)
}

/// A key written in a literal option map, where it is written, and its value when that is
/// a string literal (what [`wrong_value`] can judge before the run).
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key.
    pub name: String,
    /// Where it is written.
    pub pos: Position,
    /// Its value, when a string literal.
    pub text: Option<String>,
}

/// The keys written in a literal map argument, each where it is written; `None` when the
/// argument is not a literal map. A map of constants is folded by the optimizer into one
/// value that keeps only the map's position: its keys are then found in `text` from there.
pub fn literal_keys(arg: &Expr, text: &str) -> Option<Vec<Key>> {
    match arg {
        Expr::Map(m, _) => Some(
            m.0.iter()
                .map(|(key, value)| Key {
                    name: key.name.to_string(),
                    pos: key.pos,
                    text: match value {
                        Expr::StringConstant(s, _) => Some(s.to_string()),
                        Expr::DynamicConstant(v, _) => string_of(v),
                        _ => None,
                    },
                })
                .collect(),
        ),
        Expr::DynamicConstant(value, pos) => {
            let map = value.read_lock::<rhai::Map>()?;
            let written = keys_in_text(text, *pos);
            Some(
                map.iter()
                    .map(|(k, v)| {
                        let at = written
                            .iter()
                            .find(|(w, _)| w == k.as_str())
                            .map_or(*pos, |(_, p)| *p);
                        Key {
                            name: k.to_string(),
                            pos: at,
                            text: string_of(v),
                        }
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// A constant's text, when it is a string.
fn string_of(v: &rhai::Dynamic) -> Option<String> {
    v.read_lock::<rhai::ImmutableString>()
        .map(|s| s.to_string())
}

/// The options whose value is a duration (`"90s"`, `"2m"`), read by `Opts::duration`.
pub const DURATION_KEYS: &[&str] = &["timeout", "since", "every"];
/// The functions whose `wait` is a duration (or `true`/`false`); elsewhere it is a flag.
pub const WAIT_DURATION: &[&str] = &["kube::delete", "cluster::create"];

fn is_duration(func: &str, key: &str) -> bool {
    DURATION_KEYS.contains(&key) || (key == "wait" && WAIT_DURATION.contains(&func))
}

/// What is wrong with the string `value` of option `key` of `func`, judged as the function
/// judges it when called (the same parser, the same words); `None` when it is fine or not
/// known before the run.
pub fn wrong_value(func: &str, key: &str, value: &str) -> Option<String> {
    if is_duration(func, key) {
        return labsh_core::duration::parse(value).err();
    }
    if key == "side" && func.starts_with("tcpdump::") {
        return labsh_core::tcpdump::place::side(value)
            .err()
            .map(|e| e.to_string());
    }
    None
}

/// The keys of the map literal starting at `pos` (`#{`) in `text`, with their positions:
/// identifiers or quoted strings right after the `{` or a `,` at the map's own depth.
fn keys_in_text(text: &str, pos: Position) -> Vec<(String, Position)> {
    let (Some(line), Some(col)) = (pos.line(), pos.position()) else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut expect_key = false;
    let mut in_string: Option<char> = None;
    let mut current: Option<(String, usize, usize)> = None;
    let lines = text.lines().enumerate().skip(line - 1);
    for (l, content) in lines {
        let start = if l == line - 1 { col - 1 } else { 0 };
        let chars: Vec<char> = content.chars().collect();
        let mut i = start;
        while i < chars.len() {
            let c = chars[i];
            if let Some(quote) = in_string {
                if c == '\\' {
                    i += 2;
                    continue;
                }
                if c == quote {
                    in_string = None;
                } else if let Some((name, _, _)) = current.as_mut().filter(|_| depth == 1) {
                    name.push(c);
                }
                i += 1;
                continue;
            }
            match c {
                '{' | '[' | '(' => {
                    depth += 1;
                    expect_key = depth == 1;
                }
                '}' | ']' | ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return keys;
                    }
                }
                ',' if depth == 1 => expect_key = true,
                ':' if depth == 1 => {
                    if let Some((name, l, c)) = current.take() {
                        keys.push((name, Position::new(l as u16 + 1, c as u16 + 1)));
                    }
                }
                '"' | '`' => {
                    if expect_key && depth == 1 {
                        current = Some((String::new(), l, i));
                        expect_key = false;
                    }
                    in_string = Some(c);
                }
                c if expect_key && depth == 1 && (c.is_alphanumeric() || c == '_') => {
                    let begin = i;
                    let mut name = String::new();
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        name.push(chars[i]);
                        i += 1;
                    }
                    current = Some((name, l, begin));
                    expect_key = false;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        if l > line + 1000 {
            break;
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_where_they_are_written() {
        let text = "let x = 1;\nkube::apply(m, #{ namespace: \"a\",\n  \"timeout\": [1, 2], wait: #{a: 1} });";
        let keys = keys_in_text(text, Position::new(2, 16));
        let found: Vec<(String, (usize, usize))> = keys
            .into_iter()
            .map(|(k, p)| (k, (p.line().unwrap(), p.position().unwrap())))
            .collect();
        assert_eq!(
            found,
            [
                ("namespace".to_string(), (2, 19)),
                ("timeout".to_string(), (3, 3)),
                ("wait".to_string(), (3, 22)),
            ]
        );
    }

    /// The catalog's overloads whose parameter `opts: Map` (or `spec: Map` of `args::`) is an
    /// option map: qualified name, argument count, index.
    fn option_parameters() -> Vec<(String, usize, usize)> {
        let mut found = Vec::new();
        for f in &crate::signatures::catalog().functions {
            if f.module.is_none() {
                continue; // methods: the receiver's type is not known before the run
            }
            for (i, p) in f.params.iter().enumerate() {
                if p == "opts: Map" || p == "spec: Map" {
                    found.push((f.qualified(), f.params.len(), i));
                }
            }
        }
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn every_option_map_parameter_has_a_spec() {
        let params = option_parameters();
        for (func, arity, index) in &params {
            let spec = spec_of(func, *arity)
                .unwrap_or_else(|| panic!("no option spec for `{func}` with {arity} arguments"));
            assert_eq!(spec.index, *index, "`{func}`: the option map's argument");
        }
        for s in SPECS {
            assert!(
                params
                    .iter()
                    .any(|(f, a, i)| f == s.func && *a == s.arity && *i == s.index),
                "the spec of `{}` ({} arguments) names no overload with an option map there",
                s.func,
                s.arity
            );
        }
    }

    /// Global functions and methods (no module): every overload with an option map has a
    /// global spec at that argument, and every global spec names such an overload.
    #[test]
    fn every_global_option_map_parameter_has_a_spec() {
        let mut params = Vec::new();
        for f in &crate::signatures::catalog().functions {
            if f.module.is_some() {
                continue;
            }
            for (i, p) in f.params.iter().enumerate() {
                if p == "opts: Map" {
                    params.push((f.name.clone(), f.params.len(), i));
                }
            }
        }
        assert!(!params.is_empty(), "no global function takes an option map");
        for (name, arity, index) in &params {
            let spec = global_spec_of(name, *arity).unwrap_or_else(|| {
                panic!("no global option spec for `{name}` ({arity} arguments)")
            });
            assert_eq!(spec.index, *index, "`{name}`: the option map's argument");
        }
        for s in GLOBAL_SPECS {
            assert!(
                params
                    .iter()
                    .any(|(f, a, i)| f == s.func && *a == s.arity && *i == s.index),
                "the global spec of `{}` ({} arguments) names no overload with an option map there",
                s.func,
                s.arity
            );
        }
    }

    /// A value of the parameter type `param` (`target: Dynamic`) to call a function with.
    fn dummy(param: &str) -> &'static str {
        if param.starts_with("duration") {
            return "\"5s\"";
        }
        if param == "target: String" {
            return "\"pod/labsh-option-probe\"";
        }
        if param == "url: String" {
            return "\"http://127.0.0.1:9/\"";
        }
        match param.rsplit(':').next().unwrap_or(param).trim() {
            "i64" | "INT" => "1",
            "Array" => "[\"true\"]",
            "FnPtr" => "|x| true",
            "bool" => "true",
            _ => "\"labsh-option-probe\"",
        }
    }

    /// A call of `s.func` with `map` as its option map and a dummy for every other argument.
    fn call_with(s: &OptionSpec, map: &str) -> String {
        let f = crate::signatures::catalog()
            .lookup(s.func)
            .into_iter()
            .find(|f| {
                f.params.len() == s.arity
                    && f.params.get(s.index).is_some_and(|p| p.ends_with(": Map"))
            })
            .unwrap_or_else(|| panic!("`{}` is not in the catalog", s.func));
        let args: Vec<String> = f
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                if i == s.index {
                    map.to_string()
                } else {
                    dummy(p).to_string()
                }
            })
            .collect();
        format!("{}({})", s.func, args.join(", "))
    }

    /// Each function, called with an unknown key, rejects it listing the keys it accepts:
    /// the same as its spec. Options are read before anything runs, so nothing is started.
    #[test]
    fn every_spec_lists_the_keys_its_function_accepts() {
        let mut session = crate::Workbench::new()
            .with_primitives(crate::primitives::all())
            .build()
            .expect("a session");
        for s in SPECS {
            let call = call_with(s, "#{zz_not_an_option: 1}");
            let err = match session.eval("probe", &call) {
                Ok(v) => panic!("`{call}` accepted an unknown option and returned {v:?}"),
                Err(e) => e.to_string(),
            };
            let listed = err
                .split("unknown option `zz_not_an_option`; expected one of: ")
                .nth(1)
                .unwrap_or_else(|| panic!("`{call}` failed otherwise: {err}"));
            let listed = listed.lines().next().unwrap_or_default();
            let mut accepted: Vec<&str> = listed.split(", ").map(str::trim).collect();
            let mut spec: Vec<&str> = s.keys.to_vec();
            accepted.sort_unstable();
            spec.sort_unstable();
            assert_eq!(accepted, spec, "the options of `{}`", s.func);
        }
    }

    /// Each value the checker refuses before the run, the function refuses when called, in
    /// the same words: every duration option of every spec, and a capture's `side`.
    #[test]
    fn every_value_the_checker_refuses_the_function_refuses_too() {
        let mut session = crate::Workbench::new()
            .with_primitives(crate::primitives::all())
            .build()
            .expect("a session");
        let mut probed = 0;
        for s in SPECS {
            for key in s.keys {
                let bad = if is_duration(s.func, key) {
                    "5 parsecs"
                } else if *key == "side" {
                    "hots"
                } else {
                    continue;
                };
                let why = wrong_value(s.func, key, bad)
                    .unwrap_or_else(|| panic!("`{}`: {key}: {bad:?} passes the check", s.func));
                let map = if s.keys.contains(&"count") && *key != "timeout" {
                    // `tcpdump::capture` wants a count or a timeout first.
                    format!("#{{{key}: {bad:?}, count: 1}}")
                } else {
                    format!("#{{{key}: {bad:?}}}")
                };
                let call = call_with(s, &map);
                let err = match session.eval("probe", &call) {
                    Ok(v) => panic!("`{call}` accepted {key}: {bad:?} and returned {v:?}"),
                    Err(e) => e.to_string(),
                };
                assert!(
                    err.contains(&format!("`{key}`")) && err.contains(&why),
                    "`{call}` failed otherwise: {err}\n(the checker says: {why})"
                );
                probed += 1;
            }
        }
        assert!(probed >= 10, "only {probed} values probed");
    }
}
