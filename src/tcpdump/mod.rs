//! tcpdump driven from scripts: [`parse`] turns `tcpdump -n` lines into packets,
//! [`capture`] runs tcpdump in the background (on this host or inside a node container),
//! [`source`] abstracts where it runs.

pub mod capture;
pub mod parse;
pub mod record;
pub mod source;

pub use capture::Capture;
pub use parse::{Packet, Proto, parse};

/// The tcpdump argument vector: numeric (`-n`), line-buffered (`-l`), packet-buffered
/// output (`-U`), on `iface`, with optional packet count, snap length and filter.
pub fn argv(
    iface: &str,
    filter: Option<&str>,
    count: Option<u64>,
    snaplen: Option<u32>,
) -> Vec<String> {
    let mut a: Vec<String> = ["tcpdump", "-n", "-l", "-U", "-i", iface]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(c) = count {
        a.push("-c".into());
        a.push(c.to_string());
    }
    if let Some(s) = snaplen {
        a.push("-s".into());
        a.push(s.to_string());
    }
    if let Some(f) = filter.filter(|f| !f.trim().is_empty()) {
        a.push(f.to_string());
    }
    a
}
