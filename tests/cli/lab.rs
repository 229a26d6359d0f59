//! The lab mechanics: numbered steps, `--from`, `--step`, checks with their summary, the exit
//! code, and `--report` as JSON or JUnit XML.

use super::test::Test;

/// A small lab: three steps, two checks (one fails).
const LAB: &str = r#"import "lab" as lab;

lab::step("cluster", "Create the cluster", || {
    lab::say("kind: one control plane, three workers");
    lab::check("nodes-ready", true, "4/4 nodes Ready");
});
lab::step("cilium", "Install Cilium", || {
    print("installing");
});
lab::step("dsr", "Observe DSR", || {
    lab::check("reply-from-pod-node", false, "reply came from 172.18.0.3");
});
print("done");
"#;

const SUMMARY: &str = "
Checks:
  nodes-ready          PASS  4/4 nodes Ready
  reply-from-pod-node  FAIL  reply came from 172.18.0.3
2 checks: 1 passed, 1 failed
";

#[test]
fn steps_are_numbered_and_a_failed_check_fails_the_run_after_the_summary() {
    Test::new()
        .write("lab.rhai", LAB)
        .args(&["run", "lab.rhai"])
        .stdout(&format!(
            "== Step 1: Create the cluster [cluster]
   kind: one control plane, three workers
  PASS nodes-ready: 4/4 nodes Ready
== Step 2: Install Cilium [cilium]
installing
== Step 3: Observe DSR [dsr]
  FAIL reply-from-pod-node: reply came from 172.18.0.3
done
{SUMMARY}"
        ))
        .status(1)
        .run();
}

#[test]
fn passing_checks_exit_zero() {
    Test::new()
        .write(
            "ok.rhai",
            "import \"lab\" as lab;\nlab::check(\"one\", true);\nlab::check(\"two\", 1 + 1 == 2, \"arithmetic\");\n",
        )
        .args(&["run", "ok.rhai"])
        .stdout("  PASS one\n  PASS two: arithmetic\n\nChecks:\n  one  PASS\n  two  PASS  arithmetic\n2 checks: 2 passed, 0 failed\n")
        .run();
}

#[test]
fn from_skips_the_steps_before_it() {
    Test::new()
        .write("lab.rhai", LAB)
        .args(&["--from", "dsr", "run", "lab.rhai"])
        .stdout(
            "-- Step 1: Create the cluster [cluster]: skipped (--from dsr)
-- Step 2: Install Cilium [cilium]: skipped (--from dsr)
== Step 3: Observe DSR [dsr]
  FAIL reply-from-pod-node: reply came from 172.18.0.3
done

Checks:
  reply-from-pod-node  FAIL  reply came from 172.18.0.3
1 check: 0 passed, 1 failed
",
        )
        .status(1)
        .run();
}

/// Issue 21: an unknown `--from` is a usage error (exit 2) before anything runs, with the
/// closest step id.
#[test]
fn from_an_unknown_step_is_a_usage_error_before_anything_runs() {
    Test::new()
        .write("lab.rhai", LAB)
        .args(&["--from", "dssr", "run", "lab.rhai"])
        .stderr("error: --from dssr: the script has no step with this id; did you mean `dsr`? (its steps are cluster, cilium, dsr)\n")
        .status(2)
        .run();
}

#[test]
fn from_a_step_whose_ids_are_computed_is_checked_when_the_script_runs() {
    Test::new()
        .write(
            "s.rhai",
            "import \"lab\" as lab;\nlet id = \"a\";\nlab::step(id, \"A\", || print(\"a\"));\n",
        )
        .args(&["--from", "zzz", "run", "s.rhai"])
        .stdout("-- Step 1: A [a]: skipped (--from zzz)\n")
        .stderr("error: --from zzz: the script has no step with this id\n")
        .status(1)
        .run();
}

#[test]
fn step_pauses_run_on_enter_skip_on_s_and_quit_on_q() {
    Test::new()
        .write("lab.rhai", LAB)
        .args(&["--step", "run", "lab.rhai"])
        .stdin("\ns\nq\n")
        .stdout(
            "== Step 1: Create the cluster [cluster]
   kind: one control plane, three workers
  PASS nodes-ready: 4/4 nodes Ready
== Step 2: Install Cilium [cilium]
   skipped
== Step 3: Observe DSR [dsr]
   stopped (q)

Checks:
  nodes-ready  PASS  4/4 nodes Ready
1 check: 1 passed, 0 failed
",
        )
        .stderr("Run step 1? [Enter] run, s skip, q quit: Run step 2? [Enter] run, s skip, q quit: Run step 3? [Enter] run, s skip, q quit: ")
        .run();
}

#[test]
fn report_json_has_a_schema_the_steps_and_every_check_with_evidence_lines() {
    let out = Test::new()
        .write("lab.rhai", LAB)
        .args(&["--report", "out/report.json", "run", "lab.rhai"])
        .stdout(&lab_stdout())
        .status(1);
    std::fs::create_dir_all(out.path().join("out")).unwrap();
    let out = out.run();
    let mut report: serde_json::Value =
        serde_json::from_str(&out.read("out/report.json")).expect("the report is JSON");
    // Durations vary: a step that ran has one, a skipped step none.
    for step in report["steps"].as_array_mut().expect("steps") {
        assert!(step["duration_ms"].is_u64(), "{step}");
        step["duration_ms"] = serde_json::Value::Null;
    }
    assert_eq!(
        report,
        serde_json::json!({
            "schema": "labsh-report/2",
            "script": "lab.rhai",
            "title": null,
            "params": {},
            "passed": 1,
            "failed": 1,
            "error": null,
            "steps": [
                {"number": 1, "id": "cluster", "title": "Create the cluster", "status": "done", "duration_ms": null, "commands": []},
                {"number": 2, "id": "cilium", "title": "Install Cilium", "status": "done", "duration_ms": null, "commands": []},
                {"number": 3, "id": "dsr", "title": "Observe DSR", "status": "done", "duration_ms": null, "commands": []},
            ],
            "checks": [
                {"name": "nodes-ready", "step": "cluster", "passed": true, "evidence": ["4/4 nodes Ready"], "reason": null},
                {"name": "reply-from-pod-node", "step": "dsr", "passed": false, "evidence": ["reply came from 172.18.0.3"], "reason": null},
            ],
            "flows": [],
            "commands": [],
        })
    );
}

/// Each step of the JSON report lists the commands its primitives ran, as a shell would
/// show them; a step that ran none has none.
#[test]
fn report_json_steps_list_the_commands_they_ran() {
    let out = Test::new()
        .write(
            "s.rhai",
            "import \"lab\" as lab;\nlab::step(\"one\", \"One\", || { proc::run([\"echo\", \"a b\"]); });\nlab::step(\"two\", \"Two\", || { 1 });\n",
        )
        .args(&["--report", "r.json", "run", "s.rhai"])
        .stdout("== Step 1: One [one]\n== Step 2: Two [two]\n")
        .run();
    let report: serde_json::Value = serde_json::from_str(&out.read("r.json")).expect("JSON");
    assert_eq!(
        report["steps"][0]["commands"],
        serde_json::json!(["echo 'a b'"])
    );
    assert_eq!(report["steps"][1]["commands"], serde_json::json!([]));
}

/// Issue 21: the reason of a 4-argument check shows on the terminal, and array evidence goes
/// one item per line in the check line and the summary (not Rhai's `[…]`), and as an array
/// in the JSON report.
#[test]
fn array_evidence_and_reasons_read_one_line_each() {
    let out = Test::new()
        .write(
            "lab.rhai",
            "import \"lab\" as lab;\nlab::check(\"source-ip\", false, [\"10.85.0.5 - - GET /\", \"10.85.0.5 - - GET /x\"], \"the pod saw a node's address: SNAT\");\nlab::check(\"lines\", true, [\"a\", \"b\"]);\n",
        )
        .args(&["--report", "r.json", "run", "lab.rhai"])
        .stdout("  FAIL source-ip: the pod saw a node's address: SNAT\n      10.85.0.5 - - GET /\n      10.85.0.5 - - GET /x\n  PASS lines\n      a\n      b\n\nChecks:\n  source-ip  FAIL  the pod saw a node's address: SNAT\n                   10.85.0.5 - - GET /\n                   10.85.0.5 - - GET /x\n  lines      PASS\n                   a\n                   b\n2 checks: 1 passed, 1 failed\n")
        .status(1)
        .run();
    let report: serde_json::Value = serde_json::from_str(&out.read("r.json")).expect("JSON");
    assert_eq!(
        report["checks"][0]["evidence"],
        serde_json::json!(["10.85.0.5 - - GET /", "10.85.0.5 - - GET /x"])
    );
    assert_eq!(
        report["checks"][0]["reason"],
        "the pod saw a node's address: SNAT"
    );
}

#[test]
fn report_xml_is_junit_with_one_testcase_per_check() {
    let out = Test::new()
        .write("lab.rhai", LAB)
        .args(&["--report", "report.xml", "run", "lab.rhai"])
        .stdout(&lab_stdout())
        .status(1)
        .run();
    assert_eq!(
        out.read("report.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="1" errors="0">
  <testsuite name="lab.rhai" tests="2" failures="1" errors="0">
    <testcase name="nodes-ready" classname="cluster">
      <system-out>4/4 nodes Ready</system-out>
    </testcase>
    <testcase name="reply-from-pod-node" classname="dsr">
      <failure message="reply came from 172.18.0.3">reply came from 172.18.0.3</failure>
    </testcase>
  </testsuite>
</testsuites>
"#
    );
}

#[test]
fn the_summary_and_report_are_written_when_the_script_fails() {
    let out = Test::new()
        .write(
            "e.rhai",
            "import \"lab\" as lab;\nlab::check(\"before\", true, \"seen\");\nthrow \"cluster unreachable\";\n",
        )
        .args(&["--report", "r.json", "run", "e.rhai"])
        .stdout("  PASS before: seen\n\nChecks:\n  before  PASS  seen\n1 check: 1 passed, 0 failed\n")
        .stderr("error: cluster unreachable\n  --> e.rhai:3:1\n  |\n3 | throw \"cluster unreachable\";\n  | ^\n")
        .status(1)
        .run();
    let report = out.read("r.json");
    assert!(
        report.contains("\"error\": \"error: cluster unreachable\\n"),
        "{report}"
    );
}

#[test]
fn a_report_must_be_html_json_or_xml() {
    Test::new()
        .write("x.rhai", "print(1);\n")
        .args(&["--report", "r.txt", "run", "x.rhai"])
        .stderr("error: --report r.txt: the file must end in .html, .json or .xml (JUnit)\n")
        .status(2)
        .run();
}

#[test]
fn an_unwritable_report_is_refused_before_the_lab_runs() {
    // Issue 23, item 8: it used to fail only after the whole lab had run.
    let out = Test::new()
        .write("x.rhai", "fs::write(\"ran.txt\", \"the lab ran\");\n")
        .args(&["--report", "no-such-dir/r.html", "run", "x.rhai"])
        .stderr("error: --report no-such-dir/r.html: cannot write there: No such file or directory (os error 2)\n")
        .status(2)
        .run();
    assert!(!out.dir.path().join("ran.txt").exists());
    // A writable place is left as it was: no empty report before the lab ends.
    let out = Test::new()
        .write("x.rhai", "print(1);\n")
        .args(&["--report", "r.json", "run", "x.rhai"])
        .stdout("1\n")
        .run();
    assert!(out.read("r.json").contains("\"checks\""));
}

#[test]
fn check_needs_a_boolean_verdict() {
    Test::new()
        .write("b.rhai", "import \"lab\" as lab;\nlab::check(\"n\", 1, \"one\");\n")
        .args(&["--verbose", "run", "b.rhai"])
        .stderr(&format!(
            "error: lab::check(\"n\", …): `passed` must be true or false, got i64\n  --> stdlib/lab.rhai:{line}:13\n   |\n{line} |     checks::record(name, passed, evidence)\n   |             ^\nnote: in `check`, called from b.rhai:2:6\n  |\n2 | lab::check(\"n\", 1, \"one\");\n  |      ^\n",
            line = include_str!("../../stdlib/lab.rhai")
                .lines()
                .position(|l| l == "    checks::record(name, passed, evidence)")
                .unwrap()
                + 1
        ))
        .status(1)
        .run();
}

fn lab_stdout() -> String {
    format!(
        "== Step 1: Create the cluster [cluster]
   kind: one control plane, three workers
  PASS nodes-ready: 4/4 nodes Ready
== Step 2: Install Cilium [cilium]
installing
== Step 3: Observe DSR [dsr]
  FAIL reply-from-pod-node: reply came from 172.18.0.3
done
{SUMMARY}"
    )
}

#[test]
fn the_shipped_steps_and_checks_example_passes() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/steps-and-checks.rhai"
    );
    Test::new()
        .args(&["--from", "parse", "run", example])
        .stdout(
            "-- Step 1: Run a program from an argument vector [run]: skipped (--from parse)
== Step 2: Read a Service manifest [parse]
  PASS is-nodeport: type NodePort
  PASS port-80: port 80

Checks:
  is-nodeport  PASS  type NodePort
  port-80      PASS  port 80
2 checks: 2 passed, 0 failed
",
        )
        .run();
}

#[test]
fn a_failed_required_check_ends_the_script() {
    Test::new()
        .write(
            "r.rhai",
            "import \"lab\" as lab;\nlab::require(\"cilium-ready\", false, \"0/4 agents Ready\");\nprint(\"not reached\");\n",
        )
        .args(&["--verbose", "run", "r.rhai"])
        .stdout("  FAIL cilium-ready: 0/4 agents Ready\n\nChecks:\n  cilium-ready  FAIL  0/4 agents Ready\n1 check: 0 passed, 1 failed\n")
        .stderr(&format!(
            "error: required check failed: cilium-ready: 0/4 agents Ready\n  --> stdlib/lab.rhai:{line}:9\n   |\n{line} |         throw `required check failed: ${{name}}: ${{evidence}}`;\n   |         ^\nnote: in `require`, called from r.rhai:2:6\n  |\n2 | lab::require(\"cilium-ready\", false, \"0/4 agents Ready\");\n  |      ^\n",
            line = include_str!("../../stdlib/lab.rhai")
                .lines()
                .position(|l| l.starts_with("        throw `required check failed"))
                .unwrap()
                + 1
        ))
        .status(1)
        .run();
}
