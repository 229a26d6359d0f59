//! Wait latency on a real Kubernetes 1.20.2 (`tests/k8s/cluster.sh`): the time from the
//! moment the benchmark sends the change that makes a condition true to the moment the waiter
//! returns, for `kube::wait_for` (in-process, watch-based) and for `kubectl wait` 1.20
//! (Debian's, a process per wait), paired round by round on the same server.
//!
//!   cargo bench --bench wait_latency        # needs root and tests/k8s/build.sh (see README)

use labsh_testkit::k8s;

use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 15;

fn wait_object(name: &str, done: bool) -> String {
    format!(
        r#"#{{apiVersion: "test.labsh.dev/v1", kind: "Wait", metadata: #{{name: "{name}"}},
             status: #{{conditions: [#{{type: "Done", status: "{}"}}]}}}}"#,
        if done { "True" } else { "False" }
    )
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn p90(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[(v.len() * 9 / 10).min(v.len() - 1)]
}

fn main() {
    let Some(cluster) = k8s::cluster("wait_latency") else {
        return;
    };
    let ns = cluster.namespace("wait-latency");
    cluster.kubectl_ok(&[
        "apply",
        "-f",
        &cluster
            .repo_file("tests/k8s/manifests/waits-crd.yaml")
            .display()
            .to_string(),
    ]);
    cluster.kubectl_ok(&[
        "wait",
        "--for=condition=Established",
        "crd/waits.test.labsh.dev",
        "--timeout=30s",
    ]);
    let mut flipper = cluster.session();
    let apply = |s: &mut labsh::Session, name: &str, done: bool| {
        let _ = s
            .eval(
                "bench.rhai",
                &format!(
                    r#"kube::apply({}, #{{namespace: "{ns}"}});"#,
                    wait_object(name, done)
                ),
            )
            .expect("apply the Wait object");
    };
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // labsh: kube::wait_for in a session of its own, on its own thread.
        let name = format!("w-labsh-{round}");
        apply(&mut flipper, &name, false);
        let (tx, rx) = mpsc::channel();
        let (ns2, name2) = (ns.clone(), name.clone());
        let mut waiter = cluster.session();
        let t = std::thread::spawn(move || {
            let _ = waiter
                .eval(
                    "bench.rhai",
                    &format!(
                        r#"kube::wait_for("waits", "{name2}", |o| o.status.conditions[0].status == "True", #{{namespace: "{ns2}", timeout: "30s"}});"#
                    ),
                )
                .expect("wait_for");
            tx.send(Instant::now()).unwrap();
        });
        std::thread::sleep(Duration::from_millis(1500));
        let sent = Instant::now();
        apply(&mut flipper, &name, true);
        let returned = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("wait_for returned");
        t.join().unwrap();
        ours.push(returned.duration_since(sent).as_secs_f64() * 1e3);

        // kubectl wait 1.20 on the same kind of object.
        let name = format!("w-kubectl-{round}");
        apply(&mut flipper, &name, false);
        let mut child = Command::new(&cluster.kubectl)
            .arg("--kubeconfig")
            .arg(&cluster.kubeconfig)
            .args(["-n", &ns, "wait", "--for=condition=Done", "--timeout=30s"])
            .arg(format!("waits/{name}"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("kubectl wait");
        std::thread::sleep(Duration::from_millis(1500));
        let sent = Instant::now();
        apply(&mut flipper, &name, true);
        let status = child.wait().unwrap();
        let returned = Instant::now();
        assert!(status.success(), "kubectl wait failed");
        theirs.push(returned.duration_since(sent).as_secs_f64() * 1e3);
    }
    println!("wait latency, condition sent true -> waiter returned, {ROUNDS} paired rounds:");
    println!(
        "  kube::wait_for      median {:7.1} ms   p90 {:7.1} ms",
        median(&mut ours.clone()),
        p90(&mut ours.clone())
    );
    println!(
        "  kubectl wait 1.20   median {:7.1} ms   p90 {:7.1} ms",
        median(&mut theirs.clone()),
        p90(&mut theirs.clone())
    );
}
