//! The `kube::`, `logs::` and exec primitives against a real Kubernetes 1.20.2: API server,
//! controller-manager, scheduler, etcd, and two nodes (containerd, kubelet, kube-proxy each)
//! built from Debian's source and started by `tests/k8s/cluster.sh` (see
//! `crates/labsh-testkit/src/k8s.rs`); the nodes' routing (`k8s/nodes.rs`) and the source-IP lab end to
//! end (`k8s/source_ip.rs`).
//! Each test works in a namespace of its own on the one shared cluster. kubectl 1.20 from
//! Debian's `kubernetes-client` is the oracle for tables.
//!
//! Skipped with the reason when the cluster cannot run here; CI sets `LABSH_REQUIRE_K8S=1`.

mod any_cluster;
mod authoring;
mod node_agent;
mod nodes;
mod source_ip;
mod tp12_context;

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::support::k8s::{self, RealCluster};
use labsh::Session;
use rhai::Dynamic;

/// One test's view: a session on the cluster and a namespace of its own.
struct T {
    cluster: &'static RealCluster,
    session: Session,
    ns: String,
}

impl T {
    fn new(test: &str) -> Option<T> {
        let cluster = k8s::cluster(test)?;
        announce(cluster);
        let ns = cluster.namespace(test);
        Some(T {
            cluster,
            session: cluster.session(),
            ns,
        })
    }

    /// Evaluates `code` with `NS` bound to the test's namespace.
    fn eval(&mut self, code: &str) -> Result<Dynamic, String> {
        let code = format!("let NS = \"{}\";\n{code}", self.ns);
        self.session
            .eval("test.rhai", &code)
            .map_err(|e| e.to_string())
    }

    fn ok(&mut self, code: &str) -> Dynamic {
        self.eval(code)
            .unwrap_or_else(|e| panic!("script failed: {e}\n--- script:\n{code}"))
    }

    /// Runs `code` for its effect.
    fn run(&mut self, code: &str) {
        let _ = self.ok(code);
    }

    fn err(&mut self, code: &str) -> String {
        match self.eval(code) {
            Ok(v) => panic!("expected an error, got {v:?}\n--- script:\n{code}"),
            Err(e) => e,
        }
    }

    fn kubectl(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", self.ns.as_str()];
        all.extend_from_slice(args);
        self.cluster.kubectl_ok(&all)
    }

    fn file(&self, rel: &str) -> String {
        self.cluster.repo_file(rel).display().to_string()
    }

    /// The lab's frontend Deployment and Service, unmodified, applied by labsh; waits for the
    /// rollout.
    fn frontend(&mut self) {
        let dep = self.file("scripts/tp12/frontend-deployment.yaml");
        let svc = self.file("scripts/tp12/frontend-svc.yaml");
        self.run(&format!(
            r#"kube::apply(["{dep}", "{svc}"], #{{namespace: NS}});
               kube::wait_rollout("deployment/frontend", #{{namespace: NS, timeout: "2m"}});"#
        ));
    }

    /// `http://NODE:NODEPORT/PATH` of the frontend Service.
    fn frontend_url(&mut self, path: &str) -> String {
        let np = self
            .ok(r#"kube::service("frontend", #{namespace: NS}).node_port()"#)
            .as_int()
            .unwrap();
        format!("http://{}:{np}{path}", self.cluster.node_ip)
    }

    fn frontend_pod(&mut self) -> String {
        self.ok(r#"kube::pods(#{namespace: NS, selector: "tier=frontend"})[0].name"#)
            .into_string()
            .unwrap()
    }
}

/// Writes the server's version once per run, past the test harness's capture, so that CI's
/// log shows which Kubernetes the tier ran against.
fn announce(cluster: &RealCluster) {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let (_, out, _) = cluster.kubectl(&["version", "-o", "json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let version = v["serverVersion"]["gitVersion"].as_str().unwrap_or("?");
        let nodes: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("{} at {}", n.name, n.ip))
            .collect();
        let _ = writeln!(
            std::io::stderr(),
            "real Kubernetes tier: server {version}, nodes {} ({})",
            nodes.join(", "),
            cluster.dir.display()
        );
    });
}

fn strings(v: Dynamic) -> Vec<String> {
    v.into_array()
        .unwrap()
        .into_iter()
        .map(|d| d.into_string().unwrap())
        .collect()
}

fn eventually(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_server_is_kubernetes_1_20_2() {
    let Some(t) = T::new("the_server_is_kubernetes_1_20_2") else {
        return;
    };
    let (_, out, _) = t.cluster.kubectl(&["version", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.20.2", "{out}");
}

#[test]
fn apply_creates_the_lab_manifests_unmodified_then_reapplies_without_change() {
    let Some(mut t) = T::new("apply_creates_then_reapplies") else {
        return;
    };
    let dep = t.file("scripts/tp12/frontend-deployment.yaml");
    let svc = t.file("scripts/tp12/frontend-svc.yaml");
    let refs = t.ok(&format!(
        r#"kube::apply(["{dep}", "{svc}"], #{{namespace: NS}}).map(|a| a.ref)"#
    ));
    assert_eq!(
        strings(refs),
        ["deployment.apps/frontend", "service/frontend"]
    );
    let rv = t.kubectl(&[
        "get",
        "svc",
        "frontend",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    t.run(&format!(r#"kube::apply("{svc}", #{{namespace: NS}})"#));
    let rv_again = t.kubectl(&[
        "get",
        "svc",
        "frontend",
        "-o",
        "jsonpath={.metadata.resourceVersion}",
    ]);
    assert_eq!(
        rv, rv_again,
        "a re-apply of the same manifest changed nothing"
    );
    let np = t.ok(r#"kube::service("frontend", #{namespace: NS}).node_port()"#);
    let np = np.as_int().unwrap();
    assert!((30000..=32767).contains(&np), "{np}");
}

#[test]
fn apply_takes_over_a_field_another_manager_set() {
    let Some(mut t) = T::new("apply_takes_over_a_field") else {
        return;
    };
    let manifest = |replicas: u32| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: gcr.io/google-samples/gb-frontend:v4\n"
        )
    };
    let path = std::env::temp_dir().join(format!("{}-web.yaml", t.ns));
    std::fs::write(&path, manifest(2)).unwrap();
    t.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager",
        "trainee",
        "-f",
        &path.display().to_string(),
    ]);
    // Without force the server would answer 409 Conflict on spec.replicas; labsh applies
    // with force, as `kubectl apply --server-side --force-conflicts`, and owns it after.
    let yaml = manifest(1).replace('\n', "\\n");
    t.run(&format!(r#"kube::apply("{yaml}", #{{namespace: NS}})"#));
    let _ = std::fs::remove_file(&path);
    let replicas = t.ok(r#"kube::get("deploy", "web", #{namespace: NS}).spec.replicas"#);
    assert_eq!(replicas.as_int().unwrap(), 1);
    let managers = t.kubectl(&[
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={range .metadata.managedFields[*]}{.manager}={.fieldsV1.f:spec.f:replicas}{\"\\n\"}{end}",
    ]);
    assert!(
        managers.contains("labsh={}"),
        "labsh owns spec.replicas:\n{managers}"
    );
    assert!(
        !managers.contains("trainee={}"),
        "trainee lost spec.replicas:\n{managers}"
    );
}

#[test]
fn apply_of_a_port_without_protocol_says_what_to_add() {
    let Some(mut t) = T::new("apply_port_without_protocol") else {
        return;
    };
    // The lab's frontend-svc.yaml as it was before it said `protocol: TCP`.
    let svc = "apiVersion: v1\\nkind: Service\\nmetadata:\\n  name: frontend\\nspec:\\n  type: NodePort\\n  ports:\\n  - port: 80\\n  selector:\\n    app: guestbook\\n";
    let err = t.err(&format!(r#"kube::apply("{svc}", #{{namespace: NS}})"#));
    assert!(
        err.contains("omits key field \"protocol\""),
        "the server's message is kept: {err}"
    );
    assert!(err.contains("explicit `protocol: TCP`"), "{err}");
    assert!(err.contains("HTTP 500"), "{err}");
    assert!(
        err.contains("test.rhai:2:"),
        "with the script position: {err}"
    );
}

#[test]
fn apply_of_an_invalid_object_shows_the_servers_message() {
    let Some(mut t) = T::new("apply_invalid_object") else {
        return;
    };
    let err = t.err(
        r#"kube::apply(#{apiVersion: "v1", kind: "Service",
              metadata: #{name: "bad"},
              spec: #{ports: [#{port: 99999, protocol: "TCP"}]}}, #{namespace: NS})"#,
    );
    assert!(
        err.contains("Service \"bad\" is invalid")
            && err.contains("spec.ports[0].port: Invalid value: 99999"),
        "{err}"
    );
    assert!(err.contains("HTTP 422"), "{err}");
}

#[test]
fn apply_a_crd_and_its_custom_resource_in_one_call() {
    let Some(mut t) = T::new("apply_crd_then_custom_resource") else {
        return;
    };
    // One file, two documents: the CRD, then a CiliumEndpoint that only exists once the
    // CRD is served (apply re-runs discovery in between).
    let crd =
        std::fs::read_to_string(t.file("tests/k8s/manifests/ciliumendpoints-crd.json")).unwrap();
    let cep = "apiVersion: cilium.io/v2\nkind: CiliumEndpoint\nmetadata:\n  name: frontend-abc\nstatus:\n  id: 1234\n  state: ready\n  identity: {id: 5678}\n  networking:\n    node: labsh-node\n    addressing: [{ipv4: 10.85.0.9}]\n";
    let path = std::env::temp_dir().join(format!("{}-cep.yaml", t.ns));
    std::fs::write(&path, format!("{crd}\n---\n{cep}")).unwrap();
    let refs = t.ok(&format!(
        r#"kube::apply("{}", #{{namespace: NS}}).map(|a| a.ref)"#,
        path.display()
    ));
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        strings(refs),
        [
            "customresourcedefinition.apiextensions.k8s.io/ciliumendpoints.cilium.io",
            "ciliumendpoint.cilium.io/frontend-abc"
        ]
    );
    // `status` of a CRD without a status subresource is part of the object: apply sets it.
    let v = t.ok(r#"kube::get("cep", "frontend-abc", #{namespace: NS}).status.id"#);
    assert_eq!(v.as_int().unwrap(), 1234);
    // The API server is still up after the CRD (the reflect2 crash under Go >= 1.18).
    let (ok, _, err) = t.cluster.kubectl(&["get", "--raw", "/readyz"]);
    assert!(ok, "the API server survived the CRD: {err}");
}

#[test]
fn apply_takes_yaml_strings_and_maps_and_leaves_cluster_scoped_objects_unnamespaced() {
    let Some(mut t) = T::new("apply_strings_and_maps") else {
        return;
    };
    // A cluster-scoped object from a map, with a namespace option: reported without a
    // namespace; a namespaced one from a YAML string, put in the option's namespace.
    let v = t.ok(
        r#"let ns = kube::apply(#{apiVersion: "v1", kind: "Namespace", metadata: #{name: NS + "-extra"}},
                                #{namespace: NS})[0];
           let cm = kube::apply("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n",
                                #{namespace: NS})[0];
           [ns.namespace, ns.ref, cm.namespace == NS, cm.ref]"#,
    );
    let extra = format!("{}-extra", t.ns);
    let created = t
        .cluster
        .kubectl(&["get", "namespace", &extra, "-o", "name"]);
    t.cluster
        .kubectl_ok(&["delete", "namespace", &extra, "--wait=false"]);
    assert_eq!(
        format!("{v:?}"),
        format!(r#"[(), "namespace/{extra}", true, "configmap/a"]"#)
    );
    assert!(created.0, "{}", created.2);
    assert_eq!(
        t.kubectl(&["get", "configmap", "a", "-o", "jsonpath={.data.k}"]),
        "v"
    );
    let err = t.err(
        r#"kube::apply("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n", #{namespace: NS})"#,
    );
    assert!(
        err.contains("unknown kind: apiVersion `example.com/v1`, kind `Widget`"),
        "{err}"
    );
}

#[test]
fn get_list_and_delete() {
    let Some(mut t) = T::new("get_list_and_delete") else {
        return;
    };
    t.frontend();
    let v = t.ok(
        r#"let d = kube::get("deploy", "frontend", #{namespace: NS});
           [d.apiVersion, d.kind, d.metadata.name, d.status.availableReplicas]"#,
    );
    assert_eq!(
        format!("{v:?}"),
        r#"["apps/v1", "Deployment", "frontend", 1]"#
    );
    let v = t.ok(
        r#"kube::list("pods", #{namespace: NS, selector: "app=guestbook,tier=frontend"}).map(|p| p.kind + " " + p.spec.containers[0].name)"#,
    );
    assert_eq!(strings(v), ["Pod php-redis"]);
    // kubectl's short names, label and field selectors, every namespace.
    let node = t.kubectl(&[
        "get",
        "pods",
        "-l",
        "tier=frontend",
        "-o",
        "jsonpath={.items[0].spec.nodeName}",
    ]);
    let v = t.ok(&format!(
        r#"[kube::list("po", #{{namespace: NS, selector: "app=guestbook"}}).len(),
            kube::list("pods", #{{namespace: NS, field_selector: "spec.nodeName={node}"}}).len(),
            kube::list("pods", #{{namespace: NS, field_selector: "spec.nodeName=no-such-node"}}).len(),
            kube::list("pods", #{{all_namespaces: true}}).filter(|p| p.metadata.namespace == NS).len(),
            kube::get("svc", "frontend", #{{namespace: NS}}).spec.ports[0].nodePort]"#
    ));
    let np = t.kubectl(&[
        "get",
        "svc",
        "frontend",
        "-o",
        "jsonpath={.spec.ports[0].nodePort}",
    ]);
    assert_eq!(format!("{v:?}"), format!("[1, 1, 0, 1, {np}]"));
    let err = t.err(r#"kube::get("servics", "frontend", #{namespace: NS})"#);
    assert!(
        err.contains(&format!(
            "unknown resource kind `servics` on context `{}`; did you mean `services`?",
            k8s::CONTEXT
        )),
        "{err}"
    );
    let err = t.err(r#"kube::get("svc", "nope", #{namespace: NS})"#);
    assert!(
        err.contains(&format!("get service/nope in {}", t.ns))
            && err.contains("services \"nope\" not found")
            && err.contains("HTTP 404"),
        "{err}"
    );
    let v = t.ok(
        r#"[kube::delete("svc", "frontend", #{namespace: NS, wait: "30s"}),
            kube::delete("svc", "frontend", #{namespace: NS})]"#,
    );
    assert_eq!(format!("{v:?}"), "[true, false]");
    let (ok, _, err) = t.cluster.kubectl(&["-n", &t.ns, "get", "svc", "frontend"]);
    assert!(!ok && err.contains("NotFound"), "{err}");
}

#[test]
fn typed_pods_and_services_hold_what_kubectl_shows() {
    let Some(mut t) = T::new("typed_pods_and_services") else {
        return;
    };
    t.frontend();
    let v = t.ok(
        r#"let p = kube::pods(#{namespace: NS, selector: "app=guestbook"})[0];
           [p.name, p.node, p.ip, p.ready, p.labels.tier, p.containers[0].name]"#,
    );
    let pod = t.kubectl(&[
        "get",
        "pods",
        "-l",
        "app=guestbook",
        "-o",
        r#"jsonpath=["{.items[0].metadata.name}", "{.items[0].spec.nodeName}", "{.items[0].status.podIP}", {.items[0].status.containerStatuses[0].ready}, "{.items[0].metadata.labels.tier}", "{.items[0].spec.containers[0].name}"]"#,
    ]);
    assert_eq!(format!("{v:?}"), pod);
    let v = t.ok(r#"let s = kube::service("frontend", #{namespace: NS});
           [s.type, s.cluster_ip, s.ports[0].node_port, s.node_port()]"#);
    let svc = t.kubectl(&[
        "get",
        "svc",
        "frontend",
        "-o",
        r#"jsonpath=["{.spec.type}", "{.spec.clusterIP}", {.spec.ports[0].nodePort}, {.spec.ports[0].nodePort}]"#,
    ]);
    assert_eq!(format!("{v:?}"), svc);
}

#[test]
fn waits_for_rollout_pods_nodes_daemonsets_and_a_condition() {
    let Some(mut t) = T::new("waits") else {
        return;
    };
    t.frontend();
    let v = t.ok(
        r#"let pods = kube::wait_ready("pods", #{namespace: NS, selector: "tier=frontend", timeout: "1m"});
           let nodes = kube::wait_ready("nodes", #{timeout: "30s"});
           [pods.len(), nodes[0].metadata.name]"#,
    );
    assert_eq!(format!("{v:?}"), r#"[1, "labsh-node"]"#);
    t.run(
        r#"kube::apply(#{apiVersion: "apps/v1", kind: "DaemonSet", metadata: #{name: "agent"},
              spec: #{selector: #{matchLabels: #{app: "agent"}},
                      template: #{metadata: #{labels: #{app: "agent"}},
                                  spec: #{containers: [#{name: "agent", image: "gcr.io/google-samples/gb-frontend:v4",
                                                         args: [":8081"]}]}}}}, #{namespace: NS});"#,
    );
    // One agent per node.
    let v = t.ok(
        r#"kube::wait_ready("daemonsets", #{namespace: NS, timeout: "1m"}).map(|d| d.status.numberReady)"#,
    );
    assert_eq!(format!("{v:?}"), format!("[{}]", k8s::NODES));
    let v = t.ok(r#"kube::wait_rollout("daemonset/agent", #{namespace: NS}).metadata.name"#);
    assert_eq!(v.into_string().unwrap(), "agent");
    // wait_for: the condition turns true when kubectl labels the service a moment later.
    let ns = t.ns.clone();
    let kubectl = t.cluster.kubectl.clone();
    let kubeconfig = t.cluster.kubeconfig.clone();
    let labeller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["-n", &ns, "label", "svc", "frontend", "checked=yes"])
            .output()
            .unwrap()
    });
    let v = t.ok(
        r#"kube::wait_for("svc", "frontend", |o| o.metadata.labels.checked == "yes", #{namespace: NS, timeout: "30s"}).metadata.labels.checked"#,
    );
    assert!(labeller.join().unwrap().status.success());
    assert_eq!(v.into_string().unwrap(), "yes");
    let err = t
        .err(r#"kube::wait_for("svc", "frontend", |o| false, #{namespace: NS, timeout: "300ms"})"#);
    assert!(
        err.contains("timed out after 300ms; last seen: service/frontend exists"),
        "{err}"
    );
}

#[test]
fn wait_ready_times_out_saying_what_it_last_saw() {
    let Some(mut t) = T::new("wait_ready_times_out") else {
        return;
    };
    // No registry here: the image cannot be pulled, the pod never becomes Ready.
    t.run(
        r#"kube::apply(#{apiVersion: "v1", kind: "Pod", metadata: #{name: "stuck", labels: #{app: "stuck"}},
              spec: #{containers: [#{name: "c", image: "registry.invalid/none:v1"}]}}, #{namespace: NS});"#,
    );
    let err = t
        .err(r#"kube::wait_ready("pods", #{namespace: NS, selector: "app=stuck", timeout: "8s"})"#);
    assert!(err.contains("0/1"), "{err}");
    assert!(err.contains("stuck"), "names the pod: {err}");
    assert!(
        err.contains("ErrImagePull")
            || err.contains("ImagePullBackOff")
            || err.contains("ContainerCreating")
            || err.contains("Pending"),
        "says what the pod was doing: {err}"
    );
}

#[test]
fn wait_rollout_of_an_image_the_cluster_lacks_fails_before_its_timeout_naming_the_image_and_state()
{
    // Issue 21, item 4: no registry here, so the kubelet's pulls fail (a DNS timeout: the
    // wait ends once the kubelet's retry failed too, an error like "no such host" ends it at
    // the first) instead of running its whole timeout with "0 of 1 updated replicas are
    // available".
    let Some(mut t) = T::new("wait_rollout_image") else {
        return;
    };
    t.run(
        r#"kube::apply(#{apiVersion: "apps/v1", kind: "Deployment", metadata: #{name: "broken"},
              spec: #{selector: #{matchLabels: #{app: "broken"}},
                      template: #{metadata: #{labels: #{app: "broken"}},
                                  spec: #{containers: [#{name: "web", image: "registry.invalid/labsh/none:v9"}]}}}}, #{namespace: NS});"#,
    );
    let err = t.err(r#"kube::wait_rollout("deployment/broken", #{namespace: NS, timeout: "3m"})"#);
    assert!(!err.contains("timed out"), "ends before its timeout: {err}");
    assert!(
        err.contains("kube::wait_rollout(deployment/broken)"),
        "{err}"
    );
    assert!(
        err.contains(r#"image "registry.invalid/labsh/none:v9" (container web)"#),
        "names the image: {err}"
    );
    assert!(
        err.contains("ErrImagePull") || err.contains("ImagePullBackOff"),
        "names the state: {err}"
    );
    assert!(
        err.contains("updated replicas are available"),
        "and the rollout's progress: {err}"
    );
}

#[test]
fn waits_report_a_crash_loop_with_its_logs_and_an_unschedulable_pod_with_the_schedulers_reason() {
    // The crashing pod never passes its readiness probe: without one, the kubelet reports it
    // Ready for the moment its container runs between two restarts, and the wait may end then.
    let Some(t) = T::new("wait_blockers") else {
        return;
    };
    let ns = t.ns.clone();
    let script = format!(
        r#"let NS = "{ns}";
kube::apply(#{{apiVersion: "v1", kind: "Pod", metadata: #{{name: "crash", labels: #{{app: "crash"}}}},
    spec: #{{containers: [#{{name: "c", image: "gcr.io/google-samples/gb-frontend:v4", imagePullPolicy: "IfNotPresent",
        command: ["sh", "-c", "echo starting; echo boom-missing-config; exit 3"],
        readinessProbe: #{{exec: #{{command: ["false"]}}}}}}]}}}}, #{{namespace: NS}});
kube::apply(#{{apiVersion: "v1", kind: "Pod", metadata: #{{name: "nowhere", labels: #{{app: "nowhere"}}}},
    spec: #{{nodeSelector: #{{"labsh.test/none": "yes"}},
        containers: [#{{name: "c", image: "gcr.io/google-samples/gb-frontend:v4", imagePullPolicy: "IfNotPresent"}}]}}}}, #{{namespace: NS}});
try {{ kube::wait_ready("pods", #{{namespace: NS, selector: "app=nowhere", timeout: "5s"}}); }}
catch (e) {{ print(`E1 ${{e}}`); }}
try {{ kube::wait_ready("pods", #{{namespace: NS, selector: "app=crash", timeout: "45s"}}); }}
catch (e) {{ print(`E2 ${{e}}`); }}
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blockers.rhai");
    std::fs::write(&file, script).unwrap();
    let (code, out, err) = labsh_binary(&t, &["run", file.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}\n{err}");
    // Reported while waiting, on stderr, once each ...
    let scheduler = "pod {ns}/nowhere: Pending, not scheduled: 0/2 nodes are available: 2 node(s) didn't match Pod's node affinity.";
    let scheduler = scheduler.replace("{ns}", &ns);
    assert_eq!(err.matches(&scheduler).count(), 1, "{err}");
    let crash = format!("pod {ns}/crash: CrashLoopBackOff (container c, ");
    assert!(err.contains(&crash), "{err}");
    assert!(
        err.contains(
            "last exit code 3 (Error)); its last log lines:\n    starting\n    boom-missing-config"
        ),
        "{err}"
    );
    // ... and in the timeout's error.
    let e1 = out
        .lines()
        .find(|l| l.starts_with("E1 "))
        .unwrap_or_default();
    assert!(
        e1.contains("timed out after 5s") && e1.contains(&scheduler),
        "{out}"
    );
    assert!(
        out.contains("E2 ") && out.contains(&crash) && out.contains("boom-missing-config"),
        "{out}"
    );
}

#[test]
fn logs_of_a_real_container_after_a_nodeport_request() {
    let Some(mut t) = T::new("logs_after_nodeport") else {
        return;
    };
    t.frontend();
    let url = t.frontend_url("/");
    // kube-proxy programs the NodePort a moment after the Service exists.
    let mut status = String::new();
    eventually("the NodePort to answer", 30, || {
        let v = t.ok(&format!(
            r#"let r = http::get("{url}", #{{timeout: "2s", fail: false}}); r.status ?? r.error"#
        ));
        status = format!("{v:?}");
        status == "200"
    });
    let line = |t: &mut T, code: &str| -> String {
        let mut found = String::new();
        eventually("the access line in the pod's log", 20, || {
            found = strings(t.ok(code)).join("\n");
            found.contains("\"GET / HTTP/1.1\" 200")
        });
        found
    };
    let tail = line(
        &mut t,
        r#"logs::tail("deployment/frontend", 5, #{namespace: NS}).map(|l| l.line)"#,
    );
    assert!(tail.contains("curl") || tail.contains(" - - ["), "{tail}");
    let since = line(
        &mut t,
        r#"logs::since("deployment/frontend", "5m", #{namespace: NS}).map(|l| l.line)"#,
    );
    assert!(since.contains("200"), "{since}");
    // The access line parses as Apache combined; the client is what kube-proxy (SNAT)
    // left: an address of the node, not the host's.
    let v = t.ok(
        r#"let l = logs::since("deployment/frontend", "5m", #{namespace: NS}).filter(|l| l.line.contains("GET / "));
           let a = logs::parse_access(l[0].line); [a.method, a.path, a.status]"#,
    );
    assert_eq!(format!("{v:?}"), r#"["GET", "/", 200]"#);
}

#[test]
fn follow_ends_on_until_and_when_the_pod_is_deleted() {
    let Some(mut t) = T::new("follow_until_and_pod_deletion") else {
        return;
    };
    t.frontend();
    let url = t.frontend_url("/followed");
    let probe = std::thread::spawn(move || {
        for _ in 0..30 {
            std::thread::sleep(Duration::from_millis(500));
            let _ = Command::new("curl").args(["-s", "-m", "2", &url]).output();
        }
    });
    let v = t.ok(
        r#"logs::follow("deployment/frontend", #{namespace: NS, tail: 0, timeout: "30s",
              "until": |l| l.contains("/followed")}).map(|e| e.line)"#,
    );
    let lines = strings(v);
    assert!(
        lines
            .last()
            .unwrap()
            .contains("\"GET /followed HTTP/1.1\" 404"),
        "{lines:?}"
    );
    // A follow of a pod that is deleted ends when its stream ends.
    let pod = t.frontend_pod();
    let ns = t.ns.clone();
    let cluster = t.cluster;
    let victim = pod.clone();
    let deleter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        cluster.kubectl_ok(&[
            "-n",
            &ns,
            "delete",
            "pod",
            &victim,
            "--grace-period=1",
            "--wait=false",
        ]);
    });
    let started = Instant::now();
    t.run(&format!(
        r#"logs::follow("{pod}", #{{namespace: NS, tail: 0, timeout: "90s"}})"#
    ));
    deleter.join().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(80),
        "the follow ended with the pod, not at its timeout"
    );
    probe.join().unwrap();
}

#[test]
fn ctrl_c_ends_a_follow() {
    let Some(mut t) = T::new("ctrl_c_ends_a_follow") else {
        return;
    };
    t.frontend();
    let ctx = t.session.ctx().clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        ctx.interrupt();
    });
    let err = t.err(r#"logs::follow("deployment/frontend", #{namespace: NS, timeout: "60s"})"#);
    assert_eq!(err, "interrupted");
}

#[test]
fn follow_keeps_only_the_last_lines_when_asked() {
    let Some(mut t) = T::new("follow_keeps_the_last_lines") else {
        return;
    };
    t.run(
        r#"kube::apply(#{apiVersion: "v1", kind: "Pod", metadata: #{name: "lines"},
              spec: #{containers: [#{name: "c", image: "gcr.io/google-samples/gb-frontend:v4",
                  imagePullPolicy: "IfNotPresent",
                  command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done; sleep 3600"]}]}},
              #{namespace: NS});
           kube::wait_ready("pods", #{namespace: NS, timeout: "2m"});"#,
    );
    eventually("the pod's five lines", 30, || {
        t.kubectl(&["logs", "lines"]).lines().count() == 5
    });
    let v =
        t.ok(r#"logs::follow("lines", #{namespace: NS, timeout: "1s", keep: 2}).map(|l| l.line)"#);
    assert_eq!(format!("{v:?}"), r#"["line 4", "line 5"]"#);
}

#[test]
fn exec_returns_exit_codes_and_output() {
    let Some(mut t) = T::new("exec_exit_codes") else {
        return;
    };
    t.frontend();
    let pod = t.frontend_pod();
    let v = t.ok(&format!(
        r#"let r = kube::exec("{pod}", ["sh", "-c", "echo out; echo err >&2; exit 3"], #{{namespace: NS}});
           [r.code, r.stdout, r.stderr]"#
    ));
    assert_eq!(format!("{v:?}"), r#"[3, "out\n", "err\n"]"#);
    let err = t.err(r#"kube::exec("frontend-gone", ["true"], #{namespace: NS})"#);
    assert!(
        err.contains(&format!("pod {}/frontend-gone", t.ns)),
        "{err}"
    );
    let v = t.ok(&format!(
        r#"kube::exec("{pod}", ["cat", "/etc/passwd"], #{{namespace: NS, container: "php-redis"}}).code"#
    ));
    assert_eq!(v.as_int().unwrap(), 0);
    // A binary the image lacks is a result, as a shell reports it (issue 21).
    let v = t.ok(&format!(
        r#"let r = kube::exec("{pod}", ["no-such-program"], #{{namespace: NS}});
           [r.code, r.error.contains("no-such-program"), r.timed_out]"#
    ));
    assert_eq!(format!("{v:?}"), "[127, true, false]");
    let v = t.ok(&format!(
        r#"let seen = [];
           let r = kube::exec_stream("{pod}", ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done"],
               #{{namespace: NS}}, |l| {{ seen.push(l); l != "line2" }});
           [seen, r.stopped]"#
    ));
    assert_eq!(format!("{v:?}"), r#"[["line1", "line2"], true]"#);
}

#[test]
fn ctrl_c_kills_the_process_in_the_container() {
    let Some(mut t) = T::new("ctrl_c_kills_exec") else {
        return;
    };
    t.frontend();
    let pod = t.frontend_pod();
    let ctx = t.session.ctx().clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        ctx.interrupt();
    });
    let err = t.err(&format!(
        r#"kube::exec_stream("{pod}", ["sleep", "1234"], #{{namespace: NS}}, |l| true)"#
    ));
    assert_eq!(err, "interrupted");
    // The container's runtime ends the process when the exec's stream closes.
    let (ns, cluster) = (t.ns.clone(), t.cluster);
    eventually("sleep 1234 to be gone from the container", 30, || {
        let (_, out, _) = cluster.kubectl(&["-n", &ns, "exec", &pod, "--", "ps"]);
        !out.contains("sleep 1234")
    });
}

#[test]
fn a_token_without_rights_is_told_forbidden_with_verb_and_resource() {
    let Some(cluster) = k8s::cluster("a_token_without_rights") else {
        return;
    };
    let mut session = cluster.nobody_session();
    let err = session
        .eval(
            "test.rhai",
            r#"kube::list("pods", #{namespace: "default"})"#,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("forbidden")
            && err.contains("User \"nobody\" cannot list resource \"pods\"")
            && err.contains("HTTP 403"),
        "{err}"
    );
}

/// Cells of a kubectl-printed table, cut at the header's column starts (columns are
/// separated by at least 3 spaces, header names by at most one).
fn cells(table: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    let mut starts = vec![];
    let chars: Vec<char> = header.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c != ' ' && (i == 0 || (i >= 2 && chars[i - 1] == ' ' && chars[i - 2] == ' ')) {
            starts.push(i);
        }
    }
    let cut = |line: &str| -> Vec<String> {
        let cs: Vec<char> = line.chars().collect();
        starts
            .iter()
            .enumerate()
            .map(|(k, &s)| {
                let e = starts.get(k + 1).copied().unwrap_or(cs.len()).min(cs.len());
                cs[s.min(cs.len())..e]
                    .iter()
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    };
    let names = cut(header);
    (names, lines.map(cut).collect())
}

/// `kube::table` against `kubectl get` on the same server: the same header, the same
/// cells, the same alignment, except the columns that count time.
fn same_table(t: &mut T, kind: &str, opts: &str, kubectl_args: &[&str]) {
    const TIME_COLUMNS: [&str; 4] = ["AGE", "LAST SEEN", "FIRST SEEN", "DURATION"];
    let mut last = String::new();
    for _ in 0..5 {
        let ours = t
            .ok(&format!(r#"kube::table("{kind}", {opts})"#))
            .into_string()
            .unwrap();
        let mut args = vec!["get", kind];
        args.extend_from_slice(kubectl_args);
        let (ok, theirs, stderr) = t.cluster.kubectl(&args);
        assert!(ok, "kubectl {args:?}: {stderr}");
        let theirs = if theirs.is_empty() {
            stderr.trim_end().to_string()
        } else {
            theirs.trim_end().to_string()
        };
        let (h1, r1) = cells(&ours);
        let (h2, r2) = cells(&theirs);
        let mask = |h: &[String], rows: Vec<Vec<String>>| -> Vec<Vec<String>> {
            rows.into_iter()
                .map(|r| {
                    r.into_iter()
                        .enumerate()
                        .map(|(i, c)| {
                            if h.get(i).is_some_and(|n| TIME_COLUMNS.contains(&n.as_str())) {
                                "<time>".into()
                            } else {
                                c
                            }
                        })
                        .collect()
                })
                .collect()
        };
        if h1 == h2 && mask(&h1, r1) == mask(&h2, r2) {
            return;
        }
        // Events can arrive between the two reads: try again.
        last = format!("labsh:\n{ours}\n\nkubectl:\n{theirs}");
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!(
        "kube::table(\"{kind}\", {opts}) differs from kubectl get {kind} {kubectl_args:?}:\n{last}"
    );
}

#[test]
fn tables_are_the_ones_kubectl_prints() {
    let Some(mut t) = T::new("tables_are_kubectl") else {
        return;
    };
    t.frontend();
    let crd = t.file("tests/k8s/manifests/ciliumendpoints-crd.json");
    t.run(&format!(
        r#"kube::apply("{crd}");
           kube::apply(#{{apiVersion: "cilium.io/v2", kind: "CiliumEndpoint", metadata: #{{name: "frontend-abc"}},
               status: #{{id: 1234, state: "ready", identity: #{{id: 5678}},
                         networking: #{{node: "labsh-node", addressing: [#{{ipv4: "10.85.0.9"}}]}}}}}}, #{{namespace: NS}});
           kube::apply(#{{apiVersion: "apps/v1", kind: "DaemonSet", metadata: #{{name: "agent"}},
               spec: #{{selector: #{{matchLabels: #{{app: "agent"}}}},
                       template: #{{metadata: #{{labels: #{{app: "agent"}}}},
                                   spec: #{{containers: [#{{name: "agent", image: "gcr.io/google-samples/gb-frontend:v4", args: [":8082"]}}]}}}}}}}}, #{{namespace: NS}});
           kube::wait_rollout("daemonset/agent", #{{namespace: NS}});"#
    ));
    let ns = t.ns.clone();
    let n = ns.as_str();
    let opts = format!("#{{namespace: \"{n}\"}}");
    let wide = format!("#{{namespace: \"{n}\", wide: true}}");
    for kind in [
        "pods",
        "services",
        "deployments",
        "daemonsets",
        "events",
        "cep",
        "replicasets",
    ] {
        same_table(&mut t, kind, &opts, &["-n", n]);
        same_table(&mut t, kind, &wide, &["-n", n, "-o", "wide"]);
    }
    same_table(&mut t, "nodes", "#{}", &[]);
    same_table(&mut t, "nodes", "#{wide: true}", &["-o", "wide"]);
    same_table(&mut t, "namespaces", "#{}", &[]);
    same_table(
        &mut t,
        "pods",
        &format!("#{{namespace: \"{n}\", selector: \"tier=frontend\"}}"),
        &["-n", n, "-l", "tier=frontend"],
    );
    // Nothing found: kubectl's message.
    same_table(
        &mut t,
        "pods",
        &format!("#{{namespace: \"{n}\", selector: \"app=none\"}}"),
        &["-n", n, "-l", "app=none"],
    );
    let none = t
        .ok(r#"kube::table("pods", #{namespace: NS, selector: "app=none"})"#)
        .into_string()
        .unwrap();
    assert_eq!(none, format!("No resources found in {n} namespace."));
}

#[test]
fn tables_across_all_namespaces_have_kubectls_namespace_column() {
    let Some(mut t) = T::new("tables_all_namespaces") else {
        return;
    };
    t.frontend();
    let sel = "#{all_namespaces: true, selector: \"tier=frontend\"}";
    same_table(&mut t, "deployments", sel, &["-A", "-l", "tier=frontend"]);
    same_table(&mut t, "services", sel, &["-A", "-l", "tier=frontend"]);
}

/// What `cluster.sh` could leave on the host: processes, mounts, the node's namespace and
/// link, kube-proxy/CNI rules, pod log folders.
/// Requests `url` every 300 ms from a thread until the returned flag is set.
fn keep_requesting(url: String) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let probe = std::thread::spawn(move || {
        while !d.load(Ordering::SeqCst) {
            let _ = Command::new("curl").args(["-s", "-m", "2", &url]).output();
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    (done, probe)
}

#[test]
fn start_follows_in_the_background_waits_until_a_line_and_stop_closes_the_streams() {
    let Some(mut t) = T::new("start_wait_until_stop") else {
        return;
    };
    t.frontend();
    let url = t.frontend_url("/started");
    t.run(r#"let f = logs::start("deployment/frontend", #{namespace: NS, tail: 0});"#);
    assert_eq!(t.ok("f.running").as_bool(), Ok(true));
    let (done, probe) = keep_requesting(url);
    // The script goes on while the follower reads; `until` sees the line's text.
    let seen = t.ok(r#"f.wait(#{"until": |l| l.contains("GET /started"), timeout: "30s"})"#);
    assert_eq!(seen.as_bool(), Ok(true));
    let lines = t.ok(r#"f.lines().map(|l| l.pod + " " + l.line)"#);
    let lines = strings(lines);
    let pod = t.frontend_pod();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{pod} "))
                && l.contains("\"GET /started HTTP/1.1\" 404")),
        "{lines:?}"
    );
    // A count: two more lines than now.
    let more = t.ok(r#"let n = f.received; f.wait(#{count: n + 2, timeout: "30s"})"#);
    assert_eq!(more.as_bool(), Ok(true));
    let stopped = strings(t.ok(r#"f.stop().map(|l| l.line)"#));
    assert!(stopped.len() >= lines.len() + 2, "{stopped:?}");
    assert_eq!(t.ok("f.running").as_bool(), Ok(false));
    // Closed: the requests still logged by the pod no longer reach it.
    std::thread::sleep(Duration::from_secs(2));
    let after = t.ok("f.lines().len()").as_int().unwrap();
    assert_eq!(after as usize, stopped.len());
    done.store(true, Ordering::SeqCst);
    probe.join().unwrap();
    // A follow on a pod target gives the same maps as on a workload (issue 21); waiting
    // with neither count nor until ends at the timeout with false.
    let v = t.ok(&format!(
        r#"let g = logs::start("{pod}", #{{namespace: NS, tail: 1}});
           let w = g.wait(#{{timeout: "1s"}});
           let l = g.stop();
           [w, l[0].keys(), l[0].pod]"#
    ));
    assert_eq!(
        format!("{v:?}"),
        format!(r#"[false, ["container", "line", "pod"], "{pod}"]"#)
    );
}

#[test]
fn ctrl_c_interrupts_a_started_follows_wait_and_the_sessions_end_stops_it() {
    let Some(mut t) = T::new("start_ctrl_c") else {
        return;
    };
    t.frontend();
    let f = t
        .ok(r#"let f = logs::start("deployment/frontend", #{namespace: NS}); f"#)
        .try_cast::<labsh::kube::log_follow::LogFollow>()
        .expect("a LogFollow");
    let ctx = t.session.ctx().clone();
    let interrupter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        ctx.interrupt();
    });
    let started = Instant::now();
    let err = t.err(r#"f.wait(#{timeout: "60s"})"#);
    interrupter.join().unwrap();
    assert_eq!(err, "interrupted");
    assert!(started.elapsed() < Duration::from_secs(30));
    // In the REPL the follow goes on until stopped...
    assert_eq!(f.follower().ended(), None);
    // ...and the end of the session (the end of `labsh run`, after Ctrl-C or an error)
    // stops it: its streams are closed.
    t.session.ctx().shutdown(Duration::from_secs(10));
    assert_eq!(
        f.follower().ended(),
        Some(labsh::follow::EndReason::SessionShutdown)
    );
}

#[test]
fn a_killed_api_server_ends_follows_and_waits_with_an_error_within_10s() {
    // The API server is killed: a cluster of this test's own, not the shared one.
    let Some(cluster) = k8s::throwaway("killed_api_server") else {
        return;
    };
    cluster.kubectl_ok(&[
        "create",
        "deployment",
        "web",
        "--image",
        "gcr.io/google-samples/gb-frontend:v4",
    ]);
    cluster.kubectl_ok(&["rollout", "status", "deploy/web", "--timeout", "120s"]);
    let server = {
        let kc = std::fs::read_to_string(&cluster.kubeconfig).unwrap();
        kc.lines()
            .find_map(|l| l.trim().strip_prefix("server: "))
            .unwrap()
            .to_string()
    };
    // Each script is started, then given time to list and open its streams.
    let scripts = [
        r#"logs::follow("deployment/web", #{timeout: "120s"})"#,
        r#"let f = logs::start("deployment/web"); f.wait(#{timeout: "120s"})"#,
        r#"kube::wait_for("deployment", "web", |o| false, #{timeout: "120s"})"#,
        r#"kube::wait_ready("pods", #{selector: "app=nothing-matches", timeout: "120s"})"#,
    ];
    let killed_at = OnceLock::<Instant>::new();
    let results: Vec<_> = std::thread::scope(|scope| {
        let runs: Vec<_> = scripts
            .iter()
            .map(|code| {
                let (killed_at, cluster) = (&killed_at, &cluster);
                scope.spawn(move || {
                    let mut s = cluster.session();
                    let r = s.eval("dead.rhai", code).map_err(|e| e.to_string());
                    let after_kill = killed_at.get().map(|k| k.elapsed());
                    (code, r, after_kill)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(6));
        let pid = cluster.pid_of("kube-apiserver");
        // SAFETY: kill has no memory preconditions; the pid is this test's API server.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        killed_at.set(Instant::now()).unwrap();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut failures = vec![];
    for (code, r, after_kill) in results {
        eprintln!("{code}\n  -> {r:?}, {after_kill:?} after the kill");
        match (&r, after_kill) {
            (Err(e), Some(after))
                if e.contains("lost the connection to the Kubernetes API server")
                    && e.contains(&server)
                    && after < Duration::from_secs(10) => {}
            _ => failures.push(format!(
                "{code}\n  -> {r:?} ({after_kill:?} after the kill)"
            )),
        }
    }
    cluster.down();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn leftovers(dir: &Path, tag_link: &str, netns: &str) -> Vec<String> {
    let mut found = vec![];
    let d = format!("{}/", dir.display());
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(&d) {
            found.push(format!(
                "process {}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    for m in mounts.lines() {
        if m.contains(&d) || m.contains(&format!("/run/netns/{netns}")) {
            found.push(format!("mount: {m}"));
        }
    }
    let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    let links = String::from_utf8_lossy(&links.stdout);
    if links.contains(tag_link) {
        found.push(format!("link {tag_link}"));
    }
    let netns_list = Command::new("ip").args(["netns", "list"]).output().unwrap();
    if String::from_utf8_lossy(&netns_list.stdout).contains(netns) {
        found.push(format!("netns {netns}"));
    }
    for save in ["iptables-save", "iptables-legacy-save"] {
        if let Ok(out) = Command::new(save).output() {
            for l in String::from_utf8_lossy(&out.stdout).lines() {
                if l.contains("KUBE-") || l.contains("CNI-") || l.contains("10.85.0.") {
                    found.push(format!("{save}: {l}"));
                }
            }
        }
    }
    if dir.exists() {
        found.push(format!("folder {}", dir.display()));
    }
    found
}

#[test]
fn a_cluster_whose_owner_dies_is_taken_down_leaving_nothing_behind() {
    // A second cluster of its own (other names, ports and addresses than the shared one),
    // of two nodes: everything is removed per node.
    if k8s::cluster("a_cluster_whose_owner_dies").is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("labsh-k8s-owner-{}", std::process::id()));
    let mut owner = Command::new("sleep").arg("600").spawn().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/k8s/cluster.sh");
    let up = Command::new(&script)
        .arg("up")
        .arg(&dir)
        .arg("--nodes")
        .arg("2")
        .arg("--owner")
        .arg(owner.id().to_string())
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "cluster.sh up: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let kubeconfig = dir.join("kubeconfig");
    let env = std::fs::read_to_string(dir.join("env")).unwrap();
    let get = |k: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap()
            .to_string()
    };
    let (netns, kubectl) = (get("LABSH_K8S_NETNS"), get("LABSH_K8S_KUBECTL"));
    let tag_link = format!("lk8s{}", netns.trim_start_matches("labsh-k8s-"));
    // Running pods, one per node (a DaemonSet): their containers, volume mounts, netns and
    // log folders must go too.
    let mut apply = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    apply
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: web, image: \"gcr.io/google-samples/gb-frontend:v4\"}\n",
        )
        .unwrap();
    let applied = apply.wait_with_output().unwrap();
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let ready = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["rollout", "status", "ds/web", "--timeout", "90s"])
        .output()
        .unwrap();
    assert!(
        ready.status.success(),
        "{}",
        String::from_utf8_lossy(&ready.stderr)
    );
    let pods = String::from_utf8_lossy(
        &Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args([
                "get",
                "pods",
                "-o",
                "jsonpath={range .items[*]}{.metadata.uid} {.spec.nodeName}{\"\\n\"}{end}",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .to_string();
    let uids: Vec<&str> = pods.lines().filter_map(|l| l.split(' ').next()).collect();
    let mut nodes: Vec<&str> = pods.lines().filter_map(|l| l.split(' ').nth(1)).collect();
    nodes.sort();
    assert_eq!(nodes, ["labsh-node", "labsh-node-2"], "{pods}");
    // The nodes' mount namespaces (by inode): no process may be left in them.
    let mount_namespaces: Vec<String> = (1..=2)
        .map(|i| {
            let ino = std::fs::metadata(dir.join(format!("ns/mnt-{i}")))
                .unwrap()
                .ino();
            format!("mnt:[{ino}]")
        })
        .collect();
    let in_node_mount_namespaces = || -> Vec<String> {
        let mut found = vec![];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(ns) = std::fs::read_link(entry.path().join("ns/mnt")) {
                let ns = ns.display().to_string();
                if mount_namespaces.contains(&ns) {
                    found.push(format!("process {} in {ns}", entry.file_name().display()));
                }
            }
        }
        found
    };
    assert!(
        !in_node_mount_namespaces().is_empty(),
        "the probe sees the nodes' processes in their mount namespaces"
    );
    assert_eq!(uids.len(), 2, "{pods}");
    assert!(
        !leftovers(&dir, &tag_link, &netns).is_empty(),
        "the probe sees the running cluster"
    );
    owner.kill().unwrap();
    owner.wait().unwrap();
    eventually("the watcher to take the cluster down", 90, || !dir.exists());
    let mut left = leftovers(&dir, &tag_link, &netns);
    left.extend(in_node_mount_namespaces());
    assert!(left.is_empty(), "left behind:\n{}", left.join("\n"));
    let pod_logs: Vec<_> = std::fs::read_dir("/var/log/pods")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    uids.iter()
                        .any(|u| e.file_name().to_string_lossy().ends_with(u))
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(pod_logs.is_empty(), "pod log folder left: {pod_logs:?}");
}

/// Runs the `labsh` binary on the cluster with `args`, `stdin` piped in; (exit code, stdout,
/// stderr).
fn labsh_binary(t: &T, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_labsh"))
        .args(args)
        .current_dir(dir.path())
        .env("KUBECONFIG", &t.cluster.kubeconfig)
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("labsh starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn explain_prints_the_kubectl_equivalents() {
    let Some(mut t) = T::new("explain_kubectl") else {
        return;
    };
    t.frontend();
    let pod = t.frontend_pod();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        t.file("scripts/tp12/frontend-svc.yaml"),
        dir.path().join("frontend-svc.yaml"),
    )
    .unwrap();
    let ns = t.ns.clone();
    let script = dir.path().join("explain.rhai");
    std::fs::write(
        &script,
        format!(
            r#"let o = #{{namespace: "{ns}"}};
kube::apply("frontend-svc.yaml", o);
kube::table("svc", o);
logs::tail("deployment/frontend", 20, o);
kube::exec("{pod}", ["cat", "/etc/hostname"], #{{namespace: "{ns}", container: "php-redis"}});
kube::wait_rollout("deployment/frontend", #{{namespace: "{ns}", timeout: "30s"}});
"#
        ),
    )
    .unwrap();
    let (code, out, err) = labsh_binary(&t, &["run", "--explain", script.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}\n{err}");
    let explained: Vec<&str> = err.lines().filter(|l| l.starts_with("$ ")).collect();
    assert_eq!(
        explained,
        [
            format!("$ kubectl apply --server-side -n {ns} -f frontend-svc.yaml"),
            format!("$ kubectl get svc -n {ns}"),
            format!("$ kubectl logs deployment/frontend -n {ns} --tail 20"),
            format!("$ kubectl exec -n {ns} {pod} -c php-redis -- cat /etc/hostname"),
            format!("$ kubectl rollout status deployment/frontend -n {ns} --timeout=30s"),
        ],
        "{err}\n{out}"
    );
}

#[test]
fn a_log_line_with_terminal_sequences_is_shown_escaped_by_every_printing_path() {
    // Issue 23, item 5: a pod logging an OSC title and CSI clear-screen and line-erase
    // sequences must not reach the terminal raw, whichever way labsh prints the line.
    let Some(mut t) = T::new("escaped_log_line") else {
        return;
    };
    t.run(
        r#"kube::apply(#{apiVersion: "v1", kind: "Pod",
              metadata: #{name: "hostile", namespace: NS},
              spec: #{containers: [#{name: "c", image: "gcr.io/google-samples/gb-frontend:v4",
                  imagePullPolicy: "IfNotPresent",
                  command: ["sh", "-c", "printf 'evil\\033]0;PWNED\\007\\033[2J\\033[H\\033[1A\\033[2K end\\n'; sleep 3600"]}]}});
           kube::wait_ready("pods", #{namespace: NS, timeout: "2m"});"#,
    );
    let ns = t.ns.clone();
    let escaped = r"evil\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[H\u{1b}[1A\u{1b}[2K end";
    let script = format!(
        r#"import "lab" as lab;
let NS = "{ns}";
let lines = logs::follow("hostile", #{{namespace: NS, tail: 10, timeout: "2s", "print": true}});
let line = lines[0].line;
print(line);
lab::say(line);
lab::check(line, true, line);
throw line;
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hostile.rhai");
    std::fs::write(&file, script).unwrap();
    let (code, out, err) = labsh_binary(&t, &["run", file.to_str().unwrap()], "");
    assert_eq!(code, 1, "{out}\n{err}");
    for text in [&out, &err] {
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    }
    // The follow's printed line, print, lab::say, the check line (name and evidence) and
    // the summary (the same two).
    assert_eq!(out.matches(escaped).count(), 7, "{out}\n{err}");
    assert!(err.contains(&format!("error: {escaped}")), "{err}");
    // The REPL's echo of the string.
    let (code, out, err) = labsh_binary(
        &t,
        &[],
        &format!(r#"logs::tail("hostile", 1, #{{namespace: "{ns}"}})[0].line"#),
    );
    assert_eq!((code, out.trim_end(), err.as_str()), (0, escaped, ""));
}
