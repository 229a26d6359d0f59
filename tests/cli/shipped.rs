//! Every `.rhai` file shipped in `scripts/`, `stdlib/` and `examples/` checks clean with
//! `labsh check` (compiles, no unknown function, variable or module; issue 21), globbed at
//! test time so files added later are covered.

use super::test::Test;

fn shipped_scripts() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut stack: Vec<_> = ["scripts", "stdlib", "examples"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rhai") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_shipped_script_checks_clean() {
    let scripts = shipped_scripts();
    assert!(
        scripts.iter().any(|p| p.ends_with("stdlib/lab.rhai")),
        "the glob must at least find stdlib/lab.rhai: {scripts:?}"
    );
    let mut args = vec!["check".to_string()];
    args.extend(scripts.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Test::new().args(&args).run();
}
