//! Throughput of exec output into a Rhai callback (`kube::exec_stream`), the path the
//! monitor's events take, against the loopback test API server (a test double), beside the
//! baseline of the same callback called from a Rhai loop (no exec, no WebSocket).
//!
//! `CARGO_TARGET_DIR=/work/bench-target cargo bench --bench kube_exec`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labsh_testkit::apiserver::{ExecReply, TestApiServer};
use serde_json::json;

const LINES: usize = 20_000;
/// Lines per WebSocket frame: the agent's output arrives in bursts.
const PER_FRAME: usize = 100;
const LINE: &str = "-> endpoint 1890 flow 0x3f7084a , identity world->6623 state new ifindex 0 orig-ip 0.0.0.0: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN";

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(TestApiServer::start());
    server.insert(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "cilium-x7k2p", "namespace": "kube-system"},
        "spec": {"nodeName": "lab-worker", "containers": [{"name": "cilium-agent", "image": "x"}]}}));
    // Each frame ends with a newline: the server writes chunks as-is, and a line cut at a frame
    // boundary would be joined with the next frame's first line.
    let frame = format!("{}\n", vec![LINE; PER_FRAME].join("\n"));
    server.on_exec(move |_| ExecReply {
        stdout: (0..LINES / PER_FRAME)
            .map(|_| (Duration::ZERO, frame.clone()))
            .collect(),
        stderr: vec![],
        exit_code: 0,
        keep_open: false,
    });
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut session = server.labsh_session(&kubeconfig, "bench");

    let mut group = c.benchmark_group("exec_lines_into_rhai_callback");
    group.throughput(Throughput::Elements(LINES as u64));
    group.sample_size(20);
    group.bench_function("kube::exec_stream", |b| {
        b.iter(|| {
            let n = session
                .eval(
                    "bench.rhai",
                    r#"let n = 0; kube::exec_stream("cilium-x7k2p", ["cilium-dbg", "monitor"], #{namespace: "kube-system"}, |l| { n += 1; true }); n"#,
                )
                .unwrap();
            assert_eq!(n.as_int().unwrap() as usize, LINES);
        })
    });
    group.bench_function("baseline: same callback from a Rhai loop", |b| {
        b.iter(|| {
            let n = session
                .eval(
                    "bench.rhai",
                    &format!(
                        r#"let n = 0; let f = |l| {{ n += 1; true }}; let line = "{LINE}"; for i in 0..{LINES} {{ f.call(line); }} n"#
                    ),
                )
                .unwrap();
            assert_eq!(n.as_int().unwrap() as usize, LINES);
        })
    });
    group.finish();
    drop(session);
    drop(server);
}

criterion_group!(benches, bench);
criterion_main!(benches);
