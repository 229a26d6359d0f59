//! Saved captures: a pcap (or pcapng) file is read back by tcpdump itself (`tcpdump -n -r`,
//! with the capture's decoding options); any other file is text, lines of tcpdump output in
//! any format [`super::parse`] reads (what a trainee pastes from documentation or saved with
//! `tcpdump … > file`).

use super::parse::{Packet, parse};
use super::record::Records;

/// What a saved capture file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SavedKind {
    /// libpcap's format (either byte order, micro- or nanosecond timestamps) or pcapng.
    Pcap,
    /// Anything else: tcpdump's text output.
    Text,
}

/// The file's kind from its first bytes.
pub fn kind_of(head: &[u8]) -> SavedKind {
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    match head.get(..4) {
        Some(m) if MAGICS.iter().any(|x| x == m) => SavedKind::Pcap,
        _ => SavedKind::Text,
    }
}

/// The packets of tcpdump's text output (headers, statistics, comments and non-IP lines are
/// skipped), and how many records were not packets.
pub fn packets_of_text(text: &str) -> (Vec<Packet>, usize) {
    let mut packets = Vec::new();
    let mut skipped = 0;
    for r in Records::split(text) {
        match parse(&r) {
            Some(p) => packets.push(p),
            None => skipped += 1,
        }
    }
    (packets, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcap_is_told_from_text_by_its_magic() {
        let pcap = include_bytes!("../../../../tests/fixtures/tcpdump/capture.pcap");
        assert_eq!(kind_of(pcap), SavedKind::Pcap);
        assert_eq!(kind_of(b"\x0a\x0d\x0d\x0a\x1c\0\0\0"), SavedKind::Pcap);
        assert_eq!(kind_of(b"20:09:12.401936 IP 1.2.3.4"), SavedKind::Text);
        assert_eq!(kind_of(b""), SavedKind::Text);
    }

    #[test]
    fn text_with_headers_and_comments_keeps_only_packets() {
        let text = "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on vb0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n# pasted from the handout\n20:09:21.184613 IP 10.77.0.1.45639 > 10.77.0.2.9999: UDP, length 5\n20:09:21.184626 IP 10.77.0.2 > 10.77.0.1: ICMP 10.77.0.2 udp port 9999 unreachable, length 41\n2 packets captured\n";
        let (ps, skipped) = packets_of_text(text);
        assert_eq!(ps.len(), 2);
        assert_eq!(skipped, 4);
        assert_eq!(ps[0].dport, Some(9999));
    }
}
