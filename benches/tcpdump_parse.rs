//! `tcpdump::parse` throughput on real lines (captured on this machine's loopback: HTTP over
//! IPv4 and IPv6, UDP, ICMP), beside a naive regex-based parser measured in the same run.
//! Goal: ≥ 1 million lines/s on one core.
//!
//! `CARGO_TARGET_DIR=/work/bench-target cargo bench --bench tcpdump_parse`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regex::Regex;
use std::hint::black_box;

const CORPUS: &str = include_str!("data/tcpdump-lo.txt");

/// What a straightforward regex parser produces: owned fields per line.
#[allow(dead_code)]
#[derive(Debug)]
struct NaivePacket {
    time: String,
    family: String,
    src: String,
    sport: Option<u16>,
    dst: String,
    dport: Option<u16>,
    flags: Option<String>,
    seq: Option<u64>,
    length: Option<u32>,
    raw: String,
}

struct NaiveParser {
    head: Regex,
    endpoint4: Regex,
    endpoint6: Regex,
    flags: Regex,
    seq: Regex,
    length: Regex,
}

impl NaiveParser {
    fn new() -> Self {
        NaiveParser {
            head: Regex::new(r"^(\S+) (IP6?) (\S+) > (\S+): (.*)$").unwrap(),
            endpoint4: Regex::new(r"^(\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?$").unwrap(),
            endpoint6: Regex::new(r"^([0-9a-fA-F:]+)(?:\.(\d+))?$").unwrap(),
            flags: Regex::new(r"Flags \[([^\]]*)\]").unwrap(),
            seq: Regex::new(r"seq (\d+)").unwrap(),
            length: Regex::new(r"length (\d+)").unwrap(),
        }
    }

    fn parse(&self, line: &str) -> Option<NaivePacket> {
        let c = self.head.captures(line)?;
        let family = c[2].to_string();
        let ep = if family == "IP6" {
            &self.endpoint6
        } else {
            &self.endpoint4
        };
        let src = ep.captures(&c[3])?;
        let dst = ep.captures(c[4].trim_end_matches(':'))?;
        let rest = &c[5];
        Some(NaivePacket {
            time: c[1].to_string(),
            family,
            src: src[1].to_string(),
            sport: src.get(2).and_then(|m| m.as_str().parse().ok()),
            dst: dst[1].to_string(),
            dport: dst.get(2).and_then(|m| m.as_str().parse().ok()),
            flags: self.flags.captures(rest).map(|f| f[1].to_string()),
            seq: self.seq.captures(rest).and_then(|s| s[1].parse().ok()),
            length: self.length.captures(rest).and_then(|s| s[1].parse().ok()),
            raw: line.to_string(),
        })
    }
}

fn bench(c: &mut Criterion) {
    let lines: Vec<&str> = CORPUS.lines().collect();
    let naive = NaiveParser::new();
    // Both parsers must agree on what they measure.
    let parsed = lines
        .iter()
        .filter(|l| labsh::tcpdump::parse(l).is_some())
        .count();
    let naive_parsed = lines.iter().filter(|l| naive.parse(l).is_some()).count();
    assert_eq!(parsed, lines.len());
    assert_eq!(naive_parsed, lines.len());

    let mut g = c.benchmark_group("tcpdump_parse");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("labsh", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(labsh::tcpdump::parse(black_box(l)));
            }
        })
    });
    g.bench_function("naive_regex", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(naive.parse(black_box(l)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
