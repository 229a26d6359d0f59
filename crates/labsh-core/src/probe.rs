//! HTTP probes (`http::get`): one GET, timed, with its status, size, body and headers — what
//! `curl -s -o /dev/null -w '%{http_code} %{time_total}'` tells a trainee about a NodePort.
//! [`get_all`] probes many URLs at once, so curling four nodes costs the slowest one.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// What to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// `http://host:port/path`.
    pub url: String,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Connect + response + body deadline.
    pub timeout: Duration,
    /// The most body bytes kept (the sandbox string limit); the rest is not read.
    pub max_body: usize,
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Time from sending to the last body byte.
    pub elapsed: Duration,
    /// The body (lossy UTF-8).
    pub body: String,
    /// Body size in bytes (what was read: at most `max_body`).
    pub bytes: usize,
    /// The body was longer than `max_body`: only its first `max_body` bytes were read.
    pub truncated: bool,
    /// Response headers, names lower-case, in order.
    pub headers: Vec<(String, String)>,
}

/// Why a probe failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProbeError {
    /// The URL is not usable.
    #[error("GET {url}: {reason}")]
    BadUrl { url: String, reason: String },
    /// No answer in time.
    #[error("GET {url}: no response within {}", crate::duration::format(*after))]
    TimedOut { url: String, after: Duration },
    /// The status and headers came, the body did not finish in time (issue 23: this was
    /// "no response within 5s" after a 200 had arrived).
    #[error(
        "GET {url}: status {status} arrived, but the body did not finish within {} ({bytes} bytes read)",
        crate::duration::format(*after)
    )]
    BodyTimedOut {
        url: String,
        status: u16,
        after: Duration,
        bytes: usize,
    },
    /// Connection refused, reset, DNS failure…
    #[error("GET {url}: {reason}")]
    Failed { url: String, reason: String },
}

fn client() -> Client<HttpConnector, Empty<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector)
}

/// One GET.
pub async fn get(req: &Request) -> Result<Response, ProbeError> {
    get_with(&client(), req).await
}

async fn get_with(
    client: &Client<HttpConnector, Empty<Bytes>>,
    req: &Request,
) -> Result<Response, ProbeError> {
    let url = req.url.clone();
    let uri: hyper::Uri =
        req.url
            .parse()
            .map_err(|e: http::uri::InvalidUri| ProbeError::BadUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(ProbeError::BadUrl {
                url,
                reason: "https is not supported by http::get (use proc::run([\"curl\", …]))".into(),
            });
        }
        _ => {
            return Err(ProbeError::BadUrl {
                url,
                reason: "expected an http:// URL".into(),
            });
        }
    }
    let mut builder = hyper::Request::get(uri);
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    let request = builder.body(Empty::new()).map_err(|e| ProbeError::BadUrl {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    let start = Instant::now();
    // What arrived before a timeout: the status, and how much of the body.
    let got_status = std::cell::Cell::new(None);
    let got_bytes = std::cell::Cell::new(0usize);
    let fut = async {
        let resp = client
            .request(request)
            .await
            .map_err(|e| ProbeError::Failed {
                url: url.clone(),
                reason: crate::docker::client::error_chain(&e),
            })?;
        let status = resp.status().as_u16();
        got_status.set(Some(status));
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // The result map (URL, headers, body) must fit the string limit as a whole.
        let header_bytes: usize = headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        let max_body = req.max_body.saturating_sub(url.len() + header_bytes);
        let mut body = Vec::new();
        let mut truncated = false;
        let mut stream = resp.into_body();
        // Frame by frame, so a body larger than the limit is never held whole.
        while let Some(frame) = stream.frame().await {
            let frame = frame.map_err(|e| ProbeError::Failed {
                url: url.clone(),
                reason: format!("reading the body: {e}"),
            })?;
            if let Ok(data) = frame.into_data() {
                let room = max_body.saturating_sub(body.len());
                if data.len() > room {
                    body.extend_from_slice(&data[..room]);
                    truncated = true;
                    break;
                }
                body.extend_from_slice(&data);
                got_bytes.set(body.len());
            }
        }
        Ok(Response {
            status,
            elapsed: start.elapsed(),
            bytes: body.len(),
            body: String::from_utf8_lossy(&body).into_owned(),
            truncated,
            headers,
        })
    };
    let outcome = tokio::time::timeout(req.timeout, fut).await;
    match (outcome, got_status.get()) {
        (Ok(r), _) => r,
        (Err(_), Some(status)) => Err(ProbeError::BodyTimedOut {
            url,
            status,
            after: req.timeout,
            bytes: got_bytes.get(),
        }),
        (Err(_), None) => Err(ProbeError::TimedOut {
            url,
            after: req.timeout,
        }),
    }
}

/// How many probes [`get_all`] runs at once by default: four nodes at once, and 10,000 URLs
/// without running out of file descriptors (issue 23: all at once took 10,012 of them).
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Probes the requests, at most `concurrency` at once; results in input order.
pub async fn get_all(reqs: &[Request], concurrency: usize) -> Vec<Result<Response, ProbeError>> {
    use futures::StreamExt;
    let client = client();
    futures::stream::iter(reqs.iter().map(|r| get_with(&client, r)))
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// Why a probe failed, without its URL: what [`summary`] counts.
fn cause(e: &ProbeError) -> String {
    match e {
        ProbeError::BadUrl { reason, .. } | ProbeError::Failed { reason, .. } => reason.clone(),
        ProbeError::TimedOut { after, .. } => {
            format!("no response within {}", crate::duration::format(*after))
        }
        ProbeError::BodyTimedOut { after, .. } => {
            format!(
                "body not finished within {}",
                crate::duration::format(*after)
            )
        }
    }
}

/// The failures of a [`get_all`] in a few lines: how many failed, the count of each cause
/// (most frequent first), then the first `shown` failures in full.
pub fn summary(results: &[Result<Response, ProbeError>], shown: usize) -> Option<String> {
    let failures: Vec<&ProbeError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    if failures.is_empty() {
        return None;
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for f in &failures {
        let c = cause(f);
        match counts.iter_mut().find(|(k, _)| *k == c) {
            Some((_, n)) => *n += 1,
            None => counts.push((c, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let mut text = format!(
        "{} of {} requests failed:",
        crate::limits::group(failures.len()),
        crate::limits::group(results.len())
    );
    for (c, n) in counts.iter().take(10) {
        text.push_str(&format!("\n  {} × {c}", crate::limits::group(*n)));
    }
    if counts.len() > 10 {
        text.push_str(&format!("\n  … and {} other causes", counts.len() - 10));
    }
    let first: Vec<String> = failures.iter().take(shown).map(|f| f.to_string()).collect();
    text.push_str(&format!(
        "\n{} first:\n  {}",
        if failures.len() > shown {
            "the"
        } else {
            "in full,"
        },
        first.join("\n  ")
    ));
    Some(text)
}

/// The curl command equivalent to a probe, for `--explain`.
pub fn curl_argv(req: &Request) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "curl".into(),
        "-s".into(),
        "-o".into(),
        "/dev/null".into(),
        "-w".into(),
        "%{http_code} %{time_total}s %{size_download}B\\n".into(),
        "--max-time".into(),
        format!("{}", req.timeout.as_secs_f64()),
    ];
    for (k, v) in &req.headers {
        a.push("-H".into());
        a.push(format!("{k}: {v}"));
    }
    a.push(req.url.clone());
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A loopback server answering each connection with `reply` after `delay`.
    async fn server(reply: &'static str, delay: Duration) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    tokio::time::sleep(delay).await;
                    let _ = s.write_all(reply.as_bytes()).await;
                });
            }
        });
        format!("http://{addr}/")
    }

    fn req(url: &str, timeout: Duration) -> Request {
        Request {
            max_body: usize::MAX,
            url: url.into(),
            headers: vec![("x-probe".into(), "1".into())],
            timeout,
        }
    }

    #[tokio::test]
    async fn get_reports_status_body_and_headers() {
        let url = server(
            "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello",
            Duration::ZERO,
        )
        .await;
        let r = get(&req(&url, DEFAULT_TIMEOUT)).await.unwrap();
        assert_eq!((r.status, r.bytes, r.body.as_str()), (201, 5, "hello"));
        assert!(r.headers.contains(&("x-a".to_string(), "b".to_string())));
    }

    #[tokio::test]
    async fn refused_connection_names_the_url() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", l.local_addr().unwrap());
        drop(l);
        let err = get(&req(&url, DEFAULT_TIMEOUT)).await.unwrap_err();
        assert!(
            err.to_string().starts_with(&format!("GET {url}: ")),
            "{err}"
        );
        assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
    }

    #[tokio::test]
    async fn slow_server_times_out() {
        let url = server(
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            Duration::from_secs(5),
        )
        .await;
        let err = get(&req(&url, Duration::from_millis(200)))
            .await
            .unwrap_err();
        assert!(matches!(err, ProbeError::TimedOut { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_body_that_stalls_after_the_status_is_told_apart_from_no_response() {
        // Issue 23, item 8: the status came, then 5 of 100 body bytes, then nothing.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello")
                .await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        let err = get(&req(&url, Duration::from_millis(300)))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "GET {url}: status 200 arrived, but the body did not finish within 300ms (5 bytes read)"
            )
        );
    }

    #[tokio::test]
    async fn get_all_keeps_input_order_and_runs_concurrently() {
        // The server answers only once all three requests are in flight: probed one after
        // the other, the first would time out.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(3));
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    let path = String::from_utf8_lossy(&buf[..n])
                        .split(' ')
                        .nth(1)
                        .unwrap_or("")
                        .to_string();
                    barrier.wait().await;
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{path}",
                        path.len()
                    );
                    let _ = s.write_all(reply.as_bytes()).await;
                });
            }
        });
        let reqs: Vec<_> = ["/c", "/a", "/b"]
            .iter()
            .map(|p| req(&format!("http://{addr}{p}"), Duration::from_secs(5)))
            .collect();
        let rs = get_all(&reqs, DEFAULT_CONCURRENCY).await;
        let bodies: Vec<_> = rs
            .iter()
            .map(|r| r.as_ref().unwrap().body.clone())
            .collect();
        assert_eq!(bodies, ["/c", "/a", "/b"]);
    }

    #[test]
    fn https_is_a_clear_error() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(get(&req("https://x/", DEFAULT_TIMEOUT)))
            .unwrap_err();
        assert!(err.to_string().contains("https is not supported"), "{err}");
    }
}
