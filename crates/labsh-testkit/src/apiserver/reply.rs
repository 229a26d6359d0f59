//! Responses: JSON bodies, `metav1.Status` errors, and streamed bodies that count their readers.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Body as HttpBody, Bytes, Frame};
use hyper::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The body type of every response.
pub type Body = BoxBody<Bytes, Infallible>;

/// A JSON response.
pub fn json(code: StatusCode, value: &Value) -> Response<Body> {
    with_body(code, "application/json", Bytes::from(value.to_string()))
}

/// A plain-text response.
pub fn text(code: StatusCode, text: String) -> Response<Body> {
    with_body(code, "text/plain", Bytes::from(text))
}

fn with_body(code: StatusCode, content_type: &str, bytes: Bytes) -> Response<Body> {
    let mut res = Response::new(Full::new(bytes).boxed());
    *res.status_mut() = code;
    if let Ok(v) = content_type.parse() {
        res.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    res
}

/// A `metav1.Status` failure, as the API server sends for every error.
pub fn status(code: StatusCode, reason: &str, message: impl Into<String>) -> Response<Body> {
    json(code, &status_value(code, reason, message.into(), None))
}

/// `404 NotFound` for an object: `pods "web" not found`.
pub fn not_found(plural: &str, group: &str, name: &str) -> Response<Body> {
    let what = if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    };
    let details = json!({ "name": name, "group": group, "kind": plural });
    json(
        StatusCode::NOT_FOUND,
        &status_value(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("{what} \"{name}\" not found"),
            Some(details),
        ),
    )
}

/// `404 NotFound` for a path the server does not serve.
pub fn no_route() -> Response<Body> {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// `400 BadRequest`.
pub fn bad_request(message: impl Into<String>) -> Response<Body> {
    status(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// `405 MethodNotAllowed`.
pub fn method_not_allowed(method: &str, what: &str) -> Response<Body> {
    status(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("the server does not allow method {method} on {what}"),
    )
}

/// The `metav1.Status` object.
pub fn status_value(
    code: StatusCode,
    reason: &str,
    message: String,
    details: Option<Value>,
) -> Value {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    v
}

/// Counts something open (log streams, exec sessions) while alive.
pub struct OpenGuard(Arc<AtomicUsize>);

impl OpenGuard {
    pub fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        OpenGuard(counter.clone())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A chunked response body fed through a channel. The producer task sees the client leave
/// through `Sender::closed()`: hyper drops the body when the connection ends, which also drops
/// the optional guard (so "open streams" counts fall as soon as the client is gone).
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
    _guard: Option<OpenGuard>,
}

impl ChannelBody {
    pub fn new(guard: Option<OpenGuard>) -> (mpsc::Sender<Bytes>, Self) {
        // Small: a slow client holds back the producer rather than growing a buffer.
        let (tx, rx) = mpsc::channel(16);
        (tx, ChannelBody { rx, _guard: guard })
    }
}

impl HttpBody for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.rx.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// A streamed response with the given content type.
pub fn streamed(content_type: &str, body: ChannelBody) -> Response<Body> {
    let mut res = Response::new(body.boxed());
    if let Ok(v) = content_type.parse() {
        res.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    res
}
