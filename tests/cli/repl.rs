//! The REPL driven through piped stdin: multi-line input, persistence between inputs,
//! pretty-printed values, help, errors that do not end the session, `:load` and `:reset`;
//! what a printing primitive shows appears once (issue 14), and long values are cut only
//! when asked to fit a height (`LINES`; see `tty.rs` for the terminal's own height).

use super::test::Test;

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
        "  cluster    kind clusters: cluster::create, delete, delete_all, list, get; the Cluster type; kind nodes as Docker containers: discovery, exec, host-side veth; any context's cluster (cluster::current, context): nodes from the API, reached through Docker or a node debug pod\n",
        "  logs       parse Apache/nginx combined access-log lines; pod logs: tail, since, follow (kube-rs); start: pod logs followed in the background (lines, wait, stop)\n",
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
fn help_lists_methods_under_their_type_and_no_operator() {
    // Issue 13: `exec`, `stop`, `==` were listed as global functions.
    let (out, code) = Test::new().stdin("help()\n").run_unchecked();
    assert_eq!(code, 0, "{}", out.stderr);
    for line in [
        "Global functions: env, exit_with, help, poll, print, replaced, shown, sleep, trimmed, trimmed_end, trimmed_start\n",
        "Methods (value.name(…)), by type:\n",
        "  Node: exec, exec_stream, host_veth, to_debug, to_string\n",
        "  Capture: packets, stats, stop, to_debug, to_string, wait, wait_idle\n",
        "  Service: node_port, to_debug, to_string\n",
    ] {
        assert!(
            out.stdout.contains(line),
            "missing {line:?} in\n{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains("=="), "{}", out.stdout);
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
        .stderr("error: unknown method `nope` (called with (i64))\n  --> <stdin 2>:1:3\n  |\n1 | x.nope()\n  |   ^\nhelp: did you mean `node`?\n")
        .status(1)
        .run();
}

#[test]
fn imports_persist_between_inputs() {
    Test::new()
        .stdin("import \"lab\" as lab;\nlab::check(\"repl\", true, \"ok\")\n")
        .stdout("  PASS repl: ok\n")
        .run();
}

#[test]
fn the_stdlib_is_there_without_an_import_and_a_loaded_script_finds_args() {
    // Issue 21: `:load examples/steps-and-checks.rhai` failed on `ARGS`, and `lab::` needed
    // an import first.
    let example = format!(
        "{}/examples/steps-and-checks.rhai",
        env!("CARGO_MANIFEST_DIR")
    );
    let (out, code) = Test::new()
        .stdin(&format!(
            "lab::check(\"no-import\", true, \"ok\")\nARGS\n:load {example}\n"
        ))
        .run_unchecked();
    assert_eq!(code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("  PASS no-import: ok\n[]\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("== Step 1: Run a program from an argument vector [run]\n"),
        "{}",
        out.stdout
    );
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
        .stderr("error: unknown method `nope` (called with (i64))\n  --> <stdin 1>:2:5\n  |\n2 |   x.nope()\n  |     ^\nnote: in `f`, called from <stdin 2>:1:1\n  |\n1 | f(1)\n  | ^\nhelp: did you mean `node`?\n")
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

// Issue 14: a primitive that shows something shows it once at the prompt.

#[test]
fn a_check_at_the_prompt_shows_its_verdict_line_once() {
    Test::new()
        .stdin("import \"lab\" as lab;\nlab::check(\"nodes-ready\", true, \"4/4 nodes Ready\")\nlab::check(\"cilium-ready\", false)\n")
        .stdout("  PASS nodes-ready: 4/4 nodes Ready\n  FAIL cilium-ready\n")
        .run();
}

#[test]
fn a_checks_verdict_is_still_a_bool_to_work_with() {
    Test::new()
        .stdin("import \"lab\" as lab;\nlet ok = lab::check(\"x\", true);\nif ok { \"go on\" } else { \"stop\" }\nok\n")
        .stdout("  PASS x\ngo on\ntrue\n")
        .run();
}

#[test]
fn say_and_a_step_at_the_prompt_show_their_text_once() {
    Test::new()
        .stdin("import \"lab\" as lab;\nlab::say(\"Pas de kube-proxy :\\nCilium le remplace.\")\nlab::step(\"cluster\", \"Créer le cluster\", || {\n    lab::say(\"Un plan de contrôle, trois workers.\");\n    lab::check(\"nodes\", true, \"4 nodes\")\n})\n")
        .stdout("   Pas de kube-proxy :\n   Cilium le remplace.\n== Step 1: Créer le cluster [cluster]\n   Un plan de contrôle, trois workers.\n  PASS nodes: 4 nodes\n")
        .run();
}

#[test]
fn preflight_at_the_prompt_shows_the_checklist_and_no_verdict_after_it() {
    let (out, code) = Test::new()
        .stdin("import \"lab\" as lab;\nlab::preflight()\n")
        .run_unchecked();
    assert_eq!(code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"Preflight:"), "{}", out.stdout);
    assert_eq!(
        out.stdout.matches("Preflight:").count(),
        1,
        "{}",
        out.stdout
    );
    // Every line after the title is an item, why it matters or how to fix it: no
    // `true`/`false` echo.
    for line in &lines[1..] {
        assert!(
            ["  [ok]", "  [WARN]", "  [FAIL]", "  [skip]"]
                .iter()
                .any(|p| line.starts_with(p))
                || line.trim_start().starts_with("why: ")
                || line.trim_start().starts_with('→'),
            "unexpected line {line:?} in\n{}",
            out.stdout
        );
    }
}

#[test]
fn a_function_that_returns_what_it_printed_through_shown_shows_it_once() {
    Test::new()
        .stdin("fn nodes() {\n    let n = [\"lab-control-plane\", \"lab-worker\"];\n    for x in n { print(x); }\n    shown(n)\n}\nnodes()\nlet n = nodes();\nn.len()\nn\n")
        .stdout("lab-control-plane\nlab-worker\nlab-control-plane\nlab-worker\n2\n[\"lab-control-plane\", \"lab-worker\"]\n")
        .run();
}

#[test]
fn a_value_built_from_a_shown_one_is_echoed() {
    Test::new()
        .stdin("shown(\"abc\")\nshown(\"abc\") + \"d\"\n")
        .stdout("abcd\n")
        .run();
}

/// An input whose value is an array of 30 numbers: 32 lines at the prompt.
const THIRTY: &str = "let a = [];\nfor i in 0..30 { a.push(i * 1000) }\n";

fn thirty_lines() -> String {
    let mut s = String::from("[\n");
    for i in 0..30 {
        s.push_str(&format!("    {},\n", i * 1000));
    }
    s.push_str("]\n");
    s
}

#[test]
fn a_piped_repl_shows_long_values_in_full() {
    Test::new()
        .stdin(&format!("{THIRTY}a\n"))
        .stdout(&thirty_lines())
        .run();
}

#[test]
fn lines_cuts_long_values_at_a_piped_prompt_and_print_shows_them_all() {
    Test::new()
        .env("LINES", "10")
        .stdin(&format!("{THIRTY}a\nprint(a);\n"))
        .stdout(&format!(
            "[\n    0,\n    1000,\n    2000,\n    3000,\n    4000,\n    5000,\n    6000,\n… 24 more lines: print(a) to see all\n{}",
            thirty_lines()
        ))
        .run();
}

#[test]
fn lines_does_not_cut_a_value_that_fits_or_a_string() {
    Test::new()
        .env("LINES", "10")
        .stdin("[1, 2]\n\"1\\n2\\n3\\n4\\n5\\n6\\n7\\n8\\n9\\n10\\n11\\n12\"\n")
        .stdout("[1, 2]\n1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n")
        .run();
}

#[test]
fn scripts_are_never_cut() {
    Test::new()
        .env("LINES", "10")
        .write(
            "long.rhai",
            &format!("{THIRTY}for x in a {{ print(x); }}\nprint(a);\n"),
        )
        .args(&["run", "long.rhai"])
        .stdout(&format!(
            "{}[{}]\n",
            (0..30)
                .map(|i| format!("{}\n", i * 1000))
                .collect::<String>(),
            (0..30)
                .map(|i| (i * 1000).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .run();
}
