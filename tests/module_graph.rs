//! No import circles in either crate (`src/`, the binding crate, and `crates/labsh-core/src/`,
//! the core; issues 13 and 20), at two levels:
//!
//! - **files**: an edge `a.rs → b.rs` for each path in `a.rs` that names an item of `b.rs`:
//!   `crate::x::y::…` and `super::…` paths (`use` lines and inline paths alike,
//!   `crate::{x::y, z}` groups expanded; `super` counted from the module the path is in, so a
//!   `mod tests { use super::*; }` names its own file). A path resolves to the file of the
//!   longest module prefix it names (`crate::monitor::parse::text_into` →
//!   `monitor/parse.rs`). A parent naming its children by plain relative paths (`mod x;`,
//!   `x::f()`) is how Rust declares them, not an import, and does not count.
//! - **top-level modules**: the same edges between the files' first path components.
//!
//! Comments and string literals do not count. `lib.rs` and `main.rs` are the module list and
//! the binary, not modules, and are left out (a path that names only the crate root goes
//! nowhere). Each test fails naming every circle with the lines or files behind its edges.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Node → the nodes it references, each with what makes the edge (lines of a file, or the
/// files of a module).
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[test]
fn src_files_form_no_import_circle() {
    no_file_circle_in("src", 40);
}

#[test]
fn the_core_crates_files_form_no_import_circle() {
    no_file_circle_in("crates/labsh-core/src", 80);
}

#[test]
fn src_top_level_modules_form_no_import_circle() {
    no_module_circle_in("src", 10);
}

#[test]
fn the_core_crates_top_level_modules_form_no_import_circle() {
    no_module_circle_in("crates/labsh-core/src", 15);
}

/// Fails naming each import circle among the files of `dir` (a crate's `src`), which must
/// hold more than `at_least` files with edges.
fn no_file_circle_in(dir: &str, at_least: usize) {
    let graph = file_graph(&read_crate(dir));
    fail_on_circles(dir, "files", &graph, at_least);
}

/// Fails naming each import circle among the top-level modules of `dir`, which must hold
/// more than `at_least` modules.
fn no_module_circle_in(dir: &str, at_least: usize) {
    let graph = module_graph(&file_graph(&read_crate(dir)));
    fail_on_circles(dir, "modules", &graph, at_least);
}

fn fail_on_circles(dir: &str, what: &str, graph: &Graph, at_least: usize) {
    assert!(
        graph.len() > at_least,
        "the graph of {dir} looks empty ({} {what}): did it move?",
        graph.len()
    );
    let circles = circles(graph);
    assert!(
        circles.is_empty(),
        "import circles among {dir}'s {what} (each should import none of those importing it):\n{}",
        circles
            .iter()
            .map(|c| describe(graph, c))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

#[test]
fn a_circle_between_top_level_modules_is_found_and_named() {
    let crate_files = files(&[
        (
            "cli.rs",
            "use crate::api::execute;\nuse crate::exit_code::EXIT_FAILURE;\n",
        ),
        ("api.rs", "use crate::{catalog::Catalog, cli};\n"),
        (
            "catalog.rs",
            "// crate::cli in a comment\nconst S: &str = \"crate::cli\";\n",
        ),
        ("exit_code.rs", "pub const EXIT_FAILURE: u8 = 1;\n"),
        ("lib.rs", "pub mod api;\npub use crate::cli::run;\n"),
    ]);
    let graph = module_graph(&file_graph(&crate_files));
    let circles = circles(&graph);
    assert_eq!(circles, vec![vec!["api".to_string(), "cli".to_string()]]);
    assert_eq!(
        describe(&graph, &circles[0]),
        "  api → cli → api: api → cli (api.rs); cli → api (cli.rs)"
    );
}

/// Issue 20: the circle `monitor/parse.rs` ↔ `monitor/json.rs` was inside one top-level
/// module, where the module graph could not see it.
#[test]
fn a_circle_between_files_of_one_module_is_found_and_named() {
    let crate_files = files(&[
        (
            "monitor/mod.rs",
            "mod json;\nmod parse;\npub use parse::parse;\n",
        ),
        (
            "monitor/parse.rs",
            "use super::event::Fields;\n\nfn classify() {\n    super::json::parse_into(t, f);\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
        ),
        (
            "monitor/json.rs",
            "use crate::monitor::{event::{Fields, Kind}, parse::parse_owned};\n",
        ),
        ("monitor/event.rs", "pub struct Fields;\n"),
    ]);
    let graph = file_graph(&crate_files);
    let circles = circles(&graph);
    assert_eq!(
        circles,
        vec![vec![
            "monitor/json.rs".to_string(),
            "monitor/parse.rs".to_string()
        ]]
    );
    assert_eq!(
        describe(&graph, &circles[0]),
        "  monitor/json.rs → monitor/parse.rs → monitor/json.rs: monitor/json.rs → monitor/parse.rs (line 1); monitor/parse.rs → monitor/json.rs (line 4)"
    );
    // The group reaches both files; `mod tests { use super::*; }` is parse.rs itself.
    let json_targets: Vec<&str> = graph["monitor/json.rs"]
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(json_targets, ["monitor/event.rs", "monitor/parse.rs"]);
    let parse_targets: Vec<&str> = graph["monitor/parse.rs"]
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(parse_targets, ["monitor/event.rs", "monitor/json.rs"]);
    // The module graph sees no circle there: one module.
    let graph = module_graph(&graph);
    assert!(self::circles(&graph).is_empty());
}

#[test]
fn paths_resolve_to_the_longest_module_prefix_and_super_to_the_parent() {
    let crate_files = files(&[
        ("lib.rs", "pub mod a;\n"),
        ("a/mod.rs", "pub mod b;\npub fn top() {}\n"),
        ("a/b/mod.rs", "pub mod c;\n"),
        (
            "a/b/c.rs",
            "fn f() { super::super::top(); crate::a::b::c::g(); }\nuse super::*;\n",
        ),
        (
            "d.rs",
            "fn h() { crate::a::b::c::g(); let x = crate::Settings::default(); }\n",
        ),
    ]);
    let graph = file_graph(&crate_files);
    let c: Vec<&str> = graph["a/b/c.rs"].keys().map(String::as_str).collect();
    assert_eq!(c, ["a/b/mod.rs", "a/mod.rs"]);
    let d: Vec<&str> = graph["d.rs"].keys().map(String::as_str).collect();
    assert_eq!(d, ["a/b/c.rs"], "the crate root (lib.rs) is left out");
}

/// Every `.rs` file of `dir` (relative to the repository), as (path inside `dir`, text).
fn read_crate(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    rust_files(&root)
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap().display().to_string();
            let text = fs::read_to_string(&file).expect("read a source file");
            (relative, text)
        })
        .collect()
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

/// The module path of a file (`a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs`
/// are the root, `None`).
fn module_of(file: &str) -> Option<Vec<String>> {
    let stem = file.strip_suffix(".rs")?;
    let mut parts: Vec<String> = stem.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        return None;
    }
    Some(parts)
}

/// The file graph of a crate's files: each file's edges to the files its paths name.
fn file_graph(files: &[(String, String)]) -> Graph {
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .filter_map(|(f, _)| module_of(f).map(|m| (m, f.clone())))
        .collect();
    let mut graph = Graph::new();
    for (file, text) in files {
        let Some(module) = module_of(file) else {
            continue;
        };
        let node = graph.entry(file.clone()).or_default();
        for (line, path) in paths_in(&module, &code_only(text)) {
            let target = (1..=path.len()).rev().find_map(|n| modules.get(&path[..n]));
            if let Some(target) = target.filter(|t| *t != file) {
                node.entry(target.clone())
                    .or_default()
                    .insert(format!("line {line}"));
            }
        }
    }
    graph
}

/// The graph of top-level modules (a file's first path component, without `.rs`) that the
/// file graph contracts to, each edge with the files behind it.
fn module_graph(files: &Graph) -> Graph {
    let top = |f: &str| {
        let first = f.split('/').next().unwrap_or(f);
        first.strip_suffix(".rs").unwrap_or(first).to_string()
    };
    let mut graph = Graph::new();
    for (file, targets) in files {
        let node = graph.entry(top(file)).or_default();
        for target in targets.keys() {
            if top(target) != top(file) {
                node.entry(top(target)).or_default().insert(file.clone());
            }
        }
    }
    graph
}

/// Every absolute module path that `code` (a file of module `module`, comments and strings
/// blanked) names through `crate::` or `super::`, with its line: `super` is counted from the
/// inline module (`mod tests { … }`) the path is in.
fn paths_in(module: &[String], code: &str) -> Vec<(usize, Vec<String>)> {
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    // Inline modules open at this point, with the brace depth inside each.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let starts_word = i == 0 || !is_ident_char(chars[i - 1]) && chars[i - 1] != ':';
        if c == '\n' {
            line += 1;
        } else if c == '{' {
            depth += 1;
        } else if c == '}' {
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
            depth = depth.saturating_sub(1);
        } else if starts_word && word_at(&chars, i, "mod") {
            let mut j = skip_space(&chars, i + 3);
            let name = ident_at(&chars, j);
            j = skip_space(&chars, j + name.chars().count());
            if !name.is_empty() && chars.get(j) == Some(&'{') {
                inline.push((name, depth + 1));
            }
        } else if starts_word && (word_at(&chars, i, "crate") || word_at(&chars, i, "super")) {
            let mut base: Vec<String> = module.to_vec();
            base.extend(inline.iter().map(|(n, _)| n.clone()));
            let mut j = i;
            let absolute = word_at(&chars, j, "crate");
            if absolute {
                base.clear();
                j += "crate".len();
            } else {
                while word_at(&chars, j, "super") {
                    base.pop();
                    j += "super".len();
                    if chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':') {
                        j += 2;
                    }
                }
                j -= 2;
            }
            if chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':') {
                j += 2;
                for tail in use_tree(&chars, &mut j) {
                    let mut path = base.clone();
                    path.extend(tail);
                    found.push((line, path));
                }
                // Newlines inside a group (`use crate::{\n a,\n b};`).
                line += chars[i..j.min(chars.len())]
                    .iter()
                    .filter(|c| **c == '\n')
                    .count();
                i = j;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// The paths of a use tree at `chars[*i]` (after `crate::`): `a::b`, `{a::b, c}`, `a::*`.
fn use_tree(chars: &[char], i: &mut usize) -> Vec<Vec<String>> {
    *i = skip_space(chars, *i);
    if chars.get(*i) == Some(&'{') {
        *i += 1;
        let mut out = Vec::new();
        loop {
            *i = skip_space(chars, *i);
            match chars.get(*i) {
                None => break,
                Some('}') => {
                    *i += 1;
                    break;
                }
                Some(',') => *i += 1,
                Some(_) => {
                    let before = *i;
                    out.extend(use_tree(chars, i));
                    if *i == before {
                        *i += 1; // not a path (`self as x`, a stray token): move on
                    }
                }
            }
        }
        return out;
    }
    let name = ident_at(chars, *i);
    if name.is_empty() {
        return vec![Vec::new()];
    }
    *i += name.chars().count();
    let j = skip_space(chars, *i);
    if chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':') {
        *i = j + 2;
        let mut out = use_tree(chars, i);
        for p in &mut out {
            p.insert(0, name.clone());
        }
        return out;
    }
    vec![vec![name]]
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn ident_at(chars: &[char], i: usize) -> String {
    chars[i.min(chars.len())..]
        .iter()
        .take_while(|c| is_ident_char(**c))
        .collect()
}

fn word_at(chars: &[char], i: usize, word: &str) -> bool {
    let n = word.chars().count();
    chars.len() >= i + n
        && chars[i..i + n].iter().copied().eq(word.chars())
        && !chars.get(i + n).is_some_and(|c| is_ident_char(*c))
}

fn skip_space(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
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
