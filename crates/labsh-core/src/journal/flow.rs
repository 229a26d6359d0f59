//! A flow figure: a sequence diagram of messages between lifelines (hosts, nodes, pods), as
//! a lab script builds it from what it captured. Nothing here knows a lab: the script says
//! which lifelines exist and which arrow goes from where to where; [`tcp_name`] and
//! [`packet_label`] only name TCP segments the way tcpdump and `cilium monitor` show them.
//! [`crate::report::svg`] draws a flow for the HTML report, [`crate::report::flow_text`] for
//! the terminal.

/// One participant: a column of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifeline {
    /// What arrows name it by (`client`, `pod`).
    pub id: String,
    /// Its heading (`tp12-worker2`).
    pub name: String,
    /// A second heading line (`172.18.0.3`), maybe empty.
    pub detail: String,
    /// Addresses that resolve an arrow's `src`/`dst` to this lifeline.
    pub addresses: Vec<String>,
}

/// One message, drawn as a horizontal arrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrow {
    /// Index of the sending lifeline.
    pub from: usize,
    /// Index of the receiving lifeline (the same as `from`: an event on one lifeline).
    pub to: usize,
    /// The label, one entry per line (`SYN 172.18.0.1:52216 → 10.244.4.66:80`).
    pub label: Vec<String>,
    /// A remark beside the arrow (`seen on veth1a2b`).
    pub note: Option<String>,
    /// One of the arrows a check relies on.
    pub highlight: bool,
    /// Not captured: what must have happened (drawn dashed, labelled inferred).
    pub inferred: bool,
}

/// A sequence diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Its title.
    pub title: String,
    /// The participants, left to right.
    pub lifelines: Vec<Lifeline>,
    /// The messages, top to bottom (time order).
    pub arrows: Vec<Arrow>,
    /// What to say instead of a picture when nothing was captured.
    pub empty: String,
    /// A sentence under the figure, maybe empty.
    pub caption: String,
}

/// The word shown with an inferred arrow.
pub const INFERRED: &str = "inferred";

/// What an empty flow says unless the script says otherwise.
pub const NOTHING_CAPTURED: &str = "nothing was captured";

impl Flow {
    /// Whether nothing was captured (no arrow seen or inferred).
    pub fn is_empty(&self) -> bool {
        self.arrows.is_empty()
    }

    /// The arrow's label lines, with `(inferred)` added to an inferred arrow's last line.
    pub fn label_lines(&self, arrow: &Arrow) -> Vec<String> {
        let mut lines = arrow.label.clone();
        if lines.is_empty() {
            lines.push(String::new());
        }
        if arrow.inferred {
            let last = lines.last_mut().expect("one line at least");
            if last.is_empty() {
                *last = format!("({INFERRED})");
            } else {
                last.push_str(&format!(" ({INFERRED})"));
            }
        }
        lines
    }
}

/// The name of a TCP segment from its flags: tcpdump's `S`, `S.`, `.`, `P.`, `F.`, `R.`, or
/// cilium monitor's `SYN`, `ACK`, `FIN`… words. `SYN-ACK`, `SYN`, `RST`, `FIN`, `PSH`, `ACK`,
/// or the flags as given when none of these applies.
pub fn tcp_name(flags: &[String]) -> String {
    let words: Vec<String> = if flags.len() == 1 && !flags[0].chars().any(char::is_lowercase) {
        let f = &flags[0];
        if f.chars().all(|c| "SFRP.UEW".contains(c)) && !f.is_empty() {
            f.chars()
                .filter_map(|c| match c {
                    'S' => Some("SYN"),
                    'F' => Some("FIN"),
                    'R' => Some("RST"),
                    'P' => Some("PSH"),
                    '.' => Some("ACK"),
                    _ => None,
                })
                .map(str::to_string)
                .collect()
        } else {
            f.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        }
    } else {
        flags.iter().map(|f| f.trim().to_string()).collect()
    };
    let has = |w: &str| words.iter().any(|x| x.eq_ignore_ascii_case(w));
    let name = if has("SYN") && has("ACK") {
        "SYN-ACK"
    } else if has("SYN") {
        "SYN"
    } else if has("RST") {
        "RST"
    } else if has("FIN") {
        "FIN"
    } else if has("PSH") {
        "PSH"
    } else if has("ACK") {
        "ACK"
    } else {
        return words.join(",");
    };
    name.to_string()
}

/// `SYN 172.18.0.1:52216 → 10.244.4.66:80`: a packet's name and its addresses as captured.
/// Ports are left out when absent (ICMP); IPv6 addresses get brackets before a port.
pub fn packet_label(
    name: &str,
    src: &str,
    sport: Option<&str>,
    dst: &str,
    dport: Option<&str>,
) -> String {
    let end = |ip: &str, port: Option<&str>| match port {
        Some(p) if ip.contains(':') => format!("[{ip}]:{p}"),
        Some(p) => format!("{ip}:{p}"),
        None => ip.to_string(),
    };
    let route = format!("{} → {}", end(src, sport), end(dst, dport));
    if name.is_empty() {
        route
    } else {
        format!("{name} {route}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn tcpdump_flags_and_monitor_words_name_the_segment() {
        assert_eq!(tcp_name(&words(&["S"])), "SYN");
        assert_eq!(tcp_name(&words(&["S."])), "SYN-ACK");
        assert_eq!(tcp_name(&words(&["."])), "ACK");
        assert_eq!(tcp_name(&words(&["P."])), "PSH");
        assert_eq!(tcp_name(&words(&["F."])), "FIN");
        assert_eq!(tcp_name(&words(&["R"])), "RST");
        assert_eq!(tcp_name(&words(&["SYN", "ACK"])), "SYN-ACK");
        assert_eq!(tcp_name(&words(&["ACK", "FIN"])), "FIN");
        assert_eq!(tcp_name(&words(&["SYN, ACK"])), "SYN-ACK");
        assert_eq!(tcp_name(&words(&[])), "");
    }

    #[test]
    fn packet_labels_show_addresses_and_ports_as_captured() {
        assert_eq!(
            packet_label(
                "SYN",
                "172.18.0.1",
                Some("52216"),
                "10.244.4.66",
                Some("80")
            ),
            "SYN 172.18.0.1:52216 → 10.244.4.66:80"
        );
        assert_eq!(
            packet_label("", "fd00::1", Some("80"), "10.0.0.1", None),
            "[fd00::1]:80 → 10.0.0.1"
        );
    }

    #[test]
    fn an_inferred_arrow_says_so_on_its_last_label_line() {
        let flow = Flow {
            title: "t".into(),
            lifelines: vec![],
            arrows: vec![],
            empty: NOTHING_CAPTURED.into(),
            caption: String::new(),
        };
        let arrow = Arrow {
            from: 0,
            to: 1,
            label: vec!["a".into(), "SYN".into()],
            note: None,
            highlight: false,
            inferred: true,
        };
        assert_eq!(flow.label_lines(&arrow), ["a", "SYN (inferred)"]);
    }
}
