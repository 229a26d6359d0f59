//! String helpers that return a new string. Rhai's own `trim()`, `replace()`,
//! `make_upper()`, `truncate()` change the string in place and return `()`, so
//! `` `${r.stderr.trim()}` `` prints nothing; these leave the string as it is and return
//! the result: `trimmed()`, `trimmed_start()`, `trimmed_end()`, `replaced(find, with)`.
//! (`to_upper()`/`to_lower()` already return values.)

use rhai::ImmutableString;

use crate::primitives::{Family, Registry};

/// Global string methods.
pub const FAMILY: Family = Family {
    name: "",
    summary: "string methods that return values: trimmed(), trimmed_start(), trimmed_end(), replaced(find, with) (Rhai's trim(), replace() change the string in place and return ())",
    register,
};

const TRIMMED_DOC: &str = r#"The string without its leading and trailing whitespace; the string itself is not
changed. Rhai's `s.trim()` trims `s` in place and returns `()`: inside an interpolation or
an expression, use `trimmed()`.

```rhai
let r = proc::run(["uname", "-r"]);
print(`kernel ${r.stdout.trimmed()}`);
```"#;

const TRIMMED_START_DOC: &str = r#"The string without its leading whitespace (a value; `s` is not changed).

```rhai
print("  x".trimmed_start());
```"#;

const TRIMMED_END_DOC: &str = r#"The string without its trailing whitespace, such as a command's final newline (a value;
`s` is not changed).

```rhai
let host = kube::exec("deployment/frontend", ["hostname"]).stdout.trimmed_end();
```"#;

const REPLACED_DOC: &str = r#"The string with every `find` replaced by `with` (a value). Rhai's `s.replace(find,
with)` changes `s` in place and returns `()`.

```rhai
let name = "lab-worker".replaced("-", "_");
```"#;

/// Registers `trimmed`, `trimmed_start`, `trimmed_end` and `replaced`.
pub fn register(reg: &mut Registry, _ctx: &crate::context::Ctx) {
    reg.method(
        "trimmed",
        &["s: String", "String"],
        TRIMMED_DOC,
        |s: ImmutableString| s.trim().to_string(),
    );
    reg.method(
        "trimmed_start",
        &["s: String", "String"],
        TRIMMED_START_DOC,
        |s: ImmutableString| s.trim_start().to_string(),
    );
    reg.method(
        "trimmed_end",
        &["s: String", "String"],
        TRIMMED_END_DOC,
        |s: ImmutableString| s.trim_end().to_string(),
    );
    reg.method(
        "replaced",
        &["s: String", "find: String", "with: String", "String"],
        REPLACED_DOC,
        |s: ImmutableString, find: ImmutableString, with: ImmutableString| {
            s.replace(find.as_str(), with.as_str())
        },
    );
}
