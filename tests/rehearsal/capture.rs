//! The packets the verdicts' unit tests use (`tests/rehearsal/fixtures/<mode>.tcpdump`,
//! read by `tests/lab.rs`), captured from the rehearsal's datapath: the capture scenario, the
//! fixture's header naming the addresses' roles, the handshake "shape" two captures of the
//! same scenario share, and the verdicts run in-process on a capture.

use std::path::PathBuf;
use std::time::Duration;

use super::datapath::{self, Mode};
use super::env;
use super::lab_support;
use super::world::World;

/// Where the captured fixtures live (committed; `tests/lab.rs` runs the verdicts on them).
pub fn fixture_path(mode: Mode) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/rehearsal/fixtures/{}.tcpdump",
        mode.as_str()
    ))
}

/// One HTTP GET over a plain TCP connection (the test's own client, not labsh's).
fn http_get(ip: &str, port: u16) {
    use std::io::{Read, Write};
    let addr = format!("{ip}:{port}").parse().unwrap();
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\nUser-Agent: labsh-fixture\r\n\r\n")
        .unwrap();
    let mut body = Vec::new();
    s.read_to_end(&mut body).unwrap();
    assert!(
        body.starts_with(b"HTTP/1.1 200"),
        "{addr}: {:?}",
        String::from_utf8_lossy(&body)
    );
}

/// A tcpdump the test runs on a host interface (`tcpdump -n -l -U -i IFACE FILTER`); killed
/// when dropped, so a failing test leaves no capture behind.
pub struct HostCapture(Option<std::process::Child>);

impl HostCapture {
    /// Starts tcpdump and waits until it listens.
    pub fn start(iface: &str, filter: &str) -> HostCapture {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new("tcpdump")
            .args(["-n", "-l", "-U", "-i", iface, filter])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("tcpdump runs");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let capture = HostCapture(Some(child));
        let mut line = String::new();
        while !line.contains("listening on") {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "tcpdump on {iface} ended early"
            );
        }
        capture
    }

    /// Stops tcpdump (SIGINT) and returns the lines it printed.
    pub fn stop(mut self) -> Vec<String> {
        let child = self.0.take().unwrap();
        // SAFETY: kill(2) on the tcpdump this test started.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for HostCapture {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the capture scenario produces on the pod's node veth, with tcpdump run by the test:
/// noise (a connection to the pod's node's own port 80), a connection to the control-plane's
/// NodePort whose first SYN the pod drops (so the client retransmits it), then a second
/// connection, to `<name>-worker2`'s NodePort.
pub fn capture_scenario(world: &World, veth: &str, node_port: u16) -> Vec<String> {
    let pod = world.pod().unwrap();
    let capture = HostCapture::start(veth, &format!("tcp port 80 or tcp port {node_port}"));
    let rt = env::runtime();
    http_get(&world.pod_node().ip, 80);
    rt.block_on(datapath::drop_first_syns(world.docker(), &pod, true))
        .unwrap();
    http_get(&world.nodes[0].ip, node_port);
    rt.block_on(datapath::drop_first_syns(world.docker(), &pod, false))
        .unwrap();
    http_get(&world.nodes[2].ip, node_port);
    std::thread::sleep(Duration::from_millis(300));
    capture.stop()
}

/// The fixture's header: the roles of the addresses, which the unit tests read back.
pub fn fixture_header(world: &World, mode: Mode, node_port: u16) -> String {
    format!(
        "# Captured by tests/rehearsal.rs (captures_in_each_mode_have_the_shape_of_the_committed_fixtures) on the\n\
         # host-side veth of the pod's node; LABSH_UPDATE_FIXTURES=1 captures them again.\n\
         # mode={} client={} pod={} called={} called2={} pod_node={} node_port={node_port}\n",
        mode.as_str(),
        world.gateway,
        world.pod_ip(),
        world.nodes[0].ip,
        world.nodes[2].ip,
        world.pod_node().ip,
    )
}

/// The handshake of a capture with addresses and ports named by role: what must not change
/// between two captures of the same scenario (SYN and SYN-ACK lines, in order, retransmits
/// included).
pub fn handshake_shape(header: &str, lines: &[String]) -> Vec<String> {
    let roles: Vec<(String, String)> = header
        .lines()
        .last()
        .unwrap()
        .trim_start_matches("# ")
        .split(' ')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (v.to_string(), k.to_string()))
        .collect();
    let node_port = roles
        .iter()
        .find(|(_, k)| k == "node_port")
        .map(|(v, _)| v.clone())
        .unwrap();
    let mut ephemeral: Vec<String> = Vec::new();
    let mut name = |endpoint: &str| -> String {
        let (ip, port) = endpoint.rsplit_once('.').unwrap();
        let ip = roles
            .iter()
            .find(|(v, k)| v == ip && k != "node_port" && k != "mode")
            .map(|(_, k)| k.clone())
            .unwrap_or_else(|| ip.to_string());
        let port = if port == "80" {
            "80".to_string()
        } else if port == node_port {
            "NP".to_string()
        } else {
            let key = format!("{ip}.{port}");
            if !ephemeral.contains(&key) {
                ephemeral.push(key.clone());
            }
            format!(
                "eph{}",
                ephemeral.iter().position(|k| *k == key).unwrap() + 1
            )
        };
        format!("{ip}.{port}")
    };
    let mut shape = Vec::new();
    for l in lines {
        let Some(rest) = l.split(" IP ").nth(1) else {
            continue;
        };
        let flags = rest
            .split("Flags [")
            .nth(1)
            .and_then(|f| f.split(']').next());
        if !matches!(flags, Some("S") | Some("S.")) {
            continue;
        }
        let (src, rest) = rest.split_once(" > ").unwrap();
        let dst = rest.split(':').next().unwrap();
        shape.push(format!(
            "{} > {} [{}]",
            name(src),
            name(dst),
            flags.unwrap()
        ));
    }
    shape
}

/// Runs `call` (a verdict expression over `pkts`, the capture parsed by labsh's own tcpdump
/// parser) and returns (passed, reason).
pub fn verdict_on(lines: &[String], call: &str) -> (bool, String) {
    let quoted: Vec<String> = lines
        .iter()
        .map(|l| format!("\"{}\"", l.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let code = format!(
        "import \"verdicts\" as verdicts;\nlet pkts = [{}].map(|l| tcpdump::parse(l)).filter(|p| p != ());\nlet v = {call};\n[v.passed, v.reason]",
        quoted.join(", ")
    );
    let v = lab_support::eval_in("stdlib", &code).unwrap_or_else(|e| panic!("{call}: {e}"));
    let a = v.try_cast::<rhai::Array>().unwrap();
    (a[0].as_bool().unwrap(), a[1].clone().into_string().unwrap())
}
