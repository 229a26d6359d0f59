//! Parsing `tcpdump -n` output lines into packets.
//!
//! A [`Packet`] keeps the line it came from and the byte ranges of its fields, so storing a
//! long capture costs one allocation per packet; [`Packet::to_map`] builds the Rhai map only
//! when a script asks for it. The parser scans bytes by hand (no regex) and never panics: a
//! line it does not understand is simply not a packet.

use std::ops::Range;

use rhai::{Dynamic, Map};

/// The protocol tcpdump decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    /// Anything else carried over IP (ESP, GRE, …).
    Other,
}

impl Proto {
    /// `"tcp"`, `"udp"`, `"icmp"` or `"other"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Other => "other",
        }
    }
}

/// One packet line of `tcpdump -n`, stored compactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    raw: Box<str>,
    time: Range<u16>,
    src: Range<u16>,
    dst: Range<u16>,
    flags: Option<Range<u16>>,
    /// `true` for `IP6`.
    pub ipv6: bool,
    /// Source port, when the protocol has ports.
    pub sport: Option<u16>,
    /// Destination port.
    pub dport: Option<u16>,
    /// Decoded protocol.
    pub proto: Proto,
    /// TCP sequence number (the first of `seq A:B`) or ICMP echo sequence.
    pub seq: Option<u64>,
    /// The `length N` (or `(N)`) tcpdump printed.
    pub length: Option<u32>,
}

impl Packet {
    /// The line as tcpdump printed it.
    pub fn raw(&self) -> &str {
        &self.raw
    }
    fn slice(&self, r: &Range<u16>) -> &str {
        self.raw
            .get(r.start as usize..r.end as usize)
            .unwrap_or_default()
    }
    /// The timestamp as printed (`""` with `-t`).
    pub fn time(&self) -> &str {
        self.slice(&self.time)
    }
    /// Source address.
    pub fn src(&self) -> &str {
        self.slice(&self.src)
    }
    /// Destination address.
    pub fn dst(&self) -> &str {
        self.slice(&self.dst)
    }
    /// TCP flags as tcpdump prints them (`S`, `S.`, `.`, `P.`, `F.`, `R`).
    pub fn flags(&self) -> Option<&str> {
        self.flags.as_ref().map(|r| self.slice(r))
    }
    /// `"IP"` or `"IP6"`.
    pub fn family(&self) -> &'static str {
        if self.ipv6 { "IP6" } else { "IP" }
    }
    fn has_flag(&self, c: char) -> bool {
        self.flags().is_some_and(|f| f.contains(c))
    }
    /// SYN set.
    pub fn syn(&self) -> bool {
        self.has_flag('S')
    }
    /// ACK set (tcpdump prints it as `.`).
    pub fn ack(&self) -> bool {
        self.has_flag('.')
    }
    /// FIN set.
    pub fn fin(&self) -> bool {
        self.has_flag('F')
    }
    /// RST set.
    pub fn rst(&self) -> bool {
        self.has_flag('R')
    }
    /// PSH set.
    pub fn psh(&self) -> bool {
        self.has_flag('P')
    }

    /// The script-facing map: `time, family, src, sport, dst, dport, proto, flags, syn, ack,
    /// fin, rst, psh, seq, length, raw` (missing values are `()`).
    pub fn to_map(&self) -> Map {
        fn opt<T: Into<i64>>(v: Option<T>) -> Dynamic {
            v.map(|v| Dynamic::from_int(v.into()))
                .unwrap_or(Dynamic::UNIT)
        }
        let mut m = Map::new();
        m.insert("time".into(), self.time().into());
        m.insert("family".into(), self.family().into());
        m.insert("src".into(), self.src().into());
        m.insert("sport".into(), opt(self.sport));
        m.insert("dst".into(), self.dst().into());
        m.insert("dport".into(), opt(self.dport));
        m.insert("proto".into(), self.proto.as_str().into());
        m.insert(
            "flags".into(),
            self.flags()
                .map(|f| Dynamic::from(f.to_string()))
                .unwrap_or(Dynamic::UNIT),
        );
        m.insert("syn".into(), self.syn().into());
        m.insert("ack".into(), self.ack().into());
        m.insert("fin".into(), self.fin().into());
        m.insert("rst".into(), self.rst().into());
        m.insert("psh".into(), self.psh().into());
        m.insert(
            "seq".into(),
            self.seq
                .and_then(|s| i64::try_from(s).ok())
                .map(Dynamic::from_int)
                .unwrap_or(Dynamic::UNIT),
        );
        m.insert("length".into(), opt(self.length));
        m.insert("raw".into(), self.raw().into());
        m
    }
}

/// Parses one line of `tcpdump -n` output; `None` when it is not an IPv4/IPv6 packet line
/// (headers, statistics, ARP, garbage). Never panics.
pub fn parse(line: &str) -> Option<Packet> {
    let line = line.trim_end_matches(['\r', '\n']);
    // Ranges are u16: longer lines are not tcpdump packet lines we can index.
    if line.len() > u16::MAX as usize {
        return None;
    }
    let b = line.as_bytes();
    let mut pos = 0;

    // Timestamp: absent (-t), `HH:MM:SS.ffffff`, epoch (-tt) or `YYYY-MM-DD HH:MM:SS.f` (-tttt).
    let (tok, end) = token(b, pos)?;
    let time;
    if is_time_token(tok) {
        let mut time_end = end;
        if tok.len() == 10 && tok[4] == b'-' && tok[7] == b'-' {
            let (t2, e2) = token(b, end)?;
            if !is_time_token(t2) {
                return None;
            }
            time_end = e2;
        }
        time = pos_of(b, tok)..time_end;
        pos = time_end;
    } else {
        time = 0..0;
    }

    // `-i any` inserts `IFACE In|Out|M|P` before the family; skip at most three words.
    let mut ipv6 = false;
    let mut found = false;
    for _ in 0..4 {
        let (tok, end) = token(b, pos)?;
        pos = end;
        match tok {
            b"IP" => {
                found = true;
                break;
            }
            b"IP6" => {
                ipv6 = true;
                found = true;
                break;
            }
            _ => {}
        }
    }
    if !found {
        return None;
    }

    // `SRC > DST: rest`
    let (src_tok, end) = token(b, pos)?;
    let src_start = pos_of(b, src_tok);
    let (gt, end) = token(b, end)?;
    if gt != b">" {
        return None;
    }
    let (dst_tok, end) = token(b, end)?;
    let dst_start = pos_of(b, dst_tok);
    let dst_tok = dst_tok.strip_suffix(b":")?;
    let rest = line.get(end..)?.trim_start();
    let rest_start = line.len() - rest.len();

    let (src_len, sport) = split_port(src_tok, ipv6);
    let (dst_len, dport) = split_port(dst_tok, ipv6);

    let mut flags = None;
    let proto;
    let rb = rest.as_bytes();
    if let Some(after) = rest.strip_prefix("Flags [") {
        proto = Proto::Tcp;
        let close = after.find(']')?;
        let start = rest_start + "Flags [".len();
        flags = Some(r16(start..start + close));
    } else if rest.starts_with("ICMP") {
        proto = Proto::Icmp;
    } else if sport.is_some() && dport.is_some() {
        proto = if starts_with_word(rb, b"tcp") {
            Proto::Tcp
        } else {
            Proto::Udp
        };
    } else {
        proto = Proto::Other;
    }

    let seq = match proto {
        Proto::Tcp | Proto::Icmp => field_number(rest, ", seq ").or_else(|| {
            rest.strip_prefix("seq ")
                .and_then(|r| leading_number(r.as_bytes()))
        }),
        _ => None,
    };
    let length = last_length(rest);

    Some(Packet {
        raw: line.into(),
        time: r16(time),
        src: r16(src_start..src_start + src_len),
        dst: r16(dst_start..dst_start + dst_len),
        flags,
        ipv6,
        sport,
        dport,
        proto,
        seq,
        length: length.and_then(|l| u32::try_from(l).ok()),
    })
}

fn r16(r: Range<usize>) -> Range<u16> {
    // Callers checked the line fits in u16.
    r.start as u16..r.end as u16
}

/// The next space-separated token at or after `pos`, and the index just past it.
fn token(b: &[u8], mut pos: usize) -> Option<(&[u8], usize)> {
    while pos < b.len() && b[pos] == b' ' {
        pos += 1;
    }
    let start = pos;
    while pos < b.len() && b[pos] != b' ' {
        pos += 1;
    }
    (pos > start).then(|| (&b[start..pos], pos))
}

/// Offset of the sub-slice `tok` within `b`.
fn pos_of(b: &[u8], tok: &[u8]) -> usize {
    tok.as_ptr() as usize - b.as_ptr() as usize
}

fn is_time_token(t: &[u8]) -> bool {
    !t.is_empty()
        && t[0].is_ascii_digit()
        && t.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'-'))
}

fn starts_with_word(b: &[u8], w: &[u8]) -> bool {
    b.starts_with(w) && b.get(w.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Splits `addr.port`: IPv4 with a port has four dots; IPv6 with a port has one (or four
/// for an IPv4-mapped address). Returns the address length and the port.
fn split_port(tok: &[u8], ipv6: bool) -> (usize, Option<u16>) {
    let dots = tok.iter().filter(|&&c| c == b'.').count();
    let has_port = if ipv6 {
        dots == 1 || dots == 4
    } else {
        dots == 4
    };
    if has_port
        && let Some(i) = tok.iter().rposition(|&c| c == b'.')
        && let Some(port) = parse_u64(&tok[i + 1..]).and_then(|p| u16::try_from(p).ok())
    {
        return (i, Some(port));
    }
    (tok.len(), None)
}

fn parse_u64(d: &[u8]) -> Option<u64> {
    if d.is_empty() || d.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in d {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u64;
    }
    Some(n)
}

fn leading_number(b: &[u8]) -> Option<u64> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    parse_u64(&b[..n])
}

/// The number after the first `marker` (`", seq "` → `123` in `, seq 123:456,`).
fn field_number(rest: &str, marker: &str) -> Option<u64> {
    let i = rest.find(marker)?;
    leading_number(&rest.as_bytes()[i + marker.len()..])
}

/// The last `length N`, else a trailing `(N)` (DNS and other decoded UDP).
fn last_length(rest: &str) -> Option<u64> {
    if let Some(i) = rest.rfind("length ") {
        return leading_number(&rest.as_bytes()[i + "length ".len()..]);
    }
    let t = rest.trim_end();
    let inner = t.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    parse_u64(&inner.as_bytes()[open + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    // The handout's DSR capture (TP12.md): SYN to the pod, SYN-ACK from the other node's
    // NodePort, then the ACK.
    const SYN: &str = "22:53:09.540087 IP 172.18.0.1.52216 > 10.244.4.66.80: Flags [S], seq 645493402, win 64240, options [mss 1460,sackOK,TS val 2501130328 ecr 0,nop,wscale 7], length 0";
    const SYN_ACK: &str = "22:53:09.540269 IP 172.18.0.3.32150 > 172.18.0.1.52216: Flags [S.], seq 1122188459, ack 645493403, win 65160, options [mss 1460,sackOK,TS val 1158515731 ecr 2501130328,nop,wscale 7], length 0";
    const ACK: &str = "22:53:09.540326 IP 172.18.0.1.52216 > 10.244.4.66.80: Flags [.], ack 1122188460, win 502, options [nop,nop,TS val 2501130328 ecr 1158515731], length 0";

    #[test]
    fn handout_syn_parses_with_addresses_ports_and_flags() {
        let p = parse(SYN).unwrap();
        assert_eq!(p.time(), "22:53:09.540087");
        assert_eq!(p.family(), "IP");
        assert_eq!((p.src(), p.sport), ("172.18.0.1", Some(52216)));
        assert_eq!((p.dst(), p.dport), ("10.244.4.66", Some(80)));
        assert_eq!(p.proto, Proto::Tcp);
        assert_eq!(p.flags(), Some("S"));
        assert!(p.syn() && !p.ack() && !p.fin() && !p.rst() && !p.psh());
        assert_eq!(p.seq, Some(645493402));
        assert_eq!(p.length, Some(0));
    }

    #[test]
    fn syn_ack_sets_syn_and_ack() {
        let p = parse(SYN_ACK).unwrap();
        assert_eq!(p.flags(), Some("S."));
        assert!(p.syn() && p.ack());
        assert_eq!((p.src(), p.sport), ("172.18.0.3", Some(32150)));
        assert_eq!(p.seq, Some(1122188459));
        assert_eq!((p.dst(), p.dport), ("172.18.0.1", Some(52216)));
        let p = parse(ACK).unwrap();
        assert_eq!(p.flags(), Some("."));
        assert!(p.ack() && !p.syn());
        assert_eq!((p.seq, p.length), (None, Some(0)));
    }

    #[test]
    fn data_fin_and_reset_segments() {
        let p = parse("12:00:00.000001 IP 127.0.0.1.80 > 127.0.0.1.5000: Flags [P.], seq 1:613, ack 79, win 512, options [nop,nop,TS val 1 ecr 2], length 612: HTTP: HTTP/1.1 200 OK").unwrap();
        assert!(p.psh() && p.ack());
        assert_eq!(p.seq, Some(1));
        assert_eq!(p.length, Some(612));
        let p = parse("12:00:00.000002 IP 10.0.0.1.80 > 10.0.0.2.5000: Flags [F.], seq 613, ack 80, win 512, length 0").unwrap();
        assert!(p.fin() && p.ack());
        let p = parse(
            "12:00:00.000003 IP 10.0.0.1.80 > 10.0.0.2.5000: Flags [R], seq 614, win 0, length 0",
        )
        .unwrap();
        assert!(p.rst() && !p.ack());
        let p = parse(
            "12:00:00.000004 IP 10.0.0.2.5000 > 10.0.0.1.80: Flags [.], ack 614, win 502, length 0",
        )
        .unwrap();
        assert!(p.ack() && !p.syn());
        assert_eq!(p.seq, None);
    }

    #[test]
    fn udp_icmp_and_ipv6_lines_parse() {
        let p =
            parse("09:00:00.000000 IP 127.0.0.1.40000 > 127.0.0.1.9999: UDP, length 5").unwrap();
        assert_eq!(p.proto, Proto::Udp);
        assert_eq!(
            (p.sport, p.dport, p.length),
            (Some(40000), Some(9999), Some(5))
        );
        let p =
            parse("09:00:00.000000 IP 10.0.0.2.41000 > 10.0.0.1.53: 4660+ A? example.com. (29)")
                .unwrap();
        assert_eq!((p.proto, p.length), (Proto::Udp, Some(29)));
        let p = parse(
            "09:00:01.000000 IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 7, seq 3, length 64",
        )
        .unwrap();
        assert_eq!(p.proto, Proto::Icmp);
        assert_eq!(
            (p.src(), p.sport, p.seq, p.length),
            ("127.0.0.1", None, Some(3), Some(64))
        );
        let p = parse("09:00:02.000000 IP6 ::1.8080 > ::1.41234: Flags [S.], seq 9, ack 10, win 65476, length 0").unwrap();
        assert_eq!(p.family(), "IP6");
        assert_eq!(
            (p.src(), p.sport, p.dst(), p.dport),
            ("::1", Some(8080), "::1", Some(41234))
        );
        let p =
            parse("09:00:03.000000 IP6 fe80::1 > ff02::1: ICMP6, router advertisement, length 64")
                .unwrap();
        assert_eq!(
            (p.src(), p.dst(), p.proto),
            ("fe80::1", "ff02::1", Proto::Icmp)
        );
        let p = parse("09:00:03.000000 IP6 2001:db8::1.443 > 2001:db8::2.50000: Flags [P.], seq 1:10, ack 1, win 1, length 9").unwrap();
        assert_eq!((p.src(), p.sport), ("2001:db8::1", Some(443)));
    }

    #[test]
    fn any_interface_prefix_and_other_time_formats() {
        // Printed by `tcpdump -n -i any` on this machine (tcpdump 4.99).
        let p =
            parse("10:12:31.641468 lo    In  IP 127.0.0.1.56056 > 127.0.0.1.9999: UDP, length 1")
                .unwrap();
        assert_eq!(
            (p.src(), p.sport, p.dport, p.proto),
            ("127.0.0.1", Some(56056), Some(9999), Proto::Udp)
        );
        let p = parse("10:00:00.000000 veth1a2b3c Out IP 172.18.0.3.80 > 172.18.0.1.5000: Flags [S.], seq 1, ack 2, win 1, length 0").unwrap();
        assert_eq!(p.src(), "172.18.0.3");
        let p = parse("2022-09-14 20:36:33.101612 IP 1.2.3.4.1 > 5.6.7.8.2: Flags [S], seq 1, win 1, length 0").unwrap();
        assert_eq!(p.time(), "2022-09-14 20:36:33.101612");
        let p =
            parse("1663187793.101612 IP 1.2.3.4.1 > 5.6.7.8.2: Flags [S], seq 1, win 1, length 0")
                .unwrap();
        assert_eq!(p.time(), "1663187793.101612");
        let p = parse("IP 1.2.3.4.1 > 5.6.7.8.2: Flags [S], seq 1, win 1, length 0").unwrap();
        assert_eq!((p.time(), p.src()), ("", "1.2.3.4"));
    }

    #[test]
    fn headers_statistics_and_arp_are_not_packets() {
        for line in [
            "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode",
            "listening on veth1234, link-type EN10MB (Ethernet), snapshot length 262144 bytes",
            "12 packets captured",
            "12 packets received by filter",
            "0 packets dropped by kernel",
            "10:00:00.000000 ARP, Request who-has 172.18.0.1 tell 172.18.0.3, length 28",
            "",
            "   ",
        ] {
            assert_eq!(parse(line), None, "{line}");
        }
    }

    #[test]
    fn map_has_the_documented_fields() {
        let m = parse(SYN).unwrap().to_map();
        let mut keys: Vec<_> = m.keys().map(|k| k.to_string()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "ack", "dport", "dst", "family", "fin", "flags", "length", "proto", "psh", "raw",
                "rst", "seq", "sport", "src", "syn", "time"
            ]
        );
        assert_eq!(m["sport"].as_int().unwrap(), 52216);
        assert_eq!(m["flags"].clone().into_string().unwrap(), "S");
        assert_eq!(m["raw"].clone().into_string().unwrap(), SYN);
    }

    #[test]
    fn garbage_and_truncated_lines_never_panic() {
        let samples = [
            SYN,
            SYN_ACK,
            "09:00:03.000000 IP6 fe80::1 > ff02::1: ICMP6, router advertisement, length 64",
        ];
        for s in samples {
            for i in 0..=s.len() {
                if s.is_char_boundary(i) {
                    let _ = parse(&s[..i]);
                    let _ = parse(&s[i..]);
                }
            }
        }
        for junk in [
            "IP",
            "IP >",
            "IP a > b",
            "IP a > b:",
            "1 IP 1.2.3.4.99999999999999999999 > x: Flags [",
            "IP 1.2.3.4.5 > 6.7.8.9.10: Flags [S",
            "IP6 . > .: length ",
            "IP 1 > 2: (",
            "IP 1 > 2: ()",
            "\u{0}\u{ffff}IP é > ü: Flags [é]",
            ":::: IP : > :: seq seq , seq",
        ] {
            let _ = parse(junk);
        }
    }

    #[test]
    fn mutated_lines_never_panic() {
        // A small deterministic fuzz loop: flip, insert and delete bytes in real lines.
        let seeds = [
            SYN,
            SYN_ACK,
            "09:00:00.000000 IP 127.0.0.1.40000 > 127.0.0.1.9999: UDP, length 5",
        ];
        let alphabet = b" .:>[]()S,0123456789IP6ablengthseq\t\xff";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].as_bytes().to_vec();
            for _ in 0..(next() % 6 + 1) {
                let i = (next() as usize) % (bytes.len() + 1);
                let c = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 if i < bytes.len() => bytes[i] = c,
                    1 => bytes.insert(i, c),
                    _ if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => {}
                }
            }
            let line = String::from_utf8_lossy(&bytes);
            if let Some(p) = parse(&line) {
                let _ = p.to_map();
            }
        }
    }
}

#[cfg(test)]
mod corpus_tests {
    use super::*;

    /// Lines tcpdump printed on this machine's loopback (HTTP over IPv4 and IPv6, UDP, ICMP
    /// port-unreachable), also the benchmark's corpus.
    const CORPUS: &str = include_str!("../../benches/data/tcpdump-lo.txt");

    #[test]
    fn every_captured_line_parses_consistently() {
        let mut n = 0;
        for line in CORPUS.lines() {
            let p = parse(line).unwrap_or_else(|| panic!("not parsed: {line}"));
            assert_eq!(p.raw(), line);
            assert!(!p.src().is_empty() && !p.dst().is_empty(), "{line}");
            assert!(
                line.contains(&format!(" {} > ", p.src()))
                    || line.contains(&format!(" {}.", p.src())),
                "{line}"
            );
            match p.proto {
                Proto::Tcp => {
                    assert!(
                        p.flags().is_some() && p.sport.is_some() && p.dport.is_some(),
                        "{line}"
                    )
                }
                Proto::Udp => assert!(p.sport.is_some() && p.dport.is_some(), "{line}"),
                Proto::Icmp => assert!(p.sport.is_none(), "{line}"),
                Proto::Other => panic!("unexpected protocol: {line}"),
            }
            assert!(p.length.is_some(), "{line}");
            n += 1;
        }
        assert!(n > 1000);
    }
}
