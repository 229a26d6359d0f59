//! The rehearsal's HTML report (`--report target/rehearsal/<name>.html`): written, complete,
//! with the dsr step's flow drawn from what the capture saw, and rendered by headless
//! Chromium without a console message (the screenshot lands beside it as `<name>.png`).

use std::path::{Path, PathBuf};

use super::browser;

/// Where the rehearsal writes the report named `name`: `target/rehearsal/<name>.html`.
pub fn path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/rehearsal");
    std::fs::create_dir_all(&dir).expect("target/rehearsal can be created");
    dir.join(format!("{name}.html"))
}

/// The report at `html` has `steps` rows, is not partial, and its dsr figure shows the SNAT
/// round trip: the client's inferred call to the called node, the request forwarded to the
/// pod, the pod's reply to the called node, and the called node's inferred reply to the
/// client; never a reply straight from the pod's node to the client.
pub fn assert_shows_the_snat_round_trip(html: &Path, steps: usize) {
    let page = std::fs::read_to_string(html)
        .unwrap_or_else(|e| panic!("no HTML report at {}: {e}", html.display()));
    assert_eq!(page.matches("<tr class=\"step ").count(), steps, "{page}");
    assert!(!page.contains("Partial report"), "{page}");
    let dsr = section(&page, "dsr");
    let arrows = browser::arrows(dsr);
    assert_eq!(
        arrows
            .iter()
            .take(4)
            .map(|(f, t, _)| (f.as_str(), t.as_str()))
            .collect::<Vec<_>>(),
        [
            ("client", "called"),
            ("called", "pod"),
            ("pod", "called"),
            ("called", "client")
        ],
        "{dsr}"
    );
    assert!(
        arrows[0].2.contains("inferred") && arrows[3].2.contains("inferred"),
        "{arrows:?}"
    );
    assert!(
        arrows[1].2.contains("hl") && arrows[2].2.contains("hl"),
        "{arrows:?}"
    );
    assert!(
        !arrows
            .iter()
            .any(|(f, t, _)| f == "pod_node" && t == "client"),
        "{arrows:?}"
    );

    let Some(chromium) = browser::require("the rehearsal's HTML report") else {
        return;
    };
    let png = html.with_extension("png");
    let r = browser::render(&chromium, html, &png, 1200, 1600);
    assert_eq!(r.console, Vec::<String>::new(), "console messages");
    // The browser's DOM has the same arrows as the file.
    assert_eq!(browser::arrows(section(&r.dom, "dsr")), arrows);
    assert_eq!(browser::png_size(&png), (1200, 1600));
}

/// The `<section id="step-<id>">` of a page.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("<section class=\"step\" id=\"step-{id}\">"))
        .unwrap_or_else(|| panic!("no section for step {id}:\n{page}"));
    let end = page[start..]
        .find("</section>")
        .map_or(page.len(), |e| start + e);
    &page[start..end]
}
