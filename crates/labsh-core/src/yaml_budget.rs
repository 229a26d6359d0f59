//! serde-saphyr's safety budget in words (issue 23, item 8).
//!
//! The YAML parser stops a document that would cost too much (250,000 nodes, nesting 64 deep,
//! 1,024 documents, 64 MiB of scalars…) to protect memory; its error read
//! `budget breached: Nodes { nodes: 250001 }`, Rust debug text with no way forward. labsh
//! does not raise these ceilings (no lab manifest comes near them), so the message says
//! which one was passed and what to do: split the YAML.

use serde_saphyr::budget::BudgetBreach;

/// The message for a budget error, `None` for any other YAML error.
pub fn message(e: &serde_saphyr::Error) -> Option<String> {
    let serde_saphyr::Error::Budget { breach, .. } = e.without_snippet() else {
        return None;
    };
    let b = serde_saphyr::Budget::default();
    let n = crate::limits::group;
    let what = match breach {
        BudgetBreach::Nodes { .. } => format!("more than {} values", n(b.max_nodes)),
        BudgetBreach::Events { .. } => format!("more than {} parser events", n(b.max_events)),
        BudgetBreach::Depth { .. } => format!("nesting deeper than {} levels", b.max_depth),
        BudgetBreach::Documents { .. } => {
            format!("more than {} documents", n(b.max_documents))
        }
        BudgetBreach::ScalarBytes { .. } => format!(
            "more than {} bytes of text in its values",
            n(b.max_total_scalar_bytes)
        ),
        BudgetBreach::Aliases { .. } | BudgetBreach::AliasAnchorRatio { .. } => {
            "too many aliases (`*name`) for its anchors".to_string()
        }
        BudgetBreach::Anchors { .. } => format!("more than {} anchors", n(b.max_anchors)),
        BudgetBreach::MergeKeys { .. } => {
            format!("more than {} merge keys (`<<`)", n(b.max_merge_keys))
        }
        other => format!("past a parser limit ({other:?})"),
    };
    Some(format!(
        "the YAML holds {what}, past the YAML parser's safety limit (it protects memory); split it into smaller documents or files"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_nodes_is_said_in_words_with_what_to_do() {
        let big = "- 1\n".repeat(250_001);
        let e = serde_saphyr::from_str::<serde_json::Value>(&big).unwrap_err();
        assert_eq!(
            message(&e).as_deref(),
            Some(
                "the YAML holds more than 250,000 values, past the YAML parser's safety limit (it protects memory); split it into smaller documents or files"
            )
        );
        let bad = serde_saphyr::from_str::<serde_json::Value>("a: [").unwrap_err();
        assert_eq!(message(&bad), None);
    }
}
