//! `monitor::parse` throughput over the TP12 handout's real `cilium monitor` lines, beside a
//! naive regex parser (owned strings in a HashMap) as the baseline. (Events delivered into a
//! Rhai closure: `benches/monitor_callback.rs` in the binding crate.)
//!
//! `CARGO_TARGET_DIR=/work/bench-target cargo bench -p labsh-core --bench monitor_parse`

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use labsh_core::monitor::parse;
use regex::Regex;

const HANDOUT: &str = include_str!("../src/monitor/testdata/tp12_monitor.txt");

fn corpus() -> Vec<&'static str> {
    HANDOUT.lines().collect()
}

/// The baseline: what a first attempt looks like — one regex per shape, every field an
/// owned `String` in a `HashMap`, the agent payload parsed to a `serde_json::Value`.
struct NaiveParser {
    trace: Regex,
    agent: Regex,
}

impl NaiveParser {
    fn new() -> Self {
        NaiveParser {
            trace: Regex::new(
                r"^(?P<dir>->|<-) (?P<point>\S+)(?: (?P<endpoint>\d+))? flow (?P<flow>0x[0-9a-f]+) ,? ?identity (?P<src_identity>\S+)->(?P<dst_identity>\S+) state (?P<state>\S+) ifindex (?P<ifindex>\S+) orig-ip (?P<orig_ip>\S+): (?P<src>\S+):(?P<sport>\d+) -> (?P<dst>\S+):(?P<dport>\d+) (?P<proto>\w+) ?(?P<flags>.*)$",
            )
            .unwrap(),
            agent: Regex::new(r"^>> (?P<subtype>[^:]+): (?P<data>.*)$").unwrap(),
        }
    }

    fn parse(&self, line: &str) -> (HashMap<&'static str, String>, Option<serde_json::Value>) {
        let mut m = HashMap::new();
        m.insert("raw", line.to_string());
        if let Some(c) = self.trace.captures(line) {
            m.insert("kind", "trace".to_string());
            for name in [
                "dir",
                "point",
                "endpoint",
                "flow",
                "src_identity",
                "dst_identity",
                "state",
                "ifindex",
                "orig_ip",
                "src",
                "sport",
                "dst",
                "dport",
                "proto",
                "flags",
            ] {
                if let Some(v) = c.name(name) {
                    m.insert(name, v.as_str().to_string());
                }
            }
            return (m, None);
        }
        if let Some(c) = self.agent.captures(line) {
            m.insert("kind", "agent".to_string());
            m.insert("subtype", c["subtype"].to_string());
            return (m, serde_json::from_str(&c["data"]).ok());
        }
        m.insert("kind", "info".to_string());
        (m, None)
    }
}

fn bench_parse(c: &mut Criterion) {
    let lines = corpus();
    let naive = NaiveParser::new();
    let mut g = c.benchmark_group("monitor_parse");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("labsh_parse", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(parse(black_box(l)));
            }
        })
    });
    g.bench_function("naive_regex_baseline", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(naive.parse(black_box(l)));
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench_parse
}
criterion_main!(benches);
