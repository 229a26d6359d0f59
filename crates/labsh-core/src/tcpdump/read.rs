//! Saved captures: a pcap (or pcapng) file is read back by tcpdump itself (`tcpdump -n -r`,
//! with the capture's decoding options); any other file is text, lines of tcpdump output in
//! any format [`super::parse`] reads (what a trainee pastes from documentation or saved with
//! `tcpdump … > file`).

use std::time::Duration;

use futures::StreamExt;
use tokio_util::codec::FramedRead;

use super::parse::{Packet, parse};
use super::record::Records;
use crate::follow::{WholeLines, read_sync};
use crate::process::{ProcessError, Spec};

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

/// The longest line of a saved capture kept (a `-v` record's line is a few hundred bytes):
/// a longer one is skipped to its end, so a file without newlines never fills memory.
pub const MAX_LINE: usize = 64 << 10;
/// The longest record (a packet's lines together) kept; a longer one is skipped.
pub const MAX_RECORD: usize = 1 << 20;

/// Turns lines of tcpdump output into packets handed to `keep` one at a time, holding no
/// more than one record (issue 23: a saved capture is read incrementally, never whole).
pub struct Feeder<F> {
    records: Records,
    skipped: usize,
    keep: F,
    stopped: bool,
}

impl<F: FnMut(Packet) -> bool> Feeder<F> {
    /// `keep` gets each packet and returns whether to go on.
    pub fn new(keep: F) -> Self {
        Feeder {
            records: Records::new(),
            skipped: 0,
            keep,
            stopped: false,
        }
    }

    /// Adds one line (`None`: a line longer than [`MAX_LINE`], skipped); returns whether to
    /// go on reading.
    pub fn line(&mut self, line: Option<&str>) -> bool {
        if self.stopped {
            return false;
        }
        let Some(line) = line else {
            self.skipped += 1;
            return true;
        };
        if let Some(record) = self.records.push(line) {
            self.record(&record);
        }
        if self.records.pending_len() > MAX_RECORD {
            self.records.flush();
            self.skipped += 1;
        }
        !self.stopped
    }

    fn record(&mut self, record: &str) {
        match parse(record) {
            Some(p) => self.stopped = !(self.keep)(p),
            None => self.skipped += 1,
        }
    }

    /// Ends the input: the last record, then (records that were not packets, whether `keep`
    /// stopped the reading).
    pub fn finish(mut self) -> (usize, bool) {
        if !self.stopped
            && let Some(record) = self.records.flush()
        {
            self.record(&record);
        }
        (self.skipped, self.stopped)
    }
}

/// Reads tcpdump text from `reader` line by line into `keep` (see [`Feeder`]); returns
/// (records that were not packets, whether `keep` stopped the reading).
pub fn read_text<R: std::io::Read>(
    reader: R,
    keep: impl FnMut(Packet) -> bool,
) -> std::io::Result<(usize, bool)> {
    let mut feeder = Feeder::new(keep);
    read_sync(reader, WholeLines::new(MAX_LINE), |line| {
        feeder.line(line.as_deref())
    })?;
    Ok(feeder.finish())
}

/// tcpdump's decoding of a pcap, read as it prints it; tcpdump is stopped (with its group)
/// when `keep` says stop. A file cut short (tcpdump's "truncated dump file") is not an error:
/// the message is returned, the packets before the cut were handed to `keep`.
pub async fn read_pcap(
    spec: &Spec,
    keep: impl FnMut(Packet) -> bool,
) -> Result<Option<String>, ProcessError> {
    let mut running = crate::process::spawn(spec)?;
    let stdout = running.child.stdout.take();
    let stderr = running.child.stderr.take();
    let err_task = tokio::spawn(async move {
        // tcpdump's own messages: a few lines; more is not kept.
        use tokio::io::AsyncReadExt;
        let mut buf = Vec::new();
        if let Some(e) = stderr {
            let _ = e.take(64 << 10).read_to_end(&mut buf).await;
        }
        String::from_utf8_lossy(&buf).into_owned()
    });
    let io = |source| ProcessError::Io {
        command: spec.command_line(),
        source,
    };
    let mut feeder = Feeder::new(keep);
    if let Some(out) = stdout {
        let mut lines = FramedRead::new(out, WholeLines::new(MAX_LINE));
        while let Some(line) = lines.next().await.transpose().map_err(io)? {
            if !feeder.line(line.as_deref()) {
                break;
            }
        }
    }
    let (_, stopped) = feeder.finish();
    if stopped {
        // Everything wanted is kept: tcpdump need not decode the rest.
        running.terminate().await;
        return Ok(None);
    }
    let code = running.wait().await.map_err(io)?;
    let stderr = tokio::time::timeout(Duration::from_millis(500), err_task)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    if code != 0
        && let Some(cut) = stderr.lines().find(|l| l.contains("truncated dump file"))
    {
        return Ok(Some(cut.trim().to_string()));
    }
    crate::process::Captured {
        code,
        stdout: String::new(),
        stderr,
    }
    .check(spec)
    .map(|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real capture (`tests/fixtures/live-cilium/dsr`): the pcap and tcpdump's text of it.
    const PCAP: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/live-cilium/dsr/capture-any.pcap"
    );
    const PCAP_TEXT: &str =
        include_str!("../../../../tests/fixtures/live-cilium/dsr/capture-any.txt");

    fn pcap_spec(path: &str) -> Spec {
        Spec::new(crate::tcpdump::read_argv(
            path,
            &super::super::Decode::default(),
        ))
    }

    #[tokio::test]
    async fn a_pcap_is_read_through_tcpdump_packet_by_packet_until_keep_says_stop() {
        let mut all = 0;
        let cut = read_pcap(&pcap_spec(PCAP), |_| {
            all += 1;
            true
        })
        .await
        .unwrap();
        assert_eq!(cut, None);
        assert_eq!(all, packets_of_text(PCAP_TEXT).0.len());
        let mut seen = Vec::new();
        let cut = read_pcap(&pcap_spec(PCAP), |p| {
            seen.push(p);
            seen.len() < 2
        })
        .await
        .unwrap();
        assert_eq!((cut, seen.len()), (None, 2));
    }

    #[tokio::test]
    async fn a_pcap_tcpdump_cannot_open_is_an_error_with_its_message() {
        let err = read_pcap(&pcap_spec("/nonexistent/capture.pcap"), |_| true)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("No such file"), "{err}");
    }

    #[test]
    fn text_is_read_packet_by_packet_until_keep_says_stop() {
        let text = "tcpdump: verbose output suppressed\n20:09:12.401936 IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 64240, length 0\n20:09:12.401990 IP 10.0.0.2.80 > 10.0.0.1.40000: Flags [S.], seq 2, ack 2, win 65160, length 0\n20:09:12.402001 IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [.], ack 1, win 502, length 0\n";
        let mut seen = Vec::new();
        let (skipped, stopped) = read_text(text.as_bytes(), |p| {
            seen.push(p.raw().to_string());
            seen.len() < 2
        })
        .unwrap();
        assert_eq!((seen.len(), skipped, stopped), (2, 1, true));
        let mut all = 0;
        let (_, stopped) = read_text(text.as_bytes(), |_| {
            all += 1;
            true
        })
        .unwrap();
        assert_eq!((all, stopped), (3, false));
    }

    #[test]
    fn a_line_without_end_is_skipped_not_held() {
        let mut junk = vec![b'x'; 3 * MAX_LINE];
        junk.extend_from_slice(b"\n20:09:12.401936 IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 64240, length 0\n");
        let mut n = 0;
        let (skipped, _) = read_text(std::io::BufReader::new(&junk[..]), |_| {
            n += 1;
            true
        })
        .unwrap();
        assert_eq!((n, skipped), (1, 1));
    }

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
