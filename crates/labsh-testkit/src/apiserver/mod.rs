//! `TestApiServer`: a loopback **test double** of the Kubernetes API server.
//!
//! It is not Kubernetes: it stands in for a cluster's API server in tests, because no cluster can
//! run here. It speaks enough of the wire protocol for kube-rs 5 clients (`Api<K>`,
//! `Api<DynamicObject>`, `Discovery`, `watcher`/`await_condition`, `log_stream`, `exec`); the
//! self-tests in `tests/apiserver.rs` drive every part with kube-rs.
//!
//! - Discovery: `/api`, `/api/v1`, `/apis`, `/apis/{g}/{v}` (what labsh's `Catalog::discover`
//!   reads), with short names and verbs, for the fixed kinds of `resources.rs` (Cilium's
//!   CiliumEndpoint among them). No `/version`, `/apis/{g}`, aggregated discovery or CRDs: no
//!   user asks for them.
//! - Objects: the verbs labsh's primitives send: get, list (label and field selectors, across
//!   namespaces), server-side apply (PATCH `application/apply-patch+yaml` with the JSON body
//!   kube-rs sends, `fieldManager` required: creates, or merges into the stored object), delete (at once: no finalizers);
//!   errors are `metav1.Status` (404 `NotFound`, 400 `BadRequest`, 405, 415). Every write bumps
//!   resourceVersion, and `generation` when anything but metadata and status changed. Not
//!   served, as no user sends them: POST create, PUT replace, merge patches, deletecollection,
//!   the `status` subresource (tests change a status with [`TestApiServer::update`]).
//! - Watch: `watch=true|1`, from a resourceVersion (replaying the events since), with
//!   `timeoutSeconds`; events reach open watches as they happen. No `sendInitialEvents` streaming
//!   lists and no `410 Expired`: kube-rs's default watcher, labsh's, needs neither.
//! - Pod logs: `tailLines`, `sinceSeconds`, `limitBytes`, `container`, `follow` (kept open until
//!   the client leaves; counted by [`TestApiServer::open_log_streams`]), the parameters labsh
//!   sends; lines come from [`TestApiServer::set_logs`] and [`TestApiServer::push_log`].
//! - Exec over WebSocket (`v5.channel.k8s.io`, what kube-rs 5 offers first): channel 1 stdout,
//!   2 stderr, 3 the exit Status; answered by [`TestApiServer::on_exec`], counted by
//!   [`TestApiServer::open_exec_sessions`]; labsh's kill-script execs are recorded
//!   ([`TestApiServer::kills`]).
//!
//! Applies get the allocations a real server makes (`defaults.rs`): a Service's cluster IP (from
//! 10.96.0.11), port targetPort, and node ports (from 30000) for NodePort and LoadBalancer
//! services.
//!
//! At start the store holds the namespaces `default`, `kube-system`, `kube-public` and
//! `kube-node-lease`.
//!
//! What it does not do: no controllers (nothing creates pods for a Deployment or moves a status:
//! tests do that with [`TestApiServer::update`]), no admission or schema validation, no
//! authentication, no field ownership (apply is a recursive JSON merge, see `merge.rs`), no
//! pagination (`limit` is ignored: lists are whole). Applying into a namespace needs it to
//! exist; [`TestApiServer::insert`] does not check.
//!
//! A test reaches it as `crate::support::apiserver` (a bench as `labsh_testkit::apiserver`),
//! then `let server = TestApiServer::start().await; server.write_kubeconfig(&path, "kind-lab");`.
//!
//! It runs on its own thread and tokio runtime, so a test may block its own thread (for instance
//! waiting for a `labsh` child process) while the server answers:
//!
//! ```ignore
//! let server = TestApiServer::start_blocking();
//! let dir = tempfile::tempdir().unwrap();
//! let kubeconfig = dir.path().join("kubeconfig");
//! server.write_kubeconfig(&kubeconfig, "kind-lab");
//! server.on_exec(|req| ExecReply::lines(&["Listening for events on 2 CPUs"], 0));
//! let out = std::process::Command::new(env!("CARGO_BIN_EXE_labsh"))
//!     .env("KUBECONFIG", &kubeconfig)
//!     .args(["run", "script.rhai"])
//!     .output()
//!     .unwrap();
//! assert!(server.requests().iter().any(|r| r.path.ends_with("/exec")));
//! ```
#![allow(dead_code)]

mod defaults;
mod discovery;
mod exec;
mod logs;
mod merge;
mod objects;
mod query;
mod reply;
mod resources;
mod router;
pub mod selectors;
mod store;
mod watch;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use super::session;
use tokio_util::sync::CancellationToken;

pub use exec::{ExecReply, ExecRequest};

use store::{ObjKey, Store};

/// One request the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The raw (still percent-encoded) query string, `""` when there is none.
    pub query: String,
}

/// State shared by the server's tasks and the test's handle.
struct Shared {
    store: Mutex<Store>,
    logs: Mutex<logs::Logs>,
    exec_handler: Mutex<Option<Arc<exec::Handler>>>,
    /// The argv of every exec labsh asked to kill (its kill script's exec, see exec.rs).
    kills: Mutex<Vec<Vec<String>>>,
    requests: Mutex<Vec<RequestRecord>>,
    open_log_streams: Arc<AtomicUsize>,
    open_exec_sessions: Arc<AtomicUsize>,
    shutdown: CancellationToken,
    addr: SocketAddr,
}

/// Locks a mutex, ignoring poisoning (a panicking test thread must not take the server down).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running test API server on `127.0.0.1`; dropping it stops it and closes every connection.
pub struct TestApiServer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl TestApiServer {
    /// Starts a server on `127.0.0.1:<free port>` (plain HTTP).
    pub async fn start() -> TestApiServer {
        Self::start_blocking()
    }

    /// [`TestApiServer::start`] for tests without a runtime of their own.
    pub fn start_blocking() -> TestApiServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("test API server: cannot bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("test API server: cannot make the listener non-blocking");
        let addr = listener
            .local_addr()
            .expect("test API server: listener has no address");
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new()),
            logs: Mutex::new(logs::Logs::default()),
            exec_handler: Mutex::new(None),
            kills: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            open_log_streams: Arc::new(AtomicUsize::new(0)),
            open_exec_sessions: Arc::new(AtomicUsize::new(0)),
            shutdown: CancellationToken::new(),
            addr,
        });
        let server_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("test-apiserver".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("test API server: cannot build its tokio runtime");
                runtime.block_on(router::serve(listener, server_shared));
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .expect("test API server: cannot spawn its thread");
        TestApiServer {
            shared,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// A kubeconfig (YAML) with one cluster, user and context named `context`, current.
    pub fn kubeconfig_yaml(&self, context: &str) -> String {
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: {context}\n  cluster:\n    server: {url}\n\
             users:\n\
             - name: {context}\n  user:\n    token: test-api-server-token\n\
             contexts:\n\
             - name: {context}\n  context:\n    cluster: {context}\n    user: {context}\n\
             current-context: {context}\n",
            url = self.url()
        )
    }

    /// Writes [`TestApiServer::kubeconfig_yaml`] to `path`.
    pub fn write_kubeconfig(&self, path: &Path, context: &str) {
        std::fs::write(path, self.kubeconfig_yaml(context)).unwrap_or_else(|e| {
            panic!(
                "test API server: cannot write kubeconfig {}: {e}",
                path.display()
            )
        });
    }

    /// A labsh session whose `kube::` primitives talk to this server: writes a kubeconfig with
    /// context `context` to `path` and selects it in the session.
    pub fn labsh_session(&self, path: &Path, context: &str) -> labsh::Session {
        self.write_kubeconfig(path, context);
        session::labsh_session(path, context)
    }

    /// Creates or replaces an object of any kind the server serves. Sets what a real server
    /// sets (uid, resourceVersion, generation, creationTimestamp if absent, namespace `default`
    /// for namespaced kinds) and notifies watches (ADDED or MODIFIED). Panics on an unknown kind
    /// or a missing name: that is a mistake in the test.
    pub fn insert(&self, obj: Value) {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let name = store::name_of(&obj).to_string();
        assert!(
            !name.is_empty(),
            "TestApiServer::insert: object has no metadata.name: {obj}"
        );
        let mut store = lock(&self.shared.store);
        let rt = resources::type_of(&api_version, &kind).unwrap_or_else(|| {
            panic!("TestApiServer::insert: the server does not serve apiVersion {api_version:?} kind {kind:?}")
        });
        let key = ObjKey::new(&rt, obj["metadata"]["namespace"].as_str(), &name);
        if store.get(&key).is_some() {
            store.replace(&key, obj);
        } else {
            store.create(&rt, obj);
        }
    }

    /// Changes a stored object in place (for instance its status), bumps its resourceVersion and
    /// notifies watches (MODIFIED). Panics when the object does not exist.
    pub fn update(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        f: impl FnOnce(&mut Value),
    ) {
        let (key, mut obj) = {
            let store = lock(&self.shared.store);
            let key = self.key(api_version, kind, namespace, name);
            let obj = store
                .get(&key)
                .cloned()
                .unwrap_or_else(|| panic!("TestApiServer::update: no {kind} {namespace:?}/{name}"));
            (key, obj)
        };
        f(&mut obj);
        lock(&self.shared.store).replace(&key, obj);
    }

    /// The stored object, if any.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let store = lock(&self.shared.store);
        let key = self.key(api_version, kind, namespace, name);
        store.get(&key).cloned()
    }

    /// Sets the log lines a pod's container already has (`container` `None`: its first one),
    /// stamped now.
    pub fn set_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        lines: Vec<String>,
    ) {
        let key = logs::key(&lock(&self.shared.store), namespace, pod, container);
        lock(&self.shared.logs).set(key, lines);
    }

    /// Appends a log line; open `follow` streams receive it at once.
    pub fn push_log(&self, namespace: &str, pod: &str, container: Option<&str>, line: &str) {
        let key = logs::key(&lock(&self.shared.store), namespace, pod, container);
        lock(&self.shared.logs).push(key, line);
    }

    /// How exec requests are answered. Without a handler, every exec writes a message on stderr
    /// and exits with code 126.
    pub fn on_exec(&self, handler: impl Fn(&ExecRequest) -> ExecReply + Send + Sync + 'static) {
        *lock(&self.shared.exec_handler) = Some(Arc::new(handler));
    }

    /// The commands labsh's kill script was run for, in order (the processes an exec closed
    /// early left in the container).
    pub fn kills(&self) -> Vec<Vec<String>> {
        lock(&self.shared.kills).clone()
    }

    /// Exec WebSocket sessions currently open.
    pub fn open_exec_sessions(&self) -> usize {
        self.shared.open_exec_sessions.load(Ordering::SeqCst)
    }

    /// `follow=true` log streams currently open.
    pub fn open_log_streams(&self) -> usize {
        self.shared.open_log_streams.load(Ordering::SeqCst)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.requests).clone()
    }

    fn key(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjKey {
        let rt = resources::type_of(api_version, kind).unwrap_or_else(|| {
            panic!(
                "TestApiServer: the server does not serve apiVersion {api_version:?} kind {kind:?}"
            )
        });
        ObjKey::new(&rt, namespace, name)
    }
}

impl Drop for TestApiServer {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            // The server thread only returns; a panic in it already failed the test output.
            let _ = thread.join();
        }
    }
}
