//! A 100,000-packet capture delivered to a script: tcpdump on loopback while this program
//! sends 100,000 UDP datagrams, the script waits for them and stops the capture. Reports
//! tcpdump's own statistics (captured / received / dropped by kernel), how many packets the
//! script got, the time, and this process's resident memory before the capture, with the
//! packets stored (compact form), and after `cap.stop()` turned them into Rhai maps, beside
//! the size of the lines themselves. Needs root (tcpdump on `lo`).
//!
//! `CARGO_TARGET_DIR=/work/bench-target cargo bench --bench capture_100k`

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use labsh::{Workbench, primitives};
use rhai::Map;

const PACKETS: usize = 100_000;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = receiver.local_addr().unwrap().port();
    // Drain the receiver so the kernel never answers with ICMP port-unreachable.
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while receiver.recv(&mut buf).is_ok() {}
    });
    let mut s = Workbench::new()
        .with_primitives(primitives::all())
        .build()
        .unwrap();
    let rss_before = rss_kib();
    let _ = s
        .eval(
            "start.rhai",
            &format!("let cap = tcpdump::start(\"lo\", #{{filter: \"udp dst port {port}\"}});"),
        )
        .unwrap_or_else(|e| panic!("{e}"));

    let start = Instant::now();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..PACKETS {
        sender
            .send_to(format!("{i:08}").as_bytes(), ("127.0.0.1", port))
            .unwrap();
        // Paced at about 50,000 packets/s: tcpdump formats each one as text.
        if i % 500 == 499 {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let sent = start.elapsed();

    let waited = s
        .eval(
            "wait.rhai",
            &format!("cap.wait(#{{count: {PACKETS}, timeout: \"120s\"}})"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let delivered_at = start.elapsed();
    let rss_stored = rss_kib();
    // The stored packets, measured from Rust without building their maps.
    let cap = s
        .eval("cap.rhai", "cap")
        .unwrap()
        .try_cast::<labsh::tcpdump::Capture>()
        .unwrap();
    let (line_bytes, capacity) = cap.with_packets(|stored| {
        (
            stored.iter().map(|p| p.raw().len()).sum::<usize>(),
            stored.len(),
        )
    });
    // Each stored packet: its line, the packet behind an Arc (two counters), a pointer.
    let per_packet =
        std::mem::size_of::<labsh::tcpdump::Packet>() + 3 * std::mem::size_of::<usize>();
    let needed = line_bytes + capacity * per_packet;
    let r = s
        .eval(
            "stop.rhai",
            "let pk = cap.stop(); #{n: pk.len(), stats: cap.stats(), first: pk[0].dport, last: pk[-1].length}",
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let rss_maps = rss_kib();
    let r = r.try_cast::<Map>().unwrap();
    let stats = r["stats"].clone().try_cast::<Map>().unwrap();

    println!("capture_100k: {PACKETS} UDP datagrams on lo, sent in {sent:.2?}");
    println!(
        "  packets in the script: {} after wait ({delivered_at:.2?} from the first send), {} from cap.stop()",
        waited, r["n"]
    );
    println!(
        "  tcpdump: {} captured, {} received by filter, {} dropped by kernel",
        stats["captured"], stats["received"], stats["dropped"]
    );
    println!(
        "  line text: {} bytes ({:.0} B/packet)",
        line_bytes,
        line_bytes as f64 / PACKETS as f64
    );
    println!(
        "  what the packets need: {} KiB (lines + {capacity} stored packets x {per_packet} B)",
        needed / 1024,
    );
    println!(
        "  RSS: {rss_before} KiB before the capture; +{} KiB with the {PACKETS} packets stored ({:.0} B/packet); +{} KiB once cap.stop() returned them as {PACKETS} Rhai maps",
        rss_stored.saturating_sub(rss_before),
        (rss_stored.saturating_sub(rss_before) * 1024) as f64 / PACKETS as f64,
        rss_maps.saturating_sub(rss_before),
    );
}
