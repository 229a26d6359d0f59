//! Quoting argument vectors for display (`--explain`, error messages). labsh never runs a
//! shell string: these are only shown so a trainee can paste them.

/// Joins `argv` into one line a POSIX shell would split back into the same words.
pub fn join<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|a| quote(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes one word for a POSIX shell, leaving plain words as they are.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,^".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_unquoted() {
        assert_eq!(
            join(&["kind", "create", "cluster", "--name", "lab"]),
            "kind create cluster --name lab"
        );
    }

    #[test]
    fn words_with_spaces_and_quotes_are_single_quoted() {
        assert_eq!(
            join(&["tcpdump", "tcp port 80", "it's"]),
            r"tcpdump 'tcp port 80' 'it'\''s'"
        );
        assert_eq!(quote(""), "''");
    }
}
