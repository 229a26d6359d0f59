//! `labsh run` and `labsh check`: arguments, shebang, exit codes.

use super::test::Test;

#[test]
fn arguments_after_double_dash_reach_the_script_as_args() {
    Test::new()
        .write(
            "args.rhai",
            "print(ARGS.len());\nfor a in ARGS { print(a); }\n",
        )
        .args(&["run", "args.rhai", "--", "one", "two words"])
        .stdout("2\none\ntwo words\n")
        .run();
}

#[test]
fn a_shebang_line_is_ignored_and_line_numbers_stay() {
    Test::new()
        .write(
            "s.rhai",
            "#!/usr/bin/env -S labsh run\nprint(\"hi\");\nlet x = ;\n",
        )
        .args(&["run", "s.rhai"])
        .stderr("error: Unexpected ';'\n  --> s.rhai:3:9\n  |\n3 | let x = ;\n  |         ^\n")
        .status(1)
        .run();
}

#[test]
fn a_missing_script_is_an_error_naming_it() {
    Test::new()
        .args(&["run", "nope.rhai"])
        .stderr("error: cannot read nope.rhai: No such file or directory (os error 2)\n")
        .status(1)
        .run();
}

#[test]
fn an_unknown_flag_is_a_usage_error() {
    let (out, code) = Test::new()
        .args(&["run", "--frobnicate", "x.rhai"])
        .run_unchecked();
    assert_eq!(code, 2);
    assert!(
        out.stderr
            .starts_with("error: unexpected argument '--frobnicate' found"),
        "{}",
        out.stderr
    );
}

#[test]
fn check_reports_every_broken_file_and_fails() {
    Test::new()
        .write("good.rhai", "let x = 1;\n")
        .write("bad1.rhai", "let = 1;\n")
        .write("bad2.rhai", "fn f( {\n")
        .args(&["check", "good.rhai", "bad1.rhai", "bad2.rhai"])
        .stderr(
            "error: Expecting name of a variable\n  --> bad1.rhai:1:5\n  |\n1 | let = 1;\n  |     ^\n\nerror: Expecting ')' to close the parameters list of function 'f'\n  --> bad2.rhai:1:7\n  |\n1 | fn f( {\n  |       ^\n2 problems found\n",
        )
        .status(1)
        .run();
}

#[test]
fn check_of_valid_files_succeeds_without_running_them() {
    Test::new()
        .write(
            "ok.rhai",
            "print(\"must not run\");\nproc::run([\"false\"]);\n",
        )
        .args(&["check", "ok.rhai"])
        .run();
}

#[test]
fn explain_prints_the_command_behind_a_primitive() {
    Test::new()
        .write("e.rhai", "let r = proc::run([\"echo\", \"hello world\"]);\nlet s = r.stdout; s.trim(); print(s);\n")
        .args(&["--explain", "run", "e.rhai"])
        .stdout("hello world\n")
        .stderr("$ echo 'hello world'\n")
        .run();
}

/// A program a signal ended says which: status 128 + N and the signal's name; a plain exit
/// has no signal.
#[test]
fn a_program_ended_by_a_signal_names_it() {
    Test::new()
        .write(
            "s.rhai",
            "let r = proc::run([\"sh\", \"-c\", \"kill -SEGV $$\"]);\nprint(`${r.code} ${r.signal}`);\nlet r = proc::run([\"sh\", \"-c\", \"exit 3\"]);\nprint(`${r.code} ${r.signal == ()}`);\n",
        )
        .args(&["run", "s.rhai"])
        .stdout("139 SIGSEGV\n3 true\n")
        .run();
}

#[test]
fn a_missing_program_is_an_error_naming_it() {
    let (out, code) = Test::new()
        .write("m.rhai", "proc::run([\"labsh-no-such-program\"]);\n")
        .args(&["run", "m.rhai"])
        .run_unchecked();
    assert_eq!(code, 1);
    assert!(
        out.stderr.contains("labsh-no-such-program"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("  --> m.rhai:1:7\n"), "{}", out.stderr);
}

#[test]
fn a_stdlib_folder_next_to_the_script_overrides_the_embedded_one() {
    Test::new()
        .write(
            "lab/stdlib/lab.rhai",
            "fn step(id, title, body) { print(`local step ${id}`); body.call() }\n",
        )
        .write(
            "lab/s.rhai",
            "import \"lab\" as lab;\nlab::step(\"a\", \"A\", || print(\"body\"));\n",
        )
        .args(&["run", "lab/s.rhai"])
        .stdout("local step a\nbody\n")
        .run();
}

#[test]
fn errors_in_a_stdlib_given_by_flag_name_its_file() {
    Test::new()
        .write("mystd/lab.rhai", "fn step(id, title, body) { throw `custom ${id}`; }\n")
        .write(
            "s.rhai",
            "import \"lab\" as lab;\nlab::step(\"a\", \"A\", || print(\"body\"));\n",
        )
        .args(&["--stdlib", "mystd", "run", "s.rhai"])
        .stderr("error: custom a\n  --> mystd/lab.rhai:1:28\n  |\n1 | fn step(id, title, body) { throw `custom ${id}`; }\n  |                            ^\nnote: in `step`, called from s.rhai:2:6\n  |\n2 | lab::step(\"a\", \"A\", || print(\"body\"));\n  |      ^\n")
        .status(1)
        .run();
}

#[test]
fn env_reads_an_environment_variable_or_gives_unit() {
    Test::new()
        .write(
            "e.rhai",
            "print(env(\"LABSH_TEST_CLUSTER\"));\nprint(env(\"LABSH_TEST_UNSET\") == ());\n",
        )
        .env("LABSH_TEST_CLUSTER", "tp12")
        .args(&["run", "e.rhai"])
        .stdout("tp12\ntrue\n")
        .run();
}

#[test]
fn a_too_deeply_nested_expression_names_the_limit() {
    let script = format!("let x = {}1{};\n", "(".repeat(300), ")".repeat(300));
    let (out, code) = Test::new()
        .write("deep.rhai", &script)
        .args(&["run", "deep.rhai"])
        .run_unchecked();
    assert_eq!(code, 1);
    assert!(
        out.stderr.starts_with(
            "error: expression nested too deeply (the limit is 256 levels)\n  --> deep.rhai:1:"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_durations_get_the_one_duration_error() {
    let (out, code) = Test::new()
        .write("d.rhai", "sleep(\"5 minutes\");\n")
        .args(&["run", "d.rhai"])
        .run_unchecked();
    assert_eq!(code, 1);
    assert!(out.stderr.contains("  --> d.rhai:1:1\n"), "{}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
}

#[test]
fn proc_run_kills_a_program_at_its_timeout() {
    Test::new()
        .write("t.rhai", "proc::run([\"sleep\", \"30\"], #{timeout: \"200ms\"});\n")
        .args(&["run", "t.rhai"])
        .stderr("error: `sleep 30` timed out after 200ms and was killed\n  --> t.rhai:1:7\n  |\n1 | proc::run([\"sleep\", \"30\"], #{timeout: \"200ms\"});\n  |       ^\n")
        .status(1)
        .run();
}

#[test]
fn proc_run_returns_code_and_output() {
    Test::new()
        .write(
            "p.rhai",
            "let r = proc::run([\"sh\", \"-c\", \"echo out; echo err >&2; exit 3\"]);\nprint(r.code);\nprint(r.stdout);\nprint(r.stderr);\n",
        )
        .args(&["run", "p.rhai"])
        .stdout("3\nout\n\nerr\n\n")
        .run();
}

#[test]
fn an_empty_manifest_says_nothing_was_applied() {
    // Issue 23, item 8: it applied nothing without a word (and needs no cluster to say so).
    Test::new()
        .write("empty.yaml", "---\n# nothing here yet\n---\n")
        .write(
            "a.rhai",
            "let r = kube::apply(\"empty.yaml\");\nprint(r.len());\n",
        )
        .args(&["run", "a.rhai"])
        .stdout("0\n")
        .stderr("kube::apply: no objects in empty.yaml: nothing was applied\n")
        .run();
}

#[test]
fn poll_returns_the_first_value_that_holds_and_its_timeout_names_what_it_waited_for() {
    // A change nothing announces, seen by asking again: the third call holds.
    let (out, code) = Test::new()
        .write(
            "poll.rhai",
            r#"let calls = 0;
let v = poll(|| { calls += 1; if calls == 3 { `ready after ${calls}` } else { false } }, #{every: "10ms"});
print(v);
print(poll(|| (), #{timeout: "50ms", every: "10ms", fail: false}));
poll(|| false, #{timeout: "50ms", every: "10ms", what: "the NodePort to answer"});
"#,
        )
        .args(&["run", "poll.rhai"])
        .run_unchecked();
    assert_eq!(
        (code, out.stdout.as_str()),
        (1, "ready after 3\n\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("poll: waiting for the NodePort to answer: still not the case after 50ms ("),
        "{}",
        out.stderr
    );
}

/// Issue 21: a unique marker without `proc::run(["date", "+%s"])`, and string helpers that
/// return values beside Rhai's in-place `trim()` (`` `${s.trim()}` `` prints nothing).
#[test]
fn time_stamps_are_unique_and_string_helpers_return_values() {
    Test::new()
        .write(
            "t.rhai",
            concat!(
                "let a = time::stamp();\nlet b = time::stamp();\n",
                "print(a < b);\nprint(a.len());\nprint(type_of(time::now()));\n",
                "print(time::now() > 1700000000.0);\n",
                "let s = \"  x y \\n\";\n",
                "print(`[${s.trimmed()}] [${s.trimmed_start()}] [${s.trimmed_end()}]`);\n",
                "print(\"lab-worker\".replaced(\"-\", \"_\"));\n",
                "print(s == \"  x y \\n\");\n",
                "print(`[${s.trim()}]`);\n",
                "print(s);\n",
            ),
        )
        .args(&["run", "t.rhai"])
        // The value helpers leave `s` as it was; `trim()` returns `()` and changes `s`.
        .stdout("true\n20\nf64\ntrue\n[x y] [x y \n] [  x y]\nlab_worker\ntrue\n[]\nx y\n")
        .run();
}
