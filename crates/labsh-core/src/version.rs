//! The one version type: every release number labsh reads (the kernel's, Docker's, kind's,
//! Helm's, Cilium's, a node image's Kubernetes) is a [`semver::Version`], compared as semver
//! compares them.
//!
//! The tools do not all print semver (`5.10`, `6.18.44-fc-v857`, `4.19.57.1`, `v0.20.0`), so
//! [`parse`] reads leniently: an optional `v`, one to three dot-separated numbers (a missing
//! part is 0), and whatever follows (`-pre.1`, `+g3fc9`, `-fc-v857`, `.1`) dropped. The
//! thresholds labsh checks (kernel 4.19.57, helm 3.13, kind v0.20, Cilium 1.20.2) are release
//! numbers, so a pre-release counts as its release (`1.17.0-pre.1` is 1.17.0). This reading is
//! hand-written: semver's own parser refuses `5.10` and `v0.20.0`, and the `lenient_semver`
//! crate keeps suffixes as pre-releases, which would order `6.18.44-fc-v857` below 6.18.44.

pub use semver::Version;

/// The leading release number of `text`; `None` when `text` does not start with a number
/// (after an optional `v`).
pub fn parse(text: &str) -> Option<Version> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_what_the_tools_print() {
        assert_eq!(parse("v0.20.0"), Some(Version::new(0, 20, 0)));
        assert_eq!(parse("v3.14.0+g3fc9f4b"), Some(Version::new(3, 14, 0)));
        assert_eq!(parse("6.18.44-fc-v857"), Some(Version::new(6, 18, 44)));
        assert_eq!(parse("5.10"), Some(Version::new(5, 10, 0)));
        assert_eq!(parse("7"), Some(Version::new(7, 0, 0)));
        assert_eq!(parse("1.17.0-pre.1"), Some(Version::new(1, 17, 0)));
        assert_eq!(parse("4.19.57.1"), Some(Version::new(4, 19, 57)));
        assert_eq!(parse("banana"), None);
        assert_eq!(parse(""), None);
        // A number too large for u64 is no version.
        assert_eq!(parse("99999999999999999999.1"), None);
    }

    #[test]
    fn versions_compare_numerically_not_as_text() {
        assert!(parse("4.19.57") > parse("4.9.300"));
        assert!(parse("5.10") > parse("5.9.16"));
        assert!(parse("1.20.2") > parse("1.20.1"));
        assert_eq!(parse("5.10"), parse("5.10.0"));
    }

    #[test]
    fn versions_print_as_semver() {
        assert_eq!(parse("v1.12.1").unwrap().to_string(), "1.12.1");
    }
}
