//! `tcpdump::parse` throughput on real lines (captured on this machine's loopback: HTTP over
//! IPv4 and IPv6, UDP, ICMP), beside a naive regex-based parser measured in the same run
//! (goal ≥ 5 M lines/s); and on the other formats (`-i any`, `-v` two-line records, `-e`, no
//! `-n`, encapsulated packets: the fixtures recorded by `tests/fixtures/tcpdump/record.sh`),
//! lines joined into records by `Records` then parsed, beside a naive regex parser of the
//! same formats (goal ≥ 1 M lines/s).
//!
//! `CARGO_TARGET_DIR=/work/bench-target cargo bench -p labsh-core --bench tcpdump_parse`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use regex::Regex;
use std::hint::black_box;

const CORPUS: &str = include_str!("data/tcpdump-lo.txt");
const FORMATS: [&str; 7] = [
    include_str!("../../../tests/fixtures/tcpdump/any.txt"),
    include_str!("../../../tests/fixtures/tcpdump/any-v.txt"),
    include_str!("../../../tests/fixtures/tcpdump/any-e.txt"),
    include_str!("../../../tests/fixtures/tcpdump/veth-v.txt"),
    include_str!("../../../tests/fixtures/tcpdump/veth-e.txt"),
    include_str!("../../../tests/fixtures/tcpdump/veth-ev.txt"),
    include_str!("../../../tests/fixtures/tcpdump/veth-names.txt"),
];

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

/// A straightforward regex reading of the other formats: continuation lines (indented, or
/// without a timestamp) appended to their record, then one regex per prefix (`-i any`, `-e`,
/// `-v` header) before the plain parser's regexes; owned fields.
#[allow(dead_code)]
#[derive(Debug)]
struct NaiveRecord {
    iface: Option<String>,
    dir: Option<String>,
    src_mac: Option<String>,
    ethertype: Option<String>,
    tos: Option<String>,
    ttl: Option<u8>,
    id: Option<u32>,
    ip_flags: Option<String>,
    ip_options: Option<String>,
    packet: Option<NaivePacket>,
}

struct NaiveFormats {
    plain: NaiveParser,
    time: Regex,
    any: Regex,
    ether: Regex,
    verbose: Regex,
}

impl NaiveFormats {
    fn new() -> Self {
        NaiveFormats {
            plain: NaiveParser::new(),
            time: Regex::new(r"^\d[\d:.]+ ").unwrap(),
            any: Regex::new(r"^(\S+) (\S+)\s+(In|Out|M|B|P)\s+(?:ifindex \d+ )?(.*)$").unwrap(),
            ether: Regex::new(
                r"^([0-9a-f:]{17})(?: > ([0-9a-f:]{17}),)? ethertype (\S+) \(0x[0-9a-f]+\), length \d+: (.*)$",
            )
            .unwrap(),
            verbose: Regex::new(
                r"^(IP6?) \((?:tos 0x([0-9a-f]+), ttl (\d+), id (\d+), offset \d+, flags \[([^\]]*)\], proto [^,]+, length \d+(?:, options \(([^)]*)\))?|[^)]*\)[^)]*)\)\s*(.*)$",
            )
            .unwrap(),
        }
    }

    fn records(&self, lines: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for l in lines {
            if l.trim().is_empty() {
                continue;
            }
            let continues = l.starts_with([' ', '\t']) || !self.time.is_match(l);
            match out.last_mut() {
                Some(last) if continues => {
                    last.push('\n');
                    last.push_str(l);
                }
                _ => out.push(l.to_string()),
            }
        }
        out
    }

    fn parse(&self, record: &str) -> Option<NaiveRecord> {
        let first = record.lines().next()?;
        let (time, mut rest) = first.split_once(' ')?;
        let mut r = NaiveRecord {
            iface: None,
            dir: None,
            src_mac: None,
            ethertype: None,
            tos: None,
            ttl: None,
            id: None,
            ip_flags: None,
            ip_options: None,
            packet: None,
        };
        let owned;
        if let Some(c) = self.any.captures(first) {
            r.iface = Some(c[2].to_string());
            r.dir = Some(c[3].to_string());
            owned = c[4].to_string();
            rest = &owned;
        }
        let owned2;
        let mut family = None;
        if let Some(c) = self.ether.captures(rest) {
            r.src_mac = Some(c[1].to_string());
            r.ethertype = Some(c[3].to_string());
            family = Some(if &c[3] == "IPv6" { "IP6" } else { "IP" });
            owned2 = c[4].to_string();
            rest = &owned2;
        }
        let mut line = match family {
            Some(f) => format!("{time} {f} {rest}"),
            None => format!("{time} {rest}"),
        };
        if let Some(c) = self
            .verbose
            .captures(line.trim_start_matches(|ch: char| ch != 'I'))
        {
            r.tos = c.get(2).map(|m| m.as_str().to_string());
            r.ttl = c.get(3).and_then(|m| m.as_str().parse().ok());
            r.id = c.get(4).and_then(|m| m.as_str().parse().ok());
            r.ip_flags = c.get(5).map(|m| m.as_str().to_string());
            r.ip_options = c.get(6).map(|m| m.as_str().to_string());
            let tail = c.get(7).map(|m| m.as_str()).unwrap_or_default();
            let body = if tail.is_empty() {
                record.lines().nth(1).unwrap_or_default().trim()
            } else {
                tail
            };
            line = format!("{time} {} {body}", &c[1]);
        }
        r.packet = self.plain.parse(&line);
        Some(r)
    }
}

fn bench(c: &mut Criterion) {
    let lines: Vec<&str> = CORPUS.lines().collect();
    let naive = NaiveParser::new();
    // Both parsers must agree on what they measure.
    let parsed = lines
        .iter()
        .filter(|l| labsh_core::tcpdump::parse(l).is_some())
        .count();
    let naive_parsed = lines.iter().filter(|l| naive.parse(l).is_some()).count();
    assert_eq!(parsed, lines.len());
    assert_eq!(naive_parsed, lines.len());

    let mut g = c.benchmark_group("tcpdump_parse");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("labsh", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(labsh_core::tcpdump::parse(black_box(l)));
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

    let format_lines: Vec<&str> = FORMATS.iter().flat_map(|t| t.lines()).collect();
    let naive = NaiveFormats::new();
    let records = labsh_core::tcpdump::Records::split(&format_lines.join("\n"));
    let parsed = records
        .iter()
        .filter(|r| labsh_core::tcpdump::parse(r).is_some())
        .count();
    let naive_parsed = naive
        .records(&format_lines)
        .iter()
        .filter(|r| naive.parse(r).and_then(|r| r.packet).is_some())
        .count();
    // labsh reads every IP record; the regex reading at least most of them.
    assert!(parsed >= naive_parsed, "{parsed} < {naive_parsed}");
    assert!(
        naive_parsed * 10 >= parsed * 8,
        "{naive_parsed} of {parsed}"
    );
    let mut g = c.benchmark_group("tcpdump_parse_formats");
    g.throughput(Throughput::Elements(format_lines.len() as u64));
    g.bench_function("labsh", |b| {
        b.iter(|| {
            let mut r = labsh_core::tcpdump::Records::new();
            for l in &format_lines {
                if let Some(rec) = r.push(black_box(l)) {
                    black_box(labsh_core::tcpdump::parse(&rec));
                }
            }
            if let Some(rec) = r.flush() {
                black_box(labsh_core::tcpdump::parse(&rec));
            }
        })
    });
    g.bench_function("naive_regex", |b| {
        b.iter(|| {
            for rec in naive.records(black_box(&format_lines)) {
                black_box(naive.parse(&rec));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
