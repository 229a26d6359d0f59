//! The REPL driven through piped stdin: multi-line input, persistence between inputs,
//! pretty-printed values, help, errors that do not end the session, `:load` and `:reset`.

use crate::test::Test;

#[test]
fn a_multi_line_function_persists_and_can_be_called() {
    Test::new()
        .stdin("fn greet(name) {\n    let greeting = `hello, ${name}`;\n    greeting\n}\ngreet(\"kind\")\n")
        .stdout("hello, kind\n")
        .run();
}

#[test]
fn variables_persist_between_inputs() {
    Test::new()
        .stdin("let nodes = [\"control-plane\", \"worker\"];\nnodes.push(\"worker2\");\nnodes.len()\nnodes\n")
        .stdout("3\n[\"control-plane\", \"worker\", \"worker2\"]\n")
        .run();
}

#[test]
fn long_maps_print_over_indented_lines() {
    Test::new()
        .stdin("#{name: \"frontend\", labels: #{app: \"guestbook\", tier: \"frontend\"}, ports: [80], type: \"NodePort\"}\n")
        .stdout("#{\n    labels: #{app: \"guestbook\", tier: \"frontend\"},\n    name: \"frontend\",\n    ports: [80],\n    type: \"NodePort\",\n}\n")
        .run();
}

#[test]
fn help_on_a_function_shows_its_doc_and_example() {
    Test::new()
        .stdin("help(\"fs::exists\")\n")
        .stdout("fs::exists(path: String) -> bool\n\nWhether a file or folder exists (relative to the script's folder).\n\n```rhai\nif fs::exists(\"tp12/kind.yaml\") { print(\"config found\"); }\n```\n")
        .run();
}

#[test]
fn help_lists_the_modules() {
    let (out, code) = Test::new().stdin("help()\n").run_unchecked();
    assert_eq!(code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("labsh: Rhai with lab primitives."),
        "{}",
        out.stdout
    );
    for line in [
        "  fs         read and write files relative to the script\n",
        "  proc       run programs from argument vectors\n",
        "  cluster    kind clusters: cluster::create, delete, delete_all, list, get; the Cluster type; kind nodes as Docker containers: discovery, exec, host-side veth\n",
        "  logs       parse Apache/nginx combined access-log lines; pod logs: tail, since, follow (kube-rs)\n",
        "REPL commands: :load FILE, :reset, :quit (or Ctrl-D). Tab completes.\n",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing {line:?} in\n{}",
            out.stdout
        );
    }
}

#[test]
fn help_on_an_unknown_name_suggests_close_ones() {
    Test::new()
        .stdin("help(\"fs::reed\")\n")
        .stdout("no function or module named `fs::reed`; help() lists the modules\n")
        .run();
}

#[test]
fn an_error_is_reported_and_the_session_goes_on() {
    Test::new()
        .stdin("let x = 41;\nx.nope()\nx + 1\n")
        .stdout("42\n")
        .stderr("error: Function not found: nope (i64)\n  --> <stdin 2>:1:3\n  |\n1 | x.nope()\n  |   ^\n")
        .status(1)
        .run();
}

#[test]
fn imports_persist_between_inputs() {
    Test::new()
        .stdin("import \"lab\" as lab;\nlab::check(\"repl\", true, \"ok\")\n")
        .stdout("  PASS repl: ok\ntrue\n")
        .run();
}

#[test]
fn load_runs_a_file_into_the_session_and_reset_forgets_it() {
    Test::new()
        .write("lib.rhai", "let base = 10;\nfn twice(x) { x * 2 }\n")
        .stdin(":load lib.rhai\ntwice(base)\n:reset\nbase\n")
        .stdout("20\nsession reset: no variables, functions or imports\n")
        .stderr("error: Variable not found: base\n  --> <stdin 4>:1:1\n  |\n1 | base\n  | ^\n")
        .status(1)
        .run();
}

#[test]
fn an_error_in_a_function_from_an_earlier_input_shows_that_input() {
    Test::new()
        .stdin("fn f(x) {\n  x.nope()\n}\nf(1)\n")
        .stderr("error: Function not found: nope (i64)\n  --> <stdin 1>:2:5\n  |\n2 |   x.nope()\n  |     ^\nnote: in `f`, called from <stdin 2>:1:1\n  |\n1 | f(1)\n  | ^\n")
        .status(1)
        .run();
}

#[test]
fn modules_imported_by_a_loaded_file_stay_available_and_reset_forgets_them() {
    Test::new()
        .write("lab/lib/util.rhai", "fn half(x) { x / 2 }\n")
        .write("lab/setup.rhai", "import \"lib/util\" as util;\nlet n = util::half(8);\n")
        .stdin(":load lab/setup.rhai\nn\nutil::half(10)\n:reset\nutil::half(10)\n")
        .stdout("4\n5\nsession reset: no variables, functions or imports\n")
        .stderr("error: unknown module `util`: import it first (`import \"…\" as util;`)\n  --> <stdin 5>:1:1\n  |\n1 | util::half(10)\n  | ^\n")
        .status(1)
        .run();
}
