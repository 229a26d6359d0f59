//! What a lab author writes, with kubectl's habits, against the real tier (issue 21):
//! `KIND/NAME` and `KIND NAME` targets, exec on a workload, exec results that say how the
//! command ended, one shape of log lines, comma lists in tables, the `namespace: "all"` hint.

use super::{T, eventually, labsh_binary};

/// `kube::exec("deployment/frontend", …)` runs in a running pod of it, as `kubectl exec`
/// does; the result names the pod. The service and `KIND NAME` forms reach the same pod.
#[test]
fn exec_on_a_workload_or_service_picks_a_running_pod_and_names_it() {
    let Some(mut t) = T::new("exec_on_a_workload") else {
        return;
    };
    t.frontend();
    let pod = t.frontend_pod();
    for target in ["deployment/frontend", "deploy frontend", "svc/frontend"] {
        let v = t.ok(&format!(
            r#"let r = kube::exec("{target}", ["hostname"], #{{namespace: NS}}); [r.pod, r.stdout, r.code]"#
        ));
        assert_eq!(
            format!("{v:?}"),
            format!(r#"["{pod}", "{pod}\n", 0]"#),
            "{target}"
        );
    }
}

/// How the command ended is in the result: the signal named for a `128 + N` exit, a timeout
/// and a missing binary as results, not errors; a pod that cannot run is an error with its
/// state and image.
/// An endless producer in a pod: the exec keeps what fits the string limit, stops the
/// command, and the result map — stdout, stderr, the pod's name, the signal — fits the limit
/// as a whole (issue 23, item 1).
#[test]
fn exec_of_an_endless_producer_keeps_the_string_limit_for_the_whole_result() {
    let Some(mut t) = T::new("exec_limit") else {
        return;
    };
    t.frontend();
    let ns = t.ns.clone();
    let script = format!(
        r#"let r = kube::exec("deployment/frontend", ["yes"], #{{namespace: "{ns}"}});
print(`${{r.stdout.len() + r.stderr.len() + r.pod.len() + r.signal.len()}} ${{r.code}} ${{r.signal}} ${{r.stdout.len() > 900}}`);
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("yes.rhai");
    std::fs::write(&file, script).unwrap();
    let (code, out, err) = labsh_binary(
        &t,
        &["run", "--max-string-size", "1000", file.to_str().unwrap()],
        "",
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "1000 143 SIGTERM true\n"),
        "{err}"
    );
    // The pod kubectl's way picked, named on stderr.
    assert!(
        err.contains("kube::exec: deployment/frontend → pod frontend-")
            && err.contains(" (1 of 1 running)"),
        "{err}"
    );
    assert!(
        err.contains("kube::exec: kept the first ")
            && err.contains(&format!(" of the output of `yes` in pod {ns}/frontend-"))
            && err.contains(", then stopped it (the sandbox limit is 1,000 bytes per string; raise it with --max-string-size N)"),
        "{err}"
    );
}

#[test]
fn exec_results_say_how_the_command_ended() {
    let Some(mut t) = T::new("exec_results") else {
        return;
    };
    t.frontend();
    let v = t.ok(
        r#"let seg = kube::exec("deployment/frontend", ["sh", "-c", "kill -SEGV $$"], #{namespace: NS});
           let term = kube::exec("deployment/frontend", ["sh", "-c", "kill -TERM $$"], #{namespace: NS});
           let ok = kube::exec("deployment/frontend", ["true"], #{namespace: NS});
           [seg.code, seg.signal, term.code, term.signal, ok.code, ok.signal, ok.error]"#,
    );
    assert_eq!(
        format!("{v:?}"),
        r#"[139, "SIGSEGV", 143, "SIGTERM", 0, (), ()]"#
    );
    let v = t.ok(
        r#"let r = kube::exec("deployment/frontend", ["sleep", "30"], #{namespace: NS, timeout: "1s"});
           [r.timed_out, r.code, r.error]"#,
    );
    let text = format!("{v:?}");
    assert!(
        text.starts_with("[true, (), \"`sleep 30` in pod ")
            && text.ends_with(" timed out after 1s (the exec was closed)\"]"),
        "{text}"
    );
    let v = t.ok(
        r#"let r = kube::exec("deployment/frontend", ["no-such-program", "a b"], #{namespace: NS});
           [r.code, r.timed_out, r.error.contains("`no-such-program 'a b'` in pod"), r.error.contains("not found")]"#,
    );
    assert_eq!(format!("{v:?}"), "[127, false, true, true]");

    t.run(
        r#"kube::apply(#{apiVersion: "v1", kind: "Pod", metadata: #{name: "broken"},
               spec: #{containers: [#{name: "c", image: "registry.invalid/labsh/nope:1"}]}},
               #{namespace: NS});"#,
    );
    let ns = t.ns.clone();
    let cluster = t.cluster;
    eventually("the image pull to fail", 120, || {
        let (_, out, _) = cluster.kubectl(&["-n", &ns, "get", "pod", "broken"]);
        out.contains("ErrImagePull") || out.contains("ImagePullBackOff")
    });
    let err = t.err(r#"kube::exec("broken", ["true"], #{namespace: NS})"#);
    assert!(
        err.contains(&format!(
            "kube::exec: `true` in pod {ns}/broken: pod {ns}/broken is not running: "
        )) && (err.contains("ErrImagePull") || err.contains("ImagePullBackOff"))
            && err.contains("(image registry.invalid/labsh/nope:1)"),
        "{err}"
    );
    let err = t.err(r#"kube::exec("pod broken", ["true"], #{namespace: NS})"#);
    assert!(err.contains("is not running"), "{err}");
}

/// A pod, a `Pod` value and a Deployment give the same line shape: `#{pod, container, line}`.
#[test]
fn log_lines_have_one_shape_whatever_the_target() {
    let Some(mut t) = T::new("log_lines_one_shape") else {
        return;
    };
    t.frontend();
    // The frontend's first line ("frontend listening on :80") is enough: no request needed.
    let pod = t.frontend_pod();
    for target in [
        format!(r#""{pod}""#),
        format!(r#"kube::pod("{pod}", #{{namespace: NS}})"#),
        r#""deployment/frontend""#.to_string(),
        r#""deploy frontend""#.to_string(),
    ] {
        let v = t.ok(&format!(
            r#"let l = logs::tail({target}, 50, #{{namespace: NS}});
               let last = l[l.len() - 1];
               [last.keys(), last.pod, last.container]"#
        ));
        assert_eq!(
            format!("{v:?}"),
            format!(r#"[["container", "line", "pod"], "{pod}", "php-redis"]"#),
            "{target}"
        );
    }
}

/// `kube::table("deploy,svc")` prints one table per kind as kubectl does; `namespace: "all"`
/// finds nothing and says how to ask for every namespace; `kube::get("svc/frontend")`.
#[test]
fn tables_take_comma_lists_and_get_takes_kubectl_targets() {
    let Some(mut t) = T::new("tables_comma_lists") else {
        return;
    };
    t.frontend();
    let table = t
        .ok(r#"kube::table("deploy,svc", #{namespace: NS})"#)
        .into_string()
        .unwrap();
    let deploy = t.kubectl(&["get", "deploy"]);
    let svc = t.kubectl(&["get", "svc"]);
    // Same columns as kubectl's own tables (AGE may tick between the two reads).
    let header = |s: &str| s.lines().next().unwrap_or_default().to_string();
    let tables: Vec<&str> = table.split("\n\n").collect();
    assert_eq!(tables.len(), 2, "{table}");
    assert_eq!(header(tables[0]), header(&deploy), "{table}");
    assert_eq!(header(tables[1]), header(&svc), "{table}");
    let none = t
        .ok(r#"kube::table("pods", #{namespace: "all"})"#)
        .into_string()
        .unwrap();
    assert_eq!(
        none,
        "No resources found in all namespace.\nhint: `namespace: \"all\"` is the namespace named `all`; for every namespace give `all_namespaces: true`"
    );
    let v = t.ok(r#"[kube::get("svc/frontend", #{namespace: NS}).spec.type,
            kube::get("deploy frontend", #{namespace: NS}).metadata.name]"#);
    assert_eq!(format!("{v:?}"), r#"["NodePort", "frontend"]"#);
}

/// A client pod of the netshoot stand-in (busybox: wget and nc, no curl), running.
fn client(t: &mut T) {
    t.run(
        r#"kube::apply(#{apiVersion: "v1", kind: "Pod", metadata: #{name: "client"},
               spec: #{containers: [#{name: "c", image: "docker.io/nicolaka/netshoot:v0.13",
                                      command: ["sleep", "3600"]}]}}, #{namespace: NS});
           kube::wait_ready("pods", #{namespace: NS, field_selector: "metadata.name=client", timeout: "2m"});"#,
    );
}

/// `kube::probe` from a pod: a Service that answers, a path that does not exist, a port
/// nothing listens on, an address nothing answers, and TCP.
#[test]
fn probe_reaches_what_the_pod_can_reach_and_says_why_not() {
    let Some(mut t) = T::new("probe_from_a_pod") else {
        return;
    };
    t.frontend();
    client(&mut t);
    let v = t.ok(
        r#"let r = kube::probe("client", `http://frontend.${NS}.svc.cluster.local/`, #{namespace: NS});
           [r.ok, r.code, r.error, r.timed_out, r.tool]"#,
    );
    // No cluster DNS on this tier: the Service's ClusterIP is what the pod can reach.
    let v = if format!("{v:?}").starts_with("[false") {
        t.ok(
            r#"let ip = kube::service("frontend", #{namespace: NS}).cluster_ip;
               let r = kube::probe("client", `http://${ip}/`, #{namespace: NS});
               [r.ok, r.code, r.error, r.timed_out, r.tool]"#,
        )
    } else {
        v
    };
    assert_eq!(format!("{v:?}"), r#"[true, 200, (), false, "wget"]"#);
    let v = t.ok(
        r#"let ip = kube::service("frontend", #{namespace: NS}).cluster_ip;
           let missing = kube::probe("client", `http://${ip}/no-such-page`, #{namespace: NS});
           let tcp = kube::probe("client", `tcp://${ip}:80`, #{namespace: NS});
           [missing.ok, missing.code, missing.error, tcp.ok, tcp.code, tcp.tool]"#,
    );
    assert_eq!(
        format!("{v:?}"),
        r#"[false, 404, "HTTP 404", true, (), "nc"]"#
    );
    // A pod port nothing listens on: refused at once.
    let v = t.ok(r#"let ip = kube::pod("client", #{namespace: NS}).ip;
           let r = kube::probe("client", `http://${ip}:9/`, #{namespace: NS});
           [r.ok, r.timed_out, r.error]"#);
    let text = format!("{v:?}");
    assert!(
        text.starts_with("[false, false, ") && text.contains("Connection refused"),
        "{text}"
    );
    // An address nothing answers (TEST-NET-1): the probe's timeout.
    let v = t.ok(
        r#"let r = kube::probe("client", "http://192.0.2.1/", #{namespace: NS, timeout: "2s"});
           [r.ok, r.timed_out, r.code]"#,
    );
    assert_eq!(format!("{v:?}"), "[false, true, ()]");
    let err = t.err(r#"kube::probe("client", "frontend:80", #{namespace: NS})"#);
    assert!(
        err.contains("write `http://HOST:PORT/PATH` or `tcp://HOST:PORT`"),
        "{err}"
    );
}

/// This tier runs kube-proxy and no policy-enforcing CNI: a NetworkPolicy is applied with a
/// warning naming what was looked for, once per session, and `kube::policy_enforced()` is
/// false.
#[test]
fn a_network_policy_on_a_cluster_that_does_not_enforce_it_is_said_once() {
    let Some(t) = T::new("policy_not_enforced") else {
        return;
    };
    let ns = t.ns.clone();
    let script = format!(
        r#"let policy = #{{apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
    metadata: #{{name: "deny-all"}}, spec: #{{podSelector: #{{}}, policyTypes: ["Ingress"]}}}};
kube::apply(policy, #{{namespace: "{ns}"}});
policy.metadata.name = "deny-again";
kube::apply(policy, #{{namespace: "{ns}"}});
print(kube::policy_enforced());
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.rhai");
    std::fs::write(&file, script).unwrap();
    let (code, out, err) = super::labsh_binary(&t, &["run", file.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        out,
        "networkpolicy.networking.k8s.io/deny-all serverside-applied\nnetworkpolicy.networking.k8s.io/deny-again serverside-applied\nfalse\n"
    );
    assert_eq!(
        err,
        "warning: NetworkPolicy deny-all applied, but this cluster has no CNI that enforces NetworkPolicy (looked for the DaemonSets cilium, calico-node, canal, weave-net, kube-router, antrea-agent in every namespace): it is stored and ignored; `kube::policy_enforced()` tells a lab\n"
    );
}

/// The authoring showcase, `examples/readiness.rhai`, run as an author runs it, on this
/// tier (kube-proxy, no policy-enforcing CNI): every check passes, and the NetworkPolicy
/// step says why it checks nothing.
#[test]
fn the_readiness_example_lab_passes_on_the_real_tier() {
    let Some(t) = T::new("readiness_example") else {
        return;
    };
    let script = t.file("examples/readiness.rhai");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("readiness.json");
    let (code, out, err) = super::labsh_binary(
        &t,
        &[
            "--report",
            report.to_str().unwrap(),
            "run",
            &script,
            "--",
            "--namespace",
            &t.ns,
            "--keep",
        ],
        "",
    );
    // The lab's own output, for the CI log.
    println!("{out}");
    assert_eq!(code, 0, "{out}\n{err}");
    for check in [
        "two-pods-running-none-ready",
        "no-ready-endpoint",
        "service-does-not-answer",
        "endpoint-is-the-ready-pod",
        "service-answers",
        "not-ready-pod-still-serves-directly",
        "only-the-ready-pod-answered",
    ] {
        assert!(
            out.lines().any(|l| l.contains("PASS") && l.contains(check)),
            "no PASS line for {check}:\n{out}\n{err}"
        );
    }
    assert!(!out.contains("FAIL"), "{out}");
    assert!(
        out.contains("Ce cluster n'a pas de plugin réseau qui applique les NetworkPolicy"),
        "{out}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["checks"].as_array().map(Vec::len), Some(7), "{json}");
}
