//! Parsing tcpdump's packet records into packets.
//!
//! A record is one `tcpdump -n` line, or the few lines tcpdump prints for one packet with
//! `-v` (IP header, then the indented transport line) or for an encapsulated packet (VXLAN,
//! OTV and Geneve print the inner packet on the next line); [`super::record::Records`] joins
//! them. Besides the plain format this reads `-i any` (interface and direction), `-v` (TTL,
//! id, IP flags and options, TOS, checksum verdict), `-e` (MAC addresses and ethertype),
//! `-t…` timestamps and names printed without `-n` (a port printed as `http` is kept as text).
//!
//! A [`Packet`] keeps the record it came from and the byte ranges of its fields, so storing a
//! long capture costs one allocation per packet; its [`Serialize`] form (the fields scripts
//! read, [`Packet::FIELDS`]) is built only when asked for. The parser scans bytes by hand (no regex) and never panics: a
//! record it does not understand is simply not a packet.

use std::ops::Range;

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// The protocol tcpdump decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
    Icmp,
    /// Anything else carried over IP (ESP, GRE, IPIP, …).
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

/// An absent text field (ranges are into the record; every present field is non-empty,
/// except the timestamp, whose absence is `time()` = `""` anyway).
const NONE: Range<u16> = 0..0;

/// One packet record of tcpdump, stored compactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    raw: Box<str>,
    time: Range<u16>,
    src: Range<u16>,
    dst: Range<u16>,
    flags: Range<u16>,
    iface: Range<u16>,
    dir: Range<u16>,
    src_mac: Range<u16>,
    dst_mac: Range<u16>,
    ethertype: Range<u16>,
    ip_flags: Range<u16>,
    ip_options: Range<u16>,
    sport_name: Range<u16>,
    dport_name: Range<u16>,
    /// `true` for `IP6`.
    pub ipv6: bool,
    /// Source port, when the protocol has ports and tcpdump printed it as a number.
    pub sport: Option<u16>,
    /// Destination port.
    pub dport: Option<u16>,
    /// Decoded protocol.
    pub proto: Proto,
    /// TCP sequence number (the first of `seq A:B`) or ICMP echo sequence.
    pub seq: Option<u64>,
    /// The `length N` (or `(N)`) tcpdump printed on the transport line.
    pub length: Option<u32>,
    /// `-v`: type of service (IPv4 `tos`, IPv6 `class`).
    pub tos: Option<u8>,
    /// `-v`: time to live (IPv6: hop limit).
    pub ttl: Option<u8>,
    /// `-v`: IPv4 identification.
    pub id: Option<u32>,
    /// `-v`: the IP header's total length (IPv6: payload length).
    pub ip_length: Option<u32>,
    /// `-v`: the transport checksum tcpdump verified (`(correct)` or `(incorrect -> …)`).
    pub cksum_ok: Option<bool>,
    /// A port or a host was printed as a name (the capture ran without `-n`).
    pub names: bool,
    inner: Option<Box<Packet>>,
    quoted: Option<Box<Packet>>,
}

impl Packet {
    /// The record as tcpdump printed it (lines joined with `\n`).
    pub fn raw(&self) -> &str {
        &self.raw
    }
    fn slice(&self, r: &Range<u16>) -> &str {
        self.raw
            .get(r.start as usize..r.end as usize)
            .unwrap_or_default()
    }
    fn opt(&self, r: &Range<u16>) -> Option<&str> {
        (r.end > r.start).then(|| self.slice(r))
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
        self.opt(&self.flags)
    }
    /// `-i any`: the interface (`eth0`, `lxc…`).
    pub fn iface(&self) -> Option<&str> {
        self.opt(&self.iface)
    }
    /// `-i any`: the direction as printed: `In`, `Out`, `M` (multicast), `B` (broadcast),
    /// `P` (to another host).
    pub fn dir(&self) -> Option<&str> {
        self.opt(&self.dir)
    }
    /// `-e`: source MAC address.
    pub fn src_mac(&self) -> Option<&str> {
        self.opt(&self.src_mac)
    }
    /// `-e`: destination MAC address (absent with `-i any`, whose cooked header has none).
    pub fn dst_mac(&self) -> Option<&str> {
        self.opt(&self.dst_mac)
    }
    /// `-e`: the ethertype's name (`IPv4`, `IPv6`).
    pub fn ethertype(&self) -> Option<&str> {
        self.opt(&self.ethertype)
    }
    /// `-v`: IPv4 flags as printed (`DF`, `none`, `+`).
    pub fn ip_flags(&self) -> Option<&str> {
        self.opt(&self.ip_flags)
    }
    /// `-v`: IPv4 options as printed (`unknown 154` is Cilium's DSR option).
    pub fn ip_options(&self) -> Option<&str> {
        self.opt(&self.ip_options)
    }
    /// The source port's service name, when printed as a name (`http`).
    pub fn sport_name(&self) -> Option<&str> {
        self.opt(&self.sport_name)
    }
    /// The destination port's service name.
    pub fn dport_name(&self) -> Option<&str> {
        self.opt(&self.dport_name)
    }
    /// The encapsulated packet (IPIP, VXLAN, OTV, Geneve).
    pub fn inner(&self) -> Option<&Packet> {
        self.inner.as_deref()
    }
    /// `-v`: the packet an ICMP error quotes (the datagram a port refused, the IPIP packet a
    /// host could not take, with its own `inner`). Not encapsulation: the ICMP packet is not
    /// a tunnel, so it is not its `inner`.
    pub fn quoted(&self) -> Option<&Packet> {
        self.quoted.as_deref()
    }
    /// Whether the IP options hold option 154, Cilium's DSR option (service address and port).
    pub fn has_cilium_dsr_option(&self) -> bool {
        self.ip_options()
            .is_some_and(|o| o.split(',').any(|x| x.trim() == "unknown 154"))
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

    fn empty() -> Packet {
        Packet {
            raw: Box::default(),
            time: NONE,
            src: NONE,
            dst: NONE,
            flags: NONE,
            iface: NONE,
            dir: NONE,
            src_mac: NONE,
            dst_mac: NONE,
            ethertype: NONE,
            ip_flags: NONE,
            ip_options: NONE,
            sport_name: NONE,
            dport_name: NONE,
            ipv6: false,
            sport: None,
            dport: None,
            proto: Proto::Other,
            seq: None,
            length: None,
            tos: None,
            ttl: None,
            id: None,
            ip_length: None,
            cksum_ok: None,
            names: false,
            inner: None,
            quoted: None,
        }
    }
}

/// Parses one tcpdump record (a line, or the lines of one packet joined with `\n`) into a
/// packet; `None` when it is not an IPv4/IPv6 packet (headers, statistics, ARP, garbage).
/// Never panics.
pub fn parse(record: &str) -> Option<Packet> {
    parse_record(record, None, 0)
}

/// Encapsulation deeper than this is not followed (a record is at most a few lines).
const MAX_DEPTH: u8 = 4;

/// `bare`: the family when the record may omit it (the inner packet of an IPIP packet
/// printed with `-e`: `10.0.0.1 > 10.0.0.2: 172.18.0.1.52216 > …`).
fn parse_record(record: &str, bare: Option<bool>, depth: u8) -> Option<Packet> {
    let text = record.trim_end_matches(['\r', '\n']);
    // Ranges are u16: longer records are not tcpdump packet records we can index.
    if text.len() > u16::MAX as usize {
        return None;
    }
    let b = text.as_bytes();
    let mut p = Packet::empty();
    let mut pos = 0;

    // Timestamp: absent (-t), `HH:MM:SS.ffffff`, epoch (-tt), `YYYY-MM-DD HH:MM:SS.f` (-tttt).
    let (tok, end) = token(b, pos)?;
    let (mut tok, mut end) = (tok, end);
    if is_time_token(tok) {
        let start = pos_of(b, tok);
        let mut time_end = end;
        let (t2, e2) = token(b, end)?;
        if is_date(tok) {
            if !is_time_token(t2) {
                return None;
            }
            time_end = e2;
            (tok, end) = token(b, e2)?;
        } else {
            (tok, end) = (t2, e2);
        }
        p.time = r16(start..time_end);
    }

    // `-i any`: `IFACE In|Out|M|B|P` before the rest (`ifindex N` too with `-e`).
    if tok != b"IP"
        && tok != b"IP6"
        && let Some((t2, e2)) = token(b, end)
        && matches!(t2, b"In" | b"Out" | b"M" | b"B" | b"P")
    {
        p.iface = r16(span(b, tok));
        p.dir = r16(span(b, t2));
        (tok, end) = token(b, e2)?;
        if tok == b"ifindex" {
            let (_, e3) = token(b, end)?;
            (tok, end) = token(b, e3)?;
        }
    }

    // Older tcpdump with `-i any` (issue 23): `ethertype IPv4, IP 10.0.0.1 > …`.
    if tok == b"ethertype"
        && let Some((name, e2)) = token(b, end)
        && let Some(name) = name.strip_suffix(b",")
        && matches!(name, b"IPv4" | b"IPv6")
    {
        p.ethertype = r16(span(b, name));
        (tok, end) = token(b, e2)?;
    }

    // `-e`: `SRC_MAC > DST_MAC, ethertype IPv4 (0x0800), length 74: ` (no `> DST` with
    // `-i any`), and then no family word.
    let family;
    if is_mac(tok) {
        p.src_mac = r16(span(b, tok));
        (tok, end) = token(b, end)?;
        if tok == b">" {
            let (dst, e) = token(b, end)?;
            let dst = dst.strip_suffix(b",")?;
            if !is_mac(dst) {
                return None;
            }
            p.dst_mac = r16(span(b, dst));
            (tok, end) = token(b, e)?;
        }
        if tok != b"ethertype" {
            return None;
        }
        let (mut name, e) = token(b, end)?;
        // `(0x0800), length 74:`
        let (_, e) = token(b, e)?;
        let (len_word, e) = token(b, e)?;
        if len_word != b"length" {
            return None;
        }
        let (_, mut e) = token(b, e)?;
        // A VLAN tag (issue 23): `ethertype 802.1Q (0x8100), length 78: vlan 16, p 0,
        // ethertype IPv4 (0x0800), 10.0.0.1.80 > …` (once per tag with QinQ).
        let mut tags = 0;
        while name.starts_with(b"802.1Q") || name == b"802.1ad" {
            tags += 1;
            let (vlan, e1) = token(b, e)?;
            let (_, e1) = token(b, e1)?;
            let (prio, e1) = token(b, e1)?;
            let (_, e1) = token(b, e1)?;
            let (ether, e1) = token(b, e1)?;
            if tags > 4 || vlan != b"vlan" || prio != b"p" || ether != b"ethertype" {
                return None;
            }
            let (inner, e1) = token(b, e1)?;
            // `(0x0800),`
            let (_, e1) = token(b, e1)?;
            (name, e) = (inner, e1);
        }
        p.ethertype = r16(span(b, name));
        family = match name {
            b"IPv4" => Some(false),
            b"IPv6" => Some(true),
            _ => return None,
        };
        pos = e;
    } else {
        match tok {
            b"IP" => family = Some(false),
            b"IP6" => family = Some(true),
            _ => {
                family = Some(bare?);
                // Not a family word: the record starts with the address itself.
                end = pos_of(b, tok);
            }
        }
        pos = end;
    }
    let bare_inner = p.src_mac.end > 0;
    p.ipv6 = family?;

    // `-v`: `(tos 0x0, ttl 64, …)`; the addresses follow, on the next line for IPv4.
    pos = skip_ws(b, pos);
    let verbose = b.get(pos) == Some(&b'(');
    if verbose {
        let close = matching_paren(b, pos)?;
        header_fields(&mut p, b, pos + 1, close);
        pos = close + 1;
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
    let rest_start = skip_spaces(b, end);
    let line_end = memchr(b'\n', &b[rest_start..]).map_or(b.len(), |i| rest_start + i);
    let rest_full = text.get(rest_start..line_end)?;

    // Encapsulation: the inner packet starts here, inline or on the next line.
    let mut rest = rest_full;
    let mut inner_at = None;
    let mut inner_bare = None;
    let rb = rest.as_bytes();
    if depth < MAX_DEPTH {
        if rb.starts_with(b"IP ") || rb.starts_with(b"IP6 ") {
            inner_at = Some(rest_start);
            rest = "";
        } else if bare_inner && (rb.starts_with(b"(tos ") || second_is_gt(rb)) {
            inner_at = Some(rest_start);
            inner_bare = Some(p.ipv6);
            rest = "";
        } else if rb.starts_with(b"VXLAN,") || rb.starts_with(b"OTV,") {
            inner_at = Some(line_end);
        } else if rb.starts_with(b"Geneve,") {
            match find(rb, b": ") {
                Some(i) => {
                    inner_at = Some(rest_start + i + 2);
                    rest = &rest[..i];
                }
                None => inner_at = Some(line_end),
            }
        }
    }

    let rb = rest.as_bytes();
    let mut flags = NONE;
    let expect_ports;
    let mut proto;
    if let Some(after) = rb.strip_prefix(b"Flags [") {
        proto = Proto::Tcp;
        let close = memchr(b']', after)?;
        let start = rest_start + "Flags [".len();
        flags = r16(start..start + close);
        expect_ports = Some(true);
    } else if rb.starts_with(b"UDP") {
        proto = Proto::Udp;
        expect_ports = Some(true);
    } else if rb.starts_with(b"ICMP") {
        proto = Proto::Icmp;
        expect_ports = Some(false);
    } else {
        proto = Proto::Other;
        expect_ports = None;
    }

    // `-v`: an ICMP error quotes the packet it answers on the next lines (`\tIP (tos …)` and
    // its transport; an IPIP packet with its own inner one).
    let mut quoted_at = None;
    if proto == Proto::Icmp
        && inner_at.is_none()
        && depth < MAX_DEPTH
        && let Some(next) = text.get(line_end..)
    {
        let next = next.trim_start();
        if next.starts_with("IP ") || next.starts_with("IP6 ") {
            quoted_at = Some(line_end);
        }
    }

    let src = split_port(src_tok, p.ipv6, expect_ports);
    let dst = split_port(dst_tok, p.ipv6, expect_ports);
    if proto == Proto::Other && src.has_port() && dst.has_port() {
        proto = if starts_with_word(rb, b"tcp") {
            Proto::Tcp
        } else {
            Proto::Udp
        };
    }
    p.src = r16(src_start..src_start + src.addr_len);
    p.dst = r16(dst_start..dst_start + dst.addr_len);
    p.sport = src.port;
    p.dport = dst.port;
    p.sport_name = src
        .name
        .map_or(NONE, |r| r16(src_start + r.start..src_start + r.end));
    p.dport_name = dst
        .name
        .map_or(NONE, |r| r16(dst_start + r.start..dst_start + r.end));
    p.names = src.is_name || dst.is_name;
    p.proto = proto;
    p.flags = flags;

    p.seq = match proto {
        Proto::Tcp | Proto::Icmp => SEQ
            .find(rb)
            .and_then(|i| leading_number(&rb[i + ", seq ".len()..]))
            .or_else(|| rb.strip_prefix(b"seq ").and_then(leading_number)),
        _ => None,
    };
    p.length = last_length(rb).and_then(|l| u32::try_from(l).ok());
    if verbose && let Some(i) = find(rb, b"cksum 0x") {
        let after = &rb[i + "cksum 0x".len()..];
        let hex = after.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        let verdict = &after[hex..];
        if verdict.starts_with(b" (correct)") {
            p.cksum_ok = Some(true);
        } else if verdict.starts_with(b" (incorrect") {
            p.cksum_ok = Some(false);
        }
    }

    if let Some(at) = inner_at
        && at < text.len()
    {
        let inner_text = text[at..].trim_start();
        p.inner = parse_record(inner_text, inner_bare, depth + 1).map(Box::new);
    }
    if let Some(at) = quoted_at {
        p.quoted = parse_record(text[at..].trim_start(), None, depth + 1).map(Box::new);
    }
    p.raw = text.into();
    Some(p)
}

/// The verbose IP header between `(` at `start - 1` and `)` at `end`.
fn header_fields(p: &mut Packet, b: &[u8], start: usize, end: usize) {
    let h = &b[start..end];
    let num = |key: &[u8]| find(h, key).and_then(|i| leading_number(&h[i + key.len()..]));
    let hex = |key: &[u8]| {
        find(h, key).and_then(|i| {
            let d = &h[i + key.len()..];
            let n = d.iter().take_while(|c| c.is_ascii_hexdigit()).count();
            u64::from_str_radix(std::str::from_utf8(&d[..n]).ok()?, 16).ok()
        })
    };
    if p.ipv6 {
        p.tos = hex(b"class 0x").and_then(|v| u8::try_from(v).ok());
        p.ttl = num(b"hlim ").and_then(|v| u8::try_from(v).ok());
        p.ip_length = num(b"payload length: ").and_then(|v| u32::try_from(v).ok());
        return;
    }
    p.tos = hex(b"tos 0x").and_then(|v| u8::try_from(v).ok());
    p.ttl = num(b"ttl ").and_then(|v| u8::try_from(v).ok());
    p.id = num(b"id ").and_then(|v| u32::try_from(v).ok());
    // The header's own `length N` is the last one before `options` (the only other).
    let opts_at = find(h, b", options (");
    let before_opts = &h[..opts_at.unwrap_or(h.len())];
    p.ip_length = rfind(before_opts, b"length ")
        .and_then(|i| leading_number(&before_opts[i + "length ".len()..]))
        .and_then(|v| u32::try_from(v).ok());
    if let Some(i) = find(h, b"flags [")
        && let Some(close) = memchr(b']', &h[i + "flags [".len()..])
    {
        let s = start + i + "flags [".len();
        p.ip_flags = r16(s..s + close);
    }
    if let Some(i) = opts_at {
        let s = i + ", options (".len();
        if let Some(close) = matching_paren(h, s - 1) {
            p.ip_options = r16(start + s..start + close);
        }
    }
}

fn r16(r: Range<usize>) -> Range<u16> {
    // Callers checked the record fits in u16.
    r.start as u16..r.end as u16
}

fn span(b: &[u8], tok: &[u8]) -> Range<usize> {
    let s = pos_of(b, tok);
    s..s + tok.len()
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && is_ws(b[pos]) {
        pos += 1;
    }
    pos
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && b[pos] == b' ' {
        pos += 1;
    }
    pos
}

/// The next whitespace-separated token at or after `pos`, and the index just past it.
fn token(b: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let start = skip_ws(b, pos);
    let mut end = start;
    while end < b.len() && !is_ws(b[end]) {
        end += 1;
    }
    (end > start).then(|| (&b[start..end], end))
}

/// Offset of the sub-slice `tok` within `b`.
fn pos_of(b: &[u8], tok: &[u8]) -> usize {
    tok.as_ptr() as usize - b.as_ptr() as usize
}

/// Whether `line` starts with a timestamp (a new record, when the capture has them).
pub(crate) fn starts_with_time(line: &str) -> bool {
    token(line.as_bytes(), 0).is_some_and(|(t, _)| is_time_token(t))
}

/// `12:00:00.000001` or `1663187793.101612` (`-tt`): digits and colons around exactly one
/// dot (an address has three or four), or the date of `-tttt`.
fn is_time_token(t: &[u8]) -> bool {
    if t.is_empty() || !t[0].is_ascii_digit() {
        return false;
    }
    if is_date(t) {
        return true;
    }
    let mut dots = 0;
    for &c in t {
        match c {
            b'.' => dots += 1,
            b'0'..=b'9' | b':' => {}
            _ => return false,
        }
    }
    dots == 1
}

fn is_date(t: &[u8]) -> bool {
    t.len() == 10
        && t[4] == b'-'
        && t[7] == b'-'
        && t.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// `aa:bb:cc:dd:ee:ff`.
pub(crate) fn is_mac(t: &[u8]) -> bool {
    t.len() == 17
        && t.iter().enumerate().all(|(i, c)| {
            if i % 3 == 2 {
                *c == b':'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// `A > B: …`: the inner packet of IPIP printed with `-e` (no family word).
fn second_is_gt(rb: &[u8]) -> bool {
    token(rb, 0)
        .and_then(|(_, e)| token(rb, e))
        .is_some_and(|(t, _)| t == b">")
}

/// The index of the `)` closing the `(` at `open`.
fn matching_paren(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'\n' => return None,
            _ => {}
        }
    }
    None
}

fn starts_with_word(b: &[u8], w: &[u8]) -> bool {
    b.starts_with(w) && b.get(w.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// An endpoint as printed: the address, and the port as a number or a name.
struct Endpoint {
    addr_len: usize,
    port: Option<u16>,
    /// The port's name, relative to the token.
    name: Option<Range<usize>>,
    /// A port or the host was printed as a name.
    is_name: bool,
}

impl Endpoint {
    fn has_port(&self) -> bool {
        self.port.is_some() || self.name.is_some()
    }
}

/// Splits `addr.port`. With `-n`, IPv4 with a port has four dots and IPv6 one (or four for
/// an IPv4-mapped address). Without `-n` the port may be a service name (`10.0.0.1.http`)
/// and the host a name (`host.example.52216`): then the last dot splits them when the
/// protocol has ports (`expect_ports`), or when the rest reads as an address and a name.
fn split_port(tok: &[u8], ipv6: bool, expect_ports: Option<bool>) -> Endpoint {
    let whole = || Endpoint {
        addr_len: tok.len(),
        port: None,
        name: None,
        is_name: !is_ip_literal(tok, ipv6),
    };
    if expect_ports == Some(false) {
        return whole();
    }
    let Some(i) = memchr::memrchr(b'.', tok) else {
        return whole();
    };
    let (addr, port) = (&tok[..i], &tok[i + 1..]);
    if port.is_empty() {
        return whole();
    }
    let addr_literal = if ipv6 {
        addr.contains(&b':') && is_ip_literal(addr, true)
    } else {
        is_ipv4(addr)
    };
    if let Some(n) = parse_u64(port).and_then(|p| u16::try_from(p).ok()) {
        // IPv6 with a port: one dot, or four for an IPv4-mapped address.
        let numeric =
            addr_literal && (!ipv6 || matches!(tok.iter().filter(|&&c| c == b'.').count(), 1 | 4));
        if numeric || expect_ports == Some(true) {
            return Endpoint {
                addr_len: i,
                port: Some(n),
                name: None,
                is_name: !addr_literal && !is_ip_literal(addr, ipv6),
            };
        }
        return whole();
    }
    let port_is_word = port
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_'));
    if port_is_word && (addr_literal || expect_ports == Some(true)) {
        return Endpoint {
            addr_len: i,
            port: None,
            name: Some(i + 1..tok.len()),
            is_name: true,
        };
    }
    whole()
}

fn is_ipv4(t: &[u8]) -> bool {
    let mut dots = 0;
    let mut digits = 0;
    for &c in t {
        match c {
            b'.' => {
                if digits == 0 {
                    return false;
                }
                dots += 1;
                digits = 0;
            }
            b'0'..=b'9' => digits += 1,
            _ => return false,
        }
    }
    dots == 3 && digits > 0
}

fn is_ip_literal(t: &[u8], ipv6: bool) -> bool {
    if ipv6 {
        t.iter()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, b':' | b'.' | b'%'))
            && t.contains(&b':')
    } else {
        // With its port: four dots, digits only.
        t.iter().all(|c| c.is_ascii_digit() || *c == b'.')
    }
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

fn memchr(c: u8, b: &[u8]) -> Option<usize> {
    memchr::memchr(c, b)
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(h, needle)
}

fn rfind(h: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(h, needle)
}

// The two searches every TCP line makes, built once (a memmem searcher costs more to build
// than to run on a 150-byte line).
static SEQ: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b", seq "));
static LENGTH: std::sync::LazyLock<memchr::memmem::FinderRev<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::FinderRev::new(b"length "));

/// The last `length N`, else a trailing `(N)` (DNS and other decoded UDP).
fn last_length(rest: &[u8]) -> Option<u64> {
    if let Some(i) = LENGTH.rfind(rest) {
        return leading_number(&rest[i + "length ".len()..]);
    }
    let mut t = rest;
    while let [head @ .., last] = t
        && is_ws(*last)
    {
        t = head;
    }
    let inner = t.strip_suffix(b")")?;
    let open = inner.iter().rposition(|&c| c == b'(')?;
    parse_u64(&inner[open + 1..])
}

/// A port as scripts see it: its number, or the name tcpdump printed without `-n`.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Port<'a> {
    Number(u16),
    Name(&'a str),
}

fn port<'a>(n: Option<u16>, name: Option<&'a str>) -> Option<Port<'a>> {
    match (n, name) {
        (Some(n), _) => Some(Port::Number(n)),
        (None, Some(name)) => Some(Port::Name(name)),
        (None, None) => None,
    }
}

impl Packet {
    /// The fields scripts read, in the order they are serialised: `time, family, src, sport,
    /// dst, dport, proto, flags, syn, ack, fin, rst, psh, seq, length, raw`, then `iface, dir`
    /// (`-i any`), `tos, ttl, id, ip_flags, ip_options, ip_length, cksum_ok, dsr_option`
    /// (`-v`), `src_mac, dst_mac, ethertype` (`-e`), `names`, `inner` and `quoted`. Missing
    /// values are null (`()` in scripts); a port printed as a name is its text (`"http"`).
    pub const FIELDS: [&'static str; 32] = [
        "time",
        "family",
        "src",
        "sport",
        "dst",
        "dport",
        "proto",
        "flags",
        "syn",
        "ack",
        "fin",
        "rst",
        "psh",
        "seq",
        "length",
        "raw",
        "iface",
        "dir",
        "tos",
        "ttl",
        "id",
        "ip_flags",
        "ip_options",
        "ip_length",
        "cksum_ok",
        "dsr_option",
        "src_mac",
        "dst_mac",
        "ethertype",
        "names",
        "inner",
        "quoted",
    ];
}

impl Serialize for Packet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_struct("Packet", Packet::FIELDS.len())?;
        m.serialize_field("time", self.time())?;
        m.serialize_field("family", self.family())?;
        m.serialize_field("src", self.src())?;
        m.serialize_field("sport", &port(self.sport, self.sport_name()))?;
        m.serialize_field("dst", self.dst())?;
        m.serialize_field("dport", &port(self.dport, self.dport_name()))?;
        m.serialize_field("proto", self.proto.as_str())?;
        m.serialize_field("flags", &self.flags())?;
        m.serialize_field("syn", &self.syn())?;
        m.serialize_field("ack", &self.ack())?;
        m.serialize_field("fin", &self.fin())?;
        m.serialize_field("rst", &self.rst())?;
        m.serialize_field("psh", &self.psh())?;
        // Scripts' integers are i64: a sequence number beyond it (never printed by tcpdump,
        // which prints 32 bits) would be no number rather than a wrong one.
        m.serialize_field("seq", &self.seq.and_then(|s| i64::try_from(s).ok()))?;
        m.serialize_field("length", &self.length)?;
        m.serialize_field("raw", self.raw())?;
        m.serialize_field("iface", &self.iface())?;
        m.serialize_field("dir", &self.dir())?;
        m.serialize_field("tos", &self.tos)?;
        m.serialize_field("ttl", &self.ttl)?;
        m.serialize_field("id", &self.id)?;
        m.serialize_field("ip_flags", &self.ip_flags())?;
        m.serialize_field("ip_options", &self.ip_options())?;
        m.serialize_field("ip_length", &self.ip_length)?;
        m.serialize_field("cksum_ok", &self.cksum_ok)?;
        m.serialize_field("dsr_option", &self.has_cilium_dsr_option())?;
        m.serialize_field("src_mac", &self.src_mac())?;
        m.serialize_field("dst_mac", &self.dst_mac())?;
        m.serialize_field("ethertype", &self.ethertype())?;
        m.serialize_field("names", &self.names)?;
        m.serialize_field("inner", &self.inner())?;
        m.serialize_field("quoted", &self.quoted())?;
        m.end()
    }
}

#[cfg(test)]
mod tests;
