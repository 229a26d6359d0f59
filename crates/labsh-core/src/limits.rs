//! The sandbox limits: how large a string, array or map a script may build, and how many
//! variables and functions it may define. Without them a runaway script (`s += s` in a loop)
//! grows until the machine swaps; with them it ends at once with an error that names the
//! limit and the flag that raises it.
//!
//! The defaults are far above anything a lab needs (a whole `kubectl logs` of a busy pod is a
//! few MiB; a capture of 100,000 packets is 100,000 elements) and far below what a 2-GiB
//! lab machine affords. Primitives that build large values themselves (pod logs, captures,
//! HTTP bodies, monitor buffers) stop at the same ceilings and say what they left out.

/// Default for `--max-string-size`: 64 MiB per string.
pub const DEFAULT_MAX_STRING_SIZE: usize = 64 << 20;
/// Default for `--max-array-size`: 10 million elements (nested arrays count their elements).
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 10_000_000;
/// Default for `--max-map-size`: 1 million entries (nested maps count their entries).
pub const DEFAULT_MAX_MAP_SIZE: usize = 1_000_000;
/// Variables in scope at once (a lab script has a few dozen).
pub const MAX_VARIABLES: usize = 100_000;
/// Functions one script may define.
pub const MAX_FUNCTIONS: usize = 10_000;
/// Function calls may nest this deep; a runaway recursion ends with a clear error.
pub const MAX_CALL_LEVELS: usize = 256;
/// Expressions may nest this deep (statements at top level; functions get half).
pub const MAX_EXPR_DEPTH: usize = 256;

/// The flag that raises the string limit.
pub const STRING_FLAG: &str = "--max-string-size";
/// The flag that raises the array limit.
pub const ARRAY_FLAG: &str = "--max-array-size";
/// The flag that raises the map limit.
pub const MAP_FLAG: &str = "--max-map-size";

/// The data-size limits of a session; `0` means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes in one string (the strings inside an array or map count together).
    pub max_string_size: usize,
    /// Elements in one array (nested arrays count together).
    pub max_array_size: usize,
    /// Entries in one object map (nested maps count together).
    pub max_map_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_string_size: DEFAULT_MAX_STRING_SIZE,
            max_array_size: DEFAULT_MAX_ARRAY_SIZE,
            max_map_size: DEFAULT_MAX_MAP_SIZE,
        }
    }
}

fn or_unlimited(n: usize) -> usize {
    if n == 0 { usize::MAX } else { n }
}

impl Limits {
    /// The most bytes a primitive may put in one string (or in the strings of one result).
    pub fn string_bytes(&self) -> usize {
        or_unlimited(self.max_string_size)
    }

    /// The most elements a primitive may put in one array.
    pub fn array_len(&self) -> usize {
        or_unlimited(self.max_array_size)
    }

    /// The message for Rhai's "too large" error `what` (`Length of string`, `Size of
    /// array/BLOB`, `Size of object map`): which limit, its value, and the flag.
    pub fn too_large(&self, what: &str) -> String {
        let (thing, limit, unit, flag) = if what.contains("string") {
            ("a string", self.max_string_size, "bytes", STRING_FLAG)
        } else if what.contains("map") {
            ("an object map", self.max_map_size, "entries", MAP_FLAG)
        } else {
            ("an array", self.max_array_size, "elements", ARRAY_FLAG)
        };
        format!(
            "{thing} grew past the sandbox limit of {} {unit} (a runaway loop?); raise it with {flag} N (0 = no limit)",
            group(limit)
        )
    }

    /// The note a primitive prints when it left values out to stay within a limit.
    pub fn truncated_note(func: &str, kept: &str, limit: &str, flag: &str) -> String {
        format!("{func}: {kept} (the sandbox limit is {limit}; raise it with {flag} N)")
    }

    /// [`Limits::truncated_note`] for output cut at the string limit.
    pub fn string_note(&self, func: &str, kept: &str) -> String {
        Self::truncated_note(
            func,
            kept,
            &format!("{} bytes per string", group(self.max_string_size)),
            STRING_FLAG,
        )
    }
}

/// An option asking a primitive to hold `n` values (`keep`, `capacity`) must fit the array
/// limit: the error says so rather than failing later, when the values are handed over.
pub fn check_len(func: &str, option: &str, n: usize, limits: &Limits) -> Result<(), String> {
    if n > limits.array_len() {
        return Err(format!(
            "{func}: option `{option}` is {}, above the sandbox limit of {} elements per array; lower it or raise the limit with {ARRAY_FLAG} N",
            group(n),
            group(limits.max_array_size)
        ));
    }
    Ok(())
}

/// `67108864` → `67,108,864`.
pub fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses a size flag: a count with an optional binary suffix (`64MiB`, `512K`, `10000000`).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '_')
        .unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    let n: usize = digits
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a size (a count, or bytes like 64MiB)"))?;
    let factor: usize = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit `{other}` in `{text}` (use K, M or G)"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("`{text}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("10_000_000"), Ok(10_000_000));
        assert_eq!(parse_size("0"), Ok(0));
        assert!(parse_size("lots").unwrap_err().contains("not a size"));
        assert!(
            parse_size("3T")
                .unwrap_err()
                .contains("unknown size unit `t`")
        );
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn the_message_names_the_limit_and_the_flag() {
        let l = Limits::default();
        assert_eq!(
            l.too_large("Length of string"),
            "a string grew past the sandbox limit of 67,108,864 bytes (a runaway loop?); raise it with --max-string-size N (0 = no limit)"
        );
        assert!(
            l.too_large("Size of array/BLOB")
                .contains("10,000,000 elements")
        );
        assert!(l.too_large("Size of object map").contains("--max-map-size"));
    }

    #[test]
    fn zero_means_unlimited_for_primitives() {
        let l = Limits {
            max_string_size: 0,
            max_array_size: 5,
            max_map_size: 0,
        };
        assert_eq!(l.string_bytes(), usize::MAX);
        assert_eq!(l.array_len(), 5);
    }
}
