//! TP12's verdicts and flow figures over what a **real Cilium 1.14.4 datapath** printed on
//! this project's two-node Kubernetes tier, in each `loadBalancer.mode`
//! (`tests/fixtures/live-cilium/`, whose README says how and when they were recorded): the
//! tcpdump capture of the pod's node (text printed live, and the pcap), `cilium monitor -v
//! --related-to EP`, the frontend's access log and the NodePort answers. No Cilium needed:
//! labsh's parsers read the recordings, the lab's stdlib judges them.

use std::collections::HashMap;

use rhai::{Array, Dynamic, Map};

use super::support::{eval_in, root};

/// The recordings' folder, the script folder of every evaluation here.
const DIR: &str = "tests/fixtures/live-cilium";

/// One mode's recording: `topology.env`'s roles.
struct Live {
    mode: &'static str,
    env: HashMap<String, String>,
}

impl Live {
    fn load(mode: &'static str) -> Live {
        let path = root().join(DIR).join(mode).join("topology.env");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Live { mode, env }
    }

    fn get(&self, key: &str) -> &str {
        &self.env[key]
    }

    /// Evaluates `body` after a prelude binding the recording: `MODE`, `CLIENT`, `POD`,
    /// `OTHER` (the called node's address), `PORT`, `EP`, `IDENTITY`, `NODE_IPS`,
    /// `packets` (the capture printed live, `tcpdump -n -v -i any`), `events` (the monitor's
    /// lines parsed), `entries` (the access log's lines parsed, each with its `line`), `w`
    /// (the roles for `flows::`), and `verdicts`, `flows` imported.
    fn eval(&self, body: &str) -> Dynamic {
        let m = self.mode;
        let code = format!(
            r#"import "verdicts" as verdicts;
import "flows" as flows;
const MODE = "{m}";
const CLIENT = "{client}";
const POD = "{pod}";
const OTHER = "{other}";
const PORT = {port};
const EP = {ep};
const IDENTITY = "{identity}";
const NODE_IPS = ["{other}", "{pod_node_ip}"];
let packets = tcpdump::read("{m}/capture-any-v.txt");
let events = fs::read("{m}/monitor-v.txt").split("\n").filter(|l| l != "").map(|l| monitor::parse(l));
let entries = [];
for file in ["{m}/access-log.txt", "{m}/access-log-dsr.txt"] {{
    for l in fs::read(file).split("\n") {{
        if l == "" {{ continue; }}
        let e = logs::parse_access(l);
        e.line = l;
        entries.push(e);
    }}
}}
let w = #{{client: CLIENT, called: #{{name: "{other_name}", ip: OTHER}},
          pod_node: #{{name: "{pod_node}", ip: "{pod_node_ip}"}},
          pod: #{{name: "{pod_name}", ip: POD}}, port: PORT}};
{body}"#,
            client = self.get("CLIENT"),
            pod = self.get("POD_IP"),
            other = self.get("OTHER_NODE_IP"),
            port = self.get("NODE_PORT"),
            ep = self.get("ENDPOINT"),
            identity = self.get("IDENTITY"),
            pod_node = self.get("POD_NODE"),
            pod_node_ip = self.get("POD_NODE_IP"),
            other_name = self.get("OTHER_NODE"),
            pod_name = self.get("POD"),
        );
        eval_in(DIR, &code).unwrap_or_else(|e| panic!("{m}: {e}\n{body}"))
    }

    /// A verdict computed by `call` (an expression over the prelude's names).
    fn verdict(&self, call: &str) -> Verdict {
        Verdict::from(self.eval(call))
    }
}

/// A verdict read back from Rhai.
#[derive(Debug)]
struct Verdict {
    passed: bool,
    reason: String,
    evidence: Vec<String>,
}

impl From<Dynamic> for Verdict {
    fn from(v: Dynamic) -> Verdict {
        let map = v.try_cast::<Map>().expect("a verdict map");
        Verdict {
            passed: map["passed"].as_bool().expect("passed"),
            reason: map["reason"].clone().into_string().expect("reason"),
            evidence: map["evidence"]
                .clone()
                .try_cast::<Array>()
                .expect("evidence")
                .into_iter()
                .map(|d| d.into_string().expect("evidence lines"))
                .collect(),
        }
    }
}

/// `[from, to]` of each arrow of a flow figure, and whether it is inferred.
fn arrows(v: Dynamic) -> Vec<(String, String, bool)> {
    let f = v.try_cast::<Map>().expect("a flow");
    f["arrows"]
        .clone()
        .try_cast::<Array>()
        .expect("arrows")
        .into_iter()
        .map(|a| {
            let a = a.try_cast::<Map>().expect("an arrow map");
            let s = |k: &str| a.get(k).map(|d| d.to_string()).unwrap_or_default();
            let inferred = a.get("inferred").is_some_and(|d| d.as_bool() == Ok(true));
            (s("from"), s("to"), inferred)
        })
        .collect()
}

fn edge(from: &str, to: &str, inferred: bool) -> (String, String, bool) {
    (from.to_string(), to.to_string(), inferred)
}

// ─── DSR: every check passes ──────────────────────────────────────────────────────────────

#[test]
fn real_dsr_capture_passes_with_the_reply_rewritten_on_the_pods_node_and_option_154() {
    let live = Live::load("dsr");
    let v = live.verdict("verdicts::reply_path_for(MODE, packets, CLIENT, POD, OTHER, PORT)");
    assert!(v.passed, "{v:?}");
    assert!(
        v.reason.starts_with(
            "SYN 10.250.68.1:60704 -> 10.85.1.9:80 arrived with the client's address, and the SYN-ACK left the pod's node as 10.250.68.2:31770 -> 10.250.68.1: Direct Server Return; the SYN carries Cilium's DSR option (IP option 154, unknown 154)"
        ),
        "{v:?}"
    );
    // The evidence: the SYN as it came in on eth0, and the SYN-ACK leaving eth0 already
    // rewritten (not the one seen on the pod's lxc, still with the pod's address).
    assert_eq!(v.evidence.len(), 2, "{v:?}");
    assert!(
        v.evidence[0].contains("eth0  In  IP (tos 0x0, ttl 63")
            && v.evidence[0].contains("options (unknown 154)")
            && v.evidence[0].contains("10.250.68.1.60704 > 10.85.1.9.80: Flags [S]"),
        "{v:?}"
    );
    assert!(
        v.evidence[1].contains("eth0  Out IP")
            && v.evidence[1].contains("10.250.68.2.31770 > 10.250.68.1.60704: Flags [S.]"),
        "{v:?}"
    );
}

#[test]
fn real_dsr_access_log_keeps_the_clients_address_on_both_nodes() {
    let live = Live::load("dsr");
    let v = live.verdict("verdicts::source_ip_for(MODE, entries, CLIENT, NODE_IPS, 3)");
    assert!(v.passed, "{v:?}");
    assert_eq!(
        v.reason,
        "all 3 requests were logged with the client's own address 10.250.68.1: source IP preserved"
    );
}

#[test]
fn real_dsr_monitor_trace_passes_with_a_cidr_identity_for_the_client() {
    // Cilium traces the client as 16777217 (a local CIDR identity: the host is also the API
    // server), not `world`: the verdict used to fail on it.
    let live = Live::load("dsr");
    let v = live.verdict(
        "verdicts::monitor_trace_for(MODE, events, CLIENT, POD, OTHER, #{endpoint: EP, identity: IDENTITY})",
    );
    assert!(v.passed, "{v:?}");
    assert_eq!(
        v.reason,
        "the request entered endpoint 86 from outside the cluster (CIDR identity 16777217) (identity 16777217->17671, state new, orig-ip 10.250.68.1) and the reply left as 10.85.1.9:80 -> 10.250.68.1:60704 (network)"
    );
    assert_eq!(
        v.evidence,
        [
            "-> endpoint 86 flow 0x9d540f09 , identity 16777217->17671 state new ifindex lxc3bd536f8d26b orig-ip 10.250.68.1: 10.250.68.1:60704 -> 10.85.1.9:80 tcp SYN",
            "-> network flow 0x231ff46b , identity 17671->16777217 state reply ifindex eth0 orig-ip 0.0.0.0: 10.85.1.9:80 -> 10.250.68.1:60704 tcp SYN, ACK",
        ]
    );
}

#[test]
fn real_nodeport_answers_pass_the_nodeport_check() {
    for mode in ["dsr", "snat", "hybrid"] {
        let live = Live::load(mode);
        let v = live.verdict(
            r#"let rs = [];
            for l in fs::read(`${MODE}/nodeport-curl.txt`).split("\n") {
                if l == "" { continue; }
                let f = l.split(" ");
                rs.push(#{url: f[0], status: parse_int(f[1]), node: f[0]});
            }
            verdicts::nodeport(rs)"#,
        );
        assert!(v.passed, "{mode}: {v:?}");
        assert_eq!(
            v.reason, "all 2 nodes answered HTTP 200 on the NodePort",
            "{mode}"
        );
    }
}

#[test]
fn real_dsr_pcap_read_back_gives_the_same_verdict() {
    // The pcap of `-i any` stores interface indexes, named after whatever this host has
    // (README): the verdict relies on directions and addresses, not on those names.
    let live = Live::load("dsr");
    let v = live.verdict(
        r#"let p = tcpdump::read("dsr/capture-any.pcap", #{verbose: true});
        verdicts::dsr(p, CLIENT, POD, OTHER, PORT)"#,
    );
    assert!(v.passed, "{v:?}");
    assert!(v.reason.contains("IP option 154"), "{v:?}");
}

#[test]
fn real_dsr_flow_goes_from_the_pods_node_straight_to_the_client() {
    let live = Live::load("dsr");
    let got = arrows(live.eval("flows::nodeport(packets, w)"));
    assert_eq!(
        got[..4],
        [
            edge("client", "called", true),
            edge("called", "pod", false), // SYN, In on eth0 (DNATed, option 154)
            edge("pod", "pod_node", false), // SYN-ACK, In on the pod's lxc
            edge("pod_node", "client", false), // SYN-ACK, Out of eth0 as the called node
        ],
        "{got:?}"
    );
    assert!(
        !got.iter().any(|(f, t, _)| f == "called" && t == "client"),
        "no reply through the called node in DSR: {got:?}"
    );
    // The monitor: the SYN delivered to the endpoint, the SYN-ACK leaving it, then traced
    // at the node's eth0 (`-> network`, still with the pod's address) toward the client.
    let m = arrows(live.eval("flows::monitor(events, w)"));
    assert_eq!(
        m[..5],
        [
            edge("client", "called", true),
            edge("called", "pod_node", true),
            edge("pod_node", "pod", false),
            edge("pod", "pod_node", false),
            edge("pod_node", "client", false),
        ],
        "{m:?}"
    );
}

// ─── SNAT: the mode-aware checks pass, the DSR comparison fails with the SNAT reason ──────

#[test]
fn real_snat_capture_passes_the_snat_check_and_fails_dsr_with_the_snat_reason() {
    let live = Live::load("snat");
    let v = live.verdict("verdicts::reply_path_for(MODE, packets, CLIENT, POD, OTHER, PORT)");
    assert!(v.passed, "{v:?}");
    assert_eq!(
        v.reason,
        "SYN 10.250.68.2:49206 -> 10.85.1.9:80 came from the called node 10.250.68.2, and the pod's SYN-ACK went back to it: the reply returns through the called node, which answers 10.250.68.1 as 10.250.68.2:31770 — SNAT, as expected in snat mode"
    );
    let d = live.verdict("verdicts::dsr(packets, CLIENT, POD, OTHER, PORT)");
    assert!(!d.passed, "{d:?}");
    assert_eq!(
        d.reason,
        "the SYN reached the pod from 10.250.68.2 (the node the client called), not from the client 10.250.68.1: that node SNATed the request (SNAT mode, source IP lost); \
         the SYN-ACK left as the pod's own address 10.85.1.9:80 -> 10.250.68.2:49206: no reverse NAT on the pod's node, the reply goes back through the node that forwarded the request — SNAT, not DSR"
    );
}

#[test]
fn real_snat_access_log_shows_the_called_nodes_address() {
    let live = Live::load("snat");
    let v = live.verdict("verdicts::source_ip_for(MODE, entries, CLIENT, NODE_IPS, 3)");
    assert!(v.passed, "{v:?}");
    assert_eq!(
        v.reason,
        "the pod saw node address(es) 10.250.68.2 as the client instead of 10.250.68.1: the called nodes SNATed the requests, the source IP is lost, as expected in snat mode; 1 request(s) kept 10.250.68.1: the pod's own node delivers locally, without SNAT"
    );
    let d = live.verdict("verdicts::source_ip(entries, CLIENT, NODE_IPS, 3)");
    assert!(!d.passed, "{d:?}");
    assert_eq!(
        d.reason,
        "the pod saw node address(es) 10.250.68.2 as the client instead of 10.250.68.1: a node SNATed the request, the source IP was not preserved"
    );
}

#[test]
fn real_snat_monitor_trace_shows_the_request_from_remote_node() {
    let live = Live::load("snat");
    let v = live.verdict(
        "verdicts::monitor_trace_for(MODE, events, CLIENT, POD, OTHER, #{endpoint: EP, identity: IDENTITY})",
    );
    assert!(v.passed, "{v:?}");
    assert!(
        v.reason.starts_with(
            "the request entered endpoint 86 from the called node 10.250.68.2 (identity remote-node->17671, state new, orig-ip 10.250.68.2): SNAT"
        ),
        "{v:?}"
    );
    let d = live.verdict(
        "verdicts::monitor_trace(events, CLIENT, POD, #{endpoint: EP, identity: IDENTITY})",
    );
    assert!(!d.passed, "{d:?}");
    assert!(
        d.reason.starts_with(
            "the request came from identity remote-node (source 10.250.68.2), not world: a node SNATed it"
        ),
        "{d:?}"
    );
}

#[test]
fn real_snat_flow_goes_back_through_the_called_node() {
    let live = Live::load("snat");
    let got = arrows(live.eval("flows::nodeport(packets, w)"));
    assert_eq!(
        got[..5],
        [
            edge("client", "called", true),
            edge("called", "pod", false), // SYN from the called node's address
            edge("pod", "pod_node", false), // SYN-ACK on the pod's lxc
            edge("pod_node", "called", false), // SYN-ACK Out of eth0, still the pod's address
            edge("called", "client", true), // the called node answers the client
        ],
        "{got:?}"
    );
}

// ─── Hybrid: TCP goes DSR ─────────────────────────────────────────────────────────────────

#[test]
fn real_hybrid_mode_passes_every_check_as_dsr_for_tcp() {
    let live = Live::load("hybrid");
    for call in [
        "verdicts::reply_path_for(MODE, packets, CLIENT, POD, OTHER, PORT)",
        "verdicts::source_ip_for(MODE, entries, CLIENT, NODE_IPS, 3)",
        "verdicts::monitor_trace_for(MODE, events, CLIENT, POD, OTHER, #{endpoint: EP, identity: IDENTITY})",
    ] {
        let v = live.verdict(call);
        assert!(v.passed, "{call}: {v:?}");
    }
}

// ─── The parsers on the real lines ────────────────────────────────────────────────────────

#[test]
fn every_real_monitor_trace_line_parses_with_its_identities_and_endpoint() {
    for mode in ["dsr", "snat", "hybrid"] {
        let live = Live::load(mode);
        let out = live.eval(
            r#"let bad = [];
            for e in events {
                if e.raw.starts_with("->") || e.raw.starts_with("<-") {
                    if e.kind != "trace" || e.src_identity == () || e.dst_identity == () || e.state == () {
                        bad.push(e.raw);
                    }
                    if e.point == "endpoint" && e.endpoint != EP { bad.push(e.raw); }
                }
            }
            let traces = events.filter(|e| e.kind == "trace").len();
            `${traces} ${bad.len()}`"#,
        );
        let out = out.to_string();
        let (traces, bad) = out.split_once(' ').unwrap();
        assert!(traces.parse::<u32>().unwrap() >= 10, "{mode}: {out}");
        assert_eq!(bad, "0", "{mode}: {out}");
    }
}
