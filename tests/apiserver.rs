//! Self-tests of the test API server (`crates/labsh-testkit/src/apiserver`), a test double of the
//! Kubernetes API server: each test drives it with kube-rs directly, as labsh's primitives do,
//! to prove the double answers what kube-rs expects.

use std::time::Duration;

use crate::support::apiserver::selectors::{FieldSelector, LabelSelector};
use crate::support::apiserver::{ExecReply, TestApiServer};
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    Api, AttachParams, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams,
    WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{Discovery, Scope};
use kube::runtime::wait::{await_condition, conditions};
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

/// A kube-rs client configured the way labsh's is: from a kubeconfig file.
async fn client(server: &TestApiServer) -> Client {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path, "test-double");
    let kubeconfig = Kubeconfig::read_from(&path).unwrap();
    assert_eq!(kubeconfig.current_context.as_deref(), Some("test-double"));
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    assert_eq!(config.cluster_url.to_string(), format!("{}/", server.url()));
    Client::try_from(config).unwrap()
}

fn pod(ns: &str, name: &str, node: &str, labels: Value, phase: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": { "nodeName": node, "containers": [{ "name": "main", "image": "nginx" }] },
        "status": { "phase": phase },
    })
}

fn deployment(replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": "frontend", "namespace": "default", "labels": { "app": "guestbook" } },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": "guestbook", "tier": "frontend" } },
            "template": {
                "metadata": { "labels": { "app": "guestbook", "tier": "frontend" } },
                "spec": { "containers": [{ "name": "php-redis", "image": "gb-frontend:v5" }] },
            },
        },
    })
}

fn api_status(err: kube::Error) -> (u16, String) {
    match err {
        kube::Error::Api(s) => (s.code, s.reason),
        other => panic!("expected an API error Status, got {other:?}"),
    }
}

/// Waits for a counter of the server to reach `want` (the server notices a closed connection
/// asynchronously).
async fn eventually(want: usize, read: impl Fn() -> usize) -> usize {
    for _ in 0..200 {
        if read() == want {
            return want;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    read()
}

#[tokio::test]
async fn discovery_lists_builtin_kinds_with_scope() {
    let server = TestApiServer::start().await;
    let client = client(&server).await;
    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let cases = [
        ("", "v1", "Pod", "pods", Scope::Namespaced),
        ("", "v1", "Service", "services", Scope::Namespaced),
        ("", "v1", "Node", "nodes", Scope::Cluster),
        ("", "v1", "Namespace", "namespaces", Scope::Cluster),
        ("apps", "v1", "Deployment", "deployments", Scope::Namespaced),
        ("apps", "v1", "DaemonSet", "daemonsets", Scope::Namespaced),
        (
            "cilium.io",
            "v2",
            "CiliumEndpoint",
            "ciliumendpoints",
            Scope::Namespaced,
        ),
    ];
    for (group, version, kind, plural, scope) in cases {
        let (ar, caps) = discovery
            .resolve_gvk(&GroupVersionKind::gvk(group, version, kind))
            .unwrap_or_else(|| panic!("{kind} not discovered"));
        assert_eq!(ar.plural, plural);
        assert_eq!(caps.scope, scope, "{kind}");
        assert!(caps.supports_operation("watch"), "{kind}");
    }
    let (_, pod_caps) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "Pod"))
        .unwrap();
    let subresources: Vec<&str> = pod_caps
        .subresources
        .iter()
        .map(|(ar, _)| ar.plural.as_str())
        .collect();
    assert_eq!(subresources, ["log", "exec"]);
}

#[tokio::test]
async fn discovery_documents_carry_short_names() {
    let server = TestApiServer::start().await;
    let client = client(&server).await;
    let short = |list: &k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList,
                 name: &str| {
        list.resources
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.short_names.clone())
            .unwrap_or_default()
    };
    let core = client.list_core_api_resources("v1").await.unwrap();
    for (name, want) in [
        ("pods", "po"),
        ("services", "svc"),
        ("nodes", "no"),
        ("namespaces", "ns"),
        ("configmaps", "cm"),
        ("endpoints", "ep"),
        ("serviceaccounts", "sa"),
    ] {
        assert_eq!(short(&core, name), [want], "{name}");
    }
    let apps = client.list_api_group_resources("apps/v1").await.unwrap();
    for (name, want) in [
        ("deployments", "deploy"),
        ("daemonsets", "ds"),
        ("replicasets", "rs"),
        ("statefulsets", "sts"),
    ] {
        assert_eq!(short(&apps, name), [want], "{name}");
    }
    let cilium = client
        .list_api_group_resources("cilium.io/v2")
        .await
        .unwrap();
    assert_eq!(short(&cilium, "ciliumendpoints"), ["cep"]);
}

#[tokio::test]
async fn server_side_apply_creates_then_merges_into_the_object() {
    let server = TestApiServer::start().await;
    let client = client(&server).await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("apps", "v1", "Deployment"),
        "deployments",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
    let params = PatchParams::apply("labsh").force();
    let manifest: DynamicObject = serde_json::from_value(deployment(1)).unwrap();

    let created = api
        .patch("frontend", &params, &Patch::Apply(&manifest))
        .await
        .unwrap();
    let rv1 = created.resource_version().unwrap();
    assert!(created.uid().is_some());
    assert_eq!(created.metadata.generation, Some(1));
    let managers: Vec<_> = created
        .managed_fields()
        .iter()
        .map(|m| m.manager.clone())
        .collect();
    assert_eq!(managers, [Some("labsh".to_string())]);

    // A changed spec: merged in, resourceVersion and generation bumped.
    let scaled: DynamicObject = serde_json::from_value(deployment(3)).unwrap();
    let changed = api
        .patch("frontend", &params, &Patch::Apply(&scaled))
        .await
        .unwrap();
    assert_ne!(changed.resource_version().unwrap(), rv1);
    assert_eq!(changed.metadata.generation, Some(2));
    assert_eq!(changed.data["spec"]["replicas"], 3);
    assert_eq!(
        changed.data["spec"]["template"]["spec"]["containers"][0]["name"],
        "php-redis"
    );

    let stored = server
        .get("apps/v1", "Deployment", Some("default"), "frontend")
        .unwrap();
    assert_eq!(stored["spec"]["replicas"], 3);
    let applies: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(applies.len(), 2);
    assert_eq!(
        applies[0].path,
        "/apis/apps/v1/namespaces/default/deployments/frontend"
    );
    assert!(
        applies[0].query.contains("fieldManager=labsh"),
        "{}",
        applies[0].query
    );
    assert!(
        applies[0].query.contains("force=true"),
        "{}",
        applies[0].query
    );
}

#[tokio::test]
async fn apply_into_a_missing_namespace_or_with_a_wrong_kind_is_refused() {
    let server = TestApiServer::start().await;
    let client = client(&server).await;
    let params = PatchParams::apply("labsh").force();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "nowhere");
    let manifest: Deployment = serde_json::from_value(deployment(1)).unwrap();
    let mut manifest = manifest;
    manifest.metadata.namespace = None;
    let err = deployments
        .patch("frontend", &params, &Patch::Apply(&manifest))
        .await
        .unwrap_err();
    assert_eq!(api_status(err), (404, "NotFound".to_string()));

    let pods: Api<DynamicObject> = Api::namespaced_with(
        client,
        "default",
        &ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", "Pod"), "pods"),
    );
    let wrong: DynamicObject = serde_json::from_value(deployment(1)).unwrap();
    let err = pods
        .patch("frontend", &params, &Patch::Apply(&wrong))
        .await
        .unwrap_err();
    assert_eq!(api_status(err), (400, "BadRequest".to_string()));
}

#[tokio::test]
async fn delete_answers_with_the_object_and_watches_see_it_go() {
    let server = TestApiServer::start().await;
    server.insert(pod(
        "default",
        "web",
        "n1",
        json!({"app": "web"}),
        "Running",
    ));
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let uid = pods.get("web").await.unwrap().uid().unwrap();

    let deleted = pods
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    assert!(
        deleted.is_left(),
        "the server answers a delete with the object"
    );
    let gone = tokio::time::timeout(
        Duration::from_secs(10),
        await_condition(pods.clone(), "web", conditions::is_deleted(&uid)),
    )
    .await
    .expect("the deletion was seen");
    gone.unwrap();
    let err = pods.get("web").await.unwrap_err();
    assert_eq!(api_status(err), (404, "NotFound".to_string()));
    assert!(server.get("v1", "Pod", Some("default"), "web").is_none());
    let err = pods
        .delete("web", &DeleteParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_status(err), (404, "NotFound".to_string()));
}

#[tokio::test]
async fn get_and_list_honour_label_and_field_selectors() {
    let server = TestApiServer::start().await;
    server.insert(pod(
        "default",
        "web-1",
        "n1",
        json!({"app": "web", "tier": "front"}),
        "Running",
    ));
    server.insert(pod(
        "default",
        "web-2",
        "n2",
        json!({"app": "web"}),
        "Pending",
    ));
    server.insert(pod(
        "kube-system",
        "cilium-a",
        "n1",
        json!({"k8s-app": "cilium"}),
        "Running",
    ));
    let client = client(&server).await;

    let names = |pods: Vec<Pod>| pods.iter().map(|p| p.name_any()).collect::<Vec<_>>();
    let all: Api<Pod> = Api::all(client.clone());
    let default: Api<Pod> = Api::namespaced(client.clone(), "default");
    let cases: [(&Api<Pod>, ListParams, &[&str]); 6] = [
        (&all, ListParams::default(), &["web-1", "web-2", "cilium-a"]),
        (&default, ListParams::default(), &["web-1", "web-2"]),
        (
            &default,
            ListParams::default().labels("app=web,tier=front"),
            &["web-1"],
        ),
        (
            &all,
            ListParams::default().labels("k8s-app=cilium"),
            &["cilium-a"],
        ),
        (
            &all,
            ListParams::default().fields("spec.nodeName=n1"),
            &["web-1", "cilium-a"],
        ),
        (
            &all,
            ListParams::default().fields("metadata.name=web-2,metadata.namespace=default"),
            &["web-2"],
        ),
    ];
    for (api, params, want) in cases {
        let got = names(api.list(&params).await.unwrap().items);
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want_sorted.sort();
        assert_eq!(
            got_sorted, want_sorted,
            "{:?} {:?}",
            params.label_selector, params.field_selector
        );
    }

    let got = default.get("web-1").await.unwrap();
    assert_eq!(got.spec.unwrap().node_name.as_deref(), Some("n1"));
    let err = default.get("absent").await.unwrap_err();
    assert_eq!(api_status(err), (404, "NotFound".to_string()));
    let err = all
        .list(&ListParams::default().fields("spec.image=x"))
        .await
        .unwrap_err();
    assert_eq!(api_status(err), (400, "BadRequest".to_string()));
}

#[tokio::test]
async fn await_condition_returns_once_the_status_flips() {
    let server = TestApiServer::start().await;
    server.insert(pod("default", "web", "n1", json!({}), "Pending"));
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");

    let wait = tokio::spawn(async move {
        tokio::time::timeout(
            Duration::from_secs(10),
            await_condition(pods, "web", conditions::is_pod_running()),
        )
        .await
    });
    // Let the watcher list and start watching before the change.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !wait.is_finished(),
        "the pod is Pending: the wait must not end yet"
    );
    server.update("v1", "Pod", Some("default"), "web", |p| {
        p["status"]["phase"] = json!("Running")
    });
    let seen = wait
        .await
        .unwrap()
        .expect("await_condition saw the update")
        .unwrap();
    assert_eq!(
        seen.unwrap().status.unwrap().phase.as_deref(),
        Some("Running")
    );
}

#[tokio::test]
async fn watch_from_a_resource_version_replays_later_events() {
    let server = TestApiServer::start().await;
    server.insert(pod(
        "default",
        "web",
        "n1",
        json!({"app": "web"}),
        "Pending",
    ));
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let rv = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();

    server.update("v1", "Pod", Some("default"), "web", |p| {
        p["status"]["phase"] = json!("Running")
    });
    server.insert(pod("default", "db", "n1", json!({"app": "db"}), "Running"));
    let stream = pods
        .watch(&WatchParams::default().labels("app=web").timeout(5), &rv)
        .await
        .unwrap();
    let mut stream = stream.boxed();
    pods.delete("web", &DeleteParams::default()).await.unwrap();

    let mut seen = Vec::new();
    while let Some(ev) = stream.try_next().await.unwrap() {
        match ev {
            WatchEvent::Modified(p) => seen.push(format!("MODIFIED {}", p.name_any())),
            WatchEvent::Deleted(p) => {
                seen.push(format!("DELETED {}", p.name_any()));
                break;
            }
            other => seen.push(format!("{other:?}")),
        }
    }
    assert_eq!(seen, ["MODIFIED web", "DELETED web"]);
}

#[test]
fn serves_while_the_test_thread_blocks() {
    use std::io::{Read, Write};
    let server = TestApiServer::start_blocking();
    let addr = server.url().trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.write_all(b"GET /api HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"APIVersions\""), "{response}");
}

#[tokio::test]
async fn logs_tail_since_limit_and_container() {
    let server = TestApiServer::start().await;
    server.insert(pod("default", "web", "n1", json!({}), "Running"));
    server.set_logs(
        "default",
        "web",
        None,
        vec!["line 1".into(), "line 2".into(), "line 3".into()],
    );
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");

    let all = pods.logs("web", &LogParams::default()).await.unwrap();
    assert_eq!(all, "line 1\nline 2\nline 3\n");
    let tail = pods
        .logs(
            "web",
            &LogParams {
                tail_lines: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(tail, "line 3\n");
    // Lines are stamped when set: all are within the last 30 seconds.
    let since = pods
        .logs(
            "web",
            &LogParams {
                since_seconds: Some(30),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(since, all);
    let limited = pods
        .logs(
            "web",
            &LogParams {
                limit_bytes: Some(10),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(limited, "line 1\nlin");
    // The first container may be named explicitly.
    let named = pods
        .logs(
            "web",
            &LogParams {
                container: Some("main".into()),
                tail_lines: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(named, "line 2\nline 3\n");

    let err = pods
        .logs(
            "web",
            &LogParams {
                container: Some("sidecar".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(api_status(err), (400, "BadRequest".to_string()));
    let err = pods
        .logs("absent", &LogParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_status(err), (404, "NotFound".to_string()));
}

#[tokio::test]
async fn log_follow_streams_pushed_lines_and_notices_the_client_leaving() {
    let server = TestApiServer::start().await;
    server.insert(pod("default", "web", "n1", json!({}), "Running"));
    server.set_logs("default", "web", None, vec!["before".into()]);
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");

    let stream = pods
        .log_stream(
            "web",
            &LogParams {
                follow: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut lines = stream.lines();
    assert_eq!(lines.next().await.unwrap().unwrap(), "before");
    assert_eq!(server.open_log_streams(), 1);
    server.push_log("default", "web", None, "pushed");
    let next = tokio::time::timeout(Duration::from_secs(5), lines.next())
        .await
        .unwrap();
    assert_eq!(next.unwrap().unwrap(), "pushed");

    drop(lines);
    assert_eq!(eventually(0, || server.open_log_streams()).await, 0);
}

#[tokio::test]
async fn exec_returns_stdout_stderr_and_the_exit_code() {
    let server = TestApiServer::start().await;
    server.insert(pod("kube-system", "cilium-a", "n1", json!({}), "Running"));
    server.on_exec(|req| {
        if req.command == ["cilium", "version"] {
            ExecReply::lines(&["Client: 1.16.0", "Daemon: 1.16.0"], 0)
        } else {
            ExecReply::lines(&["partial"], 3).with_stderr("boom\n")
        }
    });
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "kube-system");
    let params = AttachParams::default().container("main");

    let mut ok = pods
        .exec("cilium-a", ["cilium", "version"], &params)
        .await
        .unwrap();
    let mut stdout = String::new();
    ok.stdout()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    let status = ok.take_status().unwrap().await.unwrap();
    assert_eq!(stdout, "Client: 1.16.0\nDaemon: 1.16.0\n");
    assert_eq!(status.status.as_deref(), Some("Success"));

    let mut failed = pods
        .exec("cilium-a", ["false"], &AttachParams::default())
        .await
        .unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    failed
        .stdout()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    failed
        .stderr()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    let status = failed.take_status().unwrap().await.unwrap();
    assert_eq!((out.as_str(), err.as_str()), ("partial\n", "boom\n"));
    assert_eq!(status.status.as_deref(), Some("Failure"));
    let cause = &status.details.unwrap().causes.unwrap()[0];
    assert_eq!(
        (cause.reason.as_deref(), cause.message.as_deref()),
        (Some("ExitCode"), Some("3"))
    );
    assert_eq!(eventually(0, || server.open_exec_sessions()).await, 0);

    let exec_requests: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/exec"))
        .collect();
    assert_eq!(
        exec_requests[0].path,
        "/api/v1/namespaces/kube-system/pods/cilium-a/exec"
    );
    assert!(
        exec_requests[0]
            .query
            .contains("command=cilium&command=version"),
        "{}",
        exec_requests[0].query
    );
}

#[tokio::test]
async fn exec_refuses_an_absent_pod_or_an_unknown_container() {
    let server = TestApiServer::start().await;
    server.insert(pod("default", "web", "n1", json!({}), "Running"));
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let err = pods
        .exec("absent", ["ls"], &AttachParams::default())
        .await
        .err()
        .expect("refused");
    assert_eq!(api_status(err), (404, "NotFound".to_string()));
    let err = pods
        .exec("web", ["ls"], &AttachParams::default().container("nope"))
        .await
        .err()
        .expect("refused");
    assert_eq!(api_status(err), (400, "BadRequest".to_string()));
}

#[tokio::test]
async fn a_kept_open_exec_counts_until_the_client_drops_it() {
    let server = TestApiServer::start().await;
    server.insert(pod("kube-system", "cilium-a", "n1", json!({}), "Running"));
    server.on_exec(|_| ExecReply::stream(&["event 1", "event 2"], Duration::from_millis(5)));
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client, "kube-system");

    let mut monitor = pods
        .exec("cilium-a", ["cilium", "monitor"], &AttachParams::default())
        .await
        .unwrap();
    let mut lines = tokio::io::BufReader::new(monitor.stdout().unwrap());
    let mut first = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut first)
        .await
        .unwrap();
    assert_eq!(first, "event 1\n");
    let mut second = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut second)
        .await
        .unwrap();
    assert_eq!(second, "event 2\n");
    assert_eq!(server.open_exec_sessions(), 1);

    // Still open a while later: the session waits for the client.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.open_exec_sessions(), 1);
    monitor.abort();
    drop(monitor);
    assert_eq!(eventually(0, || server.open_exec_sessions()).await, 0);
}

#[tokio::test]
async fn odd_requests_get_status_errors() {
    let server = TestApiServer::start().await;
    let client = client(&server).await;
    let request = |method: &str, uri: &str, content_type: &str, body: &str| {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", content_type)
            .body(body.as_bytes().to_vec())
            .unwrap()
    };
    let (json, merge, apply) = (
        "application/json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
    );
    let pod_x = "/api/v1/namespaces/default/pods/x";
    let cases = [
        ("GET", "/apis/nope.example.com/v1/things", json, "", 404),
        ("GET", "/api/v1/namespaces/default/widgets", json, "", 404),
        ("GET", "/api/v1/namespaces/default/nodes", json, "", 404),
        ("GET", "/some/where", json, "", 404),
        ("DELETE", "/api", json, "", 405),
        ("GET", "/version", json, "", 404),
        ("GET", "/apis/apps", json, "", 404),
        ("POST", "/api/v1/namespaces/default/pods", json, "{}", 405),
        ("PUT", pod_x, json, "{}", 405),
        (
            "PATCH",
            &format!("{pod_x}?fieldManager=labsh"),
            apply,
            "[1, 2]",
            400,
        ),
        (
            "GET",
            "/api/v1/pods?labelSelector=a%20in%20(b",
            json,
            "",
            400,
        ),
        (
            "GET",
            "/api/v1/pods?watch=true&resourceVersion=abc",
            json,
            "",
            400,
        ),
        ("PATCH", pod_x, merge, "{}", 415),
        (
            "PATCH",
            pod_x,
            apply,
            r#"{"apiVersion": "v1", "kind": "Pod"}"#,
            400,
        ),
        (
            "PATCH",
            &format!("{pod_x}?fieldManager=labsh"),
            apply,
            "kind: Pod",
            400,
        ),
        ("GET", &format!("{pod_x}/exec?command=ls"), json, "", 404),
        ("GET", &format!("{pod_x}/proxy"), json, "", 404),
    ];
    for (method, uri, content_type, body, code) in cases {
        let err = client
            .request_text(request(method, uri, content_type, body))
            .await
            .unwrap_err();
        match err {
            kube::Error::Api(s) => {
                assert_eq!(s.code, code, "{method} {uri}: {s:?}");
                assert_eq!(
                    s.status,
                    Some(kube::core::response::StatusSummary::Failure),
                    "{method} {uri}"
                );
            }
            other => panic!("{method} {uri}: expected a Status, got {other:?}"),
        }
    }
}

#[test]
fn selectors_take_equality_terms_only() {
    let obj = json!({"metadata": {"name": "p", "labels": {"app": "web", "tier": "front"}},
        "spec": {"nodeName": "n1"}});
    for (sel, expected) in [
        ("app=web", true),
        ("app=web,tier=front", true),
        (" app = web ", true),
        ("app=db", false),
        ("missing=x", false),
        ("", true),
    ] {
        assert_eq!(
            LabelSelector::parse(sel).unwrap().matches(&obj),
            expected,
            "{sel}"
        );
    }
    for unsupported in ["app!=web", "app==web", "app in (web)", "tier", "!tier"] {
        assert!(LabelSelector::parse(unsupported).is_err(), "{unsupported}");
    }
    let sel = FieldSelector::parse("spec.nodeName=n1,metadata.name=p", "Pod").unwrap();
    assert!(sel.matches(&obj));
    assert!(
        !FieldSelector::parse("spec.nodeName=n2", "Pod")
            .unwrap()
            .matches(&obj)
    );
    assert!(FieldSelector::parse("spec.foo=1", "Pod").is_err());
    assert!(FieldSelector::parse("spec.nodeName=n1", "Service").is_err());
    assert!(FieldSelector::parse("metadata.name!=p", "Pod").is_err());
}

#[tokio::test]
async fn dropping_the_server_closes_its_streams_and_port() {
    let server = TestApiServer::start().await;
    server.insert(pod("default", "web", "n1", json!({}), "Running"));
    let url = server.url();
    let client = client(&server).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let stream = pods
        .log_stream(
            "web",
            &LogParams {
                follow: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut lines = stream.lines();

    drop(server);
    let end = tokio::time::timeout(Duration::from_secs(5), lines.next())
        .await
        .expect("the follow ended with the server");
    assert!(!matches!(end, Some(Ok(_))), "no more lines: {end:?}");
    let addr = url.trim_start_matches("http://");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "{addr} still accepts"
    );
}

#[tokio::test]
async fn applied_services_get_a_free_cluster_ip_and_node_ports() {
    use k8s_openapi::api::core::v1::Service;
    let server = TestApiServer::start().await;
    let client = client(&server).await;
    let services: Api<Service> = Api::namespaced(client, "default");
    let params = PatchParams::apply("labsh").force();
    let frontend: Service = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": "frontend", "labels": { "app": "guestbook", "tier": "frontend" } },
        "spec": {
            "type": "NodePort",
            "ports": [{ "port": 80 }],
            "selector": { "app": "guestbook", "tier": "frontend" },
        },
    }))
    .unwrap();

    let created = services
        .patch("frontend", &params, &Patch::Apply(&frontend))
        .await
        .unwrap();
    let spec = created.spec.clone().unwrap();
    let port = &spec.ports.as_ref().unwrap()[0];
    assert_eq!(spec.cluster_ip.as_deref(), Some("10.96.0.11"));
    assert_eq!(port.node_port, Some(30000));
    assert_eq!(
        port.target_port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(80))
    );

    let mut other = frontend.clone();
    other.metadata.name = Some("other".into());
    let other = services
        .patch("other", &params, &Patch::Apply(&other))
        .await
        .unwrap();
    let spec = other.spec.unwrap();
    assert_eq!(spec.cluster_ip.as_deref(), Some("10.96.0.12"));
    assert_eq!(spec.ports.unwrap()[0].node_port, Some(30001));
}
