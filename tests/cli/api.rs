//! `labsh api`: one line per primitive, one function's whole doc, a module's functions, and
//! Rhai definition files for editors.

use super::test::Test;

#[test]
fn api_name_shows_every_overload_and_the_doc() {
    Test::new()
        .args(&["api", "fs::write"])
        .stdout("fs::write(path: String, text: String)\n\nWrites `text` to a file (created or replaced); a relative path is relative to the script's folder.\n\n```rhai\nfs::write(\"out/nodes.txt\", \"control-plane\\n\");\n```\n")
        .run();
}

#[test]
fn api_module_lists_its_functions_one_line_each() {
    Test::new()
        .args(&["api", "json"])
        .stdout("json: parse and write JSON\n\njson::parse(text: String) -> Dynamic  # Parses JSON into a Rhai value.\njson::to_pretty(value: Dynamic) -> String  # Writes a value as indented JSON.\njson::to_string(value: Dynamic) -> String  # Writes a value as compact JSON.\n")
        .run();
}

#[test]
fn api_lists_primitives_and_the_stdlib() {
    let (out, code) = Test::new().arg("api").run_unchecked();
    assert_eq!(code, 0);
    for line in [
        "sleep(duration: Dynamic)  # Waits for `duration` (`\"500ms\"`, `\"5s\"`, `\"2m\"`, or seconds).\n",
        "proc::run(argv: Array, opts: Map) -> Map  # Runs a program from an argument vector (never a shell string) and returns `#{code, signal, stdout, stderr, truncated}`.\n",
        "lab::step(id, title, body)  # Runs `body` as lab step `id`: prints a numbered header, then calls `body` and returns its value.\n",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing {line:?} in\n{}",
            out.stdout
        );
    }
}

#[test]
fn api_unknown_name_fails_with_suggestions() {
    Test::new()
        .args(&["api", "yaml::parse_al"])
        .stderr("error: no primitive or module named `yaml::parse_al`\nhelp: did you mean: yaml::parse, yaml::parse_all\n")
        .status(1)
        .run();
}

#[test]
fn definitions_are_written_for_each_module() {
    let out = Test::new()
        .args(&["api", "--definitions", "defs"])
        .stderr("wrote Rhai definitions into defs\n")
        .run();
    let fs = out.read("defs/fs.d.rhai");
    assert!(fs.starts_with("module fs;"), "{fs}");
    assert!(
        fs.contains("/// Reads a text file; a relative path is relative to the script's folder.\n"),
        "{fs}"
    );
    assert!(fs.contains("fn read(path: String) -> String;"), "{fs}");
    let lab = out.read("defs/lab.d.rhai");
    assert!(
        lab.starts_with("module lab;\n\n/// Records check `name` with no evidence."),
        "{lab}"
    );
    assert!(
        lab.contains("\nfn step(id: ?, title: ?, body: ?) -> ?;\n"),
        "{lab}"
    );
}
