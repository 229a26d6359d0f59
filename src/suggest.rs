//! "Did you mean …?": the closest of the names in scope to a mistyped one, by edit distance.
//! Used by `labsh check`, by runtime errors on calls that match nothing, and by `--from`.

/// The edit distance between `a` and `b` in characters: insertions, deletions,
/// substitutions and swaps of two neighbours (`lba` → `lab` is one edit), each counting 1
/// (the optimal string alignment distance).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: the distance between a[..i] and b[..j]; three rows are enough.
    let mut before = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// How far a name may be from `wanted` and still be suggested: one edit for short names, a
/// third of the length for longer ones (`chek` → `check`, `wait_rolout` → `wait_rollout`).
fn tolerance(wanted: &str) -> usize {
    (wanted.chars().count() / 3).max(1)
}

/// The candidate closest to `wanted`, if one is close enough; ties go to the first given.
/// Comparison ignores ASCII case, so `Lab` finds `lab`.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = wanted.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == wanted {
            continue;
        }
        let d = distance(&lower, &candidate.to_ascii_lowercase());
        if d <= tolerance(wanted) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean `x`?` for the closest candidate, if any.
pub fn did_you_mean<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(wanted, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_insertions_deletions_substitutions_and_swaps() {
        assert_eq!(distance("chek", "check"), 1);
        assert_eq!(distance("aply", "apply"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("été", "ete"), 2);
        assert_eq!(
            distance("lba", "lab"),
            1,
            "a swap of neighbours is one edit"
        );
        assert_eq!(distance("stpe", "step"), 1);
    }

    #[test]
    fn the_closest_name_within_tolerance_is_suggested() {
        let names = ["check", "require", "step", "say"];
        assert_eq!(closest("chek", names), Some("check"));
        assert_eq!(closest("stpe", names), Some("step"));
        assert_eq!(closest("Step", names), Some("step"));
        assert_eq!(closest("deploy", names), None);
        assert_eq!(
            closest("check", names),
            None,
            "an exact match is not a suggestion"
        );
    }

    #[test]
    fn longer_names_tolerate_more_edits() {
        let names = ["wait_rollout", "wait_ready"];
        assert_eq!(closest("wait_rolout", names), Some("wait_rollout"));
        assert_eq!(closest("wiat_rolluot", names), Some("wait_rollout"));
    }
}
