//! Parsing Apache/nginx *combined* access-log lines:
//! `%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`, e.g.
//! `172.18.0.1 - - [14/Sep/2022:20:36:33 +0000] "GET / HTTP/1.1" 200 1172 "-" "curl/7.81.0"`.
//! The Guestbook frontend (Apache) and nginx both write it; other lines (startup notices)
//! are not access lines.

/// One access-log entry; serialised as `{client, ident, user, time, method, path, protocol,
/// status, bytes, referer, agent}` (`bytes` null for `-`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessEntry {
    /// The client address (`%h`).
    pub client: String,
    /// `%l` (almost always `-`).
    pub ident: String,
    /// `%u`.
    pub user: String,
    /// The time as printed, without brackets.
    pub time: String,
    /// Request method (`GET`); the whole request line when it has no spaces.
    pub method: String,
    /// Request target (`/`).
    pub path: String,
    /// `HTTP/1.1`.
    pub protocol: String,
    /// Response status.
    pub status: i64,
    /// Response size; `None` for `-`.
    pub bytes: Option<i64>,
    /// Referer (`-` when none).
    pub referer: String,
    /// User agent.
    pub agent: String,
}

/// Parses a combined-format line; `None` for anything else. Never panics.
pub fn parse(line: &str) -> Option<AccessEntry> {
    let mut rest = line.trim_end_matches(['\r', '\n']).trim_start();
    let client = word(&mut rest)?;
    let ident = word(&mut rest)?;
    let user = word(&mut rest)?;
    rest = rest.trim_start().strip_prefix('[')?;
    let close = rest.find(']')?;
    let time = &rest[..close];
    rest = &rest[close + 1..];
    let request = quoted(&mut rest)?;
    let status = word(&mut rest)?.parse::<i64>().ok()?;
    if !(100..=999).contains(&status) {
        return None;
    }
    let bytes = match word(&mut rest)? {
        "-" => None,
        b => Some(b.parse::<i64>().ok()?),
    };
    let referer = quoted(&mut rest)?;
    let agent = quoted(&mut rest)?;
    let mut parts = request.splitn(3, ' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let protocol = parts.next().unwrap_or_default().to_string();
    Some(AccessEntry {
        client: client.to_string(),
        ident: ident.to_string(),
        user: user.to_string(),
        time: time.to_string(),
        method,
        path,
        protocol,
        status,
        bytes,
        referer,
        agent,
    })
}

fn word<'a>(rest: &mut &'a str) -> Option<&'a str> {
    let s = rest.trim_start();
    let end = s.find(' ').unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    *rest = &s[end..];
    Some(&s[..end])
}

/// A `"…"` field; `\"` and `\\` inside are unescaped.
fn quoted(rest: &mut &str) -> Option<String> {
    let s = rest.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                *rest = &s[i + 1..];
                return Some(out);
            }
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guestbook_line_from_the_lab_parses() {
        let e = parse(r#"172.18.0.1 - - [14/Sep/2022:20:36:33 +0000] "GET / HTTP/1.1" 200 1172 "-" "curl/7.81.0""#).unwrap();
        assert_eq!(e.client, "172.18.0.1");
        assert_eq!((e.ident.as_str(), e.user.as_str()), ("-", "-"));
        assert_eq!(e.time, "14/Sep/2022:20:36:33 +0000");
        assert_eq!(
            (e.method.as_str(), e.path.as_str(), e.protocol.as_str()),
            ("GET", "/", "HTTP/1.1")
        );
        assert_eq!((e.status, e.bytes), (200, Some(1172)));
        assert_eq!((e.referer.as_str(), e.agent.as_str()), ("-", "curl/7.81.0"));
    }

    #[test]
    fn apache_dummy_connection_and_escaped_quotes() {
        let e = parse(r#"127.0.0.1 - - [14/Sep/2022:20:36:40 +0000] "OPTIONS * HTTP/1.0" 200 126 "-" "Apache/2.4.10 (Debian) PHP/5.6.40 (internal dummy connection)""#).unwrap();
        assert_eq!((e.method.as_str(), e.path.as_str()), ("OPTIONS", "*"));
        let e = parse(r#"10.0.0.1 - bob [01/Jan/2024:00:00:00 +0100] "GET /a?q=\"x\" HTTP/1.1" 404 - "http://r/" "agent \"quoted\"""#).unwrap();
        assert_eq!(e.user, "bob");
        assert_eq!(e.path, "/a?q=\"x\"");
        assert_eq!(e.bytes, None);
        assert_eq!(e.agent, "agent \"quoted\"");
    }

    #[test]
    fn malformed_request_keeps_what_was_sent() {
        let e = parse(r#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "\x16\x03\x01" 400 157 "-" "-""#)
            .unwrap();
        assert_eq!(e.status, 400);
        assert_eq!(e.method, r"\x16\x03\x01");
        assert_eq!(e.path, "");
    }

    #[test]
    fn other_lines_are_not_access_lines() {
        for line in [
            "",
            "AH00558: apache2: Could not reliably determine the server's fully qualified domain name",
            "[Wed Sep 14 20:36:20.000 2022] [mpm_prefork:notice] [pid 1] AH00163: Apache configured",
            r#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" abc 1 "-" "-""#,
            r#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-""#,
            r#"1.2.3.4 - - [01/Jan/2024"#,
        ] {
            assert_eq!(parse(line), None, "{line}");
        }
    }

    #[test]
    fn truncations_never_panic() {
        let line = r#"172.18.0.1 - - [14/Sep/2022:20:36:33 +0000] "GET /é HTTP/1.1" 200 1172 "-" "curl/7.81.0""#;
        for i in 0..=line.len() {
            if line.is_char_boundary(i) {
                let _ = parse(&line[..i]);
                let _ = parse(&line[i..]);
            }
        }
    }
}
