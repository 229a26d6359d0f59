// PLACEHOLDER — replaced by the apiserver branch.
//
//! A loopback **test double** of the Kubernetes API server (placeholder written on the `kube`
//! branch so its integration tests run; the `apiserver` branch provides the real one with the
//! same API). Plain HTTP/1.1 on 127.0.0.1, hand-parsed: discovery for core/v1, apps/v1,
//! apiextensions.k8s.io/v1, cilium.io/v2 (plus groups added by applied CRDs), get/list with
//! label (equality) and field selectors, server-side apply (merge of the applied fields),
//! delete, watch (chunked, events after the watch starts), pod logs (tail, follow kept open)
//! and exec over WebSocket (`v4.channel.k8s.io`: stdout 1, stderr 2, status 3).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

/// An exec the server received.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub namespace: String,
    pub pod: String,
    pub container: Option<String>,
    pub command: Vec<String>,
}

/// What the server plays back for an exec: stdout lines each after a delay, stderr lines,
/// then the exit code — unless `keep_open`, when it waits for the client to close.
#[derive(Debug, Clone, Default)]
pub struct ExecReply {
    pub stdout: Vec<(Duration, String)>,
    pub stderr: Vec<String>,
    pub exit_code: i32,
    pub keep_open: bool,
}

/// One request, for assertions.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
}

#[derive(Clone)]
struct ResourceDef {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    short: Vec<String>,
}

impl ResourceDef {
    fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

type Key = (String, String, String, String); // apiVersion, kind, namespace, name
type ExecHandler = Arc<dyn Fn(&ExecRequest) -> ExecReply + Send + Sync>;

struct Watcher {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    labels: Option<String>,
    fields: Option<String>,
    tx: mpsc::UnboundedSender<Value>,
}

struct State {
    defs: Vec<ResourceDef>,
    objects: BTreeMap<Key, Value>,
    rv: u64,
    watchers: Vec<Watcher>,
    history: Vec<(u64, Value)>,
    logs: HashMap<(String, String, String), Vec<String>>,
    log_followers: Vec<((String, String, String), mpsc::UnboundedSender<String>)>,
    exec: Option<ExecHandler>,
    requests: Vec<RequestRecord>,
}

/// The test double. Dropping it stops accepting connections.
pub struct TestApiServer {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
    open_exec: Arc<AtomicUsize>,
    open_logs: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn def(
    group: &str,
    version: &str,
    kind: &str,
    plural: &str,
    namespaced: bool,
    short: &[&str],
) -> ResourceDef {
    ResourceDef {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: plural.into(),
        namespaced,
        short: short.iter().map(|s| s.to_string()).collect(),
    }
}

fn now() -> String {
    let t = k8s_openapi::jiff::Timestamp::now();
    k8s_openapi::jiff::Timestamp::from_second(t.as_second())
        .unwrap()
        .to_string()
}

impl TestApiServer {
    pub async fn start() -> TestApiServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            defs: vec![
                def("", "v1", "Pod", "pods", true, &["po"]),
                def("", "v1", "Service", "services", true, &["svc"]),
                def("", "v1", "Node", "nodes", false, &["no"]),
                def("", "v1", "Namespace", "namespaces", false, &["ns"]),
                def("", "v1", "ConfigMap", "configmaps", true, &["cm"]),
                def("apps", "v1", "Deployment", "deployments", true, &["deploy"]),
                def("apps", "v1", "DaemonSet", "daemonsets", true, &["ds"]),
                def("apps", "v1", "ReplicaSet", "replicasets", true, &["rs"]),
                def("apps", "v1", "StatefulSet", "statefulsets", true, &["sts"]),
                def(
                    "apiextensions.k8s.io",
                    "v1",
                    "CustomResourceDefinition",
                    "customresourcedefinitions",
                    false,
                    &["crd", "crds"],
                ),
                def(
                    "cilium.io",
                    "v2",
                    "CiliumEndpoint",
                    "ciliumendpoints",
                    true,
                    &["cep"],
                ),
            ],
            objects: BTreeMap::new(),
            rv: 1,
            watchers: Vec::new(),
            history: Vec::new(),
            logs: HashMap::new(),
            log_followers: Vec::new(),
            exec: None,
            requests: Vec::new(),
        }));
        let open_exec = Arc::new(AtomicUsize::new(0));
        let open_logs = Arc::new(AtomicUsize::new(0));
        let (s, e, l) = (state.clone(), open_exec.clone(), open_logs.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let (s, e, l) = (s.clone(), e.clone(), l.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, s, e, l).await;
                });
            }
        });
        TestApiServer {
            addr,
            state,
            open_exec,
            open_logs,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn write_kubeconfig(&self, path: &std::path::Path, context: &str) {
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {context}\nclusters:\n- name: {context}\n  cluster:\n    server: {}\ncontexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {context}\n    namespace: default\nusers:\n- name: {context}\n  user:\n    token: test-token\n",
            self.url()
        );
        std::fs::write(path, text).unwrap();
    }

    pub fn insert(&self, obj: Value) {
        let mut st = self.state.lock().unwrap();
        store(&mut st, obj, true);
    }

    pub fn update(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) {
        let mut st = self.state.lock().unwrap();
        let key = (
            api_version.to_string(),
            kind.to_string(),
            namespace.unwrap_or("").to_string(),
            name.to_string(),
        );
        let mut obj = st
            .objects
            .get(&key)
            .cloned()
            .expect("update: no such object");
        f(&mut obj);
        store(&mut st, obj, false);
    }

    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let st = self.state.lock().unwrap();
        st.objects
            .get(&(
                api_version.to_string(),
                kind.to_string(),
                namespace.unwrap_or("").to_string(),
                name.to_string(),
            ))
            .cloned()
    }

    pub fn delete(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let mut st = self.state.lock().unwrap();
        let key = (
            api_version.to_string(),
            kind.to_string(),
            namespace.unwrap_or("").to_string(),
            name.to_string(),
        );
        if let Some(obj) = st.objects.remove(&key) {
            notify(&mut st, "DELETED", &obj);
        }
    }

    pub fn set_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        lines: Vec<String>,
    ) {
        let mut st = self.state.lock().unwrap();
        st.logs.insert(
            (namespace.into(), pod.into(), container.unwrap_or("").into()),
            lines,
        );
    }

    pub fn push_log(&self, namespace: &str, pod: &str, container: Option<&str>, line: &str) {
        let mut st = self.state.lock().unwrap();
        let key = (
            namespace.to_string(),
            pod.to_string(),
            container.unwrap_or("").to_string(),
        );
        st.logs
            .entry(key.clone())
            .or_default()
            .push(line.to_string());
        st.log_followers
            .retain(|(k, tx)| *k != key || tx.send(line.to_string()).is_ok());
    }

    pub fn on_exec(&self, handler: impl Fn(&ExecRequest) -> ExecReply + Send + Sync + 'static) {
        self.state.lock().unwrap().exec = Some(Arc::new(handler));
    }

    pub fn open_exec_sessions(&self) -> usize {
        self.open_exec.load(Ordering::SeqCst)
    }

    pub fn open_log_streams(&self) -> usize {
        self.open_logs.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn store(st: &mut State, mut obj: Value, fill: bool) {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let namespaced = st
        .defs
        .iter()
        .find(|d| d.api_version() == api_version && d.kind == kind)
        .map(|d| d.namespaced)
        .unwrap_or(true);
    st.rv += 1;
    let rv = st.rv;
    let meta = obj["metadata"]
        .as_object_mut()
        .expect("objects have metadata");
    if namespaced && !meta.contains_key("namespace") {
        meta.insert("namespace".into(), "default".into());
    }
    let name = meta["name"].as_str().unwrap_or_default().to_string();
    let ns = if namespaced {
        meta["namespace"].as_str().unwrap_or_default().to_string()
    } else {
        String::new()
    };
    let key = (api_version, kind.clone(), ns, name.clone());
    let existed = st.objects.contains_key(&key);
    if fill || !meta.contains_key("uid") {
        meta.entry("uid")
            .or_insert_with(|| format!("uid-{name}-{rv}").into());
        meta.entry("creationTimestamp")
            .or_insert_with(|| now().into());
        meta.entry("generation").or_insert(1.into());
    }
    meta.insert("resourceVersion".into(), rv.to_string().into());
    if kind == "CustomResourceDefinition" {
        let spec = &obj["spec"];
        let group = spec["group"].as_str().unwrap_or_default();
        for v in spec["versions"].as_array().cloned().unwrap_or_default() {
            let d = def(
                group,
                v["name"].as_str().unwrap_or_default(),
                spec["names"]["kind"].as_str().unwrap_or_default(),
                spec["names"]["plural"].as_str().unwrap_or_default(),
                spec["scope"].as_str() != Some("Cluster"),
                &spec["names"]["shortNames"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                    .unwrap_or_default(),
            );
            if !st
                .defs
                .iter()
                .any(|x| x.api_version() == d.api_version() && x.kind == d.kind)
            {
                st.defs.push(d);
            }
        }
    }
    st.objects.insert(key, obj.clone());
    notify(st, if existed { "MODIFIED" } else { "ADDED" }, &obj);
}

fn notify(st: &mut State, kind: &str, obj: &Value) {
    let ev = json!({"type": kind, "object": obj});
    if kind == "DELETED" {
        st.rv += 1;
    }
    // Watches started from an older resourceVersion replay what they missed.
    st.history.push((st.rv, ev.clone()));
    st.watchers.retain(|w| {
        if watcher_matches(w, obj) {
            w.tx.send(ev.clone()).is_ok()
        } else {
            !w.tx.is_closed()
        }
    });
}

fn watcher_matches(w: &Watcher, obj: &Value) -> bool {
    obj["apiVersion"].as_str() == Some(&w.api_version)
        && obj["kind"].as_str() == Some(&w.kind)
        && w.namespace
            .as_ref()
            .is_none_or(|ns| obj["metadata"]["namespace"].as_str() == Some(ns))
        && selects(obj, w.labels.as_deref(), w.fields.as_deref())
}

fn selects(obj: &Value, labels: Option<&str>, fields: Option<&str>) -> bool {
    let label_ok = labels.filter(|s| !s.is_empty()).is_none_or(|sel| {
        sel.split(',').all(|term| {
            let term = term.trim();
            if let Some((k, v)) = term.split_once("!=") {
                obj["metadata"]["labels"][k.trim()].as_str() != Some(v.trim())
            } else if let Some((k, v)) = term.split_once('=') {
                obj["metadata"]["labels"][k.trim()].as_str()
                    == Some(v.trim_start_matches('=').trim())
            } else if let Some(k) = term.strip_prefix('!') {
                obj["metadata"]["labels"].get(k).is_none()
            } else {
                obj["metadata"]["labels"].get(term).is_some()
            }
        })
    });
    let field_ok = fields.filter(|s| !s.is_empty()).is_none_or(|sel| {
        sel.split(',').all(|term| {
            let (path, want, eq) = match term.split_once("!=") {
                Some((p, v)) => (p, v, false),
                None => match term.split_once('=') {
                    Some((p, v)) => (p, v.trim_start_matches('='), true),
                    None => return true,
                },
            };
            let pointer = format!("/{}", path.trim().replace('.', "/"));
            let got = obj.pointer(&pointer).and_then(Value::as_str).unwrap_or("");
            (got == want.trim()) == eq
        })
    });
    label_ok && field_ok
}

fn merge(dst: &mut Value, src: &Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(k) {
                    Some(dv) if dv.is_object() && v.is_object() => merge(dv, v),
                    _ => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (d, s) => *d = s.clone(),
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?');
                out.push(h);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

async fn read_request<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> Option<Request> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let mut lines = head.split("\r\n");
            let mut first = lines.next()?.split(' ');
            let method = first.next()?.to_string();
            let target = first.next()?.to_string();
            let headers: HashMap<String, String> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
                .collect();
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut chunk = [0u8; 8192];
                let n = r.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            let (path, query) = target
                .split_once('?')
                .map(|(p, q)| (p.to_string(), q.to_string()))
                .unwrap_or((target, String::new()));
            return Some(Request {
                method,
                path,
                query,
                headers,
                body,
            });
        }
        let mut chunk = [0u8; 8192];
        let n = r.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn respond<W: AsyncWrite + Unpin>(w: &mut W, code: u16, body: &Value) -> std::io::Result<()> {
    let text = body.to_string();
    let head = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        text.len()
    );
    w.write_all(head.as_bytes()).await?;
    w.write_all(text.as_bytes()).await?;
    w.flush().await
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

struct Counter(Arc<AtomicUsize>);
impl Counter {
    fn new(c: &Arc<AtomicUsize>) -> Counter {
        c.fetch_add(1, Ordering::SeqCst);
        Counter(c.clone())
    }
}
impl Drop for Counter {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn serve(
    mut sock: TcpStream,
    state: Arc<Mutex<State>>,
    open_exec: Arc<AtomicUsize>,
    open_logs: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut sock, &mut buf).await else {
            return Ok(());
        };
        state.lock().unwrap().requests.push(RequestRecord {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
        });
        let segs: Vec<String> = req
            .path
            .trim_matches('/')
            .split('/')
            .map(String::from)
            .collect();
        let q = query_pairs(&req.query);
        let qget = |k: &str| q.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());
        // Discovery.
        if req.method == "GET" {
            let body = {
                let st = state.lock().unwrap();
                match segs
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    ["api"] => Some(
                        json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
                    ),
                    ["api", "v1"] => Some(resource_list(&st.defs, "", "v1")),
                    ["apis"] => {
                        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
                        for d in st.defs.iter().filter(|d| !d.group.is_empty()) {
                            match groups.iter_mut().find(|(g, _)| *g == d.group) {
                                Some((_, vs)) => {
                                    if !vs.contains(&d.version) {
                                        vs.push(d.version.clone())
                                    }
                                }
                                None => groups.push((d.group.clone(), vec![d.version.clone()])),
                            }
                        }
                        Some(
                            json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups.iter().map(|(g, vs)| json!({
                        "name": g,
                        "versions": vs.iter().map(|v| json!({"groupVersion": format!("{g}/{v}"), "version": v})).collect::<Vec<_>>(),
                        "preferredVersion": {"groupVersion": format!("{g}/{}", vs[0]), "version": vs[0]},
                    })).collect::<Vec<_>>()}),
                        )
                    }
                    ["apis", g, v] => Some(resource_list(&st.defs, g, v)),
                    _ => None,
                }
            };
            if let Some(body) = body {
                respond(&mut sock, 200, &body).await?;
                continue;
            }
        }
        // Resource paths.
        let (group, version, rest) = match segs.first().map(String::as_str) {
            Some("api") if segs.len() >= 2 => (String::new(), segs[1].clone(), segs[2..].to_vec()),
            Some("apis") if segs.len() >= 3 => {
                (segs[1].clone(), segs[2].clone(), segs[3..].to_vec())
            }
            _ => {
                respond(
                    &mut sock,
                    404,
                    &status(
                        404,
                        "NotFound",
                        "the server could not find the requested resource",
                    ),
                )
                .await?;
                continue;
            }
        };
        let (namespace, rest) = if rest.len() >= 3 && rest[0] == "namespaces" {
            (Some(rest[1].clone()), rest[2..].to_vec())
        } else {
            (None, rest)
        };
        let def = {
            let st = state.lock().unwrap();
            st.defs
                .iter()
                .find(|d| {
                    d.group == group && d.version == version && Some(&d.plural) == rest.first()
                })
                .cloned()
        };
        let Some(def) = def else {
            respond(
                &mut sock,
                404,
                &status(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ),
            )
            .await?;
            continue;
        };
        let api_version = def.api_version();
        let name = rest.get(1).cloned();
        let sub = rest.get(2).cloned();
        let key = |n: &str| {
            (
                api_version.clone(),
                def.kind.clone(),
                namespace.clone().unwrap_or_default(),
                n.to_string(),
            )
        };
        match (req.method.as_str(), name.as_deref(), sub.as_deref()) {
            ("GET", None, None)
                if qget("watch").as_deref() == Some("true")
                    || qget("watch").as_deref() == Some("1") =>
            {
                let (tx, mut rx) = mpsc::unbounded_channel();
                {
                    let mut st = state.lock().unwrap();
                    let w = Watcher {
                        api_version: api_version.clone(),
                        kind: def.kind.clone(),
                        namespace: namespace.clone(),
                        labels: qget("labelSelector"),
                        fields: qget("fieldSelector"),
                        tx,
                    };
                    if let Some(from) = qget("resourceVersion").and_then(|v| v.parse::<u64>().ok())
                    {
                        for (rv, ev) in &st.history {
                            if *rv > from && watcher_matches(&w, &ev["object"]) {
                                let _ = w.tx.send(ev.clone());
                            }
                        }
                    }
                    st.watchers.push(w);
                }
                sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").await?;
                sock.flush().await?;
                let timeout = qget("timeoutSeconds")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(290u64);
                let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
                loop {
                    let ev = tokio::select! {
                        ev = rx.recv() => ev,
                        _ = tokio::time::sleep_until(deadline) => None,
                    };
                    let Some(ev) = ev else { break };
                    let line = format!("{ev}\n");
                    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
                    if sock.write_all(chunk.as_bytes()).await.is_err()
                        || sock.flush().await.is_err()
                    {
                        return Ok(());
                    }
                }
                sock.write_all(b"0\r\n\r\n").await?;
                return Ok(());
            }
            ("GET", None, None) => {
                let body = {
                    let st = state.lock().unwrap();
                    let items: Vec<Value> = st
                        .objects
                        .iter()
                        .filter(|((av, k, ns, _), _)| {
                            *av == api_version
                                && *k == def.kind
                                && namespace.as_ref().is_none_or(|n| n == ns)
                        })
                        .map(|(_, v)| v.clone())
                        .filter(|o| {
                            selects(
                                o,
                                qget("labelSelector").as_deref(),
                                qget("fieldSelector").as_deref(),
                            )
                        })
                        .collect();
                    let body = json!({"kind": format!("{}List", def.kind), "apiVersion": api_version,
                    "metadata": {"resourceVersion": st.rv.to_string()}, "items": items});
                    body
                };
                respond(&mut sock, 200, &body).await?;
            }
            ("GET", Some(n), None) => {
                let obj = state.lock().unwrap().objects.get(&key(n)).cloned();
                match obj {
                    Some(o) => respond(&mut sock, 200, &o).await?,
                    None => {
                        respond(
                            &mut sock,
                            404,
                            &status(
                                404,
                                "NotFound",
                                &format!("{} \"{n}\" not found", def.plural),
                            ),
                        )
                        .await?
                    }
                }
            }
            ("PATCH", Some(n), None) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let (created, stored) = {
                    let mut st = state.lock().unwrap();
                    let mut obj = st
                        .objects
                        .get(&key(n))
                        .cloned()
                        .unwrap_or_else(|| json!({}));
                    let created = obj.as_object().is_none_or(|m| m.is_empty());
                    let before_spec = obj.get("spec").cloned();
                    merge(&mut obj, &body);
                    if def.namespaced {
                        obj["metadata"]["namespace"] = namespace.clone().unwrap_or_default().into();
                    }
                    if !created && obj.get("spec").cloned() != before_spec {
                        let g = obj["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
                        obj["metadata"]["generation"] = g.into();
                    }
                    store(&mut st, obj, created);
                    let stored = st.objects.get(&key(n)).cloned().unwrap();
                    (created, stored)
                };
                respond(&mut sock, if created { 201 } else { 200 }, &stored).await?;
            }
            ("DELETE", Some(n), None) => {
                let removed = {
                    let mut st = state.lock().unwrap();
                    let removed = st.objects.remove(&key(n));
                    if let Some(o) = &removed {
                        notify(&mut st, "DELETED", o);
                    }
                    removed
                };
                match removed {
                    Some(o) => {
                        respond(&mut sock, 200, &o).await?;
                    }
                    None => {
                        respond(
                            &mut sock,
                            404,
                            &status(
                                404,
                                "NotFound",
                                &format!("{} \"{n}\" not found", def.plural),
                            ),
                        )
                        .await?
                    }
                }
            }
            ("GET", Some(pod), Some("log")) => {
                let ns = namespace.clone().unwrap_or_default();
                let container = qget("container").unwrap_or_default();
                let lkey = (ns.clone(), pod.to_string(), container.clone());
                let mut lines = {
                    let st = state.lock().unwrap();
                    st.logs
                        .get(&lkey)
                        .or_else(|| st.logs.get(&(ns.clone(), pod.to_string(), String::new())))
                        .cloned()
                        .unwrap_or_default()
                };
                if let Some(n) = qget("tailLines").and_then(|t| t.parse::<usize>().ok()) {
                    let skip = lines.len().saturating_sub(n);
                    lines.drain(..skip);
                }
                if qget("follow").as_deref() != Some("true") {
                    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                        text.len()
                    );
                    sock.write_all(head.as_bytes()).await?;
                    sock.write_all(text.as_bytes()).await?;
                    continue;
                }
                let (tx, mut rx) = mpsc::unbounded_channel();
                state.lock().unwrap().log_followers.push((lkey, tx));
                let _count = Counter::new(&open_logs);
                let (mut rd, mut wr) = sock.into_split();
                wr.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n").await?;
                for l in lines {
                    let line = format!("{l}\n");
                    wr.write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes())
                        .await?;
                }
                wr.flush().await?;
                let mut scratch = [0u8; 64];
                loop {
                    tokio::select! {
                        n = rd.read(&mut scratch) => if matches!(n, Ok(0) | Err(_)) { return Ok(()) },
                        l = rx.recv() => {
                            let Some(l) = l else { return Ok(()) };
                            let line = format!("{l}\n");
                            if wr.write_all(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes()).await.is_err() { return Ok(()) }
                            let _ = wr.flush().await;
                        }
                    }
                }
            }
            (_, Some(pod), Some("exec")) => {
                let request = ExecRequest {
                    namespace: namespace.clone().unwrap_or_default(),
                    pod: pod.to_string(),
                    container: qget("container"),
                    command: q
                        .iter()
                        .filter(|(k, _)| k == "command")
                        .map(|(_, v)| v.clone())
                        .collect(),
                };
                let handler = state.lock().unwrap().exec.clone();
                let exists = state.lock().unwrap().objects.contains_key(&key(pod));
                if !exists {
                    respond(
                        &mut sock,
                        404,
                        &status(404, "NotFound", &format!("pods \"{pod}\" not found")),
                    )
                    .await?;
                    continue;
                }
                let ws_key = req
                    .headers
                    .get("sec-websocket-key")
                    .cloned()
                    .unwrap_or_default();
                let accept =
                    tokio_tungstenite::tungstenite::handshake::derive_accept_key(ws_key.as_bytes());
                let head = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n"
                );
                sock.write_all(head.as_bytes()).await?;
                let _count = Counter::new(&open_exec);
                let ws = WebSocketStream::from_raw_socket(sock, Role::Server, None).await;
                let reply = handler.map(|h| h(&request)).unwrap_or_default();
                play_exec(ws, reply).await;
                return Ok(());
            }
            _ => {
                respond(
                    &mut sock,
                    405,
                    &status(405, "MethodNotAllowed", "not supported by the test double"),
                )
                .await?;
            }
        }
    }
}

async fn play_exec(ws: WebSocketStream<TcpStream>, reply: ExecReply) {
    let (mut tx, mut rx) = ws.split();
    let frame = |ch: u8, text: &str| {
        let mut v = vec![ch];
        v.extend_from_slice(text.as_bytes());
        Message::binary(v)
    };
    let play = async {
        for (delay, line) in &reply.stdout {
            if !delay.is_zero() {
                tokio::time::sleep(*delay).await;
            }
            tx.send(frame(1, &format!("{line}\n"))).await.ok()?;
        }
        for line in &reply.stderr {
            tx.send(frame(2, &format!("{line}\n"))).await.ok()?;
        }
        if reply.keep_open {
            futures::future::pending::<()>().await;
        }
        let status = if reply.exit_code == 0 {
            json!({"metadata": {}, "status": "Success"})
        } else {
            json!({"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                "message": format!("command terminated with non-zero exit code: exit status {}", reply.exit_code),
                "details": {"causes": [{"reason": "ExitCode", "message": reply.exit_code.to_string()}]}})
        };
        tx.send(frame(3, &status.to_string())).await.ok()?;
        let _ = tx.close().await;
        Some(())
    };
    // The session ends when the play ends or the client goes away.
    let client_gone = async {
        while let Some(Ok(m)) = rx.next().await {
            if m.is_close() {
                break;
            }
        }
    };
    tokio::select! {
        _ = play => {}
        _ = client_gone => {}
    }
}

fn resource_list(defs: &[ResourceDef], group: &str, version: &str) -> Value {
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
        "resources": defs.iter().filter(|d| d.group == group && d.version == version).map(|d| json!({
            "name": d.plural, "singularName": d.kind.to_lowercase(), "namespaced": d.namespaced, "kind": d.kind,
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
            "shortNames": d.short,
        })).collect::<Vec<_>>()})
}
