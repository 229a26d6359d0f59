//! `helm version`: which Helm runs, so a script can adapt (and say which it needs).
//!
//! Helm 3 and 4 print `version.BuildInfo{Version:"v3.14.0", GitCommit:"…", GitTreeState:"clean",
//! GoVersion:"go1.21.5"}`; `--short` prints `v3.14.0+g3fc9f4b`. labsh runs plain
//! `helm version` (no template that an older or newer Helm could reject) and reads either form.

/// What `helm version` says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HelmVersion {
    /// `v3.14.0`.
    pub version: String,
    /// The numbers of `version`, when they parse.
    pub major: Option<i64>,
    pub minor: Option<i64>,
    pub patch: Option<i64>,
    /// The commit helm was built from.
    pub git_commit: Option<String>,
    /// The Go toolchain that built it.
    pub go_version: Option<String>,
}

/// Parses `helm version` output.
pub fn parse(output: &str) -> Option<HelmVersion> {
    let field = |key: &str| -> Option<String> {
        let start = output.find(&format!("{key}:\""))? + key.len() + 2;
        let end = output[start..].find('"')? + start;
        Some(output[start..end].to_string())
    };
    let version = field("Version").or_else(|| {
        output
            .split_whitespace()
            .find(|w| w.starts_with('v') && w[1..].starts_with(|c: char| c.is_ascii_digit()))
            .map(|w| w.split('+').next().unwrap_or(w).to_string())
    })?;
    // The numbers as every other version labsh reads (`crate::version`); a part beyond
    // i64 (no Helm prints one) is left out.
    let numbers = crate::version::parse(&version);
    let part = |f: fn(&crate::version::Version) -> u64| {
        numbers.as_ref().and_then(|v| i64::try_from(f(v)).ok())
    };
    let (major, minor, patch) = (part(|v| v.major), part(|v| v.minor), part(|v| v.patch));
    let git_commit = field("GitCommit").or_else(|| {
        version
            .split_once("+g")
            .map(|(_, g)| g.to_string())
            .or_else(|| output.split("+g").nth(1).map(|g| g.trim().to_string()))
    });
    Some(HelmVersion {
        version,
        major,
        minor,
        patch,
        git_commit,
        go_version: field("GoVersion"),
    })
}

/// Runs `helm version` and parses it.
pub fn run(ctx: &crate::Ctx, timeout: std::time::Duration) -> crate::errors::Result<HelmVersion> {
    let spec = crate::process::Spec::new(["helm", "version"]).timeout(timeout);
    let stdout = super::run(ctx, &spec, None)?;
    parse(&stdout).ok_or_else(|| {
        crate::errors::Error::msg(format!(
            "`helm version` printed no version: {}",
            crate::process::tail_lines(&stdout, 3)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_info_gives_every_field() {
        let m = parse(r#"version.BuildInfo{Version:"v3.14.0", GitCommit:"3fc9f4b2638e76f26739cd77c7017139be81d0ea", GitTreeState:"clean", GoVersion:"go1.21.5"}"#).unwrap();
        assert_eq!(m.version, "v3.14.0");
        assert_eq!(m.major, Some(3));
        assert_eq!(m.minor, Some(14));
        assert_eq!(m.patch, Some(0));
        assert_eq!(
            m.git_commit.as_deref(),
            Some("3fc9f4b2638e76f26739cd77c7017139be81d0ea")
        );
        assert_eq!(m.go_version.as_deref(), Some("go1.21.5"));
    }

    #[test]
    fn short_form_is_read_too() {
        let m = parse("v3.9.4+gdbc6d8e\n").unwrap();
        assert_eq!(m.version, "v3.9.4");
        assert_eq!(m.minor, Some(9));
        assert_eq!(m.patch, Some(4));
        assert_eq!(m.git_commit.as_deref(), Some("dbc6d8e"));
        assert_eq!(m.go_version, None);
    }

    #[test]
    fn something_else_is_not_a_version() {
        assert!(parse("Error: unknown command \"version\"").is_none());
    }
}
