//! Renders an HTML report in Debian's headless Chromium (a real browser, no test double):
//! a PNG screenshot, the DOM as the browser built it (`--dump-dom`), and every message the
//! page wrote to the console (a blocked fetch, a CSP violation, a script error). Where
//! Chromium is absent the test using it skips with a printed reason; with
//! `LABSH_REQUIRE_CHROMIUM=1` (CI) that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// What the browser made of a page.
pub struct Rendered {
    /// The serialised DOM after loading.
    pub dom: String,
    /// The console messages, one per line Chromium logged.
    pub console: Vec<String>,
}

/// The Chromium binary, if installed.
pub fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
    })
}

/// The browser for `test`, or `None` after printing why it is skipped (a panic when
/// `LABSH_REQUIRE_CHROMIUM=1`).
pub fn require(test: &str) -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        if std::env::var("LABSH_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!(
                "{test}: LABSH_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install chromium)"
            );
        }
        eprintln!(
            "skipping {test}: no chromium on PATH (apt-get install chromium; set LABSH_REQUIRE_CHROMIUM=1 to make this a failure)"
        );
    }
    found
}

/// Loads `page` in `browser`, writes a `width`×`height` screenshot to `png`, and returns the
/// DOM and the console messages of both loads.
pub fn render(browser: &Path, page: &Path, png: &Path, width: u32, height: u32) -> Rendered {
    let url = format!(
        "file://{}",
        page.canonicalize().expect("page exists").display()
    );
    let profile = tempfile::tempdir().expect("a profile dir");
    let run = |extra: &[String]| {
        let mut cmd = Command::new(browser);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(&url);
        let out = run_bounded(cmd, Duration::from_secs(90));
        assert!(
            out.status.success(),
            "chromium failed on {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let shot = run(&[
        format!("--screenshot={}", png.display()),
        format!("--window-size={width},{height}"),
    ]);
    let dump = run(&["--dump-dom".to_string()]);
    let console = [&shot.stderr, &dump.stderr]
        .iter()
        .flat_map(|e| {
            String::from_utf8_lossy(e)
                .into_owned()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.contains(":CONSOLE"))
        .collect();
    Rendered {
        dom: String::from_utf8_lossy(&dump.stdout).into_owned(),
        console,
    }
}

/// Runs `cmd`, killing it if it outlives `limit` (a safety net against a hung browser, not a
/// timing assertion).
fn run_bounded(mut cmd: Command, limit: Duration) -> std::process::Output {
    use std::process::Stdio;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("chromium output"),
        Err(_) => {
            // SAFETY: kill(2) on the chromium this function started.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
            panic!("chromium did not finish within {limit:?}");
        }
    }
}

/// `(data-from, data-to, classes)` of every `<g class="arrow …">` in `dom`, in order.
pub fn arrows(dom: &str) -> Vec<(String, String, String)> {
    let re = regex::Regex::new(
        r#"<g class="(arrow[^"]*)" data-n="\d+" data-from="([^"]*)" data-to="([^"]*)">"#,
    )
    .unwrap();
    re.captures_iter(dom)
        .map(|c| (c[2].to_string(), c[3].to_string(), c[1].to_string()))
        .collect()
}

/// A PNG's width and height, read from its IHDR chunk.
pub fn png_size(png: &Path) -> (u32, u32) {
    let bytes = std::fs::read(png).expect("the screenshot exists");
    assert_eq!(&bytes[1..4], b"PNG", "{} is not a PNG", png.display());
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}
