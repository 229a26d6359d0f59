//! The lab report (`--report lab.html`) and its flow figures (`report::flow`, `flows::…`):
//!
//! - golden files of the page's structure (the stylesheet's bytes left out) and of the
//!   terminal diagram, for the handout's DSR capture, the SNAT capture a rehearsal run really
//!   made (tests/report/snat-rehearsal.txt), and an empty capture;
//! - every string from the script or the cluster escaped;
//! - the report written, marked partial, after a script error, Ctrl-C and `q`;
//! - the page in Debian's headless Chromium: no console message, the arrows in the DOM, and
//!   the screenshot the README shows (docs/report-dsr.png).
//!
//! `LABSH_BLESS=1 cargo test --test labsh report::` rewrites the golden files and the screenshot.

pub mod browser;
pub mod rehearsal_html;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use labsh::journal::flow::Flow;
use labsh::journal::{Journal, Snapshot};
use labsh::report::flow_text::{self, ASCII, UNICODE};
use labsh::report::html::{self, Outcome, Page};
use labsh::{Session, Settings, Workbench, primitives};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bless() -> bool {
    std::env::var("LABSH_BLESS").as_deref() == Ok("1")
}

/// Compares `actual` with the golden file `tests/report/golden/<name>` (rewritten with
/// LABSH_BLESS=1), naming the first line that differs.
fn golden(name: &str, actual: &str) {
    let path = root().join("tests/report/golden").join(name);
    if bless() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "no golden file {}: {e} (LABSH_BLESS=1 writes it)",
            path.display()
        )
    });
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "{name} differs from its golden file at line {}:\n  actual:   {:?}\n  expected: {:?}\n(LABSH_BLESS=1 rewrites it)\n--- actual\n{actual}",
            line + 1,
            actual.lines().nth(line),
            expected.lines().nth(line)
        );
    }
}

/// A session whose script folder is tests/report (`import "../lab/handout"` finds the
/// handout's data), with box drawing on.
fn session() -> Session {
    let mut session = Workbench::new()
        .with_primitives(primitives::all())
        .with_settings(Settings {
            unicode: true,
            ..Settings::default()
        })
        .build()
        .expect("a tokio runtime");
    session.set_script_dir(&root().join("tests/report"));
    session
}

/// The `dsr` step of a lab on `packets` (a Rhai expression) seen on the pod's node of
/// `topology` (a Rhai map): its verdict, its figure and its check, as tp12.rhai does them.
fn dsr_step(topology: &str, packets: &str) -> String {
    format!(
        r#"
import "lab" as lab;
import "flows" as flows;
import "verdicts" as verdicts;
import "../lab/handout" as h;
report::title("TP12 — eBPF : rapport de test");
report::param("Cilium", "1.12.1 (tp12/ebpf-values.yaml)");
report::param("Cluster", "tp12");
lab::step("app", "Déployer le frontend Guestbook (1 replica, Service NodePort)", || {{}});
lab::step("dsr", "Sniffer le veth du nœud du pod pendant un appel à un AUTRE nœud", || {{
    let w = {topology};
    let packets = {packets};
    let v = verdicts::dsr(packets, w.client, w.pod.ip, w.called.ip, w.port);
    w.highlight = v.evidence;
    let f = flows::nodeport(packets, w);
    report::flow("Flux capturé sur le veth du nœud du pod", f.lifelines, f.arrows,
        #{{empty: "aucun paquet capturé sur le veth", caption: "en pointillé : déduit"}});
    lab::check("DSR : SYN-ACK émis par le nœud du pod au nom du nœud appelé", v.passed, v.evidence, v.reason);
}});
"#
    )
}

/// The handout's cluster: client 172.18.0.1 calls 172.18.0.3; the pod runs on 172.18.0.2.
const HANDOUT: &str = r#"#{client: "172.18.0.1", called: #{name: "tp12-worker2", ip: "172.18.0.3"},
    pod_node: #{name: "tp12-worker", ip: "172.18.0.2"}, pod: #{name: "frontend-85595f5bf9-jx5xq", ip: "10.244.4.66"}, port: 32150}"#;

/// The rehearsal run that captured tests/report/snat-rehearsal.txt.
const REHEARSAL: &str = r#"#{client: "172.28.0.1", called: #{name: "lt-0b83b283-control-plane", ip: "172.28.0.2"},
    pod_node: #{name: "lt-0b83b283-worker", ip: "172.28.0.3"}, pod: #{name: "frontend-85595f5bf9-jx5xq", ip: "172.28.0.3"}, port: 30000}"#;

/// The rehearsal's capture, parsed by the real tcpdump parser.
const REHEARSAL_PACKETS: &str = r##"fs::read("snat-rehearsal.txt").split("\n")
        .filter(|l| l != "" && !l.starts_with("#")).map(|l| tcpdump::parse(l))"##;

/// Runs `code`; returns the journal (durations fixed so the page is reproducible) and the
/// checks.
fn run(code: &str) -> (Snapshot, Vec<labsh::journal::checks::Check>) {
    let mut s = session();
    let _ = s
        .eval("report-test.rhai", code)
        .unwrap_or_else(|e| panic!("the script failed:\n{e}"));
    let mut journal = s.ctx().ext::<Journal>().snapshot();
    for (i, step) in journal.steps.iter_mut().enumerate() {
        step.duration = Some(Duration::from_millis(1200 + 100 * i as u64));
    }
    (journal, s.checks())
}

fn page(journal: &Snapshot, checks: &[labsh::journal::checks::Check], outcome: &Outcome) -> String {
    html::render(&Page {
        script: "scripts/tp12.rhai",
        journal,
        checks,
        outcome,
        generated: "2026-12-01 20:00 UTC",
    })
}

/// The page's structure: the stylesheet's bytes and the version left out.
fn structure(page: &str) -> String {
    let start = page.find("<style>\n").expect("a style element") + "<style>\n".len();
    let end = page.find("</style>").expect("the style element ends");
    format!(
        "{}/* src/report/style.css */\n{}",
        &page[..start],
        &page[end..]
    )
    .replace(env!("CARGO_PKG_VERSION"), "VERSION")
}

fn figure(journal: &Snapshot) -> Flow {
    journal
        .steps
        .iter()
        .find(|s| s.id == "dsr")
        .and_then(|s| s.figures.first())
        .expect("the dsr step drew a figure")
        .clone()
}

fn text(flow: &Flow, ascii: bool) -> String {
    flow_text::render(flow, if ascii { &ASCII } else { &UNICODE }, &|s| {
        s.to_string()
    })
}

fn assert_narrow(diagram: &str) {
    for line in diagram.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
}

#[test]
fn a_dsr_capture_draws_the_triangle_with_the_reply_straight_from_the_pods_node() {
    let (journal, checks) = run(&dsr_step(HANDOUT, "h::dsr_packets()"));
    let flow = figure(&journal);
    let ends: Vec<(&str, &str, bool, bool)> = flow
        .arrows
        .iter()
        .map(|a| {
            (
                flow.lifelines[a.from].id.as_str(),
                flow.lifelines[a.to].id.as_str(),
                a.highlight,
                a.inferred,
            )
        })
        .collect();
    assert_eq!(
        ends,
        [
            ("client", "called", false, true),
            ("called", "pod", true, false),
            ("pod_node", "client", true, false),
            ("called", "pod", false, false),
        ]
    );
    let html = page(&journal, &checks, &Outcome::Finished);
    // Self-contained: nothing to fetch, no script; the only url() are the page's own markers.
    for outside in ["<script", "<link", "src=", "@import", "@font-face"] {
        assert!(!html.contains(outside), "{outside} in the page");
    }
    assert_eq!(
        html.matches("url(").count(),
        html.matches("url(#flow").count()
    );
    golden("dsr.html", &structure(&html));
    let utf8 = text(&flow, false);
    let ascii = text(&flow, true);
    assert_narrow(&utf8);
    assert_narrow(&ascii);
    // Box drawing and arrows in ASCII; the lab's French words keep their letters.
    assert!(
        ascii.chars().all(|c| c.is_ascii() || c.is_alphabetic()),
        "{ascii}"
    );
    golden("dsr.txt", &utf8);
    golden("dsr.ascii.txt", &ascii);
    // The page the README shows, kept for the browser test.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("dsr.html"), &html).unwrap();
}

#[test]
fn the_rehearsals_snat_capture_draws_the_reply_back_through_the_called_node() {
    let (journal, checks) = run(&dsr_step(REHEARSAL, REHEARSAL_PACKETS));
    let flow = figure(&journal);
    let ends: Vec<(&str, &str, bool)> = flow
        .arrows
        .iter()
        .map(|a| {
            (
                flow.lifelines[a.from].id.as_str(),
                flow.lifelines[a.to].id.as_str(),
                a.inferred,
            )
        })
        .collect();
    // The request forwarded by the called node, the pod's reply to it, and the called node's
    // reply to the client (inferred: never on the pod's node's link).
    assert_eq!(ends[0], ("client", "called", true));
    assert_eq!(ends[1], ("called", "pod", false));
    assert_eq!(ends[2], ("pod", "called", false));
    assert_eq!(ends[3], ("called", "client", true));
    assert!(
        ends.iter().all(|e| *e != ("pod_node", "client", false)),
        "no reply straight to the client under SNAT: {ends:?}"
    );
    assert!(!checks[0].passed);
    golden(
        "snat.html",
        &structure(&page(&journal, &checks, &Outcome::Finished)),
    );
    let utf8 = text(&flow, false);
    assert_narrow(&utf8);
    golden("snat.txt", &utf8);
}

#[test]
fn an_empty_capture_says_so_instead_of_drawing_a_picture() {
    let (journal, checks) = run(&dsr_step(HANDOUT, "[]"));
    let flow = figure(&journal);
    assert!(flow.is_empty());
    let html = page(&journal, &checks, &Outcome::Finished);
    assert!(
        html.contains("<p class=\"empty\">aucun paquet capturé sur le veth</p>"),
        "{html}"
    );
    assert!(!html.contains("<svg"), "no picture for nothing: {html}");
    golden("empty.html", &structure(&html));
    let utf8 = text(&flow, false);
    assert_eq!(
        utf8,
        "Flux capturé sur le veth du nœud du pod\n  (aucun paquet capturé sur le veth)\n"
    );
    golden("empty.txt", &utf8);
}

/// Markup and every kind of quote, in every field.
const NASTY: &str = r#"<script>alert(1)</script>"'&"#;

#[test]
fn every_string_from_the_script_or_the_cluster_is_escaped_in_the_page() {
    let code = r#"
import "lab" as lab;
let x = NASTY;
report::title(x);
report::param(x, x);
lab::step(x, x, || {
    proc::run(["echo", x]);
    let ls = [#{id: x, name: x, detail: x}, #{id: "b", name: x, addresses: [x]}];
    report::flow(x, ls, [#{from: x, to: "b", label: x, detail: x, note: x, highlight: true},
                         #{src: x, dst: x, flags: x, sport: x, dport: x, inferred: true}],
                 #{caption: x});
    report::flow(x, ls, [], #{empty: x});
    lab::check(x, false, [x, x], x);
    lab::check(x, true, x);
});
"#
    .replace("NASTY", &format!("{NASTY:?}"));
    let mut s = session();
    let _ = s
        .eval("nasty.rhai", &code)
        .unwrap_or_else(|e| panic!("the script failed:\n{e}"));
    let journal = s.ctx().ext::<Journal>().snapshot();
    let checks = s.checks();
    let html = page(&journal, &checks, &Outcome::Failed(NASTY.to_string()));
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("alert(1)</"), "{html}");
    assert!(!html.contains(r#""'&"#), "{html}");
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;";
    // title ×3 (head, h1, svg titles ×2 and figcaptions ×2), param ×2, step id and title in
    // the table and the section, the command, lifelines, labels, note, caption, empty text,
    // check names, reason, evidence, the error.
    let count = html.matches(escaped).count();
    assert!(count >= 30, "only {count} escaped copies:\n{html}");
    // Attributes too: the lifeline ids of the arrows.
    assert!(
        html.contains(&format!("data-from=\"{escaped}\" data-to=\"b\"")),
        "{html}"
    );
}

// ─── Partial reports, from the real binary ──────────────────────────────────────────────

fn labsh(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsh"));
    cmd.args(args).current_dir(dir).env_remove("NO_COLOR");
    cmd
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn a_script_error_still_writes_every_report_marked_partial_at_the_failing_step() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lab.rhai"),
        r#"import "lab" as lab;
lab::step("one", "Première étape", || { lab::check("ok", true, "fine"); });
lab::step("two", "Deuxième étape", || { proc::run(["true"]); throw "the cluster said no"; });
lab::step("three", "Troisième étape", || { print("never"); });
"#,
    )
    .unwrap();
    let out = labsh(
        dir.path(),
        &[
            "--report", "r.html", "--report", "r.json", "run", "lab.rhai",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let html = read(&dir.path().join("r.html"));
    assert!(
        html.contains(
            "<strong>Partial report:</strong> the lab stopped with an error during step 2 (two): "
        ),
        "{html}"
    );
    assert!(
        html.contains("<tr class=\"step status-pass\"><td class=\"num\">1</td>"),
        "{html}"
    );
    assert!(
        html.contains("<tr class=\"step status-error\"><td class=\"num\">2</td><td class=\"id\"><code>two</code></td><td class=\"title\">Deuxième étape</td><td class=\"status\"><span class=\"badge error\">error</span></td>"),
        "{html}"
    );
    assert!(
        html.contains("<pre class=\"commands\">$ true</pre>"),
        "{html}"
    );
    assert!(!html.contains("Troisième"), "{html}");
    assert!(html.contains("the cluster said no"), "{html}");
    let json: serde_json::Value = serde_json::from_str(&read(&dir.path().join("r.json"))).unwrap();
    assert_eq!(json["passed"], 1);
    assert!(
        json["error"]
            .as_str()
            .unwrap()
            .contains("the cluster said no")
    );
}

#[test]
fn ctrl_c_inside_a_step_writes_a_partial_report_naming_the_step() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lab.rhai"),
        r#"import "lab" as lab;
lab::step("wait", "Attendre", || { print("waiting"); sleep("1m"); });
"#,
    )
    .unwrap();
    let mut child = labsh(dir.path(), &["--report", "r.html", "run", "lab.rhai"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    // The header, then "waiting": the step is running.
    while !line.contains("waiting") {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() > 0);
    }
    // SAFETY: kill(2) on the labsh child this test started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let html = read(&dir.path().join("r.html"));
    assert!(
        html.contains("<strong>Partial report:</strong> the lab was interrupted (Ctrl-C) during step 1 (wait)."),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"badge interrupted\">interrupted</span>"),
        "{html}"
    );
}

#[test]
fn quitting_at_a_step_pause_marks_the_report_stopped_there() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lab.rhai"),
        r#"import "lab" as lab;
lab::step("one", "Première", || {});
lab::step("two", "Deuxième", || {});
"#,
    )
    .unwrap();
    let mut child = labsh(
        dir.path(),
        &["--step", "--report", "r.html", "run", "lab.rhai"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"\nq\n").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let html = read(&dir.path().join("r.html"));
    assert!(
        html.contains("<strong>Partial report:</strong> the lab was stopped (q) at step 2 (two)."),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"badge done\">done</span>"),
        "{html}"
    );
}

// ─── In a real browser ───────────────────────────────────────────────────────────────────

#[test]
fn the_dsr_report_renders_in_chromium_without_console_messages_with_its_four_arrows() {
    let Some(chromium) = browser::require("the_dsr_report_renders_in_chromium") else {
        return;
    };
    let (journal, checks) = run(&dsr_step(HANDOUT, "h::dsr_packets()"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-browser");
    std::fs::create_dir_all(&dir).unwrap();
    let html = dir.join("dsr.html");
    std::fs::write(&html, page(&journal, &checks, &Outcome::Finished)).unwrap();
    let png = dir.join("dsr.png");
    let r = browser::render(&chromium, &html, &png, 1100, 900);
    assert_eq!(r.console, Vec::<String>::new(), "console messages");
    assert_eq!(
        browser::arrows(&r.dom),
        [
            ("client".into(), "called".into(), "arrow inferred".into()),
            ("called".into(), "pod".into(), "arrow hl".into()),
            ("pod_node".into(), "client".into(), "arrow hl".into()),
            ("called".into(), "pod".into(), "arrow".into()),
        ]
    );
    assert!(
        r.dom
            .contains(">SYN-ACK 172.18.0.3:32150 → 172.18.0.1:52216</text>"),
        "{}",
        r.dom
    );
    assert_eq!(browser::png_size(&png), (1100, 900));
    if bless() {
        std::fs::copy(&png, root().join("docs/report-dsr.png")).unwrap();
    }
}

#[test]
fn the_terminal_diagram_draws_boxes_in_a_utf8_locale_and_ascii_with_no_color_or_lang_c() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("flow.rhai"),
        r#"let ls = [#{id: "client", detail: "172.18.0.1"}, #{id: "node", detail: "172.18.0.2"}];
print(report::flow("NodePort", ls, [#{from: "client", to: "node", flags: "S", src: "172.18.0.1", sport: 4242, dst: "172.18.0.2", dport: 32150}]));
"#,
    )
    .unwrap();
    let diagram = |args: &[&str], lang: &str| {
        let mut cmd = labsh(dir.path(), args);
        cmd.env_remove("LC_ALL")
            .env_remove("LC_CTYPE")
            .env("LANG", lang);
        let out = cmd.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let utf8 = diagram(&["run", "flow.rhai"], "fr_FR.UTF-8");
    assert!(
        utf8.contains("│ SYN 172.18.0.1:4242 → 172.18.0.2:32150"),
        "{utf8}"
    );
    assert!(utf8.contains("─▶│"), "{utf8}");
    for ascii in [
        diagram(&["--no-color", "run", "flow.rhai"], "fr_FR.UTF-8"),
        diagram(&["run", "flow.rhai"], "C"),
    ] {
        assert!(ascii.is_ascii(), "{ascii}");
        assert!(
            ascii.contains("| SYN 172.18.0.1:4242 -> 172.18.0.2:32150"),
            "{ascii}"
        );
        assert!(ascii.contains("->|"), "{ascii}");
    }
}

#[test]
fn an_arrow_naming_no_lifeline_is_an_error_at_the_call_listing_the_lifelines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.rhai"),
        "let ls = [\"client\", \"node\"];\nreport::flow(\"t\", ls, [#{from: \"client\", to: \"pod\"}]);\n",
    )
    .unwrap();
    let out = labsh(dir.path(), &["run", "bad.rhai"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: report::flow: arrow 1: `to` names no lifeline (\"pod\"); the lifelines are client, node\n  --> bad.rhai:2:9\n"),
        "{stderr}"
    );
}

#[test]
fn the_flow_example_draws_the_handouts_lines_in_the_terminal_and_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("flow.html");
    let out = labsh(
        &root(),
        &[
            "--report",
            html.to_str().unwrap(),
            "run",
            "examples/flow-from-lines.rhai",
        ],
    )
    .env_remove("LC_ALL")
    .env_remove("LC_CTYPE")
    .env("LANG", "C")
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("| SYN-ACK 172.18.0.3:32150 -> 172.18.0.1:52216"),
        "{stdout}"
    );
    let page = read(&html);
    assert_eq!(
        browser::arrows(&page)
            .iter()
            .map(|(f, t, _)| (f.as_str(), t.as_str()))
            .collect::<Vec<_>>(),
        [
            ("client", "called"),
            ("called", "pod"),
            ("pod_node", "client"),
            ("called", "pod")
        ]
    );
}
