//! Reachability probes run from inside a pod (`kube::probe`): what `kubectl exec POD -- curl
//! URL` tells a trainee, with the tools the pod's image has. An HTTP URL is fetched with
//! `curl`, or with `wget` when the image has no curl (busybox images); `tcp://HOST:PORT` is
//! a connect with `nc`. The primitive tries the tools in order and keeps the first one the
//! image has; this module builds their argument vectors and reads their output.

use std::time::Duration;

/// What to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// `http://…` or `https://…`.
    Http(String),
    /// `tcp://HOST:PORT`.
    Tcp { host: String, port: u16 },
}

impl Reach {
    /// Parses `http://…`, `https://…` or `tcp://HOST:PORT`.
    pub fn parse(url: &str) -> Result<Reach, String> {
        let url = url.trim();
        if url.starts_with("http://") || url.starts_with("https://") {
            return Ok(Reach::Http(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("tcp://")
            && let Some((host, port)) = rest.trim_end_matches('/').rsplit_once(':')
            && let Ok(port) = port.parse::<u16>()
            && !host.is_empty()
        {
            return Ok(Reach::Tcp {
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port,
            });
        }
        Err(format!(
            "`{url}` is not a URL to probe: write `http://HOST:PORT/PATH` or `tcp://HOST:PORT`"
        ))
    }

    /// The tools to try, in order, each with its argument vector.
    pub fn attempts(&self, timeout: Duration) -> Vec<(&'static str, Vec<String>)> {
        let secs = timeout.as_secs().max(1).to_string();
        let v = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        match self {
            Reach::Http(url) => vec![
                (
                    "curl",
                    v(&[
                        "curl",
                        "-sS",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "--max-time",
                        &secs,
                        url,
                    ]),
                ),
                ("wget", v(&["wget", "-S", "-O", "/dev/null", url])),
            ],
            Reach::Tcp { host, port } => {
                vec![("nc", v(&["nc", "-w", &secs, host, &port.to_string()]))]
            }
        }
    }
}

/// How a probe ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Reached: an HTTP status below 400, or a TCP connection.
    pub ok: bool,
    /// The HTTP status (`None` for TCP or when no response came).
    pub code: Option<i64>,
    /// Why it failed (`Connection refused`, `HTTP 404`), `None` when it did not.
    pub error: Option<String>,
}

/// Reads what `tool` printed (`exit` is its exit status).
pub fn outcome(tool: &str, exit: i64, stdout: &str, stderr: &str) -> Outcome {
    let code = match tool {
        "curl" => stdout.trim().parse::<i64>().ok().filter(|c| *c > 0),
        "wget" => last_http_status(stderr),
        _ => None,
    };
    let message = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("HTTP/"))
        .map(|l| {
            l.trim_start_matches("curl: ")
                .trim_start_matches("wget: ")
                .trim_start_matches("nc: ")
                .to_string()
        });
    match code {
        Some(c) if c < 400 => Outcome {
            ok: true,
            code,
            error: None,
        },
        Some(c) => Outcome {
            ok: false,
            code,
            error: Some(format!("HTTP {c}")),
        },
        None if exit == 0 && tool == "nc" => Outcome {
            ok: true,
            code: None,
            error: None,
        },
        None => Outcome {
            ok: false,
            code: None,
            error: Some(message.unwrap_or_else(|| format!("{tool} exited with {exit}"))),
        },
    }
}

/// The status of the last `HTTP/1.1 200 OK` line (busybox wget prints the response with
/// `-S`, and `server returned error: HTTP/1.1 404 Not Found` on an error status).
fn last_http_status(text: &str) -> Option<i64> {
    text.lines().rev().find_map(|l| {
        let at = l.find("HTTP/")?;
        l[at..].split_whitespace().nth(1)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_http_or_tcp() {
        assert_eq!(
            Reach::parse("tcp://10.96.0.10:53").unwrap(),
            Reach::Tcp {
                host: "10.96.0.10".into(),
                port: 53
            }
        );
        assert!(matches!(
            Reach::parse("http://web/").unwrap(),
            Reach::Http(_)
        ));
        assert!(
            Reach::parse("web:80")
                .unwrap_err()
                .contains("tcp://HOST:PORT")
        );
    }

    #[test]
    fn curl_s_status_is_read_from_its_write_out() {
        assert_eq!(
            outcome("curl", 0, "200", ""),
            Outcome {
                ok: true,
                code: Some(200),
                error: None
            }
        );
        let refused = outcome(
            "curl",
            7,
            "000",
            "curl: (7) Failed to connect to web port 80: Connection refused\n",
        );
        assert_eq!(refused.code, None);
        assert_eq!(
            refused.error.as_deref(),
            Some("(7) Failed to connect to web port 80: Connection refused")
        );
    }

    #[test]
    fn wget_s_status_is_read_from_the_server_response() {
        let ok = outcome(
            "wget",
            0,
            "",
            "Connecting to web (10.96.0.5:80)\n  HTTP/1.1 200 OK\n  Content-Length: 3\n",
        );
        assert_eq!((ok.ok, ok.code), (true, Some(200)));
        let missing = outcome(
            "wget",
            1,
            "",
            "Connecting to web (10.96.0.5:80)\n  HTTP/1.1 404 Not Found\nwget: server returned error: HTTP/1.1 404 Not Found\n",
        );
        assert_eq!(
            missing,
            Outcome {
                ok: false,
                code: Some(404),
                error: Some("HTTP 404".into())
            }
        );
    }

    #[test]
    fn a_tcp_connect_is_ok_when_nc_exits_zero() {
        assert!(outcome("nc", 0, "", "").ok);
        let refused = outcome(
            "nc",
            1,
            "",
            "nc: can't connect to remote host (10.96.0.5): Connection refused\n",
        );
        assert_eq!(
            refused.error.as_deref(),
            Some("can't connect to remote host (10.96.0.5): Connection refused")
        );
    }
}
