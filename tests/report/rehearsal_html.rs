//! The rehearsal's HTML reports (`target/rehearsal/<mode>.html`): written, complete, with
//! the dsr step's flow drawn from what the capture saw (the SNAT round trip or the DSR
//! triangle), and rendered by headless Chromium without a console message (the screenshot
//! lands beside it as `<mode>.png`).

use std::path::Path;

use super::browser;

/// The report at `html` has `steps` rows, is not partial, and its dsr figure shows the SNAT
/// round trip: the client's inferred call to the called node, the request forwarded to the
/// pod, the pod's reply to the called node, and the called node's inferred reply to the
/// client; never a reply straight from the pod's node to the client.
pub fn assert_shows_the_snat_round_trip(html: &Path, steps: usize) {
    let page = complete_page(html, steps);
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

    render_cleanly(html, &arrows);
}

/// The report at `html` has `steps` rows, is not partial, and its dsr figure shows the DSR
/// triangle: the client's inferred call to the called node, the request forwarded to the pod,
/// and the reply straight from the pod's node to the client; never back through the called
/// node.
pub fn assert_shows_the_dsr_triangle(html: &Path, steps: usize) {
    let page = complete_page(html, steps);
    let dsr = section(&page, "dsr");
    let arrows = browser::arrows(dsr);
    let pairs: Vec<(&str, &str)> = arrows
        .iter()
        .map(|(f, t, _)| (f.as_str(), t.as_str()))
        .collect();
    assert_eq!(pairs.first(), Some(&("client", "called")), "{dsr}");
    assert!(arrows[0].2.contains("inferred"), "{arrows:?}");
    assert!(pairs.contains(&("called", "pod")), "{arrows:?}");
    assert!(
        arrows
            .iter()
            .any(|(f, t, c)| f == "pod_node" && t == "client" && c.contains("hl")),
        "the reply goes straight from the pod's node to the client: {arrows:?}"
    );
    assert!(
        !pairs.contains(&("pod", "called")),
        "no reply back through the called node: {arrows:?}"
    );
    render_cleanly(html, &arrows);
}

/// The page at `html`, after checking it has `steps` step rows and is not partial.
fn complete_page(html: &Path, steps: usize) -> String {
    let page = std::fs::read_to_string(html)
        .unwrap_or_else(|e| panic!("no HTML report at {}: {e}", html.display()));
    assert_eq!(page.matches("<tr class=\"step ").count(), steps, "{page}");
    assert!(!page.contains("Partial report"), "{page}");
    page
}

/// Chromium renders the page without a console message, with the same arrows in its DOM.
fn render_cleanly(html: &Path, arrows: &[(String, String, String)]) {
    let Some(chromium) = browser::require("the rehearsal's HTML report") else {
        return;
    };
    let png = html.with_extension("png");
    let r = browser::render(&chromium, html, &png, 1200, 1600);
    assert_eq!(r.console, Vec::<String>::new(), "console messages");
    // The browser's DOM has the same arrows as the file.
    assert_eq!(browser::arrows(section(&r.dom, "dsr")), arrows.to_vec());
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
