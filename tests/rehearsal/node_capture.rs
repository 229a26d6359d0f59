//! labsh's own captures in the rehearsal's nodes (issue 15), through a labsh session on the
//! world's API server: `tcpdump::start(pod)` on the pod's `lxc…` interface in its node's
//! network namespace, and a `-i any -v` capture on the pod's node, where the forwarded SYN
//! still carries the called node's DSCP mark (the datapath's stand-in for Cilium's DSR IP
//! option, `datapath.rs`) when it comes in on `eth0`.

use rhai::{Array, Dynamic, Map};

use super::datapath::{self, Mode};
use super::world::World;

const NODE_PORT: i64 = 32150;

/// A labsh session whose `kube::` primitives use the world's API server (the kubeconfig and
/// context the lab's kind stand-in wrote).
fn session(world: &World) -> labsh::Session {
    world
        .server
        .labsh_session(&world.kubeconfig, &format!("kind-{}", world.name()))
}

fn eval(s: &mut labsh::Session, script: &str) -> Dynamic {
    s.eval("test.rhai", script)
        .unwrap_or_else(|e| panic!("script failed:\n{e}\n--- script ---\n{script}"))
}

fn map(v: &Dynamic) -> Map {
    v.clone()
        .try_cast::<Map>()
        .unwrap_or_else(|| panic!("not a map: {v:?}"))
}

fn packets(v: &Dynamic) -> Vec<Map> {
    v.clone()
        .try_cast::<Array>()
        .unwrap_or_else(|| panic!("not an array: {v:?}"))
        .iter()
        .map(map)
        .collect()
}

/// A field as text (`""` for `()`).
fn text(m: &Map, key: &str) -> String {
    match m.get(key) {
        Some(v) if v.is_unit() => String::new(),
        Some(v) => v.to_string(),
        None => panic!("no `{key}` in {m:?}"),
    }
}

fn shown(ps: &[Map]) -> String {
    ps.iter()
        .map(|p| {
            format!(
                "{} {} {}.{} > {}.{} [{}] tos={}",
                text(p, "iface"),
                text(p, "dir"),
                text(p, "src"),
                text(p, "sport"),
                text(p, "dst"),
                text(p, "dport"),
                text(p, "flags"),
                text(p, "tos")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The tcpdump processes on `iface` whose command line mentions `marker`.
fn tcpdumps_on(iface: &str, marker: &str) -> Vec<String> {
    super::processes_with(&["-i", iface])
        .into_iter()
        .filter(|p| p.starts_with("tcpdump ") && p.contains(marker))
        .collect()
}

/// `tcpdump::start(pod)` finds the pod's node (a Docker container) and the pod's `lxc…`
/// interface in it (the node's route to the pod's address), and captures there: the SYN of a
/// real request reaches the pod's address on port 80 and the pod's SYN-ACK answers it. Once
/// stopped, no tcpdump is left.
#[test]
fn pod_capture_records_a_requests_handshake_on_the_pods_lxc_and_stops_clean() {
    let Some(world) =
        World::new("pod_capture_records_a_requests_handshake_on_the_pods_lxc_and_stops_clean")
    else {
        return;
    };
    let world = world.with_lab_up_to_app(Mode::Dsr);
    let (gw, pod_ip, called) = (
        world.gateway.clone(),
        world.pod_ip(),
        world.nodes[0].ip.clone(),
    );
    let mut s = session(&world);
    // The filter's `not port 41731` names this test's tcpdump among the other tests'.
    let marker = "not port 41731";
    let started = map(&eval(
        &mut s,
        &format!(
            r#"
            let pod = kube::pods(#{{namespace: "default", selector: "app=guestbook,tier=frontend"}})[0];
            let cap = tcpdump::start(pod, #{{filter: "tcp port 80 and {marker}"}});
            let r = http::get("http://{called}:{NODE_PORT}/");
            cap.wait(#{{count: 2, timeout: "5s"}});
            #{{status: r.status, node: pod.node, capture: cap.to_string()}}
            "#
        ),
    ));
    assert_eq!(started["status"].as_int().unwrap(), 200, "{started:?}");
    assert_eq!(text(&started, "node"), world.pod_node().name);
    let running = tcpdumps_on(datapath::POD_VETH, marker);
    assert_eq!(running.len(), 1, "{running:?}");
    assert!(
        text(&started, "capture").contains(&format!("-i {}", datapath::POD_VETH)),
        "{started:?}"
    );

    let r = map(&eval(
        &mut s,
        "let pkts = cap.stop(); #{pkts: pkts, running: cap.running}",
    ));
    assert!(!r["running"].as_bool().unwrap(), "{r:?}");
    let ps = packets(&r["pkts"]);
    let syn = ps
        .iter()
        .find(|p| text(p, "flags") == "S")
        .unwrap_or_else(|| panic!("no SYN:\n{}", shown(&ps)));
    // DSR: the pod sees the client's own address.
    assert_eq!(
        (text(syn, "src"), text(syn, "dst"), text(syn, "dport")),
        (gw.clone(), pod_ip.clone(), "80".to_string()),
        "{}",
        shown(&ps)
    );
    let synack = ps
        .iter()
        .find(|p| text(p, "flags") == "S.")
        .unwrap_or_else(|| panic!("no SYN-ACK:\n{}", shown(&ps)));
    assert_eq!(
        (
            text(synack, "src"),
            text(synack, "sport"),
            text(synack, "dst"),
            text(synack, "dport")
        ),
        (
            pod_ip.clone(),
            "80".to_string(),
            gw.clone(),
            text(syn, "sport")
        ),
        "{}",
        shown(&ps)
    );
    // One interface: no `-i any` interface or direction on the packets.
    assert!(ps.iter().all(|p| p["iface"].is_unit()), "{}", shown(&ps));
    // Stopped means gone, with the session still open.
    assert_eq!(
        tcpdumps_on(datapath::POD_VETH, marker),
        Vec::<String>::new()
    );
    drop(s);
    super::assert_nothing_left_running(&world, None);
}

/// The `-v` DSR check on the datapath's real packets: in `dsr` mode the SYN the called node
/// forwards comes in on the pod's node's `eth0` with that node's DSCP mark (node N is DSCP
/// N+1: tos 0x4 for the control-plane, 0xc for `worker2`), which the pod's node clears before
/// the pod (`lxc…` Out has tos 0); `verdicts::dsr` passes and reports that mark. In `snat`
/// mode there is no mark and the failed verdict mentions none.
#[test]
fn verbose_any_capture_on_the_pods_node_reports_the_called_nodes_dscp_mark_in_dsr_mode_only() {
    let Some(world) = World::new(
        "verbose_any_capture_on_the_pods_node_reports_the_called_nodes_dscp_mark_in_dsr_mode_only",
    ) else {
        return;
    };
    let world = world.with_lab_up_to_app(Mode::Dsr);
    let (gw, pod_ip, pod_node) = (
        world.gateway.clone(),
        world.pod_ip(),
        world.pod_node().name.clone(),
    );
    let cluster = world.name().to_string();
    let mut s = session(&world);
    let capture = |s: &mut labsh::Session, called: &str| -> (Vec<Map>, bool, String) {
        let r = map(&eval(
            s,
            &format!(
                r#"
                import "verdicts" as verdicts;
                let n = cluster::node({cluster:?}, {pod_node:?});
                let cap = tcpdump::start(n, #{{iface: "any", verbose: true, filter: "tcp port 80 or tcp port {NODE_PORT}"}});
                let r = http::get("http://{called}:{NODE_PORT}/");
                cap.wait(#{{count: 4, timeout: "5s"}});
                let pkts = cap.stop();
                let v = verdicts::dsr(pkts, "{gw}", "{pod_ip}", "{called}", {NODE_PORT});
                #{{status: r.status, pkts: pkts, passed: v.passed, reason: v.reason}}
                "#
            ),
        ));
        assert_eq!(r["status"].as_int().unwrap(), 200, "{r:?}");
        (
            packets(&r["pkts"]),
            r["passed"].as_bool().unwrap(),
            text(&r, "reason"),
        )
    };
    // The SYN toward the pod as it came in on the node's eth0, and as it left toward the pod.
    let syns = |ps: &[Map]| -> (Map, Map) {
        let syn_on = |iface: &str, dir: &str| {
            ps.iter()
                .find(|p| {
                    text(p, "flags") == "S"
                        && text(p, "dst") == pod_ip
                        && text(p, "iface") == iface
                        && text(p, "dir") == dir
                })
                .unwrap_or_else(|| panic!("no SYN {dir} on {iface}:\n{}", shown(ps)))
                .clone()
        };
        (syn_on("eth0", "In"), syn_on(datapath::POD_VETH, "Out"))
    };

    for (called_index, tos) in [(0usize, 4i64), (2, 12)] {
        let called = world.nodes[called_index].ip.clone();
        let (ps, passed, reason) = capture(&mut s, &called);
        assert!(passed, "dsr via {called}: {reason}\n{}", shown(&ps));
        let (incoming, to_pod) = syns(&ps);
        assert_eq!(incoming["tos"].as_int().unwrap(), tos, "{}", shown(&ps));
        assert_eq!(to_pod["tos"].as_int().unwrap(), 0, "{}", shown(&ps));
        assert_eq!(text(&incoming, "src"), gw);
        let note = format!("the SYN carries tos {tos} (DSCP {})", called_index + 1);
        assert!(
            reason.ends_with(&format!("Direct Server Return; {note}")),
            "dsr via {called}: {reason}\n{}",
            shown(&ps)
        );
    }

    world.program(Mode::Snat);
    let called = world.nodes[0].ip.clone();
    let (ps, passed, reason) = capture(&mut s, &called);
    assert!(!passed, "snat: {reason}");
    let (incoming, _) = syns(&ps);
    assert_eq!(incoming["tos"].as_int().unwrap(), 0, "{}", shown(&ps));
    assert_eq!(text(&incoming, "src"), called, "{}", shown(&ps));
    assert!(reason.contains("SNAT"), "{reason}");
    assert!(
        !reason.contains("the SYN carries") && !reason.contains("DSCP"),
        "snat: {reason}"
    );
    drop(s);
    super::assert_nothing_left_running(&world, None);
}
