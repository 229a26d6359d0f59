//! "Did you mean …?": the known name closest to a mistyped one, by edit distance
//! (Levenshtein's, with a swap of two neighbours as one edit). Hand-written: twenty lines, and the crates that do it
//! (`strsim`) would be a dependency for one function.

/// The candidate closest to `typed`, if one is close enough to be a likely typo: at most a
/// third of the typed name's length away (at least one edit), ties going to the first.
///
/// ```
/// use labsh_core::spelling::closest;
/// assert_eq!(closest("scr", ["src", "dst", "sport"]), Some("src"));
/// assert_eq!(closest("bandwidth", ["src", "dst"]), None);
/// ```
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (typed.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The edit distance between `a` and `b` (optimal string alignment): the fewest insertions,
/// deletions, substitutions of one character and swaps of two neighbours that turn one into
/// the other. A swap counts as one edit because it is the commonest typo (`scr` for `src`).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: the distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_single_character_edits() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("src", "src"), 0);
        assert_eq!(distance("scr", "src"), 1);
        assert_eq!(distance("ab", "ba"), 1);
        assert_eq!(distance("ipp", "ip"), 1);
        assert_eq!(distance("", "dst"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("src_identiy", "src_identity"), 1);
        assert_eq!(distance("adresse", "address"), 2);
    }

    #[test]
    fn closest_suggests_only_likely_typos() {
        let fields = ["src", "dst", "sport", "dport", "src_identity", "ip"];
        assert_eq!(closest("scr", fields), Some("src"));
        assert_eq!(closest("ipp", fields), Some("ip"));
        assert_eq!(closest("src_identiy", fields), Some("src_identity"));
        assert_eq!(closest("dprot", fields), Some("dport"));
        assert_eq!(closest("bandwidth", fields), None);
        assert_eq!(closest("x", ["src"]), None);
        assert_eq!(closest("anything", std::iter::empty()), None);
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(closest("spor", ["sport", "dport"]), Some("sport"));
        assert_eq!(closest("port", ["sport", "dport"]), Some("sport"));
    }
}
