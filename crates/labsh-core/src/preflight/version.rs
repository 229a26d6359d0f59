//! Dotted release numbers as the tools print them (`v0.20.0`, `3.14.0+g3fc9f4b`,
//! `6.18.44-fc-v857`, `1.17.0-pre.1`), compared numerically: the preflight's thresholds
//! (kernel 4.19.57, helm 3.13, kind v0.20, Cilium 1.20.2) are all of this shape.

use std::cmp::Ordering;
use std::fmt;

/// `major.minor.patch`; a missing part is 0, any suffix after the numbers is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// The leading release number of `text`: an optional `v`, then one to three dot-separated
    /// numbers; whatever follows (`-pre.1`, `+g3fc9`, `-fc-v857`, `.4`) is ignored. `None`
    /// when `text` does not start with a number.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut parts = [0u64; 3];
        let mut rest = t;
        for (i, part) in parts.iter_mut().enumerate() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                if i == 0 {
                    return None;
                }
                break;
            }
            *part = rest[..digits].parse().ok()?;
            rest = &rest[digits..];
            match rest.strip_prefix('.') {
                Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
                _ => break,
            }
        }
        Some(Version::new(parts[0], parts[1], parts[2]))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_what_the_tools_print() {
        assert_eq!(Version::parse("v0.20.0"), Some(Version::new(0, 20, 0)));
        assert_eq!(
            Version::parse("v3.14.0+g3fc9f4b"),
            Some(Version::new(3, 14, 0))
        );
        assert_eq!(
            Version::parse("6.18.44-fc-v857"),
            Some(Version::new(6, 18, 44))
        );
        assert_eq!(Version::parse("5.10"), Some(Version::new(5, 10, 0)));
        assert_eq!(Version::parse("7"), Some(Version::new(7, 0, 0)));
        assert_eq!(Version::parse("1.17.0-pre.1"), Some(Version::new(1, 17, 0)));
        assert_eq!(Version::parse("4.19.57.1"), Some(Version::new(4, 19, 57)));
        assert_eq!(Version::parse("banana"), None);
        assert_eq!(Version::parse(""), None);
    }

    #[test]
    fn versions_compare_numerically_not_as_text() {
        assert!(Version::parse("4.19.57") > Version::parse("4.9.300"));
        assert!(Version::parse("5.10") > Version::parse("5.9.16"));
        assert!(Version::parse("1.20.2") > Version::parse("1.20.1"));
        assert_eq!(Version::parse("5.10"), Version::parse("5.10.0"));
    }
}
