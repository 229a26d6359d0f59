//! `…/pods/{name}/exec`: the WebSocket upgrade and the channel protocol kube-rs speaks
//! (`v5.channel.k8s.io`, which kube-rs 5 always offers; no `v4` fallback). Every server frame is
//! binary with a leading channel byte: 1 stdout, 2 stderr, 3 the final `metav1.Status` (exit code
//! in `details.causes[{reason: "ExitCode"}]`). Replies come from the test's handler.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;

use super::logs::check_container;
use super::query::Query;
use super::reply::{self, Body, OpenGuard};
use super::store::ObjKey;
use super::{Shared, lock};

/// What the client asked to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecRequest {
    pub namespace: String,
    pub pod: String,
    /// The `container` parameter as sent (`None`: the pod's only container).
    pub container: Option<String>,
    pub command: Vec<String>,
}

/// How the server answers an exec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecReply {
    /// (delay before, chunk), written in order on the stdout channel.
    pub stdout: Vec<(Duration, String)>,
    /// Chunks written on the stderr channel after stdout.
    pub stderr: Vec<String>,
    /// Sent on the status channel: 0 is `Success`, anything else a `Failure` carrying the code.
    pub exit_code: i32,
    /// After stdout and stderr, keep the session open (no status) until the client closes it,
    /// as a never-ending command (`cilium monitor`) does.
    pub keep_open: bool,
}

impl ExecReply {
    /// Each line (plus `\n`) as one stdout chunk, at once, then `exit_code`.
    pub fn lines(lines: &[&str], exit_code: i32) -> Self {
        ExecReply {
            stdout: lines
                .iter()
                .map(|l| (Duration::ZERO, format!("{l}\n")))
                .collect(),
            exit_code,
            ..Default::default()
        }
    }

    /// Lines one `every` apart, then the session stays open until the client closes it.
    pub fn stream(lines: &[&str], every: Duration) -> Self {
        ExecReply {
            stdout: lines.iter().map(|l| (every, format!("{l}\n"))).collect(),
            keep_open: true,
            ..Default::default()
        }
    }

    /// Adds stderr text.
    pub fn with_stderr(mut self, text: &str) -> Self {
        self.stderr.push(text.to_string());
        self
    }
}

/// How the test answers execs.
pub type Handler = dyn Fn(&ExecRequest) -> ExecReply + Send + Sync;

const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;

/// Handles the upgrade request; the session runs in its own task.
pub fn serve(
    shared: &Arc<Shared>,
    mut req: Request<Incoming>,
    namespace: &str,
    pod: &str,
    q: &Query,
) -> Response<Body> {
    let container = q
        .get("container")
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    {
        let store = lock(&shared.store);
        let key = ObjKey {
            group: String::new(),
            kind: "Pod".into(),
            namespace: namespace.into(),
            name: pod.into(),
        };
        let Some(pod_obj) = store.get(&key) else {
            return reply::not_found("pods", "", pod);
        };
        if let Err(e) = check_container(pod_obj, pod, container.as_deref()) {
            return reply::bad_request(e);
        }
    }
    let command = q.all("command");
    if command.is_empty() {
        return reply::bad_request("you must specify at least 1 command");
    }
    let headers = req.headers();
    let is_upgrade = headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = headers.get(SEC_WEBSOCKET_KEY).filter(|_| is_upgrade) else {
        return reply::bad_request("Upgrade request required");
    };
    let offered: Vec<String> = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .collect();
    const PROTOCOL: &str = "v5.channel.k8s.io";
    if !offered.iter().any(|o| o == PROTOCOL) {
        return reply::bad_request(format!(
            "the test API server speaks only {PROTOCOL}, the client offered {offered:?}"
        ));
    }
    let accept = derive_accept_key(key.as_bytes());

    let request = ExecRequest {
        namespace: namespace.into(),
        pod: pod.into(),
        container,
        command,
    };
    // labsh's kill script (`sh -c KILL_SCRIPT labsh-kill ARGV…`, sent after it closed an exec
    // early): this double has no processes to end; it records ARGV and answers exit 0.
    let kill = (request.command.len() > 3
        && request.command[..2] == ["sh", "-c"]
        && request.command[3] == "labsh-kill")
        .then(|| request.command[4..].to_vec());
    if let Some(argv) = &kill {
        lock(&shared.kills).push(argv.clone());
    }
    let handler = lock(&shared.exec_handler).clone();
    let guard = OpenGuard::new(&shared.open_exec_sessions);
    let shutdown = shared.shutdown.clone();
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let _guard = guard;
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let output = match handler.as_deref() {
            _ if kill.is_some() => ExecReply::default(),
            Some(h) => h(&request),
            None => ExecReply {
                stderr: vec!["test API server: no exec handler (TestApiServer::on_exec)\n".into()],
                exit_code: 126,
                ..Default::default()
            },
        };
        tokio::select! {
            _ = session(ws, &request, output) => {}
            _ = shutdown.cancelled() => {}
        }
    });

    let mut res = Response::new(reply::text(StatusCode::OK, String::new()).into_body());
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(
        UPGRADE,
        hyper::header::HeaderValue::from_static("websocket"),
    );
    h.insert(
        CONNECTION,
        hyper::header::HeaderValue::from_static("Upgrade"),
    );
    h.insert(
        SEC_WEBSOCKET_PROTOCOL,
        hyper::header::HeaderValue::from_static(PROTOCOL),
    );
    if let Ok(v) = accept.parse() {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    res
}

/// Plays the output; returns when done or when the client goes away.
async fn session<S>(ws: WebSocketStream<S>, request: &ExecRequest, reply: ExecReply)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut incoming) = ws.split();
    // Reads (and ignores) what the client sends — stdin, resize, v5 close — until it closes.
    let client_gone = async move {
        while let Some(msg) = incoming.next().await {
            if matches!(msg, Ok(Message::Close(_)) | Err(_)) {
                break;
            }
        }
    };
    tokio::pin!(client_gone);

    for (delay, chunk) in &reply.stdout {
        if !delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(*delay) => {}
                _ = &mut client_gone => return,
            }
        }
        if sink.send(frame(STDOUT, chunk.as_bytes())).await.is_err() {
            return;
        }
    }
    for chunk in &reply.stderr {
        if sink.send(frame(STDERR, chunk.as_bytes())).await.is_err() {
            return;
        }
    }
    let exit_code = (!reply.keep_open).then_some(reply.exit_code);
    let Some(code) = exit_code else {
        client_gone.await;
        return;
    };
    let status = exit_status(&request.command, code);
    if sink
        .send(frame(STATUS, status.to_string().as_bytes()))
        .await
        .is_err()
    {
        return;
    }
    let _ = sink.close().await;
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut bytes = Vec::with_capacity(data.len() + 1);
    bytes.push(channel);
    bytes.extend_from_slice(data);
    Message::binary(bytes)
}

/// The Status the kubelet sends at the end of an exec.
fn exit_status(command: &[String], code: i32) -> Value {
    if code == 0 {
        return json!({ "metadata": {}, "status": "Success" });
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            command.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": { "causes": [ { "reason": "ExitCode", "message": code.to_string() } ] },
    })
}
