//! `args::parse(ARGS, spec)` and `args::usage(spec)`: a script's own parameters
//! (`labsh run tp12.rhai -- --cluster x --keep`). The spec map becomes a
//! [`labsh_core::script_args::ArgSpec`] and the core reads `ARGS` with clap; this file only
//! converts the spec, the answer and the two ways of ending the script (`--help`: the usage on
//! stdout and exit 0; a usage error: the problem and the usage on stderr and exit 2).
//!
//! `import "args" as args;` gets the same module ([`module`], through the stdlib resolver):
//! scripts written when `args` was a Rhai file in the stdlib keep working.

use rhai::{Array, Dynamic, Engine, ImmutableString, Map, Module, NativeCallContext};

use crate::context::Ctx;
use crate::errors::{ScriptResult, error, exit_with};
use crate::options::Opts;
use crate::primitives::{Family, Registry};
use labsh_core::script_args::{self, ArgSpec, ArgsError, Given, OptionSpec, Outcome};

/// `args::…`
pub const FAMILY: Family = Family {
    name: "args",
    summary: "a script's parameters from ARGS: options, flags, choices, defaults, --help, usage errors (exit 2)",
    register,
};

const PARSE_DOC: &str = r#"Reads `argv` (an array of strings, usually `ARGS`: `labsh run lab.rhai -- --cluster x --keep`)
against `spec` and returns a map with one key per option (its value, its `default_value`, `()`,
or `true`/`false` for a flag) and `rest` (the positional arguments).

`spec` is `#{name, about, positional, options, footer}`, all optional: `name` and `about` head
the usage, `positional` names the positional arguments (without it, one is a usage error),
`footer` ends the usage. Each option is `#{name, value, default_value, choices, help}`: without
`value` it is a flag (`--keep`); with it, `--cluster NAME` or `--cluster=NAME`, limited to
`choices` when given. The last of a repeated option wins; `--` ends the options.

`--help`/`-h` prints the usage and ends the script (exit 0). A bad argument (unknown option,
missing value, a value given to a flag, unexpected positional, a value outside `choices`) ends
the script with exit code 2, printing the problem (with a suggestion for a mistyped option or
choice) and the usage.

```rhai
let opts = args::parse(ARGS, #{
    name: "tp12.rhai",
    about: "what the script does",
    options: [
        #{name: "cluster", value: "NAME", default_value: "tp12", help: "kind cluster name"},
        #{name: "lb-mode", value: "MODE", default_value: "dsr", choices: ["snat", "dsr", "hybrid"]},
        #{name: "keep", help: "keep the cluster at the end"},
    ],
});
print(opts.cluster);      // "tp12" unless --cluster NAME was given
print(opts["lb-mode"]);   // "dsr" unless --lb-mode MODE was given
print(opts.keep);         // false unless --keep was given
```"#;

const USAGE_DOC: &str = r#"The usage text of `spec` (see `args::parse`), as `--help` prints it.

```rhai
print(args::usage(#{name: "x.rhai", options: [#{name: "keep", help: "keep it"}]}));
```"#;

const FUNC: &str = "args::parse";

/// Registers `args::parse` and `args::usage`.
pub fn register(reg: &mut Registry, _ctx: &Ctx) {
    add(reg);
}

fn add(reg: &mut Registry) {
    reg.func(
        "args",
        "parse",
        &["argv: Array", "spec: Map", "Map"],
        PARSE_DOC,
        |ncc: NativeCallContext, argv: Array, spec: Map| parse(&ncc, argv, spec),
    );
    reg.func(
        "args",
        "usage",
        &["spec: Map", "String"],
        USAGE_DOC,
        |spec: Map| -> ScriptResult<String> { Ok(script_args::usage(&arg_spec(&spec)?)) },
    );
}

/// The `args` module alone, for `import "args" as args;` (see `crate::stdlib`).
pub fn module() -> Module {
    let mut engine = Engine::new_raw();
    let mut reg = Registry::new(&mut engine).without_docs();
    add(&mut reg);
    reg.modules.remove("args").unwrap_or_default()
}

fn parse(ncc: &NativeCallContext, argv: Array, spec: Map) -> ScriptResult<Map> {
    let parsed_spec = arg_spec(&spec)?;
    let argv: Vec<String> = argv.iter().map(Dynamic::to_string).collect();
    let parsed = match script_args::parse(&parsed_spec, &argv) {
        Ok(Outcome::Parsed(p)) => p,
        Ok(Outcome::Help(usage)) => {
            // Through the engine's `print`, like the script's own output.
            ncc.call_native_fn::<()>("print", (ImmutableString::from(usage),))?;
            return Err(exit_with(0, ""));
        }
        Err(ArgsError::Usage(e)) => return Err(exit_with(2, e.to_string())),
        Err(ArgsError::Spec(e)) => return Err(error(format!("{FUNC}: {e}"))),
    };
    let defaults = defaults(&spec);
    let mut out = Map::new();
    for (name, given) in parsed.options {
        let value = match given {
            Given::Flag(on) => Dynamic::from(on),
            Given::Value(Some(v)) => Dynamic::from(v),
            // The default as the spec wrote it (a number stays a number).
            Given::Value(None) => defaults
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(Dynamic::UNIT, |(_, d)| d.clone()),
        };
        out.insert(name.into(), value);
    }
    let rest: Array = parsed.rest.into_iter().map(Dynamic::from).collect();
    out.insert("rest".into(), Dynamic::from(rest));
    Ok(out)
}

/// The spec map, checked: known keys only, strings where text is expected.
fn arg_spec(spec: &Map) -> ScriptResult<ArgSpec> {
    let o = Opts::new(
        FUNC,
        spec.clone(),
        &["name", "about", "positional", "options", "footer"],
    )?;
    let options = match o.get("options") {
        None => Vec::new(),
        Some(v) => {
            let Some(items) = v.read_lock::<Array>() else {
                return Err(error(format!(
                    "{FUNC}: the spec's `options` must be an array of maps, got {} `{v}`",
                    v.type_name()
                )));
            };
            items.iter().map(option_spec).collect::<ScriptResult<_>>()?
        }
    };
    Ok(ArgSpec {
        name: o.string("name")?,
        about: o.string("about")?,
        positional: o.string("positional")?,
        options,
        footer: o.string("footer")?,
    })
}

fn option_spec(item: &Dynamic) -> ScriptResult<OptionSpec> {
    let missing_name = || {
        error(format!(
            "{FUNC}: each option of the spec is a map with a 'name' (got {item})"
        ))
    };
    let map = item.read_lock::<Map>().ok_or_else(missing_name)?.clone();
    let label = match map.get("name") {
        Some(name) => format!("{FUNC}: option `{name}`"),
        None => format!("{FUNC}: option"),
    };
    let o = Opts::new(
        &label,
        map,
        &["name", "value", "default_value", "choices", "help"],
    )?;
    Ok(OptionSpec {
        name: o.string("name")?.ok_or_else(missing_name)?,
        value: o.string("value")?,
        default_value: o.get("default_value").map(Dynamic::to_string),
        choices: o.strings("choices")?,
        help: o.string("help")?,
    })
}

/// Each option's `default_value` as the spec wrote it.
fn defaults(spec: &Map) -> Vec<(String, Dynamic)> {
    let Some(items) = spec.get("options").and_then(|v| v.read_lock::<Array>()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let m = item.read_lock::<Map>()?;
            let name = m.get("name")?.to_string();
            let value = m.get("default_value").cloned().unwrap_or(Dynamic::UNIT);
            Some((name, value))
        })
        .collect()
}
