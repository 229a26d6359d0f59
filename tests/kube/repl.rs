//! The `kube::` and `logs::` primitives as a trainee meets them at the prompt: the REPL
//! (`labsh` with piped stdin) against the loopback test API server double. What a primitive
//! prints appears once (issue 14), and objects come as kubectl shows them: no
//! `metadata.managedFields` unless asked.
//!
//! Double: the REPL's echo is compared byte for byte, so every object (names, uids,
//! timestamps, `managedFields`) must be fixed; a real server makes them anew each run. The
//! same primitives run against the real tier in `tests/k8s.rs` and `tests/k8s/`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use super::{Lab, frontend_deployment_and_pod};

/// What a REPL session printed.
struct Repl {
    stdout: String,
    stderr: String,
}

impl Lab {
    /// Runs the REPL on `input` (piped stdin) against this lab's server; it must succeed.
    fn repl(&self, input: &str) -> Repl {
        let mut child = Command::new(env!("CARGO_BIN_EXE_labsh"))
            .env("KUBECONFIG", &self.kubeconfig)
            .env("NO_COLOR", "1")
            .env_remove("LINES")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let r = Repl {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert!(
            out.status.success(),
            "the REPL failed on {input:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            r.stdout,
            r.stderr
        );
        r
    }
}

/// The four namespaces the server starts with, in the order kubectl lists them.
const NAMESPACES: [&str; 4] = ["default", "kube-node-lease", "kube-public", "kube-system"];

/// Asserts `text` is one table of the starting namespaces: a header, then one row each.
fn assert_one_namespace_table(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + NAMESPACES.len(), "{text}");
    assert!(lines[0].starts_with("NAME "), "{text}");
    for (line, ns) in lines[1..].iter().zip(NAMESPACES) {
        assert!(line.starts_with(&format!("{ns} ")), "{text}");
    }
}

#[test]
fn table_at_the_prompt_shows_one_table() {
    let lab = Lab::new();
    let r = lab.repl("kube::table(\"ns\")\n");
    assert_one_namespace_table(&r.stdout);
    assert_eq!(r.stderr, "");
}

#[test]
fn table_at_the_prompt_is_still_a_string_to_work_with() {
    let lab = Lab::new();
    let r = lab.repl("let t = kube::table(\"ns\");\nt.contains(\"kube-system\")\n");
    let (table, rest) = r.stdout.rsplit_once("\ntrue\n").expect("the echoed bool");
    assert_eq!(rest, "", "{}", r.stdout);
    assert_one_namespace_table(table);
}

#[test]
fn a_table_typed_again_by_name_is_shown_again() {
    let lab = Lab::new();
    let r = lab.repl("let t = kube::table(\"ns\");\nt\n");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2 * (1 + NAMESPACES.len()), "{}", r.stdout);
    let (first, second) = lines.split_at(lines.len() / 2);
    assert_eq!(first, second, "{}", r.stdout);
    assert_one_namespace_table(&first.join("\n"));
}

/// The default namespace with the managedFields a real API server keeps on it.
fn default_namespace_with_managed_fields(lab: &Lab) {
    lab.server.update("v1", "Namespace", None, "default", |ns| {
        ns["metadata"]["managedFields"] = json!([{
            "apiVersion": "v1",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:kubernetes.io/metadata.name": {}}}},
            "manager": "kube-apiserver",
            "operation": "Update",
            "time": "2026-12-01T19:00:00Z",
        }]);
    });
}

#[test]
fn get_shows_the_object_as_kubectl_does_without_managed_fields() {
    let lab = Lab::new();
    default_namespace_with_managed_fields(&lab);
    let r = lab.repl("kube::get(\"ns\", \"default\")\n");
    assert!(
        r.stdout.starts_with(
            "#{\n    apiVersion: \"v1\",\n    kind: \"Namespace\",\n    metadata: #{\n"
        ),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("managedFields"), "{}", r.stdout);
    let metadata: Vec<&str> = r.stdout.lines().skip(4).take(4).collect();
    assert!(
        metadata.contains(&"        name: \"default\","),
        "metadata.name is not among metadata's first lines:\n{}",
        r.stdout
    );
}

#[test]
fn managed_fields_come_back_when_asked() {
    let lab = Lab::new();
    default_namespace_with_managed_fields(&lab);
    let r = lab.repl(concat!(
        "kube::get(\"ns\", \"default\", #{managed_fields: true}).metadata.managedFields[0].manager\n",
        "kube::list(\"ns\").map(|n| \"managedFields\" in n.metadata)\n",
        "kube::list(\"ns\", #{managed_fields: true}).map(|n| \"managedFields\" in n.metadata)\n",
    ));
    assert_eq!(
        r.stdout,
        "kube-apiserver\n[false, false, false, false]\n[true, false, false, false]\n"
    );
}

#[test]
fn apply_and_delete_at_the_prompt_show_kubectls_lines_once() {
    let lab = Lab::new();
    let r = lab.repl(concat!(
        "kube::apply(#{apiVersion: \"v1\", kind: \"ConfigMap\", metadata: #{name: \"lab\"}, data: #{a: \"1\"}})\n",
        "kube::delete(\"cm\", \"lab\")\n",
        "kube::delete(\"cm\", \"lab\")\n",
    ));
    // The second delete prints nothing (nothing to delete), so its `false` is the answer.
    assert_eq!(
        r.stdout,
        "configmap/lab serverside-applied\nconfigmap \"lab\" deleted\nfalse\n"
    );
}

#[test]
fn wait_rollout_at_the_prompt_says_it_rolled_out_once() {
    let lab = Lab::new();
    lab.server.insert(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "frontend", "namespace": "default", "generation": 1},
        "spec": {"replicas": 1}, "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}}));
    let r = lab.repl(concat!(
        "kube::wait_rollout(\"deployment/frontend\", #{timeout: \"20s\"})\n",
        "kube::wait_rollout(\"deployment/frontend\").status.availableReplicas\n",
    ));
    assert_eq!(
        r.stdout,
        "deployment \"frontend\" successfully rolled out\ndeployment \"frontend\" successfully rolled out\n1\n"
    );
}

#[test]
fn follow_with_print_at_the_prompt_shows_each_line_once() {
    let lab = Lab::new();
    frontend_deployment_and_pod(&lab);
    lab.server.set_logs(
        "default",
        "frontend-6c6d6dfd4d-xg8lp",
        None,
        vec!["GET / 200".into(), "GET /favicon.ico 404".into()],
    );
    let r = lab.repl(concat!(
        "logs::follow(\"frontend-6c6d6dfd4d-xg8lp\", #{timeout: \"400ms\", \"print\": true})\n",
        "logs::follow(\"frontend-6c6d6dfd4d-xg8lp\", #{timeout: \"400ms\"}).map(|l| l.line)\n",
    ));
    // Printed as they came, not listed again; without `print` the lines are the value.
    assert_eq!(
        r.stdout,
        "GET / 200\nGET /favicon.ico 404\n[\"GET / 200\", \"GET /favicon.ico 404\"]\n"
    );
}
