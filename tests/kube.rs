//! The `kube::`, `logs::` (pod logs) and `monitor::` lookup primitives against the loopback
//! test API server (a test double of the Kubernetes API, `crates/labsh-testkit/src/apiserver`), run
//! in-process through `Workbench` with the context selected by an explicit kubeconfig path.
//!
//! The real API server is in `tests/k8s.rs`; what stays here is what a real server cannot be
//! made to produce or show: each test says which (Cilium's pods and CRDs, which the local
//! cluster does not run; counts of open WebSockets and log streams; pod states held or flipped
//! at chosen moments; exact log sizes; a server without `Table`; no server at all).

mod repl;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::apiserver::{ExecReply, TestApiServer};
use labsh::{Session, Workbench};
use rhai::Dynamic;
use serde_json::{Value, json};

const CONTEXT: &str = "kind-testlab";

/// A session pointed at a fresh test API server. Fields drop in order: the session first.
struct Lab {
    session: Session,
    server: Arc<TestApiServer>,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    rt: tokio::runtime::Runtime,
}

impl Lab {
    fn new() -> Lab {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = Arc::new(rt.block_on(TestApiServer::start()));
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let session = server.labsh_session(&kubeconfig, CONTEXT);
        Lab {
            session,
            server,
            dir,
            kubeconfig,
            rt,
        }
    }

    fn eval(&mut self, code: &str) -> Result<Dynamic, String> {
        self.session
            .eval("test.rhai", code)
            .map_err(|e| e.to_string())
    }

    fn ok(&mut self, code: &str) -> Dynamic {
        self.eval(code)
            .unwrap_or_else(|e| panic!("script failed: {e}\n--- script:\n{code}"))
    }

    fn err(&mut self, code: &str) -> String {
        match self.eval(code) {
            Ok(v) => panic!("expected an error, got {v:?}\n--- script:\n{code}"),
            Err(e) => e,
        }
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }

    /// Runs `f` on the server after `delay`, from a task of the server's runtime.
    fn later(&self, delay: Duration, f: impl FnOnce(&TestApiServer) + Send + 'static) {
        let server = self.server.clone();
        self.rt.spawn(async move {
            tokio::time::sleep(delay).await;
            f(&server);
        });
    }

    /// Polls `cond` for up to 3 s (the server notices closed connections asynchronously).
    fn eventually(&self, what: &str, cond: impl Fn(&TestApiServer) -> bool) {
        let start = Instant::now();
        while !cond(&self.server) {
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "never happened: {what}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The handout's service as the API server returns it (`80:32150/TCP`).
fn frontend_service() -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "frontend", "namespace": "default", "labels": {"app": "guestbook", "tier": "frontend"}},
        "spec": {"type": "NodePort", "clusterIP": "10.96.188.84",
            "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80, "nodePort": 32150}],
            "selector": {"app": "guestbook", "tier": "frontend"}}})
}

fn pod(ns: &str, name: &str, labels: Value, node: &str, ready: bool) -> Value {
    // The container is named as in the lab, so exec/logs with `container` pass the server's
    // validation (it answers 400 for a container the pod does not have, as a real one does).
    let container = if name.starts_with("cilium") {
        "cilium-agent"
    } else if name.starts_with("frontend") {
        "php-redis"
    } else {
        "main"
    };
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": container, "image": "x"}]},
        "status": {"phase": "Running", "podIP": "10.244.4.66",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"name": container, "ready": ready, "restartCount": 0,
                "state": if ready { json!({"running": {}}) } else { json!({"waiting": {"reason": "ContainerCreating"}}) }}]}})
}

fn frontend_deployment_and_pod(lab: &Lab) {
    lab.server.insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "frontend", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "guestbook", "tier": "frontend"}}}}));
    lab.server.insert(pod(
        "default",
        "frontend-6c6d6dfd4d-xg8lp",
        json!({"app": "guestbook", "tier": "frontend"}),
        "lab-worker",
        true,
    ));
}

// Double: fails before any request; no server is needed.
#[test]
fn apply_bad_yaml_names_file_line_and_column() {
    let mut lab = Lab::new();
    let path = lab.write(
        "frontend-svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: [frontend\n  labels: {}\n",
    );
    let err = lab.err(&format!("kube::apply({path:?})"));
    let re = regex::Regex::new(r"frontend-svc\.yaml:\d+:\d+: invalid YAML").unwrap();
    assert!(re.is_match(&err), "{err}");
    assert!(
        lab.server.requests().iter().all(|r| r.method != "PATCH"),
        "nothing applied"
    );
}

// Double: a server without server-side printing (no `Table`): a real 1.20 server always has it.
#[test]
fn table_without_a_server_table_falls_back_to_name_and_age() {
    let lab = Lab::new();
    lab.server.insert(frontend_service());
    let script = lab.write(
        "table.rhai",
        "kube::table(\"svc\");\nprint(kube::service(\"frontend\").node_port());\n",
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_labsh"))
        .args(["run", &script])
        .env("KUBECONFIG", &lab.kubeconfig)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // This double answers lists without a Table (a server without server-side printing,
    // which a real 1.20 server cannot be made into): labsh falls back to NAME and AGE.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "NAME       AGE", "{stdout}");
    assert!(lines[1].starts_with("frontend   "), "{stdout}");
    assert!(stdout.lines().any(|l| l == "32150"), "{stdout}");
}

// Double: the status flips at a chosen moment, to see the watch (not a poll) return.
#[test]
fn wait_ready_returns_when_the_server_flips_the_status() {
    let mut lab = Lab::new();
    lab.server.insert(pod(
        "kube-system",
        "cilium-a1",
        json!({"k8s-app": "cilium"}),
        "lab-worker",
        false,
    ));
    lab.later(Duration::from_millis(300), |s| {
        s.update("v1", "Pod", Some("kube-system"), "cilium-a1", |p| {
            *p = pod(
                "kube-system",
                "cilium-a1",
                json!({"k8s-app": "cilium"}),
                "lab-worker",
                true,
            )
            .as_object()
            .cloned()
            .map(|mut m| {
                m.insert("metadata".into(), p["metadata"].clone());
                Value::Object(m)
            })
            .unwrap();
        })
    });
    let start = Instant::now();
    let n = lab.ok(r#"kube::wait_ready("pods", #{namespace: "kube-system", selector: "k8s-app=cilium", timeout: "20s"}).len()"#);
    assert_eq!(n.as_int().unwrap(), 1);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "returned on the event, not the timeout"
    );
}

// Double: four pods held in chosen states at once, for the exact summary line (on the real
// tier the states race: tests/k8s.rs wait_ready_times_out_saying_what_it_last_saw).
#[test]
fn wait_ready_times_out_with_what_it_last_saw() {
    let mut lab = Lab::new();
    let cilium = json!({"k8s-app": "cilium"});
    lab.server.insert(pod(
        "kube-system",
        "cilium-a1",
        cilium.clone(),
        "lab-control-plane",
        true,
    ));
    lab.server.insert(pod(
        "kube-system",
        "cilium-b2",
        cilium.clone(),
        "lab-worker",
        true,
    ));
    let mut crash = pod(
        "kube-system",
        "cilium-x7k2p",
        cilium.clone(),
        "lab-worker2",
        false,
    );
    crash["status"]["containerStatuses"][0]["state"] =
        json!({"waiting": {"reason": "CrashLoopBackOff"}});
    lab.server.insert(crash);
    lab.server.insert(pod(
        "kube-system",
        "cilium-z9",
        cilium,
        "lab-worker3",
        false,
    ));
    let err = lab.err(r#"kube::wait_ready("pods", #{namespace: "kube-system", selector: "k8s-app=cilium", timeout: "500ms"})"#);
    assert!(
        err.contains("timed out after 500ms; last seen: 2/4 cilium pods Ready; cilium-x7k2p: CrashLoopBackOff; cilium-z9: ContainerCreating"),
        "{err}"
    );
}

// Double: a fixed discovery document (Cilium CRDs included).
#[test]
fn kinds_lists_what_discovery_found() {
    let mut lab = Lab::new();
    let v = lab.ok(r#"kube::kinds().filter(|k| k.short_names.contains("cep")).map(|k| [k.name, k.api_version, k.namespaced])"#);
    assert_eq!(
        format!("{v:?}"),
        r#"[["ciliumendpoints", "cilium.io/v2", true]]"#
    );
}

// Double: log lines of exact sizes (the byte counts in the messages are exact), and the
// `limitBytes` the server is asked for, which a real server does not report back.
#[test]
fn logs_beyond_the_sandbox_limits_keep_the_newest_lines_and_say_so() {
    let lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    let lines: Vec<String> = (1..=5)
        .map(|i| format!("line {i} {}", "x".repeat(20)))
        .collect();
    lab.server
        .set_logs("default", "frontend-6c6d6dfd4d-xg8lp", None, lines.clone());
    let run = |flags: &[&str], code: &str| {
        let script = lab.write("logs.rhai", code);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_labsh"))
            .args(flags)
            .args(["run", &script])
            .env("KUBECONFIG", &lab.kubeconfig)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run(
        &["--max-array-size", "3"],
        r#"print(logs::tail("frontend-6c6d6dfd4d-xg8lp", 5).map(|l| l.line));"#,
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, format!("{:?}\n", &lines[2..]));
    assert_eq!(
        stderr,
        "logs::tail: kept the newest 3 lines (183 bytes with their pod and container names); older lines were left out (the sandbox limit is 3 lines; raise it with --max-array-size N)\n"
    );
    // The string limit reaches the API server as `limitBytes`: it cuts the log there.
    // 60 bytes: two whole 27-byte lines and the start of the third, as `kubectl logs
    // --limit-bytes 60` shows them. Each line then weighs its pod's (25 bytes) and
    // container's (9) names too: only the last, 4 + 34 bytes, fits in the result.
    let (code, stdout, stderr) = run(
        &["--max-string-size", "60"],
        r#"for l in logs::since("frontend-6c6d6dfd4d-xg8lp", "1h") { print(l.line); }"#,
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "line\n");
    assert_eq!(
        stderr,
        "logs::since: the API server cut the log at the string limit: kept its start, later lines were left out (the sandbox limit is 60 bytes; raise it with --max-string-size N)\n\
         logs::since: kept the newest 1 lines (38 bytes with their pod and container names); older lines were left out (the sandbox limit is 60 bytes; raise it with --max-string-size N)\n"
    );
    let (code, _, stderr) = run(
        &["--max-array-size", "3"],
        r#"logs::follow("frontend-6c6d6dfd4d-xg8lp", #{keep: 10, timeout: "1s"});"#,
    );
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("logs::follow: option `keep` is 10, above the sandbox limit of 3 elements per array; lower it or raise the limit with --max-array-size N"),
        "{stderr}"
    );
}

// Double: counts open log streams (real: tests/k8s.rs follow_ends_on_until_and_when_the_pod_is_deleted).
#[test]
fn follow_ends_on_until_and_closes_the_stream() {
    let mut lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    lab.server.set_logs(
        "default",
        "frontend-6c6d6dfd4d-xg8lp",
        None,
        vec!["old line".into()],
    );
    // Once the follow is streaming (the double counts it), the pod logs three lines.
    let server = lab.server.clone();
    lab.rt.spawn(async move {
        let s = &server;
        while s.open_log_streams() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        s.push_log(
            "default",
            "frontend-6c6d6dfd4d-xg8lp",
            None,
            "127.0.0.1 - - \"OPTIONS * HTTP/1.0\" 200 126",
        );
        s.push_log(
            "default",
            "frontend-6c6d6dfd4d-xg8lp",
            None,
            "172.18.0.1 - - \"GET / HTTP/1.1\" 200 1172",
        );
        s.push_log(
            "default",
            "frontend-6c6d6dfd4d-xg8lp",
            None,
            "after the match",
        );
    });
    let v = lab.ok(r#"logs::follow("deployment/frontend", #{tail: 0, timeout: "20s", "until": |l| l.starts_with("172.18.0.1 ")}).map(|e| e.line)"#);
    assert_eq!(
        format!("{v:?}"),
        r#"["127.0.0.1 - - \"OPTIONS * HTTP/1.0\" 200 126", "172.18.0.1 - - \"GET / HTTP/1.1\" 200 1172"]"#
    );
    lab.eventually("the follow stream is closed", |s| s.open_log_streams() == 0);
}

// Double: counts open log streams, which a real server does not expose.
#[test]
fn follow_ends_on_timeout_with_the_lines_seen() {
    let mut lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    lab.server.set_logs(
        "default",
        "frontend-6c6d6dfd4d-xg8lp",
        None,
        vec!["a".into(), "b".into()],
    );
    let v = lab.ok(r#"logs::follow("frontend-6c6d6dfd4d-xg8lp", #{timeout: "400ms"})"#);
    assert_eq!(
        format!("{v:?}"),
        r#"[#{"container": "php-redis", "line": "a", "pod": "frontend-6c6d6dfd4d-xg8lp"}, #{"container": "php-redis", "line": "b", "pod": "frontend-6c6d6dfd4d-xg8lp"}]"#
    );
    lab.eventually("the follow stream is closed", |s| s.open_log_streams() == 0);
}

// Double: counts open exec WebSockets and records labsh's kill request (real: tests/k8s.rs).
#[test]
fn exec_stream_stops_when_the_callback_returns_false() {
    let mut lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    lab.server.on_exec(|_| ExecReply {
        stdout: (0..50)
            .map(|i| (Duration::from_millis(10), format!("line {i}\n")))
            .collect(),
        stderr: vec![],
        exit_code: 0,
        keep_open: true,
    });
    let v = lab.ok(r#"let seen = []; let r = kube::exec_stream("frontend-6c6d6dfd4d-xg8lp", ["cilium-dbg", "monitor"], |l| { seen.push(l); seen.len() < 3 }); [seen, r.stopped, r.code]"#);
    assert_eq!(
        format!("{v:?}"),
        r#"[["line 0", "line 1", "line 2"], true, ()]"#
    );
    // The command still ran in the container: labsh asked for it to be killed (with an exec
    // of its own, opened after the first one closed: wait for that one too).
    lab.eventually("the kill request", |s| !s.kills().is_empty());
    lab.eventually("the exec sessions are closed", |s| {
        s.open_exec_sessions() == 0
    });
    assert_eq!(lab.server.kills(), [["cilium-dbg", "monitor"]]);
}

// Double: counts open exec WebSockets.
#[test]
fn exec_timeout_is_a_result_and_closes_the_session() {
    let mut lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    lab.server.on_exec(|_| ExecReply {
        stdout: vec![],
        stderr: vec![],
        exit_code: 0,
        keep_open: true,
    });
    let r = lab.ok(
        r#"let r = kube::exec("frontend-6c6d6dfd4d-xg8lp", ["sleep", "100"], #{timeout: "300ms"});
           [r.timed_out, r.code, r.signal, r.error]"#,
    );
    assert_eq!(
        format!("{r:?}"),
        r#"[true, (), (), "`sleep 100` in pod default/frontend-6c6d6dfd4d-xg8lp timed out after 300ms (the exec was closed)"]"#
    );
    lab.eventually("the exec session is closed", |s| {
        s.open_exec_sessions() == 0
    });
}

// Double: counts open exec WebSockets.
#[test]
fn dropping_an_exec_stream_closes_the_websocket() {
    let lab = Lab::new();
    lab.server.insert(pod(
        "kube-system",
        "cilium-x7k2p",
        json!({"k8s-app": "cilium"}),
        "lab-worker",
        true,
    ));
    lab.server.on_exec(|_| ExecReply {
        stdout: vec![(
            Duration::ZERO,
            "Listening for events on 4 CPUs with 64x4096 of shared memory\n".into(),
        )],
        stderr: vec![],
        exit_code: 0,
        keep_open: true,
    });
    let ctx = lab.session.ctx().clone();
    let argv = vec!["cilium-dbg".to_string(), "monitor".to_string()];
    let mut stream = ctx
        .block_on(labsh::kube::exec::exec_lines(
            &ctx,
            "kube-system",
            "cilium-x7k2p",
            Some("cilium-agent"),
            &argv,
        ))
        .unwrap()
        .unwrap();
    let first = ctx.block_on(stream.lines.recv()).unwrap();
    assert_eq!(
        first,
        Some(labsh::kube::exec::ExecLine::Stdout(
            "Listening for events on 4 CPUs with 64x4096 of shared memory".into()
        ))
    );
    assert_eq!(lab.server.open_exec_sessions(), 1);
    drop(stream);
    lab.eventually("the exec session is closed", |s| {
        s.open_exec_sessions() == 0
    });
}

// Double: exit statuses as the v4/v5 channel protocols encode them.
#[test]
fn exec_lines_reports_the_exit_code() {
    let lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    lab.server.on_exec(|_| ExecReply {
        stdout: vec![(Duration::ZERO, "x\n".into())],
        stderr: vec![],
        exit_code: 7,
        keep_open: false,
    });
    let ctx = lab.session.ctx().clone();
    let stream = ctx
        .block_on(labsh::kube::exec::exec_lines(
            &ctx,
            "default",
            "frontend-6c6d6dfd4d-xg8lp",
            None,
            &["false".to_string()],
        ))
        .unwrap()
        .unwrap();
    assert_eq!(ctx.block_on(stream.exit_code()).unwrap(), Some(7));
}

// Double: Cilium agent pods and CiliumEndpoints (the local cluster runs no Cilium).
#[test]
fn agent_pod_and_endpoint_id_resolve() {
    let mut lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    lab.server.insert(pod(
        "kube-system",
        "cilium-a1",
        json!({"k8s-app": "cilium"}),
        "lab-worker",
        true,
    ));
    lab.server.insert(pod(
        "kube-system",
        "cilium-x7k2p",
        json!({"k8s-app": "cilium"}),
        "lab-worker2",
        true,
    ));
    lab.server.insert(json!({"apiVersion": "cilium.io/v2", "kind": "CiliumEndpoint",
        "metadata": {"name": "frontend-6c6d6dfd4d-xg8lp", "namespace": "default"},
        "status": {"id": 1890, "identity": {"id": 6623}, "networking": {"addressing": [{"ipv4": "10.244.4.66"}]}}}));
    assert_eq!(
        lab.ok(r#"monitor::agent_pod("lab-worker2").name"#)
            .into_string()
            .unwrap(),
        "cilium-x7k2p"
    );
    assert_eq!(
        lab.ok(r#"monitor::agent_pod(kube::pod("frontend-6c6d6dfd4d-xg8lp")).name"#)
            .into_string()
            .unwrap(),
        "cilium-a1"
    );
    assert_eq!(
        lab.ok(r#"monitor::endpoint_id("frontend-6c6d6dfd4d-xg8lp")"#)
            .as_int()
            .unwrap(),
        1890
    );
    assert_eq!(
        lab.ok(r#"monitor::endpoint_id(kube::pods(#{selector: "app=guestbook"})[0])"#)
            .as_int()
            .unwrap(),
        1890
    );
    let err = lab.err(r#"monitor::agent_pod("lab-worker3")"#);
    assert!(
        err.contains(
            "no Cilium agent pod on node `lab-worker3` (agents run on: lab-worker, lab-worker2)"
        ),
        "{err}"
    );
    let err = lab.err(r#"monitor::endpoint_id("redis-0")"#);
    assert!(
        err.contains("pod default/redis-0 has no CiliumEndpoint"),
        "{err}"
    );
}

// Double: discovery without Cilium's CRDs.
#[test]
fn agent_pod_without_cilium_says_it_is_not_installed() {
    let mut lab = Lab::new();
    let err = lab.err(r#"monitor::agent_pod("lab-worker")"#);
    assert!(
        err.contains("Cilium is not installed on context `kind-testlab`"),
        "{err}"
    );
}

// No server at all.
#[test]
fn unreachable_server_names_context_and_url() {
    let mut lab = Lab::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = lab.write(
        "dead.kubeconfig",
        &format!("apiVersion: v1\nkind: Config\ncurrent-context: dead-lab\nclusters:\n- name: dead\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: dead-lab\n  context:\n    cluster: dead\n    user: u\nusers:\n- name: u\n  user: {{}}\n"),
    );
    let err = lab.err(&format!(
        r#"kube::use_context("dead-lab", #{{kubeconfig: {path:?}}}); kube::get("svc", "frontend")"#
    ));
    assert!(
        err.contains(&format!("cannot reach the Kubernetes API server of context `dead-lab` at http://127.0.0.1:{port}")),
        "{err}"
    );
}

// No server at all.
#[test]
fn missing_kubeconfig_says_which_file() {
    let mut lab = Lab::new();
    let missing = lab.dir.path().join("absent.kubeconfig");
    let err = lab.err(&format!(
        r#"kube::use_context("kind-lab", #{{kubeconfig: {:?}}}); kube::context()"#,
        missing.display().to_string()
    ));
    assert!(
        err.contains(&format!("{} does not exist", missing.display())),
        "{err}"
    );
}

// No server at all.
#[test]
fn unknown_context_lists_the_known_ones() {
    let mut lab = Lab::new();
    let err = lab.err(r#"kube::use_context("kind-nope"); kube::table("pods")"#);
    assert!(
        err.contains("no context named `kind-nope`; known contexts: kind-testlab"),
        "{err}"
    );
}

// Double: counts open exec WebSockets (real: tests/k8s.rs ctrl_c_kills_the_process_in_the_container).
#[test]
fn ctrl_c_ends_an_exec_stream_and_closes_the_session() {
    let mut lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    lab.server.on_exec(|_| ExecReply {
        stdout: vec![(Duration::ZERO, "first\n".into())],
        stderr: vec![],
        exit_code: 0,
        keep_open: true,
    });
    let ctx = lab.session.ctx().clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        ctx.interrupt();
    });
    let err = lab.err(
        r#"kube::exec_stream("frontend-6c6d6dfd4d-xg8lp", ["cilium-dbg", "monitor"], |l| true)"#,
    );
    assert_eq!(err, "interrupted");
    lab.eventually("the exec session is closed", |s| {
        s.open_exec_sessions() == 0
    });
}

// Double: counts open log streams (real: tests/k8s.rs ctrl_c_ends_a_follow).
#[test]
fn ctrl_c_ends_a_follow_and_closes_the_stream() {
    let mut lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    let ctx = lab.session.ctx().clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        ctx.interrupt();
    });
    let err = lab.err(r#"logs::follow("frontend-6c6d6dfd4d-xg8lp")"#);
    assert_eq!(err, "interrupted");
    lab.eventually("the follow stream is closed", |s| s.open_log_streams() == 0);
}

/// Opt-in: the same primitives against a real cluster (the kubeconfig's current context).
#[test]
#[ignore = "needs a kind cluster"]
fn e2e_primitives_against_the_current_context() {
    let mut session = Workbench::new()
        .with_primitives(labsh::primitives::all())
        .build()
        .unwrap();
    let script = r#"
        let ctx = kube::context();
        print(`context ${ctx.name} at ${ctx.server}`);
        kube::wait_ready("nodes", #{timeout: "5m"});
        kube::table("nodes", #{wide: true});
        kube::apply("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: labsh-e2e\ndata:\n  a: b\n");
        if kube::get("cm", "labsh-e2e").data.a != "b" { throw "configmap not applied"; }
        let pods = kube::pods(#{namespace: "kube-system"});
        if pods.len() == 0 { throw "no pods in kube-system"; }
        let p = pods.filter(|p| p.phase == "Running")[0];
        print(logs::tail(p, 3, #{container: p.containers[0].name}));
        kube::delete("cm", "labsh-e2e", #{wait: "1m"});
        let cilium = kube::pods(#{namespace: "kube-system", selector: "k8s-app=cilium"});
        if cilium.len() > 0 {
            let agent = monitor::agent_pod(cilium[0].node);
            let r = kube::exec(agent, ["sh", "-c", "echo ok"], #{container: "cilium-agent", timeout: "20s"});
            if r.code != 0 || r.stdout != "ok\n" { throw `exec in ${agent.name}: ${r}`; }
            kube::wait_ready("daemonsets", #{namespace: "kube-system", selector: "k8s-app=cilium", timeout: "5m"});
        } else {
            print("no Cilium agents: exec and agent lookups skipped");
        }
    "#;
    let _ = session
        .eval("e2e.rhai", script)
        .unwrap_or_else(|e| panic!("{e}"));
}
