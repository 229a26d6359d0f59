//! Runtime errors of calls that match no function, in words that say what to type. Rhai
//! says `Function not found: logs::tail (&str | ImmutableString | String)`; labsh says
//! which argument types were given and lists the signatures that exist (or the closest
//! name when none has that name). The signatures come from the documented catalog, passed
//! in as a lookup so this module stays below the workbench.

/// Looks up the documented signatures of a function (`false`) or method (`true`).
pub type SignatureLookup = fn(&str, bool) -> Vec<String>;

/// Every callable name, qualified (`kube::get`, `len`), for "did you mean".
pub type NameList = fn() -> Vec<String>;

/// What to say about Rhai's `Function not found: SIGNATURE`: the message and the help
/// lines. `method` when the call was written `value.name(…)` (the receiver is then the first
/// argument type).
pub fn explain(
    signature: &str,
    method: bool,
    lookup: SignatureLookup,
    names: NameList,
) -> (String, Vec<String>) {
    let (name, args) = split(signature);
    let given = args.join(", ");
    let signatures = lookup(name, method);
    if !signatures.is_empty() {
        let message = if method {
            format!("no overload of the method `{name}` takes ({given}) (the receiver first)")
        } else {
            format!("no overload of `{name}` takes ({given})")
        };
        let mut help = vec![signatures.join("\n")];
        help.extend(kubectl_habit(name, args.len()));
        return (message, help);
    }
    let what = if method { "method" } else { "function" };
    let all = names();
    let help = crate::suggest::did_you_mean(name, all.iter().map(String::as_str));
    (
        format!("unknown {what} `{name}` (called with ({given}))"),
        help.into_iter().collect(),
    )
}

/// A hint for a call written the way kubectl reads (`kube::get("pods")`,
/// `kube::get("svc/frontend")`): the labsh call that does it.
pub fn kubectl_habit(name: &str, args: usize) -> Option<String> {
    (name == "kube::get" && args == 1).then(|| KUBECTL_GET.to_string())
}

/// What `kubectl get KIND` and `kubectl get KIND NAME` are in labsh.
pub const KUBECTL_GET: &str = "`kubectl get KIND` is `kube::list(\"KIND\")` (the objects as maps) or `kube::table(\"KIND\")` (kubectl's table); one object is `kube::get(\"KIND/NAME\")` or `kube::get(\"KIND\", \"NAME\")`";

/// The message for `kube::get("pods")`: a target without a kind names no object.
pub fn get_without_kind(target: &str) -> String {
    format!("kube::get: `{target}` names no object (no kind): write `KIND/NAME`")
}

/// `logs::tail (&str | ImmutableString | String, i64)` → (`logs::tail`, [`String`, `i64`]).
fn split(signature: &str) -> (&str, Vec<String>) {
    let Some((name, rest)) = signature.split_once(" (") else {
        return (signature.trim(), Vec::new());
    };
    let inner = rest.strip_suffix(')').unwrap_or(rest);
    let args = if inner.trim().is_empty() {
        Vec::new()
    } else {
        inner.split(", ").map(script_type).collect()
    };
    (name.trim(), args)
}

/// A Rust type as Rhai names it in errors, as a script author knows it.
fn script_type(rust: &str) -> String {
    let t = rust.trim();
    if t.contains("ImmutableString") || t == "&str" || t == "String" {
        return "String".to_string();
    }
    match t.rsplit("::").next().unwrap_or(t) {
        "()" => "()".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str, method: bool) -> Vec<String> {
        match (name, method) {
            ("logs::tail", false) => vec![
                "logs::tail(target: Dynamic, n: i64) -> Array".to_string(),
                "logs::tail(target: Dynamic, n: i64, opts: Map) -> Array".to_string(),
            ],
            _ => Vec::new(),
        }
    }

    fn names() -> Vec<String> {
        vec!["kube::get".to_string(), "kube::list".to_string()]
    }

    #[test]
    fn a_known_function_lists_its_signatures_and_the_types_given() {
        let (message, help) = explain(
            "logs::tail (&str | ImmutableString | String)",
            false,
            lookup,
            names,
        );
        assert_eq!(message, "no overload of `logs::tail` takes (String)");
        assert_eq!(
            help,
            vec![
                "logs::tail(target: Dynamic, n: i64) -> Array\nlogs::tail(target: Dynamic, n: i64, opts: Map) -> Array"
            ]
        );
    }

    #[test]
    fn kube_get_with_one_argument_points_at_list_and_table() {
        let (_, help) = explain(
            "kube::get (&str | ImmutableString | String)",
            false,
            |_, _| vec!["kube::get(kind: String, name: String) -> Map".into()],
            names,
        );
        assert_eq!(
            help,
            vec![
                "kube::get(kind: String, name: String) -> Map".to_string(),
                KUBECTL_GET.to_string(),
            ]
        );
    }

    #[test]
    fn an_unknown_function_suggests_the_closest_name() {
        let (message, help) = explain("kube::gte (i64, bool)", false, lookup, names);
        assert_eq!(
            message,
            "unknown function `kube::gte` (called with (i64, bool))"
        );
        assert_eq!(help, vec!["did you mean `kube::get`?"]);
    }

    #[test]
    fn no_arguments_read_as_empty_parentheses() {
        let (message, _) = explain("nothing ()", false, lookup, names);
        assert_eq!(message, "unknown function `nothing` (called with ())");
    }
}
