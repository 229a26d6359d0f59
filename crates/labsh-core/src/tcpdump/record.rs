//! Joining tcpdump's output lines into packet records.
//!
//! tcpdump prints some packets on several lines: with `-v` the IP header comes first and the
//! transport follows on an indented line (then, for HTTP, the request's header lines and, for
//! an ICMP error, the quoted packet); VXLAN and OTV print the inner packet on the next line,
//! without indentation. [`Records`] groups a stream of lines into one record per packet, each
//! record's lines joined with `\n`, ready for [`super::parse`].

/// A record in the making.
#[derive(Debug, Default)]
pub struct Records {
    pending: String,
    /// The pending record started with a timestamp: every later line without one belongs to it.
    timestamped: bool,
    /// The last line announced an inner packet on the next line (VXLAN, OTV).
    needs_inner: bool,
}

impl Records {
    /// A new, empty assembler.
    pub fn new() -> Self {
        Records::default()
    }

    /// Adds a line; returns the record it completed, if it starts a new one.
    pub fn push(&mut self, line: &str) -> Option<String> {
        let line = line.trim_end_matches(['\r', '\n']);
        // tcpdump writes an empty line on SIGINT; -v HTTP decoding prints tab-only lines.
        if line.trim().is_empty() {
            return None;
        }
        let continues = !self.pending.is_empty()
            && !is_banner(line)
            && (line.starts_with([' ', '\t'])
                || self.needs_inner
                || (self.timestamped && !super::parse::starts_with_time(line)));
        let done = if continues {
            self.pending.push('\n');
            None
        } else {
            self.timestamped = super::parse::starts_with_time(line);
            self.take()
        };
        self.pending.push_str(line);
        self.needs_inner = announces_inner(line);
        done
    }

    /// The record in progress, if any (at the end of the output, or when the stream has been
    /// quiet long enough that no continuation line is coming).
    pub fn flush(&mut self) -> Option<String> {
        self.needs_inner = false;
        self.take()
    }

    /// The length of the record in progress (bytes).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Whether a record is in progress.
    pub fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    fn take(&mut self) -> Option<String> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }

    /// Every record of `text`.
    pub fn split(text: &str) -> Vec<String> {
        let mut r = Records::new();
        let mut out: Vec<String> = text.lines().filter_map(|l| r.push(l)).collect();
        out.extend(r.flush());
        out
    }
}

/// tcpdump's own lines (and a comment in a pasted capture): never part of a packet's record.
fn is_banner(line: &str) -> bool {
    line.starts_with("tcpdump: ")
        || line.starts_with("listening on ")
        || line.starts_with("reading from file ")
        || line.starts_with('#')
        || line
            .split_once(' ')
            .is_some_and(|(n, rest)| n.parse::<u64>().is_ok() && rest.starts_with("packet"))
}

/// `…: VXLAN, flags [I] (0x08), vni 100` and `…: OTV, flags [I] (0x08), overlay 0, instance 2`
/// end their line; the inner packet is the next one.
fn announces_inner(line: &str) -> bool {
    line.contains(": VXLAN, flags [") || line.contains(": OTV, flags [")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_header_and_transport_line_make_one_record() {
        // tcpdump -n -v -i vb0 (tests/fixtures/tcpdump/veth-v.txt)
        let text = "20:09:12.401936 IP (tos 0x0, ttl 64, id 43651, offset 0, flags [DF], proto TCP (6), length 68, options (unknown 154))\n    10.77.0.1.49100 > 10.77.0.2.80: Flags [S], cksum 0x14cb (incorrect -> 0x8662), seq 1297843227, win 64240, length 0\n20:09:12.401943 IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 60)\n    10.77.0.2.80 > 10.77.0.1.49100: Flags [S.], cksum 0x14cb (incorrect -> 0x437c), seq 3433917075, ack 1297843228, win 65160, length 0\n";
        let r = Records::split(text);
        assert_eq!(r.len(), 2);
        assert!(r[0].starts_with("20:09:12.401936 IP (tos"));
        assert!(r[0].ends_with("win 64240, length 0"));
        assert_eq!(r[0].lines().count(), 2);
    }

    #[test]
    fn vxlan_inner_line_without_timestamp_joins_its_outer_packet() {
        let text = "IP 10.77.0.1.60630 > 10.77.0.2.4789: VXLAN, flags [I] (0x08), vni 100\nIP 10.79.0.1.51282 > 10.79.0.2.80: Flags [S], seq 1, win 64240, length 0\nIP 10.77.0.1.1 > 10.77.0.2.2: UDP, length 5\n";
        let r = Records::split(text);
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!(r[0].lines().count(), 2);
    }

    #[test]
    fn blank_lines_neither_split_nor_join() {
        let mut r = Records::new();
        assert_eq!(
            r.push("10:00:00.000001 IP 1.2.3.4.1 > 5.6.7.8.2: UDP, length 1"),
            None
        );
        assert_eq!(r.push("   "), None);
        assert_eq!(r.push(""), None);
        let first = r.push("10:00:00.000002 IP 1.2.3.4.1 > 5.6.7.8.2: UDP, length 2");
        assert_eq!(
            first.as_deref(),
            Some("10:00:00.000001 IP 1.2.3.4.1 > 5.6.7.8.2: UDP, length 1")
        );
        assert!(r.is_pending());
        assert!(r.flush().unwrap().ends_with("length 2"));
        assert_eq!(r.flush(), None);
    }
}
