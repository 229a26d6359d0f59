//! The `monitor` family from scripts: `monitor::parse`, and a `Monitor` fed by a scripted
//! source (a test double for the `cilium monitor` exec, see `monitor/scripted_source.rs`)
//! replaying the TP12 handout's real output.

mod scripted_source;

use std::sync::Arc;
use std::time::{Duration, Instant};

use labsh::monitor::MonitorOptions;
use labsh::{Session, Workbench};
use rhai::Dynamic;
use scripted_source::{SourceRecord, scripted_monitor};

const HANDOUT: &str = include_str!("../crates/labsh-core/src/monitor/testdata/tp12_monitor.txt");

fn handout() -> Vec<String> {
    HANDOUT.lines().map(str::to_string).collect()
}

/// A session with the monitor family and `scripted_monitor(capacity)` / `scripted_monitor_slow(ms)`
/// returning monitors over the handout's lines.
fn session(print: bool) -> (Session, Arc<SourceRecord>) {
    let mut session = Workbench::new()
        .with_primitives([labsh::primitives::monitor::FAMILY])
        .build()
        .expect("runtime");
    let record = Arc::new(SourceRecord::default());
    let ctx = session.ctx().clone();
    let r = record.clone();
    session
        .engine_mut()
        .register_fn("scripted_monitor", move |capacity: i64| {
            let options = MonitorOptions {
                capacity: capacity as usize,
                print,
                ..MonitorOptions::default()
            };
            scripted_monitor(&ctx, handout(), Duration::ZERO, options, r.clone())
        });
    let ctx = session.ctx().clone();
    let r = record.clone();
    session
        .engine_mut()
        .register_fn("scripted_monitor_slow", move |gap_ms: i64| {
            scripted_monitor(
                &ctx,
                handout(),
                Duration::from_millis(gap_ms as u64),
                MonitorOptions::default(),
                r.clone(),
            )
        });
    (session, record)
}

fn eval(session: &mut Session, script: &str) -> Dynamic {
    session
        .eval("test.rhai", script)
        .unwrap_or_else(|e| panic!("script failed: {e}"))
}

fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn parse_from_a_script_gives_the_fields() {
    let (mut s, _) = session(false);
    let out = eval(
        &mut s,
        r#"
        let e = monitor::parse("-> stack flow 0x3f7084a , identity 6623->world state reply ifindex 0 orig-ip 0.0.0.0: 172.18.0.3:32150 -> 172.18.0.1:59700 tcp SYN, ACK");
        `${e.kind}|${e.point}|${e.endpoint == ()}|${e.src}:${e.sport}|${e.flags}|${"ACK" in e.flags}`
        "#,
    );
    assert_eq!(
        out.into_string().unwrap(),
        r#"trace|stack|true|172.18.0.3:32150|["SYN", "ACK"]|true"#
    );
}

#[test]
fn wait_until_then_stop_returns_the_events_in_order_and_closes_the_source() {
    let (mut s, record) = session(false);
    let out = eval(
        &mut s,
        r#"
        let mon = scripted_monitor_slow(1);
        let seen = mon.wait(#{"until": |e| e.kind == "agent" && e.data.cidr == "0.0.0.0/0", timeout: "10s"});
        let events = mon.stop();
        let flows = events.filter(|e| e.kind == "trace").map(|e| e.flow);
        [seen, events.len(), events[0].kind, events[events.len() - 1].raw, flows[6], mon.running]
        "#,
    );
    let out: Vec<String> = out
        .into_array()
        .unwrap()
        .into_iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(out[0], "true");
    // Everything up to the third agent line (line 23 of the listing) at least.
    let n: usize = out[1].parse().unwrap();
    assert!(n >= 23, "{n} events");
    assert_eq!(out[2], "info");
    assert_eq!(out[3], HANDOUT.lines().nth(n - 1).unwrap());
    assert_eq!(out[4], "0xe0d23007");
    assert_eq!(out[5], "false");
    assert!(record.hook_ran(), "close hook ran on stop");
    eventually("the producer sees its channel closed", || {
        record.channel_closed()
    });
}

#[test]
fn the_until_event_reads_like_the_event_maps() {
    let (mut s, _) = session(false);
    let out = eval(
        &mut s,
        r#"
        let mon = scripted_monitor(1000);
        let seen = [];
        mon.wait(#{"until": |e| {
            if e.kind == "trace" && e.dport == 80 && "FIN" in e.flags && e.icmp == () {
                seen.push(e.to_map());
                seen.push(`${e.src}:${e.sport} ${e.endpoint} ${e.flags}`);
                return true;
            }
            false
        }, timeout: "10s"});
        let first_fin = mon.events().filter(|m| m.kind == "trace" && "FIN" in m.flags)[0];
        [seen[0] == first_fin, seen[1], type_of(seen[0])]
        "#,
    );
    let arr = out.into_array().unwrap();
    assert!(
        arr[0].as_bool().unwrap(),
        "to_map() equals the events() map"
    );
    assert_eq!(
        arr[1].clone().into_string().unwrap(),
        r#"172.18.0.1:59700 1890 ["ACK", "FIN"]"#
    );
    assert_eq!(arr[2].clone().into_string().unwrap(), "map");
}

#[test]
fn wait_by_count_and_events_keep_the_stream_order() {
    let (mut s, _) = session(false);
    let out = eval(
        &mut s,
        r#"
        let mon = scripted_monitor(1000);
        let ok = mon.wait(#{count: 36, timeout: "10s"});
        let raws = mon.events().map(|e| e.raw);
        mon.stop();
        [ok, raws]
        "#,
    );
    let arr = out.into_array().unwrap();
    assert!(arr[0].as_bool().unwrap());
    let raws: Vec<String> = arr[1]
        .clone()
        .into_array()
        .unwrap()
        .into_iter()
        .map(|v| v.into_string().unwrap())
        .collect();
    assert_eq!(raws, handout());
}

#[test]
fn wait_times_out_with_false() {
    let (mut s, _) = session(false);
    let started = Instant::now();
    let out = eval(
        &mut s,
        r#"
        let mon = scripted_monitor(1000);
        mon.wait(#{"until": |e| e.kind == "drop", timeout: "300ms"})
        "#,
    );
    assert!(!out.as_bool().unwrap());
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn a_small_buffer_reports_what_it_dropped() {
    let (mut s, _) = session(false);
    let out = eval(
        &mut s,
        r#"
        let mon = scripted_monitor(5);
        mon.wait(#{count: 36, timeout: "10s"});
        let events = mon.stop();
        [events.len(), mon.dropped(), events[4].raw]
        "#,
    );
    let arr = out.into_array().unwrap();
    assert_eq!(arr[0].as_int().unwrap(), 5);
    assert_eq!(arr[1].as_int().unwrap(), 31);
    assert_eq!(
        arr[2].clone().into_string().unwrap(),
        *handout().last().unwrap()
    );
}

#[test]
fn until_must_return_a_bool() {
    let (mut s, _) = session(false);
    let err = s
        .eval(
            "test.rhai",
            r#"let mon = scripted_monitor(1000); mon.wait(#{"until": |e| e.kind, timeout: "5s"})"#,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Monitor.wait: `until` must return true or false, got string `info`"),
        "{err}"
    );
}

/// Issue 20: the event a `wait` closure reads (held as it is, not as a map) names its fields
/// when the closure misspells one, at the closure's line.
#[test]
fn a_misspelt_field_in_until_names_the_events_fields() {
    let (mut s, _) = session(false);
    let err = s
        .eval(
            "test.rhai",
            "let mon = scripted_monitor(1000);\nmon.wait(#{\"until\": |e| e.kind == \"trace\" && e.src_identiy == \"world\", timeout: \"5s\"})",
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("event has no field `src_identiy`; did you mean `src_identity`? its fields: dir, dport, dst, dst_identity, endpoint, flags, flow, ifindex, kind, orig_ip, point, proto, raw, sport, src, src_identity, state"),
        "{err}"
    );
    assert!(err.contains("test.rhai:2:47"), "{err}");
}

#[test]
fn until_is_a_rhai_keyword_so_an_unquoted_key_does_not_parse() {
    // Documented: scripts write `#{"until": …}`. This guards the doc's advice.
    let (mut s, _) = session(false);
    let err = s
        .eval(
            "test.rhai",
            r#"let mon = scripted_monitor(10); mon.wait(#{until: |e| true})"#,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Expecting '}' to end this object map literal"),
        "{err}"
    );
}

#[test]
fn wait_rejects_unknown_options_and_non_closures() {
    let (mut s, _) = session(false);
    let err = s
        .eval(
            "test.rhai",
            r#"let mon = scripted_monitor(10); mon.wait(#{timout: "5s"})"#,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "Monitor.wait: unknown option `timout`; expected one of: count, timeout, until"
        ),
        "{err}"
    );
    let err = s
        .eval(
            "test.rhai",
            r#"let mon = scripted_monitor(10); mon.wait(#{"until": true})"#,
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("option `until` must be a closure `|event| bool`, got bool `true`"),
        "{err}"
    );
}

#[test]
fn dropping_the_session_closes_a_running_monitor() {
    let (mut s, record) = session(false);
    let _ = eval(
        &mut s,
        "let mon = scripted_monitor(1000); mon.wait(#{count: 3});",
    );
    assert!(!record.hook_ran());
    drop(s);
    // The session's shutdown cancels the monitor's task, which runs the hook; under a loaded
    // machine that can land just after `drop` returns.
    eventually("the close hook runs", || record.hook_ran());
    eventually("the producer sees its channel closed", || {
        record.channel_closed()
    });
}

/// Runs in a child process (see `live_print_shows_the_raw_lines`): prints live.
#[test]
#[ignore = "child process of live_print_shows_the_raw_lines"]
fn live_print_child() {
    let (mut s, _) = session(true);
    let _ = eval(
        &mut s,
        r#"let mon = scripted_monitor(1000); mon.wait(#{count: 36, timeout: "10s"}); mon.stop();"#,
    );
}

#[test]
fn live_print_shows_the_raw_lines() {
    // The test's path in the test crate (`monitor::live_print_child`), without the crate.
    let child = format!(
        "{}::live_print_child",
        module_path!().split_once("::").map_or("", |(_, m)| m)
    );
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            child.as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The harness's `test live_print_child ... ` may precede the first line.
    let printed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| HANDOUT.lines().find(|h| l.ends_with(h)))
        .collect();
    assert_eq!(printed, HANDOUT.lines().collect::<Vec<_>>());
}
