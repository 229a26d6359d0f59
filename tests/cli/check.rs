//! `labsh check` as a checker (issue 21): every finding kind, with file:line:col, the line
//! and a caret, and what to type instead; several in one run; `labsh run` checks first.

use super::test::Test;

#[test]
fn a_misspelled_primitive_suggests_the_closest_one() {
    Test::new()
        .write("t.rhai", "kube::aply(\"f.yaml\");\n")
        .args(&["check", "t.rhai"])
        .stderr("error: unknown function `kube::aply`\n  --> t.rhai:1:7\n  |\n1 | kube::aply(\"f.yaml\");\n  |       ^\nhelp: did you mean `kube::apply`?\n")
        .status(1)
        .run();
}

#[test]
fn a_misspelled_stdlib_function_suggests_the_closest_one() {
    Test::new()
        .write("t.rhai", "import \"lab\" as lab;\nlab::chek(\"x\", true);\n")
        .args(&["check", "t.rhai"])
        .stderr("error: unknown function `lab::chek`\n  --> t.rhai:2:6\n  |\n2 | lab::chek(\"x\", true);\n  |      ^\nhelp: did you mean `lab::check`?\n")
        .status(1)
        .run();
}

#[test]
fn a_stdlib_call_with_no_matching_arity_lists_the_signatures() {
    Test::new()
        .write("t.rhai", "import \"lab\" as lab;\nlab::check(\"x\");\n")
        .args(&["check", "t.rhai"])
        .stderr("error: `lab::check` takes 2, 3 or 4 arguments, not 1\n  --> t.rhai:2:6\n  |\n2 | lab::check(\"x\");\n  |      ^\nhelp: lab::check(name, passed)\n      lab::check(name, passed, evidence)\n      lab::check(name, passed, evidence, reason)\n")
        .status(1)
        .run();
}

#[test]
fn a_primitive_call_with_no_matching_arity_lists_the_documented_signatures() {
    Test::new()
        .write("t.rhai", "let lines = logs::tail(\"deployment/frontend\");\n")
        .args(&["check", "t.rhai"])
        .stderr("error: `logs::tail` takes 2 or 3 arguments, not 1\n  --> t.rhai:1:19\n  |\n1 | let lines = logs::tail(\"deployment/frontend\");\n  |                   ^\nhelp: logs::tail(target: Dynamic, n: i64) -> Array\n      logs::tail(target: Dynamic, n: i64, opts: Map) -> Array\n")
        .status(1)
        .run();
}

#[test]
fn an_undefined_variable_suggests_a_declared_one() {
    Test::new()
        .write("t.rhai", "let name = \"web\";\nprint(nmae);\n")
        .args(&["check", "t.rhai"])
        .stderr("error: undefined variable `nmae`\n  --> t.rhai:2:7\n  |\n2 | print(nmae);\n  |       ^\nhelp: did you mean `name`?\n")
        .status(1)
        .run();
}

#[test]
fn a_script_variable_read_in_a_function_says_to_pass_it() {
    Test::new()
        .write("t.rhai", "let cluster = \"tp12\";\nfn nodes() { cluster + \"-worker\" }\nprint(nodes());\n")
        .args(&["check", "t.rhai"])
        .stderr("error: undefined variable `cluster`\n  --> t.rhai:2:14\n  |\n2 | fn nodes() { cluster + \"-worker\" }\n  |              ^\nhelp: `cluster` is a variable of the script (line 1): a function does not see the script's variables; pass it as an argument\n")
        .status(1)
        .run();
}

#[test]
fn args_is_declared_for_the_script() {
    Test::new()
        .write("t.rhai", "print(ARGS.len());\n")
        .args(&["check", "t.rhai"])
        .run();
}

#[test]
fn a_stdlib_module_used_without_import_says_how_to_import_it() {
    Test::new()
        .write("t.rhai", "lab::say(\"hello\");\n")
        .args(&["check", "t.rhai"])
        .stderr("error: unknown module `lab`\n  --> t.rhai:1:1\n  |\n1 | lab::say(\"hello\");\n  | ^\nhelp: import it first: `import \"lab\" as lab;`\n")
        .status(1)
        .run();
}

#[test]
fn a_misspelled_module_suggests_the_closest_one() {
    Test::new()
        .write("t.rhai", "import \"lab\" as lab;\nlba::say(\"hello\");\nlba::say(\"again\");\n")
        .args(&["check", "t.rhai"])
        .stderr("error: unknown module `lba`\n  --> t.rhai:2:1\n  |\n2 | lba::say(\"hello\");\n  | ^\nhelp: did you mean `lab`?\n")
        .status(1)
        .run();
}

#[test]
fn an_import_that_does_not_resolve_is_found_before_running() {
    Test::new()
        .write("t.rhai", "print(\"must not run\");\nimport \"verdict\" as v;\n")
        .args(&["check", "t.rhai"])
        .stderr("error: module `verdict` not found (looked for verdict.rhai in .; the embedded stdlib has lab, verdicts, flows, args)\n  --> t.rhai:2:8\n  |\n2 | import \"verdict\" as v;\n  |        ^\nhelp: did you mean `verdicts`?\n")
        .status(1)
        .run();
}

#[test]
fn a_misspelled_script_function_suggests_the_closest_one() {
    Test::new()
        .write("t.rhai", "fn helper(a, b) { a + b }\nhelpr(1, 2);\nhelper(1);\n")
        .args(&["check", "t.rhai"])
        .stderr("error: unknown function `helpr`\n  --> t.rhai:2:1\n  |\n2 | helpr(1, 2);\n  | ^\nhelp: did you mean `helper`?\n\nerror: `helper` takes 2 arguments, not 1\n  --> t.rhai:3:1\n  |\n3 | helper(1);\n  | ^\nhelp: helper(a, b)\n2 problems found\n")
        .status(1)
        .run();
}

#[test]
fn a_misspelled_method_suggests_the_closest_one() {
    Test::new()
        .write("t.rhai", "let s = \" x \";\ns.trimm();\n")
        .args(&["check", "t.rhai"])
        .stderr("error: unknown method `trimm`\n  --> t.rhai:2:3\n  |\n2 | s.trimm();\n  |   ^\nhelp: did you mean `trim`?\n")
        .status(1)
        .run();
}

#[test]
fn a_function_stored_in_a_map_is_callable_as_a_method() {
    Test::new()
        .write("t.rhai", "let m = #{inc: |x| x + 1};\nprint(m.inc(2));\n")
        .args(&["run", "t.rhai"])
        .stdout("3\n")
        .run();
}

#[test]
fn a_private_stdlib_function_is_not_callable_from_the_script() {
    Test::new()
        .write("t.rhai", "import \"flows\" as flows;\nflows::same(1, 2);\n")
        .args(&["check", "t.rhai"])
        .stderr("error: `flows::same` is private to stdlib/flows.rhai: it cannot be called from outside\n  --> t.rhai:2:8\n  |\n2 | flows::same(1, 2);\n  |        ^\n")
        .status(1)
        .run();
}

#[test]
fn an_imported_module_is_checked_too_and_its_functions_known() {
    Test::new()
        .write("lib/nodes.rhai", "fn workers(n) { range(0, n).map(|i| `w${i}`) }\nfn broken() { lenn([]) }\n")
        .write("main.rhai", "import \"lib/nodes\" as nodes;\nprint(nodes::workers(2));\nnodes::worker(2);\n")
        .args(&["check", "main.rhai"])
        .stderr("error: unknown function `nodes::worker`\n  --> main.rhai:3:8\n  |\n3 | nodes::worker(2);\n  |        ^\nhelp: did you mean `nodes::workers`?\n\nerror: unknown function `lenn`\n  --> lib/nodes.rhai:2:15\n  |\n2 | fn broken() { lenn([]) }\n  |               ^\nhelp: did you mean `len`?\n2 problems found\n")
        .status(1)
        .run();
}

/// The issue-21 list item 1, as a lab author met it: each mistake in one run, exit 1.
#[test]
fn every_mistake_is_reported_in_one_run() {
    Test::new()
        .write(
            "lab.rhai",
            "import \"lab\" as lab;\nlet ready = 3;\nlab::chek(\"nodes\", redy == 3);\nkube::aply(\"f.yaml\");\n",
        )
        .args(&["check", "lab.rhai"])
        .stderr("error: unknown function `lab::chek`\n  --> lab.rhai:3:6\n  |\n3 | lab::chek(\"nodes\", redy == 3);\n  |      ^\nhelp: did you mean `lab::check`?\n\nerror: undefined variable `redy`\n  --> lab.rhai:3:20\n  |\n3 | lab::chek(\"nodes\", redy == 3);\n  |                    ^\nhelp: did you mean `ready`?\n\nerror: unknown function `kube::aply`\n  --> lab.rhai:4:7\n  |\n4 | kube::aply(\"f.yaml\");\n  |       ^\nhelp: did you mean `kube::apply`?\n3 problems found\n")
        .status(1)
        .run();
}

#[test]
fn run_checks_first_and_runs_nothing_on_a_finding() {
    let out = Test::new()
        .write(
            "lab.rhai",
            "print(\"creating the cluster\");\nfs::write(\"created\", \"yes\");\nlet ready = 3;\nif redy == 3 { kube::aply(\"f.yaml\"); }\n",
        )
        .args(&["run", "lab.rhai"])
        .stderr("error: undefined variable `redy`\n  --> lab.rhai:4:4\n  |\n4 | if redy == 3 { kube::aply(\"f.yaml\"); }\n  |    ^\nhelp: did you mean `ready`?\n\nerror: unknown function `kube::aply`\n  --> lab.rhai:4:22\n  |\n4 | if redy == 3 { kube::aply(\"f.yaml\"); }\n  |                      ^\nhelp: did you mean `kube::apply`?\nerror: lab.rhai was not run: 2 problems found\n")
        .status(1)
        .run();
    assert!(
        !out.dir.path().join("created").exists(),
        "the script ran before its check failed"
    );
}

#[test]
fn a_misspelled_option_key_is_found_at_the_key_with_the_known_one() {
    Test::new()
        .write(
            "t.rhai",
            "let m = #{};\nkube::apply(m, #{namspace: \"x\"});\n",
        )
        .args(&["check", "t.rhai"])
        .stderr("error: unknown option `namspace` of `kube::apply`\n  --> t.rhai:2:18\n  |\n2 | kube::apply(m, #{namspace: \"x\"});\n  |                  ^\nhelp: did you mean `namespace`?\n")
        .status(1)
        .run();
}

/// A literal value the option cannot take is found before the run, in the function's own
/// words: a timeout that is not a duration, a capture's `side` that is neither side; in a
/// map of constants and in a map of expressions alike. A value computed at run time is left
/// to the call.
#[test]
fn a_literal_option_value_the_function_refuses_is_found_at_its_key() {
    Test::new()
        .write(
            "t.rhai",
            "let n = cluster::current().nodes()[0];\nlet cap = tcpdump::start(n, #{side: \"hots\", filter: \"tcp\"});\nlet ns = \"lab\";\nkube::wait_ready(\"deployment/web\", #{namespace: ns, timeout: \"2 minutes\"});\nlet t = \"later\";\nkube::wait_ready(\"deployment/web\", #{timeout: t});\n",
        )
        .args(&["check", "t.rhai"])
        .stderr("error: option `side` of `tcpdump::start`: option `side` must be \"host\" or \"node\", got \"hots\"\n  --> t.rhai:2:31\n  |\n2 | let cap = tcpdump::start(n, #{side: \"hots\", filter: \"tcp\"});\n  |                               ^\n\nerror: option `timeout` of `kube::wait_ready`: invalid duration `2 minutes`: expected a number with a unit, like \"500ms\", \"5s\", \"2m\", \"1h\" or \"1m30s\"\n  --> t.rhai:4:53\n  |\n4 | kube::wait_ready(\"deployment/web\", #{namespace: ns, timeout: \"2 minutes\"});\n  |                                                     ^\n2 problems found\n")
        .status(1)
        .run();
}

/// Every unknown key in one run, in maps of constants (folded by the optimizer) and of
/// expressions alike; a key far from any option lists the options.
#[test]
fn every_unknown_option_key_is_reported_in_one_run() {
    Test::new()
        .write(
            "t.rhai",
            "let ns = \"lab\";\nlet pods = kube::pods(#{namespace: ns, selectr: \"app=web\"});\nlet r = proc::run([\"true\"], #{\n    timout: \"5s\",\n    colour: 1,\n});\n",
        )
        .args(&["check", "t.rhai"])
        .stderr("error: unknown option `selectr` of `kube::pods`\n  --> t.rhai:2:40\n  |\n2 | let pods = kube::pods(#{namespace: ns, selectr: \"app=web\"});\n  |                                        ^\nhelp: did you mean `selector`?\n\nerror: unknown option `timout` of `proc::run`\n  --> t.rhai:4:5\n  |\n4 |     timout: \"5s\",\n  |     ^\nhelp: did you mean `timeout`?\n\nerror: unknown option `colour` of `proc::run`\n  --> t.rhai:5:5\n  |\n5 |     colour: 1,\n  |     ^\nhelp: its options: timeout, env, cwd\n3 problems found\n")
        .status(1)
        .run();
}

/// Methods and global functions have option maps too: `node.exec`, `cap.wait`, `poll`.
/// A script's own function of the same name is left alone.
#[test]
fn a_misspelled_option_of_a_method_or_global_function_is_found() {
    Test::new()
        .write(
            "t.rhai",
            "let n = cluster::current().nodes()[0];
n.exec([\"true\"], #{tiemout: \"5s\"});
let r = poll(|| true, #{evry: \"1s\"});
let cap = tcpdump::start(n, #{});
cap.wait(#{count: 1, untill: |p| true});
",
        )
        .args(&["check", "t.rhai"])
        .stderr("error: unknown option `tiemout` of the method `exec`\n  --> t.rhai:2:20\n  |\n2 | n.exec([\"true\"], #{tiemout: \"5s\"});\n  |                    ^\nhelp: did you mean `timeout`?\n\nerror: unknown option `evry` of `poll`\n  --> t.rhai:3:25\n  |\n3 | let r = poll(|| true, #{evry: \"1s\"});\n  |                         ^\nhelp: did you mean `every`?\n\nerror: unknown option `untill` of the method `wait`\n  --> t.rhai:5:22\n  |\n5 | cap.wait(#{count: 1, untill: |p| true});\n  |                      ^\nhelp: did you mean `until`?\n3 problems found\n")
        .status(1)
        .run();
    Test::new()
        .write(
            "t.rhai",
            "fn wait(opts) { opts.len() }
let m = #{a: 1};
print(m.wait(#{untill: 1}));
",
        )
        .args(&["check", "t.rhai"])
        .status(0)
        .run();
}

/// A map that is data, not options (`kube::apply`'s manifest), is not checked.
#[test]
fn a_literal_manifest_is_not_an_option_map() {
    Test::new()
        .write(
            "t.rhai",
            "fn create() { kube::apply(#{apiVersion: \"v1\", kind: \"Namespace\"}, #{namespace: \"x\"}); }\n",
        )
        .args(&["check", "t.rhai"])
        .run();
}

/// kubectl's `get KIND` written as one object (`kube::get("pods")`) is found before the run,
/// with the labsh calls that do it; `KIND/NAME` and `KIND NAME` targets are fine.
#[test]
fn kube_get_of_a_kind_alone_says_what_to_type() {
    Test::new()
        .write(
            "t.rhai",
            "let pods = kube::get(\"pods\");\nfn svc() { kube::get(\"svc/frontend\", #{namespace: \"lab\"}) }\nfn deploy() { kube::get(\"deploy frontend\") }\n",
        )
        .args(&["check", "t.rhai"])
        .stderr("error: kube::get: `pods` names no object (no kind): write `KIND/NAME`\n  --> t.rhai:1:18\n  |\n1 | let pods = kube::get(\"pods\");\n  |                  ^\nhelp: `kubectl get KIND` is `kube::list(\"KIND\")` (the objects as maps) or `kube::table(\"KIND\")` (kubectl's table); one object is `kube::get(\"KIND/NAME\")` or `kube::get(\"KIND\", \"NAME\")`\n")
        .status(1)
        .run();
}
