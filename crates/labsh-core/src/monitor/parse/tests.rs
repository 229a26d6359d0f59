//! The parser on the handout's real `cilium monitor` output (both listings of TP12), on lines
//! built from the Go format strings (lab-facts §7), and on many mutations of both.

use super::*;
use crate::monitor::event::{Event, FieldRef};
use crate::monitor::line::parse;

/// Both `cilium monitor` listings of the TP12 handout, verbatim.
const HANDOUT: &str = include_str!("../testdata/tp12_monitor.txt");

fn handout_lines() -> impl Iterator<Item = &'static str> {
    HANDOUT.lines()
}

/// The event's serialised form (what scripts and reports see).
fn json(e: &Event) -> serde_json::Value {
    serde_json::to_value(e).unwrap()
}

fn s<'a>(e: &'a Event, name: &str) -> &'a str {
    e.str(name)
        .unwrap_or_else(|| panic!("no text field `{name}` in {e:?}"))
}

fn i(e: &Event, name: &str) -> i64 {
    e.int(name)
        .unwrap_or_else(|| panic!("no integer field `{name}` in {e:?}"))
}

/// Rebuilds a trace line from its fields with the 1.12 format string.
fn format_trace(e: &Event) -> String {
    let endpoint = match e.get("endpoint") {
        Some(FieldRef::Int(n)) => format!(" {n}"),
        _ => String::new(),
    };
    format!(
        "{} {}{endpoint} flow {} , identity {}->{} state {} ifindex {} orig-ip {}: {}:{} -> {}:{} {} {}",
        s(e, "dir"),
        s(e, "point"),
        s(e, "flow"),
        s(e, "src_identity"),
        s(e, "dst_identity"),
        s(e, "state"),
        s(e, "ifindex"),
        s(e, "orig_ip"),
        s(e, "src"),
        i(e, "sport"),
        s(e, "dst"),
        i(e, "dport"),
        s(e, "proto"),
        e.flags().join(", "),
    )
}

#[test]
fn every_handout_line_is_recognised() {
    let mut kinds = std::collections::BTreeMap::new();
    for line in handout_lines() {
        let e = parse(line);
        assert_eq!(e.raw(), line);
        assert_ne!(e.kind(), Kind::Unknown, "{line}");
        *kinds.entry(e.kind().as_str()).or_insert(0) += 1;
    }
    let kinds: Vec<(&str, i32)> = kinds.into_iter().collect();
    assert_eq!(kinds, [("agent", 3), ("info", 7), ("trace", 26)]);
}

#[test]
fn every_handout_trace_rebuilds_from_its_fields() {
    let mut n = 0;
    for line in handout_lines() {
        let e = parse(line);
        if e.kind() == Kind::Trace {
            assert_eq!(format_trace(&e), line);
            n += 1;
        }
    }
    assert_eq!(n, 26);
}

#[test]
fn nodeport_syn_to_the_frontend_endpoint() {
    let e = parse(
        "-> endpoint 1890 flow 0xe0d23007 , identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN",
    );
    let m = json(&e);
    let get = |k: &str| m.get(k).cloned().unwrap_or_else(|| panic!("no {k}"));
    assert_eq!(get("kind"), "trace");
    assert_eq!(get("dir"), "->");
    assert_eq!(get("point"), "endpoint");
    assert_eq!(get("endpoint"), 1890);
    assert_eq!(get("flow"), "0xe0d23007");
    assert_eq!(get("src_identity"), "world");
    assert_eq!(get("dst_identity"), "6623");
    assert_eq!(get("state"), "new");
    assert_eq!(get("ifindex"), "lxc39c176bde913");
    assert_eq!(get("orig_ip"), "172.18.0.1");
    assert_eq!(get("src"), "172.18.0.1");
    assert_eq!(get("sport"), 59700);
    assert_eq!(get("dst"), "10.244.4.66");
    assert_eq!(get("dport"), 80);
    assert_eq!(get("proto"), "tcp");
    assert_eq!(get("flags"), serde_json::json!(["SYN"]));
    assert_eq!(get("raw"), e.raw());
}

#[test]
fn stack_trace_has_no_endpoint_and_two_flags() {
    let e = parse(
        "-> stack flow 0x3f7084a , identity 6623->world state reply ifindex 0 orig-ip 0.0.0.0: 172.18.0.3:32150 -> 172.18.0.1:59700 tcp SYN, ACK",
    );
    assert_eq!(e.get("endpoint"), Some(FieldRef::Unit));
    assert!(json(&e)["endpoint"].is_null());
    assert_eq!(s(&e, "point"), "stack");
    assert_eq!(s(&e, "ifindex"), "0");
    assert_eq!(e.flags(), ["SYN", "ACK"]);
    assert_eq!(i(&e, "sport"), 32150);
}

#[test]
fn agent_line_carries_its_json_payload_as_a_map() {
    let e = parse(
        r#">> IPCache entry upserted: {"cidr":"10.244.4.222/32","id":1,"old-id":1,"encrypt-key":0}"#,
    );
    assert_eq!(e.kind(), Kind::Agent);
    assert_eq!(s(&e, "subtype"), "IPCache entry upserted");
    let m = json(&e);
    let data = m["data"].as_object().unwrap();
    assert_eq!(data["cidr"], "10.244.4.222/32");
    assert_eq!(data["old-id"], 1);
}

#[test]
fn agent_line_without_json_keeps_the_text() {
    let e = parse(">> Endpoint regenerated: not json");
    assert_eq!(e.kind(), Kind::Agent);
    assert_eq!(s(&e, "message"), "not json");
    assert!(json(&e)["data"].is_null());
}

#[test]
fn header_and_log_lines_are_info() {
    for line in [
        "Listening for events on 4 CPUs with 64x4096 of shared memory",
        "Press Ctrl-C to quit",
        "level=info msg=\"Initializing dissection cache...\" subsys=monitor",
        &"-".repeat(78),
        "Ethernet\t{Contents=[..14..] Payload=[..62..] SrcMAC=02:42:ac:12:00:01 DstMAC=aa:bb:cc:dd:ee:ff EthernetType=IPv4 Length=0}",
        "",
    ] {
        let e = parse(line);
        assert_eq!(e.kind(), Kind::Info, "{line:?}");
        assert_eq!(s(&e, "message"), line);
    }
}

#[test]
fn drop_new_and_old_file_forms_give_the_same_fields() {
    let new = parse(
        "xx drop (Policy denied) flow 0x0 to endpoint 1890, ifindex 29, file bpf_lxc.c:2005, , identity world->6623: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN",
    );
    let old = parse(
        "xx drop (Policy denied) flow 0x0 to endpoint 1890, ifindex 29, file bpf_lxc.c line 2005, , identity world->6623: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN",
    );
    for e in [&new, &old] {
        assert_eq!(e.kind(), Kind::Drop);
        assert_eq!(s(e, "reason"), "Policy denied");
        assert_eq!(s(e, "flow"), "0x0");
        assert_eq!(i(e, "endpoint"), 1890);
        assert_eq!(s(e, "ifindex"), "29");
        assert_eq!(s(e, "file"), "bpf_lxc.c");
        assert_eq!(i(e, "line"), 2005);
        assert_eq!(s(e, "src_identity"), "world");
        assert_eq!(s(e, "dst_identity"), "6623");
        assert_eq!(s(e, "dst"), "10.244.4.66");
        assert_eq!(i(e, "dport"), 80);
        assert_eq!(e.flags(), ["SYN"]);
    }
    let mut a = json(&new);
    let mut b = json(&old);
    a.as_object_mut().unwrap().remove("raw");
    b.as_object_mut().unwrap().remove("raw");
    assert_eq!(a, b);
}

#[test]
fn drop_reason_with_parentheses_is_kept_whole() {
    let e = parse(
        "xx drop (Policy denied (L3)) flow 0x1 to endpoint 0, ifindex 4, file bpf_host.c:1100, , identity 2->6623: 172.18.0.1:1 -> 10.244.4.66:80 tcp SYN",
    );
    assert_eq!(s(&e, "reason"), "Policy denied (L3)");
    assert_eq!(i(&e, "endpoint"), 0);
}

#[test]
fn trace_with_comma_less_identity_parses_like_the_new_form() {
    let old = parse(
        "-> endpoint 1890 flow 0xe0d23007 identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN",
    );
    let new = parse(
        "-> endpoint 1890 flow 0xe0d23007 , identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN",
    );
    assert_eq!(old.kind(), Kind::Trace);
    let mut a = json(&old);
    let mut b = json(&new);
    a.as_object_mut().unwrap().remove("raw");
    b.as_object_mut().unwrap().remove("raw");
    assert_eq!(a, b);
}

#[test]
fn policy_verdict_with_and_without_auth() {
    let old = parse(
        "Policy verdict log: flow 0xe0d23007 local EP ID 1890, remote ID world, proto 6, ingress, action allow, match L3-L4, 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN",
    );
    let new = parse(
        "Policy verdict log: flow 0x0 local EP ID 1890, remote ID 2, proto 6, egress, action deny, auth: disabled, match none, 10.244.4.66:41000 -> 10.244.4.89:6379 tcp SYN",
    );
    assert_eq!(old.kind(), Kind::PolicyVerdict);
    assert_eq!(s(&old, "flow"), "0xe0d23007");
    assert_eq!(i(&old, "endpoint"), 1890);
    assert_eq!(s(&old, "remote_identity"), "world");
    assert_eq!(i(&old, "ip_proto"), 6);
    assert_eq!(s(&old, "direction"), "ingress");
    assert_eq!(s(&old, "action"), "allow");
    assert_eq!(s(&old, "matched"), "L3-L4");
    assert_eq!(old.get("auth"), None);
    assert_eq!(s(&old, "src"), "172.18.0.1");
    assert_eq!(i(&old, "dport"), 80);
    assert_eq!(s(&old, "proto"), "tcp");

    assert_eq!(new.kind(), Kind::PolicyVerdict);
    assert_eq!(s(&new, "remote_identity"), "2");
    assert_eq!(s(&new, "direction"), "egress");
    assert_eq!(s(&new, "action"), "deny");
    assert_eq!(s(&new, "auth"), "disabled");
    assert_eq!(s(&new, "matched"), "none");
    assert_eq!(i(&new, "dport"), 6379);
    assert_eq!(new.flags(), ["SYN"]);
}

#[test]
fn debug_lines_keep_cpu_mark_from_and_message() {
    let e = parse(
        "CPU 01: MARK 0x225d6fff FROM 1890 DEBUG: Conntrack lookup 1/2: src=172.18.0.1:38138 dst=10.244.4.66:80",
    );
    assert_eq!(e.kind(), Kind::Debug);
    assert_eq!(i(&e, "cpu"), 1);
    assert_eq!(s(&e, "mark"), "0x225d6fff");
    assert_eq!(i(&e, "from"), 1890);
    assert_eq!(
        s(&e, "message"),
        "Conntrack lookup 1/2: src=172.18.0.1:38138 dst=10.244.4.66:80"
    );
    let e = parse("CPU 03: MARK 0x0 FROM 1890 DEBUG: CT verdict: Established, revnat=0");
    assert_eq!(i(&e, "cpu"), 3);
    assert_eq!(s(&e, "message"), "CT verdict: Established, revnat=0");
}

#[test]
fn verbose_trace_has_the_observation_point_and_fields() {
    let e = parse(
        "CPU 01: MARK 0x225d6fff FROM 1890 to-endpoint: 74 bytes (74 captured), state new, interface lxc39c176bde913, , identity world->6623, orig-ip 172.18.0.1, to endpoint 1890",
    );
    assert_eq!(e.kind(), Kind::TraceVerbose);
    assert_eq!(i(&e, "cpu"), 1);
    assert_eq!(s(&e, "mark"), "0x225d6fff");
    assert_eq!(i(&e, "from"), 1890);
    assert_eq!(s(&e, "point"), "to-endpoint");
    assert_eq!(i(&e, "bytes"), 74);
    assert_eq!(i(&e, "captured"), 74);
    assert_eq!(s(&e, "state"), "new");
    assert_eq!(s(&e, "ifindex"), "lxc39c176bde913");
    assert_eq!(s(&e, "src_identity"), "world");
    assert_eq!(s(&e, "dst_identity"), "6623");
    assert_eq!(s(&e, "orig_ip"), "172.18.0.1");
    assert_eq!(i(&e, "endpoint"), 1890);
}

#[test]
fn verbose_drop_is_a_drop() {
    let e = parse(
        "CPU 02: MARK 0x0 FROM 1890 DROP: 74 bytes, reason Policy denied, identity world->6623, to endpoint 1890",
    );
    assert_eq!(e.kind(), Kind::Drop);
    assert_eq!(s(&e, "reason"), "Policy denied");
    assert_eq!(i(&e, "bytes"), 74);
    assert_eq!(i(&e, "endpoint"), 1890);
    assert_eq!(s(&e, "src_identity"), "world");
}

#[test]
fn lost_events() {
    let e = parse("CPU 02: Lost 17 events");
    assert_eq!(e.kind(), Kind::Lost);
    assert_eq!(i(&e, "cpu"), 2);
    assert_eq!(i(&e, "count"), 17);
}

#[test]
fn l7_http_request() {
    let e = parse(
        "<- Request http from 1890 ([k8s:app=frontend k8s:io.kubernetes.pod.namespace=default]) to 344 ([k8s:app=redis]), identity 6623->7777, verdict Forwarded GET http://redis-leader/info => 0",
    );
    assert_eq!(e.kind(), Kind::L7);
    assert_eq!(s(&e, "dir"), "<-");
    assert_eq!(s(&e, "type"), "Request");
    assert_eq!(s(&e, "protocol"), "http");
    assert_eq!(i(&e, "src_endpoint"), 1890);
    assert_eq!(
        s(&e, "src_labels"),
        "[k8s:app=frontend k8s:io.kubernetes.pod.namespace=default]"
    );
    assert_eq!(i(&e, "dst_endpoint"), 344);
    assert_eq!(s(&e, "dst_labels"), "[k8s:app=redis]");
    assert_eq!(s(&e, "src_identity"), "6623");
    assert_eq!(s(&e, "dst_identity"), "7777");
    assert_eq!(s(&e, "verdict"), "Forwarded");
    assert_eq!(s(&e, "method"), "GET");
    assert_eq!(s(&e, "url"), "http://redis-leader/info");
    assert_eq!(i(&e, "code"), 0);
}

#[test]
fn ipv6_connection_strips_the_brackets() {
    let e = parse(
        "-> endpoint 1890 flow 0x1 , identity world->6623 state new ifindex lxc39c176bde913 orig-ip fd00::1: [fd00::1]:59700 -> [fd00:10:244::66]:80 tcp SYN",
    );
    assert_eq!(s(&e, "orig_ip"), "fd00::1");
    assert_eq!(s(&e, "src"), "fd00::1");
    assert_eq!(i(&e, "sport"), 59700);
    assert_eq!(s(&e, "dst"), "fd00:10:244::66");
    assert_eq!(i(&e, "dport"), 80);
}

#[test]
fn icmp_has_a_type_and_no_ports() {
    let e = parse(
        "-> endpoint 1890 flow 0x2 , identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1 -> 10.244.4.66 EchoRequest",
    );
    assert_eq!(s(&e, "src"), "172.18.0.1");
    assert_eq!(s(&e, "dst"), "10.244.4.66");
    assert_eq!(s(&e, "proto"), "icmp");
    assert_eq!(s(&e, "icmp"), "EchoRequest");
    assert_eq!(e.get("sport"), None);
    assert!(e.flags().is_empty());
    let v6 = parse(
        "<- endpoint 1890 flow 0x3 , identity 6623->world state reply ifindex 0 orig-ip ::: fd00::66 -> fd00::1 EchoReply",
    );
    assert_eq!(s(&v6, "dir"), "<-");
    assert_eq!(s(&v6, "orig_ip"), "::");
    assert_eq!(s(&v6, "src"), "fd00::66");
    assert_eq!(s(&v6, "dst"), "fd00::1");
    assert_eq!(s(&v6, "icmp"), "EchoReply");
}

#[test]
fn udp_and_flagless_tcp() {
    let e = parse(
        "-> stack flow 0x3 , identity 6623->kube-dns state new ifindex 0 orig-ip 0.0.0.0: 10.244.4.66:41000 -> 10.96.0.10:53 udp",
    );
    assert_eq!(s(&e, "proto"), "udp");
    assert_eq!(i(&e, "dport"), 53);
    assert!(e.flags().is_empty());
    let e = parse(
        "-> stack flow 0x4 , identity 6623->world state reply ifindex 0 orig-ip 0.0.0.0: 10.244.4.66:80 -> 172.18.0.1:1 tcp ",
    );
    assert_eq!(s(&e, "proto"), "tcp");
    assert!(e.flags().is_empty());
    assert_eq!(json(&e)["flags"].as_array().unwrap().len(), 0);
}

#[test]
fn proxy_port_and_encrypted_summaries() {
    let e = parse(
        "-> proxy port 15001 flow 0x5 , identity 6623->world state new ifindex 0 orig-ip 0.0.0.0: 10.244.4.66:41000 -> 10.96.0.10:80 tcp SYN",
    );
    assert_eq!(s(&e, "point"), "proxy");
    assert_eq!(i(&e, "proxy_port"), 15001);
    let e = parse(
        "-> overlay encrypted flow 0x6 , identity 6623->remote-node state new ifindex cilium_vxlan orig-ip 0.0.0.0: 10.244.4.66:41000 -> 10.244.1.3:80 tcp SYN",
    );
    assert_eq!(s(&e, "point"), "overlay");
    assert_eq!(e.get("encrypted"), Some(FieldRef::Bool(true)));
    assert_eq!(s(&e, "flow"), "0x6");
    let e = parse(
        "<- endpoint 1890 flow 0x7 , identity 6623->world state reply ifindex 0 orig-ip 0.0.0.0: 10.244.4.66:80 -> 172.18.0.1:59700 tcp ACK",
    );
    assert_eq!(s(&e, "dir"), "<-");
    assert_eq!(i(&e, "endpoint"), 1890);
}

const JSON_TRACE: &str = r#"{"cpu":"CPU 01:","type":"trace","mark":"0xe0d23007","ifindex":"lxc39c176bde913","state":"new","observationPoint":"to-endpoint","traceSummary":"-\u003e endpoint 1890","source":1890,"bytes":74,"srcLabel":2,"dstLabel":6623,"dstID":1890,"summary":{"ethernet":"Ethernet","ipv4":"IPv4","tcp":"TCP\t{SrcPort=59700 DstPort=80(http) FIN=false SYN=true RST=false PSH=false ACK=false}","l2":{"src":"02:42:ac:12:00:01","dst":"aa:bb:cc:dd:ee:ff"},"l3":{"src":"172.18.0.1","dst":"10.244.4.66"},"l4":{"src":"59700","dst":"80"}}}"#;

#[test]
fn json_trace_has_the_text_field_names() {
    let e = parse(JSON_TRACE);
    assert_eq!(e.kind(), Kind::Trace);
    assert_eq!(i(&e, "cpu"), 1);
    assert_eq!(s(&e, "flow"), "0xe0d23007");
    assert_eq!(s(&e, "dir"), "->");
    assert_eq!(s(&e, "point"), "endpoint");
    assert_eq!(i(&e, "endpoint"), 1890);
    assert_eq!(s(&e, "src_identity"), "2");
    assert_eq!(s(&e, "dst_identity"), "6623");
    assert_eq!(s(&e, "state"), "new");
    assert_eq!(s(&e, "ifindex"), "lxc39c176bde913");
    assert_eq!(s(&e, "src"), "172.18.0.1");
    assert_eq!(i(&e, "sport"), 59700);
    assert_eq!(s(&e, "dst"), "10.244.4.66");
    assert_eq!(i(&e, "dport"), 80);
    assert_eq!(s(&e, "proto"), "tcp");
    assert_eq!(e.flags(), ["SYN"]);
    let flags = json(&e)["flags"].as_array().unwrap().clone();
    assert_eq!(flags.len(), 1);
}

#[test]
fn json_drop_agent_and_debug() {
    let e = parse(
        r#"{"cpu":"CPU 02:","type":"drop","mark":"0x0","reason":"Policy denied","source":1890,"bytes":74,"srcLabel":2,"dstLabel":6623,"dstID":1890,"Line":2005,"File":1,"ExtError":0,"Ifindex":29,"summary":{"l3":{"src":"172.18.0.1","dst":"10.244.4.66"},"l4":{"src":"59700","dst":"80"},"tcp":"TCP SYN=true"}}"#,
    );
    assert_eq!(e.kind(), Kind::Drop);
    assert_eq!(s(&e, "reason"), "Policy denied");
    assert_eq!(s(&e, "flow"), "0x0");
    assert_eq!(i(&e, "endpoint"), 1890);
    assert_eq!(s(&e, "ifindex"), "29");
    assert_eq!(i(&e, "line"), 2005);
    assert_eq!(s(&e, "file"), "1");
    assert_eq!(i(&e, "dport"), 80);

    let e = parse(
        r#"{"type":"agent","subtype":"IPCache entry upserted","message":{"cidr":"172.18.0.2/32","id":1,"old-id":1,"encrypt-key":0}}"#,
    );
    assert_eq!(e.kind(), Kind::Agent);
    assert_eq!(s(&e, "subtype"), "IPCache entry upserted");
    let data = json(&e)["data"].as_object().unwrap().clone();
    assert_eq!(data["id"], 1);

    let e = parse(
        r#"{"cpu":"CPU 03:","type":"debug","mark":"0x0","source":1890,"message":"CT verdict: Established, revnat=0"}"#,
    );
    assert_eq!(e.kind(), Kind::Debug);
    assert_eq!(i(&e, "cpu"), 3);
    assert_eq!(i(&e, "from"), 1890);
    assert_eq!(s(&e, "message"), "CT verdict: Established, revnat=0");
}

#[test]
fn json_that_is_not_a_monitor_object_is_unknown() {
    for line in [r#"{"type":"nope"}"#, "{not json", "[1,2]", "{}"] {
        let e = parse(line);
        assert_eq!(e.kind(), Kind::Unknown, "{line}");
        assert_eq!(e.raw(), line);
        assert_eq!(e.names().count(), 0);
    }
}

#[test]
fn unrecognised_lines_are_unknown_with_raw() {
    for line in [
        "hello",
        "-> ",
        "-> endpoint",
        "xx drop",
        "CPU 01:",
        "CPU xx: MARK",
    ] {
        let e = parse(line);
        assert_eq!(e.kind(), Kind::Unknown, "{line}");
        let m = json(&e);
        assert_eq!(m["raw"], line);
        assert_eq!(m.as_object().unwrap().len(), 2);
    }
}

#[test]
fn line_terminators_are_removed() {
    let e = parse("CPU 02: Lost 17 events\r\n");
    assert_eq!(e.raw(), "CPU 02: Lost 17 events");
    assert_eq!(i(&e, "count"), 17);
}

/// Lines from the format strings that the mutation test also covers.
fn constructed() -> Vec<String> {
    [
        "xx drop (Policy denied) flow 0x0 to endpoint 1890, ifindex 29, file bpf_lxc.c:2005, , identity world->6623: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN",
        "xx drop (Policy denied) flow 0x0 to endpoint 1890, ifindex 29, file bpf_lxc.c line 2005, , identity world->6623: [fd00::1]:59700 -> [fd00::2]:80 tcp SYN",
        "Policy verdict log: flow 0x0 local EP ID 1890, remote ID 2, proto 6, egress, action deny, auth: disabled, match none, 10.244.4.66:41000 -> 10.244.4.89:6379 tcp SYN",
        "CPU 01: MARK 0x225d6fff FROM 1890 DEBUG: Conntrack lookup 1/2: src=172.18.0.1:38138 dst=10.244.4.66:80",
        "CPU 01: MARK 0x225d6fff FROM 1890 to-endpoint: 74 bytes (74 captured), state new, interface lxc39c176bde913, , identity world->6623, orig-ip 172.18.0.1, to endpoint 1890",
        "<- Request http from 1890 ([k8s:app=frontend]) to 344 ([k8s:app=redis]), identity 6623->7777, verdict Forwarded GET http://redis-leader/info => 0",
        "CPU 02: Lost 17 events",
        "<- endpoint 1890 flow 0x3 , identity 6623->world state reply ifindex 0 orig-ip ::: fd00::66 -> fd00::1 EchoReply",
        JSON_TRACE,
        "<- Response http to 1890 ([k8s:app=frontend]) from 344 ([k8s:app=redis]), identity 7777->6623, verdict Forwarded GET http://redis-leader/info => 200",
        "-> Response dns to 1767 ([k8s:app=test-pod]) from 609 ([k8s:k8s-app=kube-dns]), identity 5254->61389, verdict Forwarded DNS proxy: kubernetes.default.svc.cluster.local. A TTL: 30 Answer: '10.96.0.1' CNAMEs: api.cluster.local.",
        "-> 0: 10.60.0.182:41510 -> 104.198.14.52:80 tcp SYN",
        "-> lxc_health: 16:f9:0b:3a:11:02 -> 8e:3c:7d:55:a0:01 ARP",
        "CPU 03: [pre-xlate-fwd] cgroup_id: 13125 sock_cookie: 114605, dst [172.20.0.178:80] tcp",
        "00000000  33 33 00 00 00 16 8e 3c  7d 55 a0 01 86 dd 60 00  |33.....<}U....`.|",
        "Ethernet        {Contents=[..14..] Payload=[..94..] SrcMAC=de:eb:36:0a:d8:21 DstMAC=aa:ab:bb:d3:01:08 EthernetType=IPv4 Length=0}",
        "CPU 00: MARK 0x1c56d86c FROM 3978 Packet dropped 131 (Invalid destination mac) 70 bytes ifindex=0 284->0",
        "-> overlay flow 0x6a16c10e , identity 18548->13318 [ ip-trace-id = 12460542740415775846 ] state established ifindex cilium_vxlan orig-ip 0.0.0.0: 10.244.2.169:42532 -> 10.244.1.84:8080 tcp ACK [tunnel 172.18.0.3:40000 -> 172.18.0.4:8472 vxlan]",
        "CPU 01: MARK 0x6a16c10e [ IP-TRACE-ID = 12460542740415775846 ] FROM 3006 to-overlay: 74 bytes (74 captured), state established, interface cilium_vxlan, , identity 18548->13318, orig-ip 0.0.0.0",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Parses `bytes` (lossily decoded) and checks the event is whole: it keeps its raw text
/// and converts to a map.
fn parse_checked(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for needle in [": ", " -> ", "->", ") flow "] {
        assert_eq!(
            find(&text, needle),
            text.find(needle),
            "{text:?} {needle:?}"
        );
    }
    let e = parse(&text);
    assert_eq!(e.raw(), text.trim_end_matches(['\r', '\n']));
    let m = json(&e);
    assert_eq!(m["kind"], e.kind().as_str());
}

#[test]
fn never_panics_on_truncated_flipped_or_spliced_lines() {
    let mut corpus: Vec<String> = handout_lines().map(str::to_string).collect();
    corpus.extend(constructed());
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut cases = 0usize;
    // Delimiters the parser cuts at, to splice in anywhere.
    const SPLICES: [&[u8]; 12] = [
        b": ",
        b" -> ",
        b"->",
        b"[",
        b"]:",
        b"(",
        b") ",
        b", ",
        b"{",
        b"\"",
        b"\xc3\xa9",
        b"\xff",
    ];
    for line in &corpus {
        let bytes = line.as_bytes();
        // Every truncation, from both ends.
        for cut in 0..=bytes.len() {
            parse_checked(&bytes[..cut]);
            parse_checked(&bytes[cut..]);
            cases += 2;
        }
        // Random byte flips, 1 to 4 per line.
        for _ in 0..1500 {
            let mut m = bytes.to_vec();
            for _ in 0..=rng.below(4) {
                let at = rng.below(m.len());
                m[at] = rng.next() as u8;
            }
            parse_checked(&m);
            cases += 1;
        }
        // Delimiters spliced in, bytes deleted.
        for _ in 0..1000 {
            let mut m = bytes.to_vec();
            let at = rng.below(m.len() + 1);
            if rng.below(2) == 0 {
                let splice = SPLICES[rng.below(SPLICES.len())];
                m.splice(at..at, splice.iter().copied());
            } else if at < m.len() {
                let end = (at + rng.below(12)).min(m.len());
                m.drain(at..end);
            }
            parse_checked(&m);
            cases += 1;
        }
    }
    // Pure garbage.
    for _ in 0..5000 {
        let len = rng.below(200);
        let g: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        parse_checked(&g);
        cases += 1;
    }
    assert!(cases > 100_000, "only {cases} cases");
}

#[test]
fn find_agrees_with_str_find() {
    for (hay, needle) in [
        ("a: b", ": "),
        ("::: x", ": "),
        ("abc", "abcd"),
        ("", ": "),
        ("x -> y -> z", " -> "),
        ("é: x", ": "),
        ("aab", "ab"),
        ("ab", "ab"),
        ("world->6623", "->"),
    ] {
        assert_eq!(find(hay, needle), hay.find(needle), "{hay:?} {needle:?}");
    }
    assert_eq!(cut("a: b: c", ": "), Some(("a", "b: c")));
    assert_eq!(trim_commas(",,x,"), "x");
    assert_eq!(trim_commas(",,"), "");
}

#[test]
fn drop_without_identities_still_has_its_connection() {
    // dumpIdentity is skipped when both labels are 0: `file …, : conn`.
    let e = parse(
        "xx drop (Invalid source ip) flow 0x0 to endpoint 0, ifindex 7, file bpf_lxc.c:1957, : 10.0.0.1:123 -> 10.0.0.2:80 tcp SYN",
    );
    assert_eq!(e.kind(), Kind::Drop);
    assert_eq!(s(&e, "reason"), "Invalid source ip");
    assert_eq!(i(&e, "line"), 1957);
    assert_eq!(e.get("src_identity"), None);
    assert_eq!(s(&e, "src"), "10.0.0.1");
    assert_eq!(i(&e, "dport"), 80);
}

// Shapes beyond the handout (issue 12). Each line is real (copied from Cilium's issues and
// docs, cited) or built from the Go format string named beside it (`pkg/monitor/*.go`).

#[test]
fn l7_http_response_names_the_endpoints_the_other_way_round() {
    // logrecord.go: "%s %s %s to %d (%s) from %d (%s), identity %d->%d, verdict %s"
    let e = parse(
        "<- Response http to 1890 ([k8s:app=frontend]) from 344 ([k8s:app=redis]), identity 7777->6623, verdict Forwarded GET http://redis-leader/info => 200",
    );
    assert_eq!(e.kind(), Kind::L7);
    assert_eq!(s(&e, "type"), "Response");
    assert_eq!(s(&e, "protocol"), "http");
    assert_eq!(i(&e, "dst_endpoint"), 1890);
    assert_eq!(s(&e, "dst_labels"), "[k8s:app=frontend]");
    assert_eq!(i(&e, "src_endpoint"), 344);
    assert_eq!(s(&e, "src_labels"), "[k8s:app=redis]");
    assert_eq!(s(&e, "src_identity"), "7777");
    assert_eq!(s(&e, "dst_identity"), "6623");
    assert_eq!(s(&e, "verdict"), "Forwarded");
    assert_eq!(s(&e, "method"), "GET");
    assert_eq!(s(&e, "url"), "http://redis-leader/info");
    assert_eq!(i(&e, "code"), 200);
}

#[test]
fn l7_dns_request_and_response_carry_the_query_and_answer() {
    // logrecord.go: " DNS %s: %s %s" and, on responses, " TTL: %d Answer: '%s'".
    let req = parse(
        "-> Request dns from 1767 ([k8s:app=test-pod]) to 609 ([k8s:k8s-app=kube-dns]), identity 61389->5254, verdict Forwarded DNS proxy: kubernetes.default.svc.cluster.local. A",
    );
    assert_eq!(req.kind(), Kind::L7);
    assert_eq!(s(&req, "dir"), "->");
    assert_eq!(s(&req, "protocol"), "dns");
    assert_eq!(i(&req, "src_endpoint"), 1767);
    assert_eq!(i(&req, "dst_endpoint"), 609);
    assert_eq!(s(&req, "dns_source"), "proxy");
    assert_eq!(s(&req, "query"), "kubernetes.default.svc.cluster.local.");
    assert_eq!(s(&req, "qtypes"), "A");
    assert_eq!(req.get("ttl"), None);

    let resp = parse(
        "-> Response dns to 1767 ([k8s:app=test-pod]) from 609 ([k8s:k8s-app=kube-dns]), identity 5254->61389, verdict Forwarded DNS proxy: kubernetes.default.svc.cluster.local. A TTL: 30 Answer: '10.96.0.1' CNAMEs: api.cluster.local.",
    );
    assert_eq!(resp.kind(), Kind::L7);
    assert_eq!(s(&resp, "type"), "Response");
    assert_eq!(i(&resp, "dst_endpoint"), 1767);
    assert_eq!(i(&resp, "src_endpoint"), 609);
    assert_eq!(s(&resp, "src_identity"), "5254");
    assert_eq!(s(&resp, "query"), "kubernetes.default.svc.cluster.local.");
    assert_eq!(i(&resp, "ttl"), 30);
    assert_eq!(s(&resp, "answer"), "10.96.0.1");
    assert_eq!(s(&resp, "cnames"), "api.cluster.local.");
}

#[test]
fn l7_kafka_and_generic_records() {
    // logrecord.go: " %s topic %s => %d" and " %s:%s" pairs then " => status:%s".
    let e = parse(
        "<- Request kafka from 1890 ([k8s:app=empire-hq]) to 344 ([k8s:app=kafka]), identity 6623->7777, verdict Forwarded produce topic empire-announce => 0",
    );
    assert_eq!(s(&e, "api_key"), "produce");
    assert_eq!(s(&e, "topic"), "empire-announce");
    assert_eq!(i(&e, "error_code"), 0);
    let e = parse(
        "<- Request r2d2 from 1890 ([k8s:app=x]) to 344 ([k8s:app=y]), identity 6623->7777, verdict Denied cmd:READ file:/etc/passwd => status:denied",
    );
    assert_eq!(e.kind(), Kind::L7);
    assert_eq!(s(&e, "verdict"), "Denied");
    assert_eq!(s(&e, "status"), "denied");
    assert_eq!(
        s(&e, "detail"),
        "cmd:READ file:/etc/passwd => status:denied"
    );
}

#[test]
fn debug_capture_delivery_summary_is_a_capture() {
    // Real (quoted in issue 12, copied from a Cilium issue's `cilium monitor` output).
    let e = parse("-> 0: 10.60.0.182:41510 -> 104.198.14.52:80 tcp SYN");
    assert_eq!(e.kind(), Kind::Capture);
    assert_eq!(s(&e, "dir"), "->");
    assert_eq!(s(&e, "ifindex"), "0");
    assert_eq!(s(&e, "src"), "10.60.0.182");
    assert_eq!(i(&e, "sport"), 41510);
    assert_eq!(s(&e, "dst"), "104.198.14.52");
    assert_eq!(i(&e, "dport"), 80);
    assert_eq!(s(&e, "proto"), "tcp");
    assert_eq!(e.flags(), ["SYN"]);
}

#[test]
fn debug_capture_of_an_arp_frame_has_the_macs_and_ethertype() {
    // dissect.go, no IP layer: "%s -> %s %s" (SrcMAC, DstMAC, EthernetType).
    let e = parse("-> lxc_health: 16:f9:0b:3a:11:02 -> 8e:3c:7d:55:a0:01 ARP");
    assert_eq!(e.kind(), Kind::Capture);
    assert_eq!(s(&e, "ifindex"), "lxc_health");
    assert_eq!(s(&e, "src_mac"), "16:f9:0b:3a:11:02");
    assert_eq!(s(&e, "dst_mac"), "8e:3c:7d:55:a0:01");
    assert_eq!(s(&e, "ethertype"), "ARP");
    assert_eq!(e.get("src"), None);
    assert!(e.flags().is_empty());
}

#[test]
fn debug_capture_of_ipv6_echo_reply_old_and_new_forms() {
    // dissect.go: "%s -> %s %s" (1.x) and "%s -> %s %s %s" with "icmp" (current).
    for line in [
        "-> lxc_health: fd00:10:244::5b -> fd00:10:244::1 EchoReply",
        "-> lxc_health: fd00:10:244::5b -> fd00:10:244::1 icmp EchoReply",
    ] {
        let e = parse(line);
        assert_eq!(e.kind(), Kind::Capture, "{line}");
        assert_eq!(s(&e, "src"), "fd00:10:244::5b");
        assert_eq!(s(&e, "dst"), "fd00:10:244::1");
        assert_eq!(s(&e, "proto"), "icmp");
        assert_eq!(s(&e, "icmp"), "EchoReply");
    }
}

#[test]
fn debug_capture_prefixes_of_the_other_capture_points() {
    // datapath_debug.go infoPrefix: "<- load-balancer %s", "== v4->v6 %d", "-> proxy port %d".
    let e = parse("<- load-balancer eth0: 172.18.0.1:59700 -> 172.18.0.3:32150 tcp SYN");
    assert_eq!(e.kind(), Kind::Capture);
    assert_eq!(s(&e, "dir"), "<-");
    assert_eq!(s(&e, "point"), "load-balancer");
    assert_eq!(s(&e, "ifindex"), "eth0");
    assert_eq!(i(&e, "dport"), 32150);
    let e = parse("== v4->v6 12: [64:ff9b::a00:1]:4000 -> [fd00::66]:80 tcp ACK");
    assert_eq!(s(&e, "dir"), "==");
    assert_eq!(s(&e, "point"), "v4->v6");
    assert_eq!(s(&e, "ifindex"), "12");
    assert_eq!(s(&e, "src"), "64:ff9b::a00:1");
    let e = parse("-> proxy port 15001: 10.244.4.66:41000 -> 10.96.0.10:80 tcp SYN");
    assert_eq!(e.kind(), Kind::Capture);
    assert_eq!(s(&e, "point"), "proxy");
    assert_eq!(i(&e, "proxy_port"), 15001);
    // A capture prefix with more words than any format is not a capture.
    assert_eq!(parse("-> a b c: 1.1.1.1 -> 2.2.2.2").kind(), Kind::Unknown);
}

#[test]
fn trace_sock_lines_in_both_address_forms() {
    // Real (quoted in issue 12): the `dst [ip:port]` form.
    let e = parse(
        "CPU 03: [pre-xlate-fwd] cgroup_id: 13125 sock_cookie: 114605, dst [172.20.0.178:80] tcp",
    );
    assert_eq!(e.kind(), Kind::TraceSock);
    assert_eq!(i(&e, "cpu"), 3);
    assert_eq!(s(&e, "xlate_point"), "pre-xlate-fwd");
    assert_eq!(i(&e, "cgroup_id"), 13125);
    assert_eq!(i(&e, "sock_cookie"), 114605);
    assert_eq!(s(&e, "dst"), "172.20.0.178");
    assert_eq!(i(&e, "dport"), 80);
    assert_eq!(s(&e, "proto"), "tcp");
    // datapath_sock_trace.go: "%s [%s] cgroup_id: %d sock_cookie: %d, dst [%s]:%d %s \n"
    for (line, ip) in [
        (
            "CPU 01: [post-xlate-fwd] cgroup_id: 7 sock_cookie: 42, dst [10.244.1.7]:8080 udp ",
            "10.244.1.7",
        ),
        (
            "CPU 01: [post-xlate-rev] cgroup_id: 7 sock_cookie: 42, dst [fd00::7]:8080 udp ",
            "fd00::7",
        ),
    ] {
        let e = parse(line);
        assert_eq!(e.kind(), Kind::TraceSock, "{line}");
        assert_eq!(s(&e, "dst"), ip);
        assert_eq!(i(&e, "dport"), 8080);
        assert_eq!(s(&e, "proto"), "udp");
    }
}

#[test]
fn hexdump_lines_have_offset_bytes_and_ascii() {
    // `-v -v` without dissection prints Go's hex.Dump: "%08x", 16 bytes, " |ascii|".
    let line = "00000000  33 33 00 00 00 16 8e 3c  7d 55 a0 01 86 dd 60 00  |33.....<}U....`.|";
    let e = parse(line);
    assert_eq!(e.kind(), Kind::Info);
    assert_eq!(s(&e, "message"), line);
    assert_eq!(i(&e, "offset"), 0);
    assert_eq!(
        s(&e, "hex"),
        "33 33 00 00 00 16 8e 3c  7d 55 a0 01 86 dd 60 00"
    );
    assert_eq!(s(&e, "ascii"), "33.....<}U....`.");
    let last = parse("00000040  0a 0b                                             |..|");
    assert_eq!(i(&last, "offset"), 0x40);
    assert_eq!(s(&last, "hex"), "0a 0b");
    assert_eq!(s(&last, "ascii"), "..");
}

#[test]
fn dissection_lines_with_tab_or_spaces_and_their_trailers() {
    // Real, from a kind + Cilium 1.14 setup script's notes (guu13/k8s-install), tab and
    // the same line with the tab expanded to spaces by a terminal copy.
    let tab = "Ethernet\t{Contents=[..14..] Payload=[..94..] SrcMAC=de:eb:36:0a:d8:21 DstMAC=aa:ab:bb:d3:01:08 EthernetType=IPv4 Length=0}";
    let spaces = tab.replace('\t', "        ");
    for line in [tab, spaces.as_str()] {
        let e = parse(line);
        assert_eq!(e.kind(), Kind::Info, "{line}");
        assert_eq!(s(&e, "layer"), "Ethernet");
        assert!(s(&e, "detail").starts_with("{Contents=[..14..]"), "{line}");
        assert!(s(&e, "detail").ends_with("Length=0}"), "{line}");
    }
    for line in [
        "  Failed to decode layer: No decoder for layer type Payload",
        "  Packet has been truncated",
        "Unknown layer",
    ] {
        let e = parse(line);
        assert_eq!(e.kind(), Kind::Info, "{line}");
        assert_eq!(s(&e, "message"), line.trim());
    }
}

#[test]
fn old_verbose_drop_is_a_drop_with_its_fields() {
    // Real (quoted in issue 12), the 1.0-era `Packet dropped %d (%s) %d bytes ifindex=%d`.
    let e = parse(
        "CPU 00: MARK 0x1c56d86c FROM 3978 Packet dropped 131 (Invalid destination mac) 70 bytes ifindex=0 284->0",
    );
    assert_eq!(e.kind(), Kind::Drop);
    assert_eq!(i(&e, "cpu"), 0);
    assert_eq!(s(&e, "mark"), "0x1c56d86c");
    assert_eq!(s(&e, "flow"), "0x1c56d86c");
    assert_eq!(i(&e, "from"), 3978);
    assert_eq!(i(&e, "drop_code"), 131);
    assert_eq!(s(&e, "reason"), "Invalid destination mac");
    assert_eq!(i(&e, "bytes"), 70);
    assert_eq!(s(&e, "ifindex"), "0");
    assert_eq!(s(&e, "src_identity"), "284");
    assert_eq!(s(&e, "dst_identity"), "0");
    assert_eq!(e.get("endpoint"), Some(FieldRef::Unit));
    // The same format with " to lxc %d" and a reason holding parentheses.
    let e = parse(
        "CPU 01: MARK 0x0 FROM 12 Packet dropped 159 (Policy denied (L4)) 74 bytes ifindex=29 2->6623 to lxc 1890",
    );
    assert_eq!(s(&e, "reason"), "Policy denied (L4)");
    assert_eq!(i(&e, "endpoint"), 1890);
    assert_eq!(i(&e, "bytes"), 74);
}

#[test]
fn ip_trace_id_in_summary_and_verbose_traces() {
    // Real, from Cilium's IP-options tracing docs.
    let e = parse(
        "-> overlay flow 0x6a16c10e , identity 18548->13318 [ ip-trace-id = 12460542740415775846 ] state established ifindex cilium_vxlan orig-ip 0.0.0.0: 10.244.2.169:42532 -> 10.244.1.84:8080 tcp ACK",
    );
    assert_eq!(e.kind(), Kind::Trace);
    assert_eq!(s(&e, "point"), "overlay");
    assert_eq!(s(&e, "ip_trace_id"), "12460542740415775846");
    assert_eq!(s(&e, "src_identity"), "18548");
    assert_eq!(s(&e, "state"), "established");
    assert_eq!(s(&e, "ifindex"), "cilium_vxlan");
    assert_eq!(i(&e, "dport"), 8080);
    assert_eq!(e.flags(), ["ACK"]);
    // datapath_trace.go DumpVerbose: "%s MARK %#x [ IP-TRACE-ID = %d ] FROM %d %s: …"
    let v = parse(
        "CPU 01: MARK 0x6a16c10e [ IP-TRACE-ID = 12460542740415775846 ] FROM 3006 to-overlay: 74 bytes (74 captured), state established, interface cilium_vxlan, , identity 18548->13318, orig-ip 0.0.0.0",
    );
    assert_eq!(v.kind(), Kind::TraceVerbose);
    assert_eq!(s(&v, "ip_trace_id"), "12460542740415775846");
    assert_eq!(i(&v, "from"), 3006);
    assert_eq!(s(&v, "point"), "to-overlay");
    assert_eq!(i(&v, "captured"), 74);
}

#[test]
fn crypto_observation_points() {
    // datapath_trace.go traceSummary: "-> crypto", "<- crypto"; verbose to-crypto/from-crypto.
    let e = parse(
        "-> crypto flow 0x0 , identity 6623->remote-node state new ifindex 0 orig-ip 0.0.0.0: 10.244.4.66:41000 -> 10.244.1.3:80 tcp SYN",
    );
    assert_eq!(e.kind(), Kind::Trace);
    assert_eq!(s(&e, "point"), "crypto");
    let e = parse(
        "<- crypto flow 0x0 , identity remote-node->6623 state reply ifindex cilium_wg0 orig-ip 0.0.0.0: 10.244.1.3:80 -> 10.244.4.66:41000 tcp SYN, ACK",
    );
    assert_eq!(s(&e, "dir"), "<-");
    assert_eq!(s(&e, "point"), "crypto");
    for point in ["to-crypto", "from-crypto"] {
        let v = parse(&format!(
            "CPU 01: MARK 0x0 FROM 1890 {point}: 74 bytes (74 captured), state new, , identity 6623->remote-node, orig-ip 0.0.0.0"
        ));
        assert_eq!(v.kind(), Kind::TraceVerbose);
        assert_eq!(s(&v, "point"), point);
    }
}

#[test]
fn overlay_packets_keep_the_inner_connection_and_the_tunnel() {
    // dissect.go: "<inner> [tunnel sIP:sPort -> dIP:dPort vxlan]".
    let e = parse(
        "-> overlay flow 0x1 , identity 6623->remote-node state new ifindex cilium_vxlan orig-ip 0.0.0.0: 10.244.4.66:41000 -> 10.244.1.3:80 tcp SYN [tunnel 172.18.0.3:40000 -> 172.18.0.4:8472 vxlan]",
    );
    assert_eq!(e.kind(), Kind::Trace);
    assert_eq!(s(&e, "src"), "10.244.4.66");
    assert_eq!(i(&e, "dport"), 80);
    assert_eq!(e.flags(), ["SYN"]);
    assert_eq!(s(&e, "tunnel_src"), "172.18.0.3");
    assert_eq!(i(&e, "tunnel_sport"), 40000);
    assert_eq!(s(&e, "tunnel_dst"), "172.18.0.4");
    assert_eq!(i(&e, "tunnel_dport"), 8472);
    assert_eq!(s(&e, "tunnel_proto"), "vxlan");
    // An inner ICMP packet in Geneve.
    let e = parse(
        "<- overlay flow 0x2 , identity remote-node->6623 state reply ifindex cilium_geneve orig-ip 0.0.0.0: 10.244.1.3 -> 10.244.4.66 icmp EchoReply [tunnel 172.18.0.4:6081 -> 172.18.0.3:6081 geneve]",
    );
    assert_eq!(s(&e, "icmp"), "EchoReply");
    assert_eq!(s(&e, "proto"), "icmp");
    assert_eq!(s(&e, "tunnel_proto"), "geneve");
}

#[test]
fn icmp_with_the_protocol_word() {
    // Current dissect.go: "%s -> %s %s %s" with Proto "icmp".
    let e = parse(
        "-> endpoint 1890 flow 0x2 , identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1 -> 10.244.4.66 icmp EchoRequest",
    );
    assert_eq!(s(&e, "proto"), "icmp");
    assert_eq!(s(&e, "icmp"), "EchoRequest");
    assert_eq!(e.get("sport"), None);
}

#[test]
fn real_verbose_trace_without_interface() {
    // Real, from the same notes as the dissection line above (Cilium 1.14, `-v -v`).
    let e = parse(
        "CPU 01: MARK 0xade976e2 FROM 3006 to-stack: 104 bytes (104 captured), state established, , identity 52663->host, orig-ip 0.0.0.0",
    );
    assert_eq!(e.kind(), Kind::TraceVerbose);
    assert_eq!(s(&e, "point"), "to-stack");
    assert_eq!(i(&e, "bytes"), 104);
    assert_eq!(s(&e, "src_identity"), "52663");
    assert_eq!(s(&e, "dst_identity"), "host");
    assert_eq!(e.get("ifindex"), None);
    let e = parse(
        "CPU 00: MARK 0x5 FROM 1890 to-proxy: 74 bytes (74 captured), state new, , identity 6623->7777, orig-ip 0.0.0.0, to proxy-port 15001",
    );
    assert_eq!(i(&e, "proxy_port"), 15001);
}

/// Whenever the one-pass header reader accepts a trace header, the keyword parser gives the
/// same fields in the same order (the fast path changes speed, never fields).
fn fast_and_keyword_heads_agree(line: &str) -> bool {
    let (head, _) = split_conn(line);
    let mut fast = Fields::new(line);
    if trace_head_fast(head, &mut fast).is_none() {
        return false;
    }
    let mut slow = Fields::new(line);
    trace_head(head, &mut slow);
    assert_eq!(fast.list, slow.list, "{line:?}");
    true
}

#[test]
fn the_fast_trace_header_reader_agrees_with_the_keyword_parser() {
    let mut accepted = 0;
    for line in handout_lines() {
        if parse(line).kind() == Kind::Trace {
            assert!(fast_and_keyword_heads_agree(line), "{line}");
            accepted += 1;
        }
    }
    assert_eq!(accepted, 26);
    // Mutations: truncated, flipped and spliced headers must agree whenever accepted.
    let mut rng = Rng(0x0fa5_7ea0_0000_0001);
    let traces: Vec<&str> = handout_lines()
        .filter(|l| parse(l).kind() == Kind::Trace)
        .collect();
    let mut both = 0;
    for line in &traces {
        let bytes = line.as_bytes();
        for cut in 0..=bytes.len() {
            let t = String::from_utf8_lossy(&bytes[..cut]);
            both += fast_and_keyword_heads_agree(&t) as usize;
        }
        for _ in 0..2000 {
            let mut m = bytes.to_vec();
            let at = rng.below(m.len());
            m[at] = match rng.below(4) {
                0 => b' ',
                1 => b',',
                2 => b'-',
                _ => rng.next() as u8,
            };
            let t = String::from_utf8_lossy(&m);
            both += fast_and_keyword_heads_agree(&t) as usize;
        }
    }
    assert!(
        both > 10_000,
        "only {both} mutated headers were read by both"
    );
}

// ---------------------------------------------------------------------------------------
// `cilium monitor -j` debug captures (issue 12): Cilium's `DebugCaptureVerbose`
// (pkg/monitor/datapath_debug.go: `cpu`, `type: "capture"`, `mark`, `message` from
// `subTypeString`, `prefix` from `infoPrefix` (omitted when empty), `source`, `bytes`,
// `summary` from `GetConnectionSummary`), as Go's json.Marshal prints it (`<`/`>` escaped).
// The prefixes and summaries are those of the text-mode lines above.

#[test]
fn json_debug_capture_is_a_capture_with_the_text_lines_fields() {
    let e = parse(
        r#"{"cpu":"CPU 01:","type":"capture","mark":"0x5a1e8b9f","message":"Delivery to ifindex 0","prefix":"-\u003e 0","source":1890,"bytes":74,"summary":"10.60.0.182:41510 -\u003e 104.198.14.52:80 tcp SYN"}"#,
    );
    let text = parse("-> 0: 10.60.0.182:41510 -> 104.198.14.52:80 tcp SYN");
    assert_eq!(e.kind(), Kind::Capture);
    for name in text.names() {
        assert_eq!(e.get(name), text.get(name), "field `{name}`");
    }
    assert_eq!(e.flags(), ["SYN"]);
    assert_eq!(i(&e, "cpu"), 1);
    assert_eq!(s(&e, "mark"), "0x5a1e8b9f");
    assert_eq!(i(&e, "from"), 1890);
    assert_eq!(i(&e, "bytes"), 74);
    assert_eq!(s(&e, "message"), "Delivery to ifindex 0");
    let m = json(&e);
    assert_eq!(m["kind"], "capture");
    assert_eq!(m["flags"].as_array().unwrap().len(), 1);
}

#[test]
fn json_debug_captures_of_the_other_prefixes_and_of_an_arp_frame() {
    for (json, line) in [
        (
            r#"{"cpu":"CPU 00:","type":"capture","mark":"0x0","message":"Incoming packet to load balancer on ifindex 2","prefix":"\u003c- load-balancer eth0","source":0,"bytes":74,"summary":"172.18.0.1:59700 -\u003e 172.18.0.3:32150 tcp SYN"}"#,
            "<- load-balancer eth0: 172.18.0.1:59700 -> 172.18.0.3:32150 tcp SYN",
        ),
        (
            r#"{"cpu":"CPU 02:","type":"capture","mark":"0x0","message":"Packet after nat46 ifindex 12","prefix":"== v4-\u003ev6 12","source":0,"bytes":94,"summary":"[64:ff9b::a00:1]:4000 -\u003e [fd00::66]:80 tcp ACK"}"#,
            "== v4->v6 12: [64:ff9b::a00:1]:4000 -> [fd00::66]:80 tcp ACK",
        ),
        (
            r#"{"cpu":"CPU 00:","type":"capture","mark":"0x5","message":"Packet to proxy port 15001 (Post)","prefix":"-\u003e proxy port 15001","source":1890,"bytes":74,"summary":"10.244.4.66:41000 -\u003e 10.96.0.10:80 tcp SYN"}"#,
            "-> proxy port 15001: 10.244.4.66:41000 -> 10.96.0.10:80 tcp SYN",
        ),
        (
            r#"{"cpu":"CPU 03:","type":"capture","mark":"0x0","message":"Delivery to ifindex 7","prefix":"-\u003e lxc_health","source":0,"bytes":42,"summary":"16:f9:0b:3a:11:02 -\u003e 8e:3c:7d:55:a0:01 ARP"}"#,
            "-> lxc_health: 16:f9:0b:3a:11:02 -> 8e:3c:7d:55:a0:01 ARP",
        ),
        (
            r#"{"cpu":"CPU 03:","type":"capture","mark":"0x0","message":"Delivery to ifindex 7","prefix":"-\u003e lxc_health","source":0,"bytes":118,"summary":"fd00:10:244::5b -\u003e fd00:10:244::1 icmp EchoReply"}"#,
            "-> lxc_health: fd00:10:244::5b -> fd00:10:244::1 icmp EchoReply",
        ),
    ] {
        let e = parse(json);
        let text = parse(line);
        assert_eq!(text.kind(), Kind::Capture, "{line}");
        assert_eq!(e.kind(), Kind::Capture, "{json}");
        assert!(text.names().count() > 2, "{line}");
        for name in text.names() {
            assert_eq!(e.get(name), text.get(name), "`{name}` of {json}");
        }
        assert_eq!(e.flags(), text.flags(), "{json}");
        assert!(
            e.int("cpu").is_some() && e.str("message").is_some(),
            "{e:?}"
        );
    }
}

#[test]
fn json_debug_capture_without_a_prefix_keeps_the_connection_only() {
    // `infoPrefix` is "" for the proxy-pre and SNAT capture points (the text form prints no
    // line for them); `omitempty` leaves `prefix` out of the JSON.
    let e = parse(
        r#"{"cpu":"CPU 01:","type":"capture","mark":"0x5","message":"Packet to proxy port 15001 (Pre)","source":1890,"bytes":74,"summary":"10.244.4.66:41000 -\u003e 10.96.0.10:80 tcp SYN"}"#,
    );
    assert_eq!(e.kind(), Kind::Capture);
    assert_eq!(s(&e, "message"), "Packet to proxy port 15001 (Pre)");
    assert_eq!(s(&e, "src"), "10.244.4.66");
    assert_eq!(i(&e, "sport"), 41000);
    assert_eq!(s(&e, "dst"), "10.96.0.10");
    assert_eq!(i(&e, "dport"), 80);
    assert_eq!(e.flags(), ["SYN"]);
    for absent in ["dir", "point", "ifindex", "proxy_port"] {
        assert_eq!(e.get(absent), None, "{absent}");
    }
    // Nor a summary the text parser can read: still a capture, with what the JSON says.
    let e = parse(
        r#"{"type":"capture","message":"Packet coming from snat engine on ifindex 2","source":0,"bytes":0}"#,
    );
    assert_eq!(e.kind(), Kind::Capture);
    assert_eq!(
        s(&e, "message"),
        "Packet coming from snat engine on ifindex 2"
    );
    assert_eq!(e.get("src"), None);
    assert!(e.flags().is_empty());
}
