//! Every diagnostic shape: file:line:col, the source line with a caret, the message, and the
//! chain of calls back to the user's line. No Rust backtraces, no debug dumps.

use super::test::Test;

#[test]
fn parse_error_shows_file_line_column_and_caret() {
    Test::new()
        .write("p.rhai", "let x = 1;\nlet y = (x + ;\n")
        .args(&["run", "p.rhai"])
        .stderr("error: Unexpected ';'\n  --> p.rhai:2:14\n  |\n2 | let y = (x + ;\n  |              ^\n")
        .status(1)
        .run();
}

#[test]
fn runtime_error_in_a_function_shows_where_it_was_called() {
    Test::new()
        .write("r.rhai", "fn f(a) {\n    a / 0\n}\nf(1);\n")
        .args(&["run", "r.rhai"])
        .stderr(
            "error: Division by zero: 1 / 0\n  --> r.rhai:2:7\n  |\n2 |     a / 0\n  |       ^\nnote: in `f`, called from r.rhai:4:1\n  |\n4 | f(1);\n  | ^\n",
        )
        .status(1)
        .run();
}

#[test]
fn primitive_failure_points_at_the_call() {
    let t = Test::new();
    let dir = std::fs::canonicalize(t.path()).expect("temp folder");
    t.write("f.rhai", "print(\"start\");\nlet text = fs::read(\"missing.txt\");\n")
        .args(&["run", "f.rhai"])
        .stdout("start\n")
        .stderr(&format!(
            "error: cannot read {}/missing.txt: No such file or directory (os error 2)\n  --> f.rhai:2:16\n  |\n2 | let text = fs::read(\"missing.txt\");\n  |                ^\n",
            dir.display()
        ))
        .status(1)
        .run();
}

#[test]
fn error_inside_a_stdlib_function_shows_the_users_call_and_verbose_the_stdlib_line() {
    // Issue 21: the stdlib's insides only with --verbose.
    Test::new()
        .write(
            "s.rhai",
            "import \"lab\" as lab;\n\nlab::fail(\"no kind nodes\");\n",
        )
        .args(&["run", "s.rhai"])
        .stderr("error: no kind nodes\n  --> s.rhai:3:6\n  |\n3 | lab::fail(\"no kind nodes\");\n  |      ^\n")
        .status(1)
        .run();
    Test::new()
        .write(
            "s.rhai",
            "import \"lab\" as lab;\n\nlab::fail(\"no kind nodes\");\n",
        )
        .args(&["--verbose", "run", "s.rhai"])
        .stderr(&format!(
            "error: no kind nodes\n  --> stdlib/lab.rhai:{line}:5\n{gutter}|\n{line} |     throw message;\n{gutter}|     ^\nnote: in `fail`, called from s.rhai:3:6\n  |\n3 | lab::fail(\"no kind nodes\");\n  |      ^\n",
            line = stdlib_line("    throw message;"),
            gutter = " ".repeat(stdlib_line("    throw message;").to_string().len() + 1)
        ))
        .status(1)
        .run();
}

#[test]
fn error_in_a_closure_run_by_a_stdlib_step_points_at_the_closure() {
    Test::new()
        .write(
            "c.rhai",
            "import \"lab\" as lab;\nlab::step(\"one\", \"First\", || {\n    let n = 1;\n    n / 0;\n});\n",
        )
        .args(&["run", "c.rhai"])
        .stdout("== Step 1: First [one]\n")
        .stderr("error: Division by zero: 1 / 0\n  --> c.rhai:4:7\n  |\n4 |     n / 0;\n  |       ^\nnote: in `step`, called from c.rhai:2:6\n  |\n2 | lab::step(\"one\", \"First\", || {\n  |      ^\n")
        .status(1)
        .run();
    Test::new()
        .write(
            "c.rhai",
            "import \"lab\" as lab;\nlab::step(\"one\", \"First\", || {\n    let n = 1;\n    n / 0;\n});\n",
        )
        .args(&["-v", "run", "c.rhai"])
        .stdout("== Step 1: First [one]\n")
        .stderr(&format!(
            "error: Division by zero: 1 / 0\n  --> c.rhai:4:7\n  |\n4 |     n / 0;\n  |       ^\nnote: in a closure, called from stdlib/lab.rhai:{line}:26\n   |\n{line} |         let value = body.call();\n   |                          ^\nnote: in `step`, called from c.rhai:2:6\n  |\n2 | lab::step(\"one\", \"First\", || {{\n  |      ^\n",
            line = stdlib_line("        let value = body.call();")
        ))
        .status(1)
        .run();
}

#[test]
fn error_in_a_module_imported_by_relative_path_names_its_file() {
    Test::new()
        .write("lib/util.rhai", "fn half(x) {\n    if x % 2 != 0 { throw `odd: ${x}`; }\n    x / 2\n}\n")
        .write("main.rhai", "import \"lib/util\" as util;\nprint(util::half(4));\nprint(util::half(3));\n")
        .args(&["run", "main.rhai"])
        .stdout("2\n")
        .stderr(
            "error: odd: 3\n  --> lib/util.rhai:2:21\n  |\n2 |     if x % 2 != 0 { throw `odd: ${x}`; }\n  |                     ^\nnote: in `half`, called from main.rhai:3:13\n  |\n3 | print(util::half(3));\n  |             ^\n",
        )
        .status(1)
        .run();
}

#[test]
fn runaway_recursion_names_the_call_depth_limit() {
    Test::new()
        .write("d.rhai", "fn down(n) { down(n + 1) }\ndown(0);\n")
        .args(&["run", "d.rhai"])
        .stderr(
            "error: too many nested function calls: the limit is 256 levels (a runaway recursion?)\n  --> d.rhai:2:1\n  |\n2 | down(0);\n  | ^\n",
        )
        .status(1)
        .run();
}

#[test]
fn yaml_errors_say_where_in_the_yaml() {
    Test::new()
        .write("y.rhai", "let v = yaml::parse(\"a: [1, 2\\nb: 3\");\n")
        .args(&["run", "y.rhai"])
        .stderr("error: invalid YAML: illegal placement of ':' indicator at line 2, column 2\n  --> y.rhai:1:15\n  |\n1 | let v = yaml::parse(\"a: [1, 2\\nb: 3\");\n  |               ^\n")
        .status(1)
        .run();
}

#[test]
fn a_yaml_error_in_a_scripts_string_points_at_the_scripts_line() {
    // Issue 21: not only `<yaml string>:4:17`, which the author has to count out.
    let (out, code) = Test::new()
        .write(
            "y.rhai",
            "let manifest = `\napiVersion: v1\nkind: Service\nmetadata:\n  name: frontend: x\n`;\n\nkube::apply(manifest);\n",
        )
        .args(&["run", "y.rhai"])
        .run_unchecked();
    assert_eq!(code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("error: invalid YAML: mapping values are not allowed in this context\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("  --> y.rhai:5:17\n  |\n5 |   name: frontend: x\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "note: in the YAML given to the call at y.rhai:8:7\n  |\n8 | kube::apply(manifest);\n"
        ),
        "{}",
        out.stderr
    );
}

/// The 1-based line of `text` in the embedded stdlib/lab.rhai.
fn stdlib_line(text: &str) -> usize {
    let src = include_str!("../../stdlib/lab.rhai");
    src.lines()
        .position(|l| l == text)
        .expect("line in lab.rhai")
        + 1
}

#[test]
fn an_error_while_importing_a_module_shows_the_module_line_and_the_import() {
    Test::new()
        .write("nodes.rhai", "print(\"loading\");\nlet per_node = 4 / 0;\n")
        .write("main.rhai", "\nimport \"nodes\" as nodes;\n")
        .args(&["run", "main.rhai"])
        .stdout("loading\n")
        .stderr("error: Division by zero: 4 / 0\n  --> nodes.rhai:2:18\n  |\n2 | let per_node = 4 / 0;\n  |                  ^\nnote: in module `nodes`, imported from main.rhai:2:8\n  |\n2 | import \"nodes\" as nodes;\n  |        ^\n")
        .status(1)
        .run();
}

#[test]
fn a_missing_module_says_where_it_was_looked_for() {
    Test::new()
        .write("m.rhai", "import \"nosuch\" as n;\n")
        .args(&["run", "m.rhai"])
        .stderr("error: module `nosuch` not found (looked for nosuch.rhai in .; the embedded stdlib has lab, verdicts, flows, args)\n  --> m.rhai:1:8\n  |\n1 | import \"nosuch\" as n;\n  |        ^\n")
        .status(1)
        .run();
}

/// Issue 20: a misspelt field of a packet is an error at the script's line naming the fields
/// the packet has, not a `()` that fails a check for the wrong reason.
#[test]
fn a_misspelt_packet_field_names_the_fields_and_the_closest() {
    Test::new()
        .write(
            "p.rhai",
            "let p = tcpdump::parse(\"12:00:00.000000 IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 1, length 0\");\nif p.scr == \"10.0.0.1\" { print(\"from the client\"); }\n",
        )
        .args(&["run", "p.rhai"])
        .stderr("error: packet has no field `scr`; did you mean `src`? its fields: ack, cksum_ok, dir, dport, dsr_option, dst, dst_mac, ethertype, family, fin, flags, id, iface, inner, ip_flags, ip_length, ip_options, length, names, proto, psh, quoted, raw, rst, seq, sport, src, src_mac, syn, time, tos, ttl\n  --> p.rhai:2:5\n  |\n2 | if p.scr == \"10.0.0.1\" { print(\"from the client\"); }\n  |     ^\n")
        .status(1)
        .run();
}

/// Issue 20: the same for a monitor event, inside a closure; a field that only other kinds of
/// event carry (`icmp` on a TCP trace) is `()`.
#[test]
fn a_misspelt_monitor_event_field_names_the_events_fields() {
    Test::new()
        .write(
            "m.rhai",
            "let e = monitor::parse(\"-> endpoint 1890 flow 0xe0d23007 , identity world->6623 state new ifindex lxc39c176bde913 orig-ip 172.18.0.1: 172.18.0.1:59700 -> 10.244.4.66:80 tcp SYN\");\nprint(e.icmp);\nlet worlds = [e].filter(|e| e.src_identiy == \"world\");\n",
        )
        .args(&["run", "m.rhai"])
        .stdout("\n")
        .stderr("error: event has no field `src_identiy`; did you mean `src_identity`? its fields: dir, dport, dst, dst_identity, endpoint, flags, flow, ifindex, kind, orig_ip, point, proto, raw, sport, src, src_identity, state\n  --> m.rhai:3:30\n  |\n3 | let worlds = [e].filter(|e| e.src_identiy == \"world\");\n  |                              ^\nnote: in a closure, called from m.rhai:3:18\n  |\n3 | let worlds = [e].filter(|e| e.src_identiy == \"world\");\n  |                  ^\nnote: in `filter`, called from m.rhai:3:18\n  |\n3 | let worlds = [e].filter(|e| e.src_identiy == \"world\");\n  |                  ^\n")
        .status(1)
        .run();
}

/// Issue 20: access-log entries and verdicts are records too.
#[test]
fn a_misspelt_access_log_or_verdict_field_is_an_error() {
    Test::new()
        .write(
            "a.rhai",
            "let e = logs::parse_access(`10.0.0.1 - - [14/Sep/2022:20:36:33 +0000] \"GET / HTTP/1.1\" 200 12 \"-\" \"curl/8\"`);\nprint(e.client);\nlet v = checks::verdict(true, [], \"ok\");\nprint(v.passed);\nprint(v.pased);\n",
        )
        .args(&["run", "a.rhai"])
        .stdout("10.0.0.1\ntrue\n")
        .stderr("error: verdict has no field `pased`; did you mean `passed`? its fields: evidence, passed, reason\n  --> a.rhai:5:8\n  |\n5 | print(v.pased);\n  |        ^\n")
        .status(1)
        .run();
}

#[test]
fn a_call_matching_no_overload_lists_the_signatures() {
    Test::new()
        .write("k.rhai", "let pod = kube::get(1, 2);\n")
        .args(&["run", "k.rhai"])
        .stderr("error: no overload of `kube::get` takes (i64, i64)\n  --> k.rhai:1:17\n  |\n1 | let pod = kube::get(1, 2);\n  |                 ^\nhelp: kube::get(target: String) -> Map\n      kube::get(kind: String, name: String) -> Map\n      kube::get(target: String, opts: Map) -> Map\n      kube::get(kind: String, name: String, opts: Map) -> Map\n")
        .status(1)
        .run();
}

#[test]
fn a_call_missing_an_argument_at_the_repl_lists_the_signatures() {
    Test::new()
        .stdin("logs::tail(\"deployment/frontend\")\n")
        .stderr("error: no overload of `logs::tail` takes (String)\n  --> <stdin 1>:1:7\n  |\n1 | logs::tail(\"deployment/frontend\")\n  |       ^\nhelp: logs::tail(target: Dynamic, n: i64) -> Array\n      logs::tail(target: Dynamic, n: i64, opts: Map) -> Array\n")
        .status(1)
        .run();
}

#[test]
fn a_method_on_the_wrong_type_lists_the_types_that_have_it() {
    Test::new()
        .write("m.rhai", "let n = 1;\nn.len();\n")
        .args(&["run", "m.rhai"])
        .stderr("error: no overload of the method `len` takes (i64) (the receiver first)\n  --> m.rhai:2:3\n  |\n2 | n.len();\n  |   ^\nhelp: array.len() -> i64\n      blob.len() -> i64\n      map.len() -> i64\n      record.len() -> i64\n      string.len() -> i64\n")
        .status(1)
        .run();
}
