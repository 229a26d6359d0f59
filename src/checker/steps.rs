//! The lab steps a script declares, read from its text: the ids of its `lab::step("id", …)`
//! calls (through whatever alias imports the stdlib's `lab`) and `steps::enter("id", …)`.
//! `--from STEP` is checked against them before anything runs.

use rhai::{AST, ASTNode, Expr, Stmt};

/// The step ids `ast` declares, in order, or `None` when they cannot all be known without
/// running it (an id that is not a string literal: a helper passing its own parameter, a
/// computed id).
pub fn step_ids(ast: &AST) -> Option<Vec<String>> {
    let mut lab_aliases = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(import, _))) = path.last()
            && let (Expr::StringConstant(p, _), alias) = &**import
            && p.as_str() == "lab"
            && !alias.name.is_empty()
        {
            lab_aliases.push(alias.name.to_string());
        }
        true
    });
    let mut ids = Vec::new();
    let mut known = true;
    ast.walk(&mut |path: &[ASTNode]| {
        let call = match path.last() {
            Some(ASTNode::Stmt(Stmt::FnCall(call, _)))
            | Some(ASTNode::Expr(Expr::FnCall(call, _))) => call,
            _ => return true,
        };
        if call.namespace.path.len() != 1 {
            return true;
        }
        let root = call.namespace.root();
        let is_step = (call.name.as_str() == "step" && lab_aliases.iter().any(|a| a == root))
            || (call.name.as_str() == "enter" && root == "steps");
        if !is_step {
            return true;
        }
        match call.args.first() {
            Some(Expr::StringConstant(id, _)) => {
                if !ids.contains(&id.to_string()) {
                    ids.push(id.to_string());
                }
            }
            _ => known = false,
        }
        true
    });
    known.then_some(ids)
}

/// The usage error for `--from from` when the script declares `ids` and not `from`.
pub fn unknown_from(from: &str, ids: &[String]) -> Option<String> {
    if ids.iter().any(|id| id == from) {
        return None;
    }
    let hint = crate::suggest::did_you_mean(from, ids.iter().map(String::as_str))
        .map(|h| format!("; {h}"))
        .unwrap_or_default();
    let steps = if ids.is_empty() {
        "the script has no steps".to_string()
    } else {
        format!("its steps are {}", ids.join(", "))
    };
    Some(format!(
        "error: --from {from}: the script has no step with this id{hint} ({steps})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Option<Vec<String>> {
        step_ids(&rhai::Engine::new().compile(text).expect("compiles"))
    }

    #[test]
    fn literal_step_ids_are_read_through_the_lab_alias() {
        assert_eq!(
            ids(
                "import \"lab\" as l;\nl::step(\"a\", \"A\", || 1);\nfn f() { l::step(\"b\", \"B\", || 2) }"
            ),
            Some(vec!["a".to_string(), "b".to_string()])
        );
    }

    #[test]
    fn a_computed_step_id_makes_the_list_unknown() {
        assert_eq!(
            ids("import \"lab\" as lab;\nfn my_step(id) { lab::step(id, \"T\", || 1) }"),
            None
        );
    }

    #[test]
    fn an_unknown_from_suggests_the_closest_step() {
        let steps = vec!["cluster".to_string(), "policy".to_string()];
        assert_eq!(
            unknown_from("polcy", &steps).as_deref(),
            Some(
                "error: --from polcy: the script has no step with this id; did you mean `policy`? (its steps are cluster, policy)"
            )
        );
        assert_eq!(unknown_from("policy", &steps), None);
    }
}
