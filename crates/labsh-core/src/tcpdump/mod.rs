//! tcpdump driven from scripts: [`parse`] turns tcpdump's packet records into packets,
//! [`record`] joins multi-line records, [`capture`] runs tcpdump in the background (on this
//! host, or in a node's network namespace through [`netns`], or in a node's debug pod through
//! [`pod_source`]; [`place`] decides which, [`open`] carries it out), [`source`] abstracts its output, [`read`] reads
//! saved captures (pcap files and text).

pub mod capture;
pub mod open;
pub mod parse;
pub mod place;
pub mod pod_source;
pub mod read;
pub mod record;
pub mod source;
pub mod source_event;

pub use capture::Capture;
pub use parse::{Packet, Proto, parse};
pub use record::Records;

/// How tcpdump decodes and filters, for live captures and saved ones alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decode {
    /// A tcpdump filter expression.
    pub filter: Option<String>,
    /// Exit after that many packets (`-c`).
    pub count: Option<u64>,
    /// `-v` (1), `-vv` (2), `-vvv` (3): IP header fields, checksums, IP options.
    pub verbose: u8,
    /// `-e`: link-level header (MAC addresses, ethertype).
    pub link_level: bool,
}

impl Decode {
    fn push_flags(&self, a: &mut Vec<String>) {
        if let Some(c) = self.count {
            a.push("-c".into());
            a.push(c.to_string());
        }
        if self.verbose > 0 {
            a.push(format!("-{}", "v".repeat(self.verbose.min(3) as usize)));
        }
        if self.link_level {
            a.push("-e".into());
        }
    }

    fn push_filter(&self, a: &mut Vec<String>) {
        if let Some(f) = self.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            a.push(f.to_string());
        }
    }
}

/// The tcpdump argument vector: numeric (`-n`), line-buffered (`-l`), packet-buffered
/// output (`-U`), on `iface`, with the decoding options, snap length and filter.
pub fn argv(iface: &str, decode: &Decode, snaplen: Option<u32>) -> Vec<String> {
    let mut a: Vec<String> = ["tcpdump", "-n", "-l", "-U", "-i", iface]
        .iter()
        .map(|s| s.to_string())
        .collect();
    decode.push_flags(&mut a);
    if let Some(s) = snaplen {
        a.push("-s".into());
        a.push(s.to_string());
    }
    decode.push_filter(&mut a);
    a
}

/// `tcpdump -n -r FILE …`: a saved capture read back with the same decoding options.
pub fn read_argv(path: &str, decode: &Decode) -> Vec<String> {
    let mut a: Vec<String> = ["tcpdump", "-n", "-r", path]
        .iter()
        .map(|s| s.to_string())
        .collect();
    decode.push_flags(&mut a);
    decode.push_filter(&mut a);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_argv_is_the_handouts_command() {
        let d = Decode {
            filter: Some("tcp port 80".into()),
            ..Decode::default()
        };
        assert_eq!(
            argv("veth1", &d, None),
            ["tcpdump", "-n", "-l", "-U", "-i", "veth1", "tcp port 80"]
        );
    }

    #[test]
    fn verbose_link_level_count_and_snaplen_come_before_the_filter() {
        let d = Decode {
            filter: Some("icmp".into()),
            count: Some(3),
            verbose: 2,
            link_level: true,
        };
        assert_eq!(
            argv("any", &d, Some(96)),
            [
                "tcpdump", "-n", "-l", "-U", "-i", "any", "-c", "3", "-vv", "-e", "-s", "96",
                "icmp"
            ]
        );
        assert_eq!(
            read_argv("/tmp/x.pcap", &d),
            [
                "tcpdump",
                "-n",
                "-r",
                "/tmp/x.pcap",
                "-c",
                "3",
                "-vv",
                "-e",
                "icmp"
            ]
        );
    }
}
