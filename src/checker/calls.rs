//! The call check: every function call, method call and module path in a compiled script,
//! held against what exists. A call must name a function of the script, an imported module,
//! a static module (`kube::`) or the engine's globals, with an argument count one of its
//! overloads takes.

use std::collections::{BTreeMap, BTreeSet};

use rhai::{AST, ASTNode, Expr, FnCallExpr, Position, Stmt};

use super::callables::Callables;
use super::modules::ScriptFns;
use crate::diagnostics::Diagnostic;
use crate::suggest;

/// A module a script imported, as the check sees it.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The source name it resolved to (`stdlib/lab.rhai`).
    pub source: String,
    /// Its functions; `None` when it did not compile (its own findings say why).
    pub functions: Option<ScriptFns>,
}

/// What one source can call.
pub struct Names<'a> {
    /// The source's name, as diagnostics show it.
    pub source_name: &'a str,
    /// Its text.
    pub text: &'a str,
    /// Its own functions (private ones included).
    pub own: &'a ScriptFns,
    /// Its imports by alias; `None` for an import that did not resolve (already reported).
    pub imports: &'a BTreeMap<String, Option<Imported>>,
    /// The engine's globals and static modules.
    pub callables: &'a Callables,
    /// Map keys and properties written in the sources checked so far: `m.f()` may call a
    /// function stored in a map's field `f`.
    pub fields: &'a BTreeSet<String>,
    /// The documented signatures of a native function (`kube::get`), or method (when the
    /// flag is set), for arity findings.
    pub signatures: &'a dyn Fn(&str, bool) -> Vec<String>,
}

/// One call site.
struct Call {
    /// The function's name (`check`).
    name: String,
    /// The namespace's root (`lab`), its depth and position, for a qualified call.
    namespace: Option<(String, usize, Position)>,
    /// The arguments given (the receiver of a method call not counted).
    args: usize,
    pos: Position,
    method: bool,
    /// The literal maps among the arguments: their index and keys (see
    /// [`super::options::literal_keys`]).
    maps: Vec<(usize, Vec<super::options::Key>)>,
    /// The first argument, when it is a string literal.
    first_string: Option<String>,
}

impl Call {
    fn of(call: &FnCallExpr, pos: Position, method: bool, text: &str) -> Call {
        let maps = call
            .args
            .iter()
            .enumerate()
            .filter_map(|(i, arg)| Some((i, super::options::literal_keys(arg, text)?)))
            .collect();
        Call {
            name: call.name.to_string(),
            namespace: (!call.namespace.is_empty()).then(|| {
                (
                    call.namespace.root().to_string(),
                    call.namespace.path.len(),
                    call.namespace.position(),
                )
            }),
            args: call.args.len(),
            pos,
            method,
            maps,
            first_string: match call.args.first() {
                Some(Expr::StringConstant(text, _)) => Some(text.to_string()),
                _ => None,
            },
        }
    }
}

/// Checks every call in `ast`; returns the findings in source order.
pub fn check(ast: &AST, names: &Names) -> Vec<Diagnostic> {
    let mut calls = Vec::new();
    let mut paths: Vec<(String, Position)> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::FnCall(call, pos)))
            | Some(ASTNode::Expr(Expr::FnCall(call, pos)))
                if call.op_token.is_none() =>
            {
                calls.push(Call::of(call, *pos, false, names.text));
            }
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => {
                calls.push(Call::of(call, *pos, true, names.text))
            }
            Some(ASTNode::Expr(Expr::Variable(v, _, _))) if !v.2.is_empty() => {
                paths.push((v.2.root().to_string(), v.2.position()));
            }
            _ => {}
        }
        true
    });
    let mut findings = Vec::new();
    let mut unknown_modules = BTreeSet::new();
    let mut module_use = |root: &str, pos: Position, findings: &mut Vec<Diagnostic>| -> bool {
        if module_exists(root, names) {
            return true;
        }
        if unknown_modules.insert(root.to_string()) {
            findings.push(unknown_module(root, pos, names));
        }
        false
    };
    for c in &calls {
        match &c.namespace {
            None => match check_unqualified(c, names) {
                Some(finding) => findings.push(finding),
                None => findings.extend(check_global_options(c, names)),
            },
            Some((root, depth, pos)) => {
                if module_use(root, *pos, &mut findings) && *depth == 1 {
                    match check_qualified(c, root, names) {
                        Some(finding) => findings.push(finding),
                        None => {
                            findings.extend(check_options(c, root, names));
                            findings.extend(check_get_target(c, root, names));
                        }
                    }
                }
            }
        }
    }
    for (root, pos) in &paths {
        module_use(root, *pos, &mut findings);
    }
    findings.sort_by_key(|d| {
        d.location
            .as_ref()
            .map(|l| (l.line, l.column))
            .unwrap_or_default()
    });
    findings
}

fn module_exists(root: &str, names: &Names) -> bool {
    root == "global"
        || names.imports.contains_key(root)
        || names.callables.modules.contains_key(root)
}

fn unknown_module(root: &str, pos: Position, names: &Names) -> Diagnostic {
    let help = if crate::stdlib::embedded_name(root).is_some() {
        Some(format!("import it first: `import \"{root}\" as {root};`"))
    } else {
        let candidates = names
            .imports
            .keys()
            .map(String::as_str)
            .chain(names.callables.modules.keys().map(String::as_str));
        suggest::did_you_mean(root, candidates)
    };
    Diagnostic::at(
        format!("unknown module `{root}`"),
        names.source_name,
        names.text,
        pos,
    )
    .with_help(help)
}

/// "2 arguments", "1 or 2 arguments", "no arguments".
fn counts(arities: &BTreeSet<usize>) -> String {
    let list: Vec<String> = arities.iter().map(usize::to_string).collect();
    let text = match list.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    };
    match arities.iter().copied().collect::<Vec<_>>().as_slice() {
        [0] => "no arguments".to_string(),
        [1] => "1 argument".to_string(),
        _ => format!("{text} arguments"),
    }
}

fn arity_finding(
    display: &str,
    arities: &BTreeSet<usize>,
    given: usize,
    signatures: Vec<String>,
    c: &Call,
    names: &Names,
) -> Diagnostic {
    let what = if c.method { "the method " } else { "" };
    let mut d = Diagnostic::at(
        format!("{what}`{display}` takes {}, not {given}", counts(arities)),
        names.source_name,
        names.text,
        c.pos,
    );
    if !signatures.is_empty() {
        d.help.push(signatures.join("\n"));
    }
    d
}

/// `lab::check(name, passed)`, …, fewest parameters first.
fn script_signatures(qualified: &str, fns: &[&super::modules::ScriptFn]) -> Vec<String> {
    let mut fns = fns.to_vec();
    fns.sort_by_key(|f| f.params.len());
    fns.iter()
        .map(|f| format!("{qualified}({})", f.params.join(", ")))
        .collect()
}

fn check_qualified(c: &Call, root: &str, names: &Names) -> Option<Diagnostic> {
    let name = c.name.as_str();
    let qualified = format!("{root}::{name}");
    let given = c.args;
    let unknown = |candidates: Vec<String>| {
        let help = suggest::closest(name, candidates.iter().map(String::as_str))
            .map(|best| format!("did you mean `{root}::{best}`?"))
            .or_else(|| elsewhere(name, names, Some(root)));
        Diagnostic::at(
            format!("unknown function `{qualified}`"),
            names.source_name,
            names.text,
            c.pos,
        )
        .with_help(help)
    };
    if let Some(import) = names.imports.get(root) {
        let functions = import.as_ref()?.functions.as_ref()?;
        let overloads: Vec<_> = functions.named(name).collect();
        if overloads.is_empty() {
            return Some(unknown(
                functions.public_names().map(str::to_string).collect(),
            ));
        }
        let public: Vec<_> = overloads.iter().copied().filter(|f| !f.private).collect();
        if public.is_empty() {
            let source = &import.as_ref()?.source;
            return Some(Diagnostic::at(
                format!("`{qualified}` is private to {source}: it cannot be called from outside"),
                names.source_name,
                names.text,
                c.pos,
            ));
        }
        let arities: BTreeSet<usize> = public.iter().map(|f| f.params.len()).collect();
        if arities.contains(&given) {
            return None;
        }
        return Some(arity_finding(
            &qualified,
            &arities,
            given,
            script_signatures(&qualified, &public),
            c,
            names,
        ));
    }
    if root == "global" {
        return None;
    }
    let module = names.callables.modules.get(root)?;
    match module.get(name) {
        None => Some(unknown(module.keys().cloned().collect())),
        Some(arities) if arities.contains(&given) => None,
        Some(arities) => Some(
            arity_finding(
                &qualified,
                arities,
                given,
                (names.signatures)(&qualified, false),
                c,
                names,
            )
            .with_help(crate::call_errors::kubectl_habit(&qualified, given)),
        ),
    }
}

/// The unknown keys of a literal option map passed to a labsh function
/// (`kube::apply(m, #{namspace: "x"})`), one finding each, at the key.
fn check_options(c: &Call, root: &str, names: &Names) -> Vec<Diagnostic> {
    if names.imports.contains_key(root) || !names.callables.modules.contains_key(root) {
        return Vec::new(); // a script module: its option maps are its own business
    }
    let qualified = format!("{root}::{}", c.name);
    let Some(spec) = super::options::spec_of(&qualified, c.args) else {
        return Vec::new();
    };
    let Some((_, keys)) = c.maps.iter().find(|(i, _)| *i == spec.index) else {
        return Vec::new();
    };
    unknown_keys(keys, spec, &format!("`{qualified}`"), names)
}

/// The unknown keys of a literal option map passed to a global function or a method
/// (`node.exec(argv, #{tiemout: "5s"})`, `poll(f, #{evry: "1s"})`); nothing when the script
/// defines a function of that name (its option maps are its own business).
fn check_global_options(c: &Call, names: &Names) -> Vec<Diagnostic> {
    if names.own.named(&c.name).next().is_some() {
        return Vec::new();
    }
    let receiver = usize::from(c.method);
    let Some(spec) = super::options::global_spec_of(&c.name, c.args + receiver) else {
        return Vec::new();
    };
    let Some((_, keys)) = c.maps.iter().find(|(i, _)| i + receiver == spec.index) else {
        return Vec::new();
    };
    let what = if c.method {
        format!("the method `{}`", c.name)
    } else {
        format!("`{}`", c.name)
    };
    unknown_keys(keys, spec, &what, names)
}

/// One finding per key of `keys` that `spec` does not accept, at the key, with the closest
/// key or the whole list; and one per string literal the option cannot take (a timeout of
/// `"5 mins"`, a capture's `side: "hots"`), with the function's own words.
fn unknown_keys(
    keys: &[super::options::Key],
    spec: &super::options::OptionSpec,
    what: &str,
    names: &Names,
) -> Vec<Diagnostic> {
    keys.iter()
        .filter_map(|key| {
            if !spec.keys.contains(&key.name.as_str()) {
                let help = suggest::did_you_mean(&key.name, spec.keys.iter().copied())
                    .unwrap_or_else(|| format!("its options: {}", spec.keys.join(", ")));
                return Some(
                    Diagnostic::at(
                        format!("unknown option `{}` of {what}", key.name),
                        names.source_name,
                        names.text,
                        key.pos,
                    )
                    .with_help(Some(help)),
                );
            }
            let why = super::options::wrong_value(spec.func, &key.name, key.text.as_deref()?)?;
            Some(Diagnostic::at(
                format!("option `{}` of {what}: {why}", key.name),
                names.source_name,
                names.text,
                key.pos,
            ))
        })
        .collect()
}

/// `kube::get("pods")`, kubectl's `get KIND` written as one object's target: what to type.
fn check_get_target(c: &Call, root: &str, names: &Names) -> Option<Diagnostic> {
    let one_target = c.args == 1 || c.maps.iter().any(|(i, _)| *i == 1);
    if root != "kube" || c.name != "get" || !one_target || names.imports.contains_key(root) {
        return None;
    }
    let target = c.first_string.as_deref()?;
    let parsed = crate::kube::target::Target::parse(target).ok()?;
    parsed.kind.is_none().then(|| {
        Diagnostic::at(
            crate::call_errors::get_without_kind(target),
            names.source_name,
            names.text,
            c.pos,
        )
        .with_help(Some(crate::call_errors::KUBECTL_GET.to_string()))
    })
}

/// `did you mean `lab::check`?` for a name that exists exactly in another module than
/// `not_in` (`check(…)` written for `lab::check(…)`).
fn elsewhere(name: &str, names: &Names, not_in: Option<&str>) -> Option<String> {
    let imported = names.imports.iter().filter_map(|(alias, import)| {
        let fns = import.as_ref()?.functions.as_ref()?;
        fns.public_names()
            .any(|n| n == name)
            .then_some(alias.as_str())
    });
    let static_modules = names
        .callables
        .modules
        .iter()
        .filter(|(_, fns)| fns.contains_key(name))
        .map(|(m, _)| m.as_str());
    imported
        .chain(static_modules)
        .find(|m| Some(*m) != not_in)
        .map(|m| format!("did you mean `{m}::{name}`?"))
}

fn check_unqualified(c: &Call, names: &Names) -> Option<Diagnostic> {
    let name = c.name.as_str();
    if Callables::is_keyword(name) {
        return None;
    }
    let given = c.args;
    let own: Vec<_> = names.own.named(name).collect();
    let native = names.callables.globals.get(name);
    // A method call passes its receiver first to a native function; a script function gets
    // it as `this` (or, called as a function, as its first argument).
    let mut arities: BTreeSet<usize> = own.iter().map(|f| f.params.len()).collect();
    if c.method {
        arities.extend(own.iter().map(|f| f.params.len().saturating_sub(1)));
    }
    let native_shift = usize::from(c.method);
    arities.extend(
        native
            .into_iter()
            .flatten()
            .filter(|a| **a >= native_shift)
            .map(|a| a - native_shift),
    );
    if own.is_empty() && native.is_none() {
        if c.method && names.fields.contains(name) {
            return None; // a function stored in a map
        }
        let candidates = names
            .own
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .chain(globals_for(names.callables, c.method));
        let help = suggest::did_you_mean(name, candidates).or_else(|| elsewhere(name, names, None));
        let what = if c.method { "method" } else { "function" };
        return Some(
            Diagnostic::at(
                format!("unknown {what} `{name}`"),
                names.source_name,
                names.text,
                c.pos,
            )
            .with_help(help),
        );
    }
    if arities.contains(&given) {
        return None;
    }
    let signatures = if own.is_empty() {
        (names.signatures)(name, c.method)
    } else {
        script_signatures(name, &own)
    };
    Some(arity_finding(name, &arities, given, signatures, c, names))
}

/// Whether `ast` calls a function or method, or names a module path, anywhere.
pub fn calls_anything(ast: &AST) -> bool {
    let mut found = false;
    ast.walk(&mut |path: &[ASTNode]| {
        found = match path.last() {
            Some(ASTNode::Stmt(Stmt::FnCall(call, _)))
            | Some(ASTNode::Expr(Expr::FnCall(call, _))) => call.op_token.is_none(),
            Some(ASTNode::Expr(Expr::MethodCall(..))) => true,
            Some(ASTNode::Expr(Expr::Variable(v, _, _))) => !v.2.is_empty(),
            _ => false,
        };
        !found
    });
    found
}

/// The map keys (`#{f: …}`) and properties (`m.f`) written in `ast`.
pub fn field_names(ast: &AST) -> BTreeSet<String> {
    let mut fields = BTreeSet::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::Map(m, _))) => {
                fields.extend(m.0.iter().map(|(key, _)| key.name.to_string()));
            }
            Some(ASTNode::Expr(Expr::Property(p, _))) => {
                fields.insert(p.2.to_string());
            }
            // A literal map of constants, folded by the optimizer.
            Some(ASTNode::Expr(Expr::DynamicConstant(value, _))) => {
                if let Some(map) = value.read_lock::<rhai::Map>() {
                    fields.extend(map.keys().map(|k| k.to_string()));
                }
            }
            _ => {}
        }
        true
    });
    fields
}

/// Global names worth suggesting: not operators or property accessors (`get$x`, `+`).
fn globals_for(callables: &Callables, method: bool) -> impl Iterator<Item = &str> {
    callables
        .globals
        .iter()
        .filter(move |(n, arities)| {
            n.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && !n.contains('$')
                && (!method || arities.iter().any(|a| *a > 0))
        })
        .map(|(n, _)| n.as_str())
}
