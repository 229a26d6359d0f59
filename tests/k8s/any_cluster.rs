//! `cluster::current()` on the real tier, whose nodes are network namespaces (not Docker
//! containers): nodes from the API, `node.exec`, `node.host_veth(pod)` and captures through
//! the node debug pod (the locally built stand-in for `docker.io/nicolaka/netshoot:v0.13`,
//! see `tests/k8s/images.sh`), and what is left after stop, a script error, Ctrl-C and
//! SIGKILL: no debug pod, no tcpdump in the node.
//!
//! Each test puts its debug pods in its own namespace (`cluster::current(#{namespace: NS})`)
//! and uses its own ports in tcpdump filters, so that "nothing left" looks at its own only;
//! the node's network namespace is found from the node's InternalIP, so the tests hold for
//! one node and for several.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{T, eventually, strings};

/// Every debug pod's first use sweeps the pods of dead runs in all namespaces, and `labsh
/// clean` removes them: the tests that kill a run or clean hold this for writing, so that
/// their own next run, not another test's, finds the killed run's pod; the other tests
/// making debug pods (here, and the labs in `source_ip.rs`, `tp12_context.rs`) hold it for
/// reading.
static SWEEPS: std::sync::RwLock<()> = std::sync::RwLock::new(());

pub(super) fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SWEEPS.read().unwrap_or_else(|e| e.into_inner())
}

const SELECTOR: &str = "app.kubernetes.io/managed-by=labsh,app.kubernetes.io/component=node-debug";

/// The network namespace (under /run/netns) holding address `ip`.
fn netns_with_address(ip: &str) -> String {
    let list = Command::new("ip").args(["netns", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let addrs = Command::new("ip")
            .args(["-n", name, "-o", "-4", "addr", "show"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&addrs.stdout).contains(&format!(" {ip}/")) {
            return name.to_string();
        }
    }
    panic!("no network namespace has the address {ip}:\n{list}");
}

/// Processes in network namespace `netns` whose command line contains `marker`.
fn processes_in(netns: &str, marker: &str) -> Vec<String> {
    let pids = Command::new("ip")
        .args(["netns", "pids", netns])
        .output()
        .unwrap();
    String::from_utf8_lossy(&pids.stdout)
        .lines()
        .filter_map(|pid| {
            let cmd = std::fs::read(format!("/proc/{}/cmdline", pid.trim())).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains(marker)
                .then(|| format!("{}: {cmd}", pid.trim()))
        })
        .collect()
}

/// The debug pods in the test's namespace.
fn debug_pods(t: &T) -> Vec<String> {
    let out = t.kubectl(&[
        "get",
        "pods",
        "-l",
        SELECTOR,
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}",
    ]);
    out.lines().map(str::to_string).collect()
}

/// The first node, as `kubectl get nodes` orders them: (name, InternalIP).
fn first_node(t: &T) -> (String, String) {
    let out = t.kubectl(&[
        "get",
        "nodes",
        "-o",
        "jsonpath={.items[0].metadata.name} {.items[0].status.addresses[?(@.type==\"InternalIP\")].address}",
    ]);
    let (name, ip) = out.trim().split_once(' ').unwrap();
    (name.to_string(), ip.to_string())
}

#[test]
fn current_lists_the_nodes_with_address_pod_cidr_roles_and_readiness() {
    let Some(mut t) = T::new("current_lists_the_nodes") else {
        return;
    };
    let v = t.ok(
        r#"cluster::current().nodes().map(|n| `${n.name} ip=${n.ip} cidr=${n.pod_cidr} ready=${n.ready} role=${n.role} roles=${n.roles} access=${n.access} cluster=${n.cluster}`)"#,
    );
    // The oracle: kubectl's view of the same nodes (no role label here: role "worker").
    let expected: Vec<String> = t
        .kubectl(&[
            "get",
            "nodes",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} ip={.status.addresses[?(@.type==\"InternalIP\")].address} cidr={.spec.podCIDR} ready={.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}",
        ])
        .lines()
        .map(|l| {
            format!(
                "{} role=worker roles=[] access=debug-pod cluster=labsh-test",
                l.replace("ready=True", "ready=true")
            )
        })
        .collect();
    let got = strings(v);
    assert_eq!(got, expected);
    assert!(!got.is_empty());
    assert!(
        got[0].contains(&format!("ip={}", t.cluster.node_ip)) || got.len() > 1,
        "{got:?}"
    );
    // Listing nodes makes no debug pod.
    assert!(debug_pods(&t).is_empty());
    let err = t.err(r#"cluster::current().node("no-such-node")"#);
    assert!(
        err.contains("context `labsh-test` has no node \"no-such-node\"; its nodes: "),
        "{err}"
    );
}

#[test]
fn node_exec_runs_in_the_nodes_network_namespace_through_one_debug_pod() {
    let Some(mut t) = T::new("node_exec_in_the_node") else {
        return;
    };
    let _sweeps = shared();
    let (node, ip) = first_node(&t);
    let netns = netns_with_address(&ip);
    let v = t.ok(&format!(
        r#"let n = cluster::current(#{{namespace: NS}}).node("{node}");
           let links = n.exec(["ip", "-o", "link"]);
           let fail = n.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
           [links.code, links.stdout, fail.code, fail.stdout, fail.stderr]"#
    ));
    let v = v.into_array().unwrap();
    assert_eq!(v[0].as_int().unwrap(), 0);
    // The same interfaces (names and indexes) as the node's namespace seen from the host.
    let host_view = Command::new("ip")
        .args(["-n", &netns, "-o", "link"])
        .output()
        .unwrap();
    let names = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                let (i, rest) = l.split_once(": ")?;
                Some(format!("{i}:{}", rest.split([':', '@']).next()?))
            })
            .collect()
    };
    let seen = names(&v[1].clone().into_string().unwrap());
    assert_eq!(
        seen,
        names(&String::from_utf8_lossy(&host_view.stdout)),
        "node.exec ran in the node's network namespace"
    );
    assert!(seen.iter().any(|l| l.ends_with(":eth0")), "{seen:?}");
    assert_eq!(v[2].as_int().unwrap(), 3);
    assert_eq!(v[3].clone().into_string().unwrap(), "out\n");
    assert_eq!(v[4].clone().into_string().unwrap(), "err\n");
    // Both execs went through one debug pod, made for this run.
    assert_eq!(debug_pods(&t).len(), 1, "{:?}", debug_pods(&t));
    // A timeout stops the command in the node.
    let err = t.err(&format!(
        r#"cluster::current(#{{namespace: NS}}).node("{node}").exec(["sleep", "4321"], #{{timeout: "2s"}})"#
    ));
    assert!(
        err.contains(&format!(
            "node {node}: `sleep 4321` timed out after 2s and was stopped"
        )),
        "{err}"
    );
    eventually("sleep 4321 to be gone from the node", 10, || {
        processes_in(&netns, "sleep 4321").is_empty()
    });
    // Streamed lines; the callback's `false` stops the command in the node.
    let v = t.ok(&format!(
        r#"let seen = [];
           let r = cluster::current(#{{namespace: NS}}).node("{node}").exec_stream(
               ["sh", "-c", "for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 1; done", "stream-5432"],
               |line| {{ seen.push(line); line != "3" }});
           [seen, r.stopped, r.code]"#
    ));
    assert_eq!(format!("{v:?}"), r#"[["1", "2", "3"], true, ()]"#);
    eventually("the streamed command to be gone from the node", 10, || {
        processes_in(&netns, "stream-5432").is_empty()
    });
    // The end of the session deletes the debug pod.
    drop(t.session);
    let t2 = T {
        cluster: t.cluster,
        session: t.cluster.session(),
        ns: t.ns.clone(),
    };
    assert!(debug_pods(&t2).is_empty(), "{:?}", debug_pods(&t2));
}

#[test]
fn host_veth_of_a_pod_is_the_node_side_peer_of_its_eth0() {
    let Some(mut t) = T::new("host_veth_of_a_pod") else {
        return;
    };
    let _sweeps = shared();
    t.frontend();
    let pod = t.frontend_pod();
    let v = t.ok(&format!(
        r#"let pod = kube::pod("{pod}", #{{namespace: NS}});
           let n = cluster::current(#{{namespace: NS}}).node(pod.node);
           [n.host_veth(pod), n.ip]"#
    ));
    let v = strings(v);
    // The oracle: the pod's eth0 iflink, and the node's interface with that index.
    let iflink = t.kubectl(&["exec", &pod, "--", "cat", "/sys/class/net/eth0/iflink"]);
    let netns = netns_with_address(&v[1]);
    let links = Command::new("ip")
        .args(["-n", &netns, "-o", "link"])
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout).to_string();
    let expected = links
        .lines()
        .find_map(|l| {
            let (i, rest) = l.split_once(": ")?;
            (i == iflink.trim()).then(|| rest.split(['@', ':']).next().unwrap().to_string())
        })
        .unwrap_or_else(|| panic!("no link {} in {netns}:\n{links}", iflink.trim()));
    assert_eq!(v[0], expected);
    assert!(expected.starts_with("veth"), "{expected}");
    // Asked of another node than the pod's, it says so.
    let err = t.err(&format!(
        r#"let pod = kube::pod("{pod}", #{{namespace: NS}});
           let others = cluster::current(#{{namespace: NS}}).nodes().filter(|n| n.name != pod.node);
           if others.is_empty() {{ throw "single node: the pod runs on " + pod.node + ", not on elsewhere"; }}
           others[0].host_veth(pod)"#
    ));
    assert!(err.contains(", not on "), "{err}");
}

#[test]
fn a_capture_through_the_debug_pod_sees_a_real_nodeport_syn_and_stops_in_the_node() {
    let Some(mut t) = T::new("capture_through_the_debug_pod") else {
        return;
    };
    let _sweeps = shared();
    t.frontend();
    let url = t.frontend_url("/");
    let np = t
        .ok(r#"kube::service("frontend", #{namespace: NS}).node_port()"#)
        .as_int()
        .unwrap();
    eventually("the NodePort to answer", 30, || {
        let v = t.ok(&format!(
            r#"let r = http::get("{url}", #{{timeout: "2s", fail: false}}); r.status ?? r.error"#
        ));
        format!("{v:?}") == "200"
    });
    let node_ip = t.cluster.node_ip.clone();
    let netns = netns_with_address(&node_ip);
    let v = t.ok(&format!(
        r#"let node = cluster::current(#{{namespace: NS}}).nodes().filter(|n| n.ip == "{node_ip}")[0];
           let pod = kube::pods(#{{namespace: NS, selector: "tier=frontend"}})[0];
           let cap = tcpdump::start(node, #{{filter: "tcp port {np}", verbose: true}});
           let on_pod = tcpdump::start(pod, #{{filter: "tcp port 80", ether: true}});
           let r = http::get("{url}", #{{timeout: "5s"}});
           cap.wait(#{{count: 1, timeout: "10s"}});
           on_pod.wait(#{{count: 1, timeout: "10s"}});
           let syns = cap.stop().filter(|p| p.syn && !p.ack);
           let pod_syns = on_pod.stop().filter(|p| p.syn && !p.ack);
           [r.status, syns.len(), syns[0].dst, syns[0].dport, syns[0].iface, syns[0].ttl > 0,
            pod_syns[0].dst, pod_syns[0].dport, pod.ip, cap.stats().captured >= 1,
            pod_syns[0].dst_mac.len() == 17]"#
    ));
    let v = v.into_array().unwrap();
    let text: Vec<String> = v.iter().map(|d| d.to_string()).collect();
    assert_eq!(text[0], "200", "{text:?}");
    assert!(v[1].as_int().unwrap() >= 1, "{text:?}");
    assert_eq!(
        text[2], node_ip,
        "the SYN went to the node's address: {text:?}"
    );
    assert_eq!(text[3], np.to_string(), "{text:?}");
    assert_eq!(
        text[4], "eth0",
        "seen on the node's eth0 (-i any): {text:?}"
    );
    assert_eq!(text[5], "true", "-v gave the TTL: {text:?}");
    assert_eq!(
        text[6], text[8],
        "the pod's veth saw the SYN to the pod: {text:?}"
    );
    assert_eq!(text[7], "80", "{text:?}");
    assert_eq!(text[9], "true", "tcpdump's statistics came back: {text:?}");
    assert_eq!(text[10], "true", "-e gave the MAC addresses: {text:?}");
    // stop() ended tcpdump in the node.
    let left = processes_in(&netns, &format!("tcp port {np}"));
    assert!(left.is_empty(), "tcpdump left in the node: {left:?}");
    let left = processes_in(&netns, "tcp port 80");
    assert!(left.is_empty(), "tcpdump left in the node: {left:?}");
}

#[test]
fn explain_prints_kubectl_debug_node_for_exec_and_captures() {
    let Some(mut t) = T::new("explain_kubectl_debug") else {
        return;
    };
    let _sweeps = shared();
    t.frontend();
    let (node, _) = first_node(&t);
    // A command and a capture on a node, then a capture on a pod's veth in its node (found
    // through the debug pod, and an exec in the pod).
    let script = format!(
        r#"let c = cluster::current(#{{namespace: "{ns}"}});
           let n = c.node("{node}");
           n.exec(["true"]);
           let cap = tcpdump::start(n, #{{filter: "udp port 47003"}});
           cap.stop();
           let pod = kube::pods(#{{namespace: "{ns}", selector: "tier=frontend"}})[0];
           let on = c.node(pod.node);
           let veth = on.host_veth(pod);
           print(`pod ${{pod.name}} ${{pod.ip}} ${{pod.node}} ${{veth}}`);
           tcpdump::start(on, #{{iface: veth, filter: "udp port 47006"}}).stop();"#,
        ns = t.ns
    );
    let (code, out, err) = labsh(&t, &["--explain"], &script);
    assert_eq!(code, 0, "{out}\n{err}");
    let seen = out
        .lines()
        .find_map(|l| l.strip_prefix("pod "))
        .unwrap_or_else(|| panic!("{out}"));
    let [pod, pod_ip, pod_node, veth]: [&str; 4] =
        seen.split(' ').collect::<Vec<_>>().try_into().unwrap();
    let image = "docker.io/nicolaka/netshoot:v0.13";
    let debug = |n: &str, cmd: &str| format!("kubectl debug node/{n} -it --image={image} -- {cmd}");
    for line in [
        debug(&node, "true"),
        debug(&node, "tcpdump -n -l -U -i any 'udp port 47003'"),
        debug(pod_node, &format!("ip -o route get {pod_ip}")),
        // The tier's bridge CNI routes pods through the bridge: the veth is the peer of the
        // pod's eth0.
        format!(
            "kubectl exec -n {} {pod} -- cat /sys/class/net/eth0/iflink",
            t.ns
        ),
        debug(pod_node, "ip -o link show"),
        debug(
            pod_node,
            &format!("tcpdump -n -l -U -i {veth} 'udp port 47006'"),
        ),
    ] {
        assert!(
            out.contains(&line) || err.contains(&line),
            "missing {line:?} in:\n{out}\n{err}"
        );
    }
}

/// Writes `script` to a file and runs the `labsh` binary on it against the cluster.
fn spawn_labsh(t: &T, flags: &[&str], script: &str) -> (Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.rhai");
    std::fs::write(&path, script).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_labsh"))
        .args(flags)
        .arg("run")
        .arg(&path)
        .env("KUBECONFIG", &t.cluster.kubeconfig)
        .env_remove("LABSH_NODE_IMAGE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, dir)
}

fn finish(child: Child) -> (i32, String, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn labsh(t: &T, flags: &[&str], script: &str) -> (i32, String, String) {
    let (child, _dir) = spawn_labsh(t, flags, script);
    finish(child)
}

/// Starts labsh on `script` and waits until it prints `started` (a safety limit of 120 s).
fn started(t: &T, script: &str) -> (Child, tempfile::TempDir) {
    let (mut child, dir) = spawn_labsh(t, &[], script);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !line.contains("started") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "labsh ended before `started`: {:?}",
            finish(child)
        );
        assert!(Instant::now() < deadline);
    }
    (child, dir)
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill(2) on the pid of a child we started and have not reaped yet.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

#[test]
fn no_tcpdump_or_debug_pod_is_left_after_a_script_error_or_ctrl_c() {
    let Some(t) = T::new("nothing_left_after_error_or_ctrl_c") else {
        return;
    };
    let _sweeps = shared();
    let (node, ip) = first_node(&t);
    let netns = netns_with_address(&ip);
    let capture = |port: u32| {
        format!(
            r#"let n = cluster::current(#{{namespace: "{ns}"}}).node("{node}");
               let cap = tcpdump::start(n, #{{filter: "udp port {port}"}});
               print("started");"#,
            ns = t.ns
        )
    };
    // A script error while the capture runs.
    let (code, _, err) = labsh(&t, &[], &format!("{}\nthrow \"boom\";\n", capture(47001)));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("boom"), "{err}");
    assert!(debug_pods(&t).is_empty(), "{:?}", debug_pods(&t));
    let left = processes_in(&netns, "udp port 47001");
    assert!(left.is_empty(), "tcpdump left after an error: {left:?}");
    // Ctrl-C while the script sleeps with the capture running.
    let (child, _dir) = started(&t, &format!("{}\nsleep(\"1m\");\n", capture(47002)));
    assert_eq!(
        processes_in(&netns, "udp port 47002").len(),
        1,
        "tcpdump runs in the node while the capture does"
    );
    signal(&child, libc::SIGINT);
    let (code, _, err) = finish(child);
    assert_eq!(code, 130, "{err}");
    assert!(debug_pods(&t).is_empty(), "{:?}", debug_pods(&t));
    let left = processes_in(&netns, "udp port 47002");
    assert!(left.is_empty(), "tcpdump left after Ctrl-C: {left:?}");
}

/// Runs labsh with a capture (filter `udp port PORT`) through `node`'s debug pod, in the
/// test's namespace, and kills it with SIGKILL once the capture runs: (its pid, its stderr).
fn killed_run(t: &T, node: &str, port: u32) -> (u32, String) {
    let script = format!(
        r#"let n = cluster::current(#{{namespace: "{ns}"}}).node("{node}");
           let cap = tcpdump::start(n, #{{filter: "udp port {port}"}});
           print("started");
           sleep("1m");"#,
        ns = t.ns
    );
    let (child, _dir) = started(t, &script);
    let pid = child.id();
    signal(&child, libc::SIGKILL);
    let (_, _, err) = finish(child);
    (pid, err)
}

#[test]
fn a_debug_pod_left_by_a_killed_run_is_removed_by_the_next_run() {
    let Some(t) = T::new("debug_pod_left_by_sigkill") else {
        return;
    };
    let _sweeps = SWEEPS.write().unwrap_or_else(|e| e.into_inner());
    let (node, ip) = first_node(&t);
    let netns = netns_with_address(&ip);
    let (pid, _) = killed_run(&t, &node, 47004);
    // SIGKILL gives labsh no chance: its debug pod (and tcpdump in it) stay.
    let left = debug_pods(&t);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].contains(&format!("-{pid}-")), "{left:?}");
    // The next run that needs a debug pod on the cluster removes it and says so.
    let (code, _, err) = labsh(
        &t,
        &[],
        &format!(
            r#"cluster::current(#{{namespace: "{ns}"}}).node("{node}").exec(["true"]);"#,
            ns = t.ns
        ),
    );
    assert_eq!(code, 0, "{err}");
    let said = format!(
        "labsh: removed the debug pod {}/{} on node {node} left by an earlier run (pid {pid}, which ended without deleting it)",
        t.ns, left[0]
    );
    assert!(err.contains(&said), "expected {said:?} in:\n{err}");
    assert!(debug_pods(&t).is_empty(), "{:?}", debug_pods(&t));
    eventually("the killed run's tcpdump to end with its pod", 15, || {
        processes_in(&netns, "udp port 47004").is_empty()
    });
}

/// Runs `labsh [flags] clean` against the cluster: (exit code, stdout, stderr).
fn labsh_clean(t: &T, flags: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_labsh"))
        .args(flags)
        .args(["clean", "--context", super::k8s::CONTEXT])
        .env("KUBECONFIG", &t.cluster.kubeconfig)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn labsh_clean_removes_the_debug_pods_killed_runs_left_and_runs_name_it() {
    let Some(t) = T::new("labsh_clean_after_sigkill") else {
        return;
    };
    let _sweeps = SWEEPS.write().unwrap_or_else(|e| e.into_inner());
    let (node, ip) = first_node(&t);
    let netns = netns_with_address(&ip);
    // A debug pod a run on another machine left: labsh cannot tell whether that run is over.
    let elsewhere = format!(
        r#"{{"apiVersion": "v1", "kind": "Pod",
            "metadata": {{"name": "labsh-debug-elsewhere", "labels": {{"app.kubernetes.io/managed-by": "labsh", "app.kubernetes.io/component": "node-debug"}},
                          "annotations": {{"labsh.dev/owner": "elsewhere 1 1"}}}},
            "spec": {{"nodeName": "{node}", "terminationGracePeriodSeconds": 1,
                      "containers": [{{"name": "debug", "image": "docker.io/nicolaka/netshoot:v0.13", "imagePullPolicy": "IfNotPresent", "command": ["sleep", "86400"]}}]}}}}"#
    );
    let file = std::env::temp_dir().join(format!("{}-elsewhere.json", t.ns));
    std::fs::write(&file, elsewhere).unwrap();
    t.kubectl(&["apply", "-f", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    // A run with a capture through its debug pod, killed with SIGKILL: its pod and tcpdump
    // stay. Its first debug pod looked for leftovers and named `labsh clean` for the one
    // it may not remove.
    let (pid, err) = killed_run(&t, &node, 47005);
    let warned = format!(
        "labsh: the debug pod {ns}/labsh-debug-elsewhere on node {node} belongs to a run elsewhere (elsewhere 1 1); left alone: `labsh clean --context {ctx}` removes it once that run is over",
        ns = t.ns,
        ctx = super::k8s::CONTEXT
    );
    assert!(err.contains(&warned), "expected {warned:?} in:\n{err}");
    let left = debug_pods(&t);
    let killed: Vec<&String> = left
        .iter()
        .filter(|p| p.contains(&format!("-{pid}-")))
        .collect();
    assert_eq!(killed.len(), 1, "{left:?}");
    assert_eq!(left.len(), 2, "{left:?}");
    assert_eq!(processes_in(&netns, "udp port 47005").len(), 1);
    // `labsh clean` removes both and says so; --explain names the kubectl commands.
    let (code, out, err) = labsh_clean(&t, &["--explain"]);
    assert_eq!(code, 0, "{out}\n{err}");
    for explained in [
        format!("$ kubectl get pods -A -l {SELECTOR}"),
        format!(
            "$ kubectl delete pod -n {} {} --grace-period=0",
            t.ns, killed[0]
        ),
        format!(
            "$ kubectl delete pod -n {} labsh-debug-elsewhere --grace-period=0",
            t.ns
        ),
    ] {
        assert!(
            err.contains(&explained),
            "expected {explained:?} in:\n{err}"
        );
    }
    for said in [
        format!(
            "removed the debug pod {}/{} on node {node} (left by pid {pid}, which ended)",
            t.ns, killed[0]
        ),
        format!(
            "removed the debug pod {}/labsh-debug-elsewhere on node {node} (owner elsewhere 1 1)",
            t.ns
        ),
    ] {
        assert!(out.contains(&said), "expected {said:?} in:\n{out}\n{err}");
    }
    assert!(debug_pods(&t).is_empty(), "{:?}", debug_pods(&t));
    eventually("the killed run's tcpdump to end with its pod", 15, || {
        processes_in(&netns, "udp port 47005").is_empty()
    });
    // Nothing left: a second clean says so.
    let (code, out, err) = labsh_clean(&t, &[]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("no labsh debug pod on context `labsh-test`"),
        "{out}\n{err}"
    );
}
