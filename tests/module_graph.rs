//! No import circles between the top-level modules of each crate (`src/`, the binding crate, and
//! `crates/labsh-core/src/`, the core; issue 13): reads every `**/*.rs` of the crate,
//! draws an edge `a → b` for each `crate::b…` path in module `a`'s files (`use` lines and
//! inline paths alike, `crate::{b::…, c}` groups included; comments and string literals do
//! not count), and fails naming each circle with the files behind its edges.
//!
//! `lib.rs` and `main.rs` are the module list and the binary, not modules, and are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Module → the modules it references, each with the files that do.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[test]
fn src_top_level_modules_form_no_import_circle() {
    no_circle_in("src", 10);
}

#[test]
fn the_core_crates_top_level_modules_form_no_import_circle() {
    no_circle_in("crates/labsh-core/src", 15);
}

/// Fails naming each import circle among the top-level modules of `dir` (a crate's `src`),
/// which must hold more than `at_least` modules.
fn no_circle_in(dir: &str, at_least: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let graph = graph_of(&root);
    assert!(
        graph.len() > at_least,
        "the graph of {dir} looks empty ({} modules): did it move?",
        graph.len()
    );
    let circles = circles(&graph);
    assert!(
        circles.is_empty(),
        "import circles among {dir}'s modules (each module below imports none above it):\n{}",
        circles
            .iter()
            .map(|c| describe(&graph, c))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_circle_is_found_and_named() {
    let files = [
        (
            "cli",
            "use crate::api::execute;\nuse crate::exit_code::EXIT_FAILURE;\n",
        ),
        ("api", "use crate::{catalog::Catalog, cli};\n"),
        (
            "catalog",
            "// crate::cli in a comment\nconst S: &str = \"crate::cli\";\n",
        ),
        ("exit_code", "pub const EXIT_FAILURE: u8 = 1;\n"),
    ];
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.to_string()).collect();
    let mut graph = Graph::new();
    for (module, text) in files {
        add_file(
            &mut graph,
            &modules,
            module,
            &format!("src/{module}.rs"),
            text,
        );
    }
    let circles = circles(&graph);
    assert_eq!(circles, vec![vec!["api".to_string(), "cli".to_string()]]);
    assert_eq!(
        describe(&graph, &circles[0]),
        "  api → cli → api: api → cli (src/api.rs); cli → api (src/cli.rs)"
    );
}

/// The graph of `root`'s top-level modules.
fn graph_of(root: &Path) -> Graph {
    let mut modules = BTreeSet::new();
    for entry in fs::read_dir(root).expect("read src/") {
        let path = entry.expect("src/ entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir()
            || (path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main")
        {
            modules.insert(name);
        }
    }
    let mut graph = Graph::new();
    for file in rust_files(root) {
        let relative = file.strip_prefix(root).unwrap();
        let first = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.strip_suffix(".rs").unwrap_or(&first).to_string();
        if !modules.contains(&module) {
            continue;
        }
        let text = fs::read_to_string(&file).expect("read a source file");
        let shown = format!("src/{}", relative.display());
        add_file(&mut graph, &modules, &module, &shown, &text);
    }
    graph
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("read a folder of src/") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Adds the edges of one file of `module`.
fn add_file(graph: &mut Graph, modules: &BTreeSet<String>, module: &str, file: &str, text: &str) {
    let node = graph.entry(module.to_string()).or_default();
    for target in crate_references(&code_only(text)) {
        if target != module && modules.contains(&target) {
            node.entry(target).or_default().insert(file.to_string());
        }
    }
}

/// The first segment of every `crate::…` path: `crate::a::b` gives `a`, `crate::{a::b, c}`
/// gives `a` and `c`.
fn crate_references(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(i) = code[at..].find("crate::") {
        let start = at + i;
        at = start + "crate::".len();
        if start > 0 && is_ident(bytes[start - 1]) {
            continue; // `mycrate::`
        }
        let rest = code[at..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group: after `{` and after each `,` at depth 0.
            let mut depth = 0;
            let mut expect_item = true;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expect_item = true,
                    c if expect_item && (c.is_alphanumeric() || c == '_') => item.push(c),
                    _ if expect_item && !item.is_empty() => {
                        found.push(std::mem::take(&mut item));
                        expect_item = false;
                    }
                    _ => {}
                }
            }
            if !item.is_empty() {
                found.push(item);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `text` with comments and string and char literals blanked out (newlines kept).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&chars, i)
        {
            // A raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\u{1F600}'); a lifetime ('a) has no closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Whether `chars[i]` continues an identifier (`for` in `for"`), except a byte string's `b`.
fn prev_is_ident(chars: &[char], i: usize) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    match i.checked_sub(1).map(|p| chars[p]) {
        Some('b') => i >= 2 && ident(chars[i - 2]),
        Some(c) => ident(c),
        None => false,
    }
}

/// The strongly connected components of more than one module (Tarjan), each sorted.
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let targets: Vec<&'g str> = s
            .graph
            .get(v)
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for w in targets {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found.sort();
    s.found
}

/// The circles of a strongly connected component, one line each, shortest first: through each
/// edge `a → b` of the component, the shortest way back from `b` to `a`, with the files that
/// make each step (`  api → cli → api: api → cli (src/api.rs); cli → api (src/cli.rs)`).
fn describe(graph: &Graph, component: &[String]) -> String {
    let members: BTreeSet<&str> = component.iter().map(String::as_str).collect();
    let mut cycles = BTreeSet::new();
    for a in component {
        for b in graph[a].keys().filter(|b| members.contains(b.as_str())) {
            if let Some(back) = shortest_path(graph, &members, b, a) {
                let mut cycle: Vec<&str> = vec![a.as_str()];
                cycle.extend(back.iter().map(String::as_str));
                cycle.pop(); // `a` again
                // The same circle from any of its modules: start at the smallest name.
                let start = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap();
                cycle.rotate_left(start);
                cycles.insert((
                    cycle.len(),
                    cycle.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
                ));
            }
        }
    }
    const SHOWN: usize = 20;
    let mut lines: Vec<String> = cycles
        .iter()
        .take(SHOWN)
        .map(|(_, cycle)| {
            let steps: Vec<String> = (0..cycle.len())
                .map(|i| {
                    let (a, b) = (&cycle[i], &cycle[(i + 1) % cycle.len()]);
                    let files: Vec<&str> = graph[a][b].iter().map(String::as_str).collect();
                    format!("{a} → {b} ({})", files.join(", "))
                })
                .collect();
            format!(
                "  {} → {}: {}",
                cycle.join(" → "),
                cycle[0],
                steps.join("; ")
            )
        })
        .collect();
    if cycles.len() > SHOWN {
        lines.push(format!(
            "  (+{} more circles among {})",
            cycles.len() - SHOWN,
            component.join(", ")
        ));
    }
    lines.join("\n")
}

/// The modules on the shortest way from `from` to `to` inside `members` (both ends included).
fn shortest_path(
    graph: &Graph,
    members: &BTreeSet<&str>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    let mut seen = BTreeSet::from([from]);
    while let Some(m) = queue.pop_front() {
        if m == to {
            let mut path = vec![to.to_string()];
            let mut at = to;
            while let Some(&p) = previous.get(at) {
                path.push(p.to_string());
                at = p;
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(m).into_iter().flat_map(|t| t.keys()) {
            if members.contains(next.as_str()) && seen.insert(next.as_str()) {
                previous.insert(next.as_str(), m);
                queue.push_back(next.as_str());
            }
        }
    }
    None
}
