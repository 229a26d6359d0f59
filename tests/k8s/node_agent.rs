//! `monitor::start` on a Cilium agent that runs on the node itself, not as a pod (how the
//! agents ran for `tests/fixtures/live-cilium/`): found from the node's debug pod, the
//! monitor program run in the agent's mount namespace, stopped in the node at the end.
//!
//! TEST DOUBLE: Cilium is not built here (nor committed), so the "agent" is a stand-in: a
//! copy of this host's `sleep` named `cilium-agent`, started in the node's network namespace,
//! and beside it a `cilium` shell script that prints its arguments, then the `cilium monitor
//! -v` lines a real Cilium 1.14.4 printed (tests/fixtures/live-cilium/dsr/monitor-v.txt and
//! .err): its two header lines on stderr, where Cilium writes them (with no "Listening for
//! events": the agent's node monitor was idle), the events on stdout; then waits as a
//! monitor does. What is real: the tier, the debug pod, the process lookup,
//! `nsenter`, the exec, the parsing and the stop.

use std::process::{Child, Command};

use super::{T, eventually};

/// The stand-in agent and its folder; killed and removed on drop.
struct FakeAgent {
    child: Child,
    dir: std::path::PathBuf,
}

impl FakeAgent {
    /// Starts the stand-in in `netns`; its `cilium` waits as `sleep {marker}`.
    fn start(netns: &str, marker: u32, fixture: &std::path::Path) -> FakeAgent {
        let dir = std::path::PathBuf::from(format!(
            "/var/tmp/labsh-fake-agent-{}-{marker}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let sleep = which("sleep");
        std::fs::copy(&sleep, dir.join("cilium-agent")).unwrap();
        let script = format!(
            "#!/bin/sh\necho \"argv: $*\"\nhead -n 2 '{f}.err' >&2\ncat '{f}.txt'\nexec '{sleep}' {marker}\n",
            f = fixture.display(),
            sleep = sleep.display()
        );
        let cilium = dir.join("cilium");
        std::fs::write(&cilium, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cilium, std::fs::Permissions::from_mode(0o755)).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", netns])
            .arg(dir.join("cilium-agent"))
            .arg("3600")
            .spawn()
            .unwrap();
        FakeAgent { child, dir }
    }
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn which(program: &str) -> std::path::PathBuf {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .unwrap();
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        .canonicalize()
        .unwrap()
}

/// Processes whose command line is exactly `sleep MARKER` (the stand-in's monitor).
fn monitors_left(marker: u32) -> Vec<String> {
    let mut found = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.trim_end().ends_with(&format!("sleep {marker}")) {
            found.push(cmd);
        }
    }
    found
}

#[test]
fn monitor_follows_an_agent_that_runs_on_the_node_through_its_debug_pod() {
    let Some(mut t) = T::new("monitor_node_agent") else {
        return;
    };
    let _sweeps = super::any_cluster::shared();
    let cluster = t.cluster;
    let node = &cluster.nodes[0];
    let marker = 4700 + (std::process::id() % 200);
    let fixture = cluster.repo_file("tests/fixtures/live-cilium/dsr/monitor-v");
    let _agent = FakeAgent::start(&node.netns, marker, &fixture);
    // No agent pod on this cluster: `auto` (the default) goes to the node's agent process.
    let v = t.ok(&format!(
        r#"let n = cluster::current(#{{namespace: NS}}).node("{name}");
           let mon = monitor::start(n, #{{related_to: 86, verbose: 1}});
           mon.wait_ready("30s");
           mon.wait(#{{"until": |e| e.kind == "trace" && e.state == "reply", timeout: "60s"}});
           let events = mon.stop();
           let traces = events.filter(|e| e.kind == "trace");
           let argv = events.filter(|e| e.raw.starts_with("argv:"))[0].raw;
           let headers = events.filter(|e| e.raw == "Press Ctrl-C to quit").len();
           [argv, traces.len(), traces[0].src_identity, traces[0].endpoint, mon.to_string(), headers]"#,
        name = node.name
    ));
    let v = v.into_array().unwrap();
    assert_eq!(
        v[0].clone().into_string().unwrap(),
        "argv: monitor -v --related-to 86",
        "the monitor program beside the agent's executable, with the monitor's arguments"
    );
    let traces = v[1].as_int().unwrap();
    assert!(traces >= 3, "{v:?}");
    assert_eq!(v[2].clone().into_string().unwrap(), "16777217");
    assert_eq!(v[3].as_int().unwrap(), 86);
    let name = v[4].clone().into_string().unwrap();
    assert!(
        name.contains(&format!(
            "cilium monitor on {} (cilium-agent pid ",
            node.name
        )),
        "{name}"
    );
    // The header Cilium writes on stderr came through with the events: `wait_ready` saw it.
    assert_eq!(v[5].as_int().unwrap(), 1, "{v:?}");
    // Stopped in the node: nothing of the monitor is left.
    eventually("the monitor to be gone from the node", 10, || {
        monitors_left(marker).is_empty()
    });
    // `agent: "pod"` insists on a pod, and says there is none.
    let err = t.err(&format!(
        r#"monitor::start("{}", #{{agent: "pod"}})"#,
        node.name
    ));
    assert!(
        err.contains("Cilium is not installed on context `labsh-test`: no pod labelled k8s-app=cilium in kube-system"),
        "{err}"
    );
    let err = t.err(&format!(
        r#"monitor::start("{}", #{{agent: "daemonset"}})"#,
        node.name
    ));
    assert!(
        err.contains(r#"option `agent` must be "auto", "pod" or "node", got "daemonset""#),
        "{err}"
    );
}

#[test]
fn monitor_on_a_node_without_an_agent_says_where_it_looked() {
    let Some(mut t) = T::new("monitor_no_node_agent") else {
        return;
    };
    let _sweeps = super::any_cluster::shared();
    // The last node: the other test's stand-in runs on the first one.
    let cluster = t.cluster;
    let node = cluster.nodes.last().unwrap();
    if cluster.nodes.len() < 2 {
        eprintln!("skipping monitor_no_node_agent: one node only");
        return;
    }
    let err = t.err(&format!(
        r#"monitor::start(cluster::current(#{{namespace: NS}}).node("{}"), #{{agent: "node"}})"#,
        node.name
    ));
    assert!(
        err.contains(&format!(
            "monitor::start: no Cilium agent on node {}: no agent pod there, and no cilium-agent process in the node's network namespace",
            node.name
        )),
        "{err}"
    );
}
