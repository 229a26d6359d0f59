//! kind and helm primitives, run by the labsh binary against stand-in executables (test
//! doubles for kind and helm, which cannot run here: `tests/kind_helm/standins/`). The
//! stand-ins record every argument vector and copy the files they are given, so these tests
//! check exactly what labsh runs. The opt-in end-to-end test at the bottom uses the real tools.

pub mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{Lab, all_gone, yaml};

const CILIUM_SCRIPT: &str = r#"
let c = cluster::create("lab", #{cni: false, kube_proxy: false});
let r = helm::upgrade_install("cilium", "cilium", #{repo: "https://helm.cilium.io", version: "1.12.1", namespace: "kube-system", values: "ebpf-values.yaml"});
print(c.name + " " + c.context + " " + c.kubeconfig + " " + c.reused);
print(r.info.status + " " + r.chart.metadata.version + " " + r.namespace);
"#;

const EBPF_VALUES: &str = "kubeProxyReplacement: strict\nk8sServiceHost: lab-control-plane\nk8sServicePort: 6443\ntunnel: disabled\nloadBalancer:\n  mode: dsr\n";

#[test]
fn lab_script_runs_exactly_the_handouts_commands() {
    let lab = Lab::new();
    let values = lab.file("ebpf-values.yaml", EBPF_VALUES);
    let run = lab.run_with(&["--explain"], CILIUM_SCRIPT);
    run.assert_ok();

    let calls = lab.calls();
    let config = calls[1][6].clone();
    let expected = [
        "kind get clusters".to_string(),
        format!("kind create cluster --name lab --config {config} --wait 5m"),
        format!(
            "helm upgrade --install --namespace kube-system --repo https://helm.cilium.io cilium cilium --version 1.12.1 --values {}",
            values.display()
        ),
        "helm status cilium --namespace kube-system -o json".to_string(),
    ];
    assert_eq!(lab.call_lines(), expected);
    // --explain printed each command before running it, in the same order.
    let explained: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("$ "))
        .filter(|l| !l.starts_with("cat > "))
        .collect();
    assert_eq!(explained, expected, "{}", run.stderr);

    // The kind config is lab-facts §2's, and labsh removed its temporary file.
    let kept = lab.kept();
    assert_eq!(kept[0].0.display().to_string(), config);
    assert_eq!(
        yaml(&kept[0].1),
        json!({
            "kind": "Cluster",
            "apiVersion": "kind.x-k8s.io/v1alpha4",
            "networking": {"disableDefaultCNI": true, "kubeProxyMode": "none", "podSubnet": "10.244.0.0/16"},
            "nodes": [{"role": "control-plane"}, {"role": "worker"}, {"role": "worker"}, {"role": "worker"}],
        })
    );
    assert!(!kept[0].0.exists(), "temporary kind config left behind");
    assert_eq!(kept[1], (values, EBPF_VALUES.to_string()));

    let kubeconfig = lab.home().join(".kube/config");
    assert_eq!(
        run.stdout,
        format!(
            "lab kind-lab {} false\ndeployed 1.12.1 kube-system\n",
            kubeconfig.display()
        )
    );
    for said in [
        "cluster `lab` created (1 control-plane + 3 workers)",
        "release `cilium` deployed in kube-system (cilium 1.12.1, revision 1) after ",
    ] {
        assert!(run.stderr.contains(said), "{said:?} not in {}", run.stderr);
    }
}

#[test]
fn explain_shows_the_generated_kind_config() {
    let lab = Lab::new();
    let run = lab.run_with(&["--explain"], r#"cluster::create("lab", #{workers: 1});"#);
    run.assert_ok();
    let config = &lab.calls()[1][6];
    let start = run
        .stderr
        .find(&format!("$ cat > {config} <<'EOF'\n"))
        .unwrap_or_else(|| panic!("{}", run.stderr));
    let body = &run.stderr[start..];
    let body = &body[body.find('\n').unwrap() + 1..body.find("\nEOF\n").unwrap()];
    assert_eq!(yaml(body), yaml(&lab.kept()[0].1));
}

#[test]
fn kind_config_follows_each_option() {
    let lab = Lab::new();
    lab.run(
        r#"
        cluster::create("a", #{workers: 1, pod_subnet: "10.10.0.0/16", image: "kindest/node:v1.29.0", wait: "2m"});
        cluster::create("b", #{workers: 0, cni: false, wait: false});
        cluster::create("c", #{kube_proxy: false, wait: true, timeout: "30s"});
        "#,
    )
    .assert_ok();
    let creates: Vec<Vec<String>> = lab
        .calls()
        .into_iter()
        .filter(|c| c[1] == "create")
        .collect();
    let tail = |c: &Vec<String>| c[7..].join(" ");
    assert_eq!(tail(&creates[0]), "--wait 2m --image kindest/node:v1.29.0");
    assert_eq!(tail(&creates[1]), "");
    assert_eq!(tail(&creates[2]), "--wait 5m");
    let configs: Vec<serde_json::Value> = lab.kept().iter().map(|(_, t)| yaml(t)).collect();
    let header = |networking: serde_json::Value, nodes: serde_json::Value| json!({"kind": "Cluster", "apiVersion": "kind.x-k8s.io/v1alpha4", "networking": networking, "nodes": nodes});
    assert_eq!(
        configs,
        [
            header(
                json!({"podSubnet": "10.10.0.0/16"}),
                json!([{"role": "control-plane"}, {"role": "worker"}])
            ),
            header(
                json!({"disableDefaultCNI": true, "podSubnet": "10.244.0.0/16"}),
                json!([{"role": "control-plane"}])
            ),
            header(
                json!({"kubeProxyMode": "none", "podSubnet": "10.244.0.0/16"}),
                json!([{"role": "control-plane"}, {"role": "worker"}, {"role": "worker"}, {"role": "worker"}])
            ),
        ]
    );
}

#[test]
fn a_config_file_is_used_as_given_relative_to_the_script() {
    let lab = Lab::new();
    let config = lab.file(
        "kind.yaml",
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n",
    );
    lab.run(r#"cluster::create("lab", #{config: "kind.yaml"});"#)
        .assert_ok();
    assert_eq!(
        lab.call_lines()[1],
        format!(
            "kind create cluster --name lab --config {} --wait 5m",
            config.display()
        )
    );
    assert!(
        config.exists(),
        "the script's own config must not be removed"
    );
}

#[test]
fn a_config_file_with_shape_options_is_refused() {
    let lab = Lab::new();
    lab.file("kind.yaml", "kind: Cluster\n");
    let run = lab.run(r#"cluster::create("lab", #{config: "kind.yaml", workers: 2});"#);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("cluster::create: option `workers` has no effect with `config`"),
        "{}",
        run.stderr
    );
    assert!(lab.calls().is_empty());
}

#[test]
fn a_missing_config_file_is_named() {
    let lab = Lab::new();
    let run = lab.run(r#"cluster::create("lab", #{config: "nope.yaml"});"#);
    assert_eq!(run.code, Some(1));
    let want = format!(
        "cluster::create: kind config {} not found",
        lab.script_dir().join("nope.yaml").display()
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);
}

#[test]
fn an_existing_cluster_is_reused_and_labsh_says_so() {
    let lab = Lab::new().with_clusters(&["lab"]);
    let run = lab.run(r#"let c = cluster::create("lab"); print(c.reused);"#);
    run.assert_ok();
    assert_eq!(lab.call_lines(), ["kind get clusters"]);
    assert_eq!(run.stdout, "true\n");
    assert!(
        run.stderr
            .contains("cluster `lab` already exists: reusing it (recreate: true deletes it first)"),
        "{}",
        run.stderr
    );
}

#[test]
fn recreate_deletes_the_existing_cluster_first() {
    let lab = Lab::new().with_clusters(&["lab", "other"]);
    let run = lab.run(r#"let c = cluster::create("lab", #{recreate: true}); print(c.reused);"#);
    run.assert_ok();
    let lines = lab.call_lines();
    assert_eq!(
        lines[..2],
        ["kind get clusters", "kind delete cluster --name lab"]
    );
    assert!(lines[2].starts_with("kind create cluster --name lab --config "));
    assert_eq!(lines.len(), 3);
    assert_eq!(run.stdout, "false\n");
}

#[test]
fn quiet_hides_labshs_own_messages() {
    let lab = Lab::new().with_clusters(&["lab"]);
    let run = lab.run_with(&["--quiet"], r#"cluster::create("lab");"#);
    run.assert_ok();
    assert_eq!(run.stderr, "");
}

#[test]
fn on_a_terminal_the_spinner_follows_kinds_steps_unless_quiet() {
    let lab = Lab::new().env("STANDIN_KIND_STEP_DELAY", "0.4");
    let run = lab.run_in_terminal(&[], r#"cluster::create("lab");"#);
    run.assert_ok();
    // The spinner line: message, kind's current step, elapsed time.
    for step in ["Preparing nodes", "Starting control-plane"] {
        let line =
            regex::Regex::new(&format!(r"kind create cluster lab: {step} \(\d+s\)")).unwrap();
        assert!(
            line.is_match(&run.stdout),
            "no {step:?} in {:?}",
            run.stdout
        );
    }
    let lab = Lab::new().env("STANDIN_KIND_STEP_DELAY", "0.4");
    let run = lab.run_in_terminal(&["--quiet"], r#"cluster::create("lab");"#);
    run.assert_ok();
    assert_eq!(run.stdout, "", "--quiet shows nothing");
}

#[test]
fn unknown_cluster_lists_existing_ones() {
    let lab = Lab::new().with_clusters(&["alpha", "beta"]);
    let run = lab.run(r#"cluster::get("lab");"#);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(
            "cluster::get: there is no kind cluster `lab`; existing clusters: alpha, beta"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn list_delete_and_delete_all_run_kinds_commands() {
    let lab = Lab::new().with_clusters(&["a", "b", "c"]);
    let run = lab.run(
        r#"
        print(cluster::list());
        cluster::delete("b");
        print(cluster::list());
        cluster::delete_all();
        print(cluster::list());
        "#,
    );
    run.assert_ok();
    assert_eq!(run.stdout, "[\"a\", \"b\", \"c\"]\n[\"a\", \"c\"]\n[]\n");
    assert_eq!(
        lab.call_lines(),
        [
            "kind get clusters",
            "kind delete cluster --name b",
            "kind get clusters",
            "kind delete clusters --all",
            "kind get clusters",
        ]
    );
}

#[test]
fn invalid_cluster_names_fail_before_kind_runs() {
    let lab = Lab::new();
    let run = lab.run(r#"cluster::delete("--all");"#);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("cluster::delete: invalid cluster name \"--all\""),
        "{}",
        run.stderr
    );
    assert!(lab.calls().is_empty());
}

#[test]
fn getting_another_cluster_makes_helm_target_its_context() {
    let lab = Lab::new().with_clusters(&["lab", "other"]);
    std::fs::create_dir_all(lab.home().join(".kube")).unwrap();
    std::fs::write(
        lab.home().join(".kube/config"),
        "apiVersion: v1\nkind: Config\ncurrent-context: kind-lab\n",
    )
    .unwrap();
    let run = lab.run(
        r#"
        helm::list();
        cluster::get("other");
        helm::list();
        cluster::get("lab");
        helm::list();
        "#,
    );
    run.assert_ok();
    let helm: Vec<String> = lab
        .call_lines()
        .into_iter()
        .filter(|l| l.starts_with("helm"))
        .collect();
    assert_eq!(
        helm,
        [
            "helm list -o json",
            "helm list -o json --kube-context kind-other",
            "helm list -o json",
        ]
    );
}

#[test]
fn set_becomes_the_last_values_file_and_is_removed_after() {
    let lab = Lab::new();
    let a = lab.file("a.yaml", "replicas: 1\n");
    let b = lab.file("b.yaml", "replicas: 2\n");
    let run = lab.run(
        r#"
        helm::upgrade_install("web", "./chart", #{
            namespace: "apps", create_namespace: true, values: ["a.yaml", "b.yaml"],
            set: #{k8sServiceHost: "lab-control-plane", loadBalancer: #{mode: "dsr"}, "with.dot": [1, 2], hubble: #{enabled: true}},
            wait: true,
        });
        "#,
    );
    run.assert_ok();
    let kept = lab.kept();
    let set_file = kept[2].0.display().to_string();
    assert_eq!(
        lab.call_lines()[0],
        format!(
            "helm upgrade --install --namespace apps --create-namespace web ./chart --values {} --values {} --values {set_file} --wait --timeout 10m0s",
            a.display(),
            b.display()
        )
    );
    assert_eq!(
        yaml(&kept[2].1),
        json!({"k8sServiceHost": "lab-control-plane", "loadBalancer": {"mode": "dsr"}, "with.dot": [1, 2], "hubble": {"enabled": true}})
    );
    assert!(
        !kept[2].0.exists(),
        "the values file made from `set` was left behind"
    );
}

/// The helm stand-in itself (what the rehearsal world reads): an upgrade records the release's
/// values files and `--set` pairs in helm's order, and, when a controller is there, returns
/// only once that controller applied the revision.
#[test]
fn helm_standin_records_the_releases_values_in_order_and_waits_for_the_controller() {
    let lab = Lab::new();
    let a = lab.file("a.yaml", "loadBalancer:\n  mode: dsr\n");
    let helm = |extra: &[&str]| {
        std::process::Command::new(lab.bin().join("helm"))
            .args([
                "upgrade",
                "--install",
                "--namespace",
                "kube-system",
                "cilium",
                "cilium",
            ])
            .args(["--values", a.to_str().unwrap()])
            .args(extra)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    lab.bin().display(),
                    lab.tmp.path().join("tools").display()
                ),
            )
            .env("STANDIN_DIR", lab.standin_dir())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    assert!(
        helm(&["--set", "loadBalancer.mode=snat"])
            .wait()
            .unwrap()
            .success()
    );
    let dir = lab.standin_dir();
    let values = std::fs::read_to_string(dir.join("helm-values-kube-system-cilium")).unwrap();
    let kept = lab.kept();
    assert_eq!(
        values,
        format!(
            "values\t{}\nset\tloadBalancer.mode=snat\n",
            dir.join("kept-1-a.yaml").display()
        )
    );
    assert_eq!(kept.len(), 1);
    assert_eq!(
        std::fs::read_to_string(dir.join("helm-values-kube-system-cilium.rev")).unwrap(),
        "1\n"
    );
    // With a controller, the upgrade waits for it to apply revision 2.
    std::fs::write(dir.join("helm-controller"), "").unwrap();
    let mut child = helm(&[]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "helm returned before the controller applied"
    );
    std::fs::write(dir.join("helm-applied-kube-system-cilium-2"), "").unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "helm still waits");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
}

#[test]
fn helm_timeout_is_passed_in_gos_format() {
    let lab = Lab::new();
    lab.run(r#"helm::upgrade_install("web", "./chart", #{timeout: "90s"});"#)
        .assert_ok();
    assert_eq!(
        lab.call_lines()[0],
        "helm upgrade --install web ./chart --timeout 1m30s"
    );
}

#[test]
fn a_missing_values_file_is_named_before_helm_runs() {
    let lab = Lab::new();
    let run = lab.run(r#"helm::upgrade_install("web", "./chart", #{values: "nope.yaml"});"#);
    assert_eq!(run.code, Some(1));
    let want = format!(
        "helm::upgrade_install: values file `nope.yaml` not found (looked for {})",
        lab.script_dir().join("nope.yaml").display()
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);
    assert!(lab.calls().is_empty());
}

#[test]
fn releases_are_listed_inspected_and_uninstalled() {
    let lab = Lab::new();
    let run = lab.run(
        r#"
        helm::upgrade_install("cilium", "cilium", #{namespace: "kube-system", version: "1.12.1"});
        helm::upgrade_install("web", "./chart");
        let again = helm::upgrade_install("web", "./chart");
        print(again.version);
        print(helm::list().map(|r| r.name));
        print(helm::list(#{namespace: "kube-system"}).map(|r| r.chart));
        print(helm::list(#{all_namespaces: true}).len());
        print(helm::status("cilium", #{namespace: "kube-system"}).info.status);
        helm::uninstall("cilium", #{namespace: "kube-system"});
        print(helm::list(#{all_namespaces: true}).len());
        let r = helm::list()[0];
        print([r.namespace, r.revision, r.status, r.app_version]);
        try { r.nmae } catch (e) { print(e); }
        helm::status("cilium", #{namespace: "kube-system"});
        "#,
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(
        run.stdout,
        "2\n[\"web\"]\n[\"cilium-1.12.1\"]\n2\ndeployed\n1\n[\"default\", \"2\", \"deployed\", \"1.0.0\"]\nrelease has no field `nmae`; did you mean `name`? its fields: app_version, chart, name, namespace, revision, status, updated\n"
    );
    assert!(
        run.stderr.contains(
            "`helm status cilium --namespace kube-system -o json` failed with exit status 1:\nError: release: not found"
        ),
        "{}",
        run.stderr
    );
    assert!(
        lab.call_lines()
            .contains(&"helm uninstall cilium --namespace kube-system".to_string())
    );
}

#[test]
fn list_refuses_a_namespace_with_all_namespaces() {
    let lab = Lab::new();
    let run = lab.run(r#"helm::list(#{namespace: "a", all_namespaces: true});"#);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("helm::list: give either `namespace` or `all_namespaces: true`, not both"),
        "{}",
        run.stderr
    );
}

#[test]
fn helm_version_is_a_map() {
    let lab = Lab::new();
    let run = lab.run(r#"let v = helm::version(); print(`${v.version} ${v.major}.${v.minor}.${v.patch} ${v.go_version}`);"#);
    run.assert_ok();
    assert_eq!(run.stdout, "v3.14.0 3.14.0 go1.21.5\n");
    assert_eq!(lab.call_lines(), ["helm version"]);
}

#[test]
fn helm_values_reads_a_file_or_yaml_text() {
    let lab = Lab::new();
    lab.file("ebpf-values.yaml", EBPF_VALUES);
    let run = lab.run(
        r#"
        print(helm::values("ebpf-values.yaml").loadBalancer.mode);
        print(helm::values("tunnel: disabled\nipam:\n  mode: kubernetes\n").ipam.mode);
        print(helm::values("").len());
        helm::values("missing.yaml");
        "#,
    );
    assert_eq!(run.code, Some(1));
    assert_eq!(run.stdout, "dsr\nkubernetes\n0\n");
    let want = format!(
        "helm::values: `missing.yaml` is neither an existing file (looked for {}) nor YAML values (a map)",
        lab.script_dir().join("missing.yaml").display()
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);
    assert!(lab.calls().is_empty(), "helm::values must not run helm");
}

#[test]
fn missing_kind_is_named_with_how_to_install_it() {
    let lab = Lab::new().without("kind");
    let run = lab.run(r#"cluster::create("lab");"#);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(
            "`kind` not found on PATH; install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_docker_stops_create_before_kind_runs() {
    let lab = Lab::new().without("docker");
    let run = lab.run(r#"cluster::create("lab");"#);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(
            "cluster::create: `docker` not found on PATH; install Docker Engine: https://docs.docker.com/engine/install/ (Debian: apt-get install docker.io) (kind runs each node as a Docker container)"
        ),
        "{}",
        run.stderr
    );
    assert!(lab.calls().is_empty());
}

#[test]
fn missing_helm_is_named_with_how_to_install_it() {
    let lab = Lab::new().without("helm");
    let run = lab.run(r#"helm::version();"#);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(
            "`helm` not found on PATH; install Helm: https://helm.sh/docs/intro/install/"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_failing_helm_shows_command_exit_status_and_stderr() {
    let lab = Lab::new()
        .env("STANDIN_FAIL", "helm upgrade")
        .env(
            "STANDIN_FAIL_STDERR",
            "Error: INSTALLATION FAILED: Kubernetes cluster unreachable: Get \"https://127.0.0.1:38243/version\": dial tcp 127.0.0.1:38243: connect: connection refused",
        )
        .env("STANDIN_FAIL_CODE", "3");
    let run = lab.run(
        r#"helm::upgrade_install("cilium", "cilium", #{repo: "https://helm.cilium.io", namespace: "kube-system"});"#,
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr.contains(
            "`helm upgrade --install --namespace kube-system --repo https://helm.cilium.io cilium cilium` failed with exit status 3:\nError: INSTALLATION FAILED: Kubernetes cluster unreachable"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(lab.calls().len(), 1, "no status after a failed install");
}

#[test]
fn a_failing_kind_create_shows_kinds_full_output() {
    let lab = Lab::new().env("STANDIN_KIND_CREATE_FAIL", "1");
    let run = lab.run(r#"cluster::create("lab");"#);
    assert_eq!(run.code, Some(1));
    let config = &lab.calls()[1][6];
    let want = format!(
        "`kind create cluster --name lab --config {config} --wait 5m` failed with exit status 1; kind's output:\nCreating cluster \"lab\" ...\n • Ensuring node image (kindest/node:v1.27.3) 🖼  ...\n ✓ Ensuring node image (kindest/node:v1.27.3) 🖼\n • Preparing nodes 📦 📦 📦 📦   ...\n ✓ Preparing nodes 📦 📦 📦 📦 \n • Writing configuration 📜  ...\n ✓ Writing configuration 📜\n • Starting control-plane 🕹️  ...\n ✗ Starting control-plane 🕹️\nERROR: failed to create cluster: failed to init node with kubeadm"
    );
    assert!(run.stderr.contains(&want), "{}", run.stderr);
}

#[test]
fn a_hanging_kind_create_is_killed_at_the_timeout_with_its_child() {
    let lab = Lab::new().env("STANDIN_HANG", "kind create");
    let started = Instant::now();
    let run = lab.run(r#"cluster::create("lab", #{timeout: "2s"});"#);
    let elapsed = started.elapsed();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let (pid, child) = lab.hang_pids(Duration::ZERO);
    assert!(
        all_gone(&[pid, child], Duration::from_secs(2)),
        "stand-in {pid} or its child {child} survived the timeout"
    );
    assert!(
        run.stderr.contains("timed out after 2s and was killed:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(" • Preparing nodes 📦 📦 📦 📦   ..."),
        "kind's output so far is shown: {}",
        run.stderr
    );
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    let lines = lab.call_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[2], "kind delete cluster --name lab",
        "partial cluster removed"
    );
    assert!(
        run.stderr.contains(
            "deleting the partial cluster `lab` left by the stopped `kind create cluster`"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn ctrl_c_during_kind_create_kills_it_and_deletes_the_partial_cluster() {
    let lab = Lab::new().env("STANDIN_HANG", "kind create");
    let labsh = lab
        .command(
            &["--explain"],
            r#"cluster::create("lab"); print("not reached");"#,
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (pid, child) = lab.hang_pids(Duration::from_secs(20));
    let out = interrupt(labsh);
    assert_eq!(out.code, Some(130), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        all_gone(&[pid, child], Duration::from_secs(2)),
        "stand-in {pid} or its child {child} survived Ctrl-C"
    );
    let lines = lab.call_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[2], "kind delete cluster --name lab");
    assert!(
        out.stderr.contains("$ kind delete cluster --name lab"),
        "{}",
        out.stderr
    );
}

/// Sends SIGINT to a running labsh, as Ctrl-C would, and waits (10s at most) for it to end.
fn interrupt(mut labsh: std::process::Child) -> support::Run {
    // SAFETY: kill(2) on the labsh child this test started.
    unsafe {
        libc::kill(labsh.id() as i32, libc::SIGINT);
    }
    let started = Instant::now();
    while labsh.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            let _ = labsh.kill();
            panic!("labsh did not end after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    labsh.wait_with_output().unwrap().into()
}

#[test]
fn a_hanging_kind_get_is_killed_at_its_timeout() {
    let lab = Lab::new().env("STANDIN_HANG", "kind get clusters");
    let run = lab.run(r#"cluster::list(#{timeout: "1s"});"#);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains("`kind get clusters` timed out after 1s and was killed"),
        "{}",
        run.stderr
    );
    let (pid, child) = lab.hang_pids(Duration::ZERO);
    assert!(all_gone(&[pid, child], Duration::from_secs(2)));
}

#[test]
fn ctrl_c_kills_a_hanging_helm_and_its_child() {
    let lab = Lab::new().env("STANDIN_HANG", "helm upgrade");
    let labsh = lab
        .command(
            &[],
            r#"helm::upgrade_install("cilium", "cilium"); print("not reached");"#,
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (pid, child) = lab.hang_pids(Duration::from_secs(20));
    assert!(
        !support::gone(pid) && !support::gone(child),
        "the stand-in and its child run until Ctrl-C"
    );
    let out = interrupt(labsh);
    assert_eq!(out.code, Some(130), "{}", out.stderr);
    assert!(out.stderr.contains("labsh: interrupted"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert!(
        all_gone(&[pid, child], Duration::from_secs(2)),
        "stand-in {pid} or its child {child} survived Ctrl-C"
    );
}

// ─── scripts/tp12.rhai: the node image and the preflight (issue 10) ──────────────────────

/// kind's last Kubernetes 1.24 image (Cilium 1.12 supports Kubernetes 1.16–1.24 only).
const NODE_IMAGE_1_24: &str =
    "kindest/node:v1.24.17@sha256:bad10f9b98d54586cba05a7eaa1b61c6b90bfc4ee174fdc43a7b75ca75c95e51";

fn tp12_config() -> String {
    format!(
        "{}/scripts/tp12/kind-config.yaml",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The `kind create cluster` calls the stand-in recorded.
fn creates(lab: &Lab) -> Vec<String> {
    lab.call_lines()
        .into_iter()
        .filter(|c| c.starts_with("kind create cluster"))
        .collect()
}

#[test]
fn tp12_creates_the_cluster_with_the_1_24_node_image_for_cilium_1_12() {
    let lab = Lab::new();
    // From `nettoyage`: the preflight depends on the machine, the cluster step does not.
    let run = lab.tp12(&["--explain", "--from", "nettoyage"], &["--cluster", "lab"]);
    let expected = format!(
        "kind create cluster --name lab --config {} --image {NODE_IMAGE_1_24}",
        tp12_config()
    );
    assert_eq!(
        lab.call_lines().get(..3).unwrap_or_default(),
        [
            "kind get clusters".to_string(),
            "kind get clusters".to_string(),
            expected.clone()
        ],
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.lines().any(|l| l == format!("$ {expected}")),
        "--explain did not print the create command:\n{}",
        run.stderr
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l == format!("Image des nœuds : {NODE_IMAGE_1_24}")),
        "{}",
        run.stdout
    );
}

#[test]
fn tp12_with_current_cilium_leaves_the_node_image_to_kind() {
    for cilium in ["1.20.2", "1.20.5", "current"] {
        let lab = Lab::new();
        let run = lab.tp12(
            &["--from", "nettoyage"],
            &["--cluster", "lab", "--cilium", cilium],
        );
        assert_eq!(
            creates(&lab),
            [format!(
                "kind create cluster --name lab --config {}",
                tp12_config()
            )],
            "{cilium}: {}",
            run.stderr
        );
        assert!(
            run.stdout
                .lines()
                .any(|l| l == "Image des nœuds : celle de kind par défaut"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn tp12_node_image_option_overrides_the_profiles() {
    let image = "kindest/node:v1.23.17@sha256:14d0a9a892b943866d7e6be119a06871291c517d279aedb816a4b4bc0ec0a5b3";
    for cilium in ["1.12.1", "1.20.2"] {
        let lab = Lab::new();
        let run = lab.tp12(
            &["--from", "nettoyage"],
            &[
                "--cluster",
                "lab",
                "--cilium",
                cilium,
                "--node-image",
                image,
            ],
        );
        assert_eq!(
            creates(&lab),
            [format!(
                "kind create cluster --name lab --config {} --image {image}",
                tp12_config()
            )],
            "{}",
            run.stderr
        );
    }
}

#[test]
fn tp12_refuses_an_empty_node_image_before_kind_runs() {
    let lab = Lab::new();
    let run = lab.tp12(&["--from", "nettoyage"], &["--node-image="]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cluster::create: invalid node image \"\": expected an image reference like kindest/node:v1.24.17@sha256:bad10f9b…"),
        "{}",
        run.stderr
    );
    assert_eq!(creates(&lab), Vec::<String>::new());
}

#[test]
fn tp12_stops_with_exit_2_when_a_preflight_item_fails() {
    // CentOS 7's kernel: below Cilium 1.12's kube-proxy replacement floor.
    let lab = Lab::new().with_host(&[("/proc/sys/kernel/osrelease", "3.10.0-1160.el7.x86_64\n")]);
    let run = lab.tp12(&[], &["--cluster", "lab"]);
    assert_eq!(run.code, Some(2), "{}\n{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("  [FAIL] kernel "))
        .unwrap_or_else(|| panic!("no kernel FAIL:\n{}", run.stdout));
    assert_eq!(
        lines[at],
        "  [FAIL] kernel           Linux 3.10.0-1160.el7.x86_64"
    );
    assert!(
        lines[at + 1]
            .trim_start()
            .starts_with("why: Cilium 1.12.1's kube-proxy replacement needs Linux ≥ 4.19.57"),
        "{}",
        lines[at + 1]
    );
    assert_eq!(
        lines[at + 2].trim_start(),
        "→ run the lab on a host with Linux ≥ 4.19.57 (Debian 12, Ubuntu 22.04 or later ship one)"
    );
    assert!(
        run.stderr.contains(
            "error: prerequisites missing: fix the items marked FAIL above, then run the lab again"
        ),
        "{}",
        run.stderr
    );
    // Nothing after the preflight ran: only the version probes.
    let mut calls = lab.call_lines();
    calls.sort();
    assert_eq!(calls, ["helm version --short", "kind version"]);
}

#[test]
fn tp12_goes_on_after_preflight_warnings() {
    // The other items must pass for real: Docker reachable, capture rights (root).
    let socket = std::path::Path::new("/var/run/docker.sock");
    let root = unsafe { libc::geteuid() } == 0;
    if std::os::unix::net::UnixStream::connect(socket).is_err() || !root {
        assert_ne!(
            std::env::var("LABSH_REQUIRE_DOCKER").as_deref(),
            Ok("1"),
            "LABSH_REQUIRE_DOCKER=1 but no Docker engine at {} or not root",
            socket.display()
        );
        eprintln!("skipping tp12_goes_on_after_preflight_warnings: needs Docker and root");
        return;
    }
    // A Debian 11 host (Linux 5.10) on cgroup v1, its inotify limits left at their defaults.
    let lab = Lab::new().with_real("tcpdump").with_host(&[
        ("/proc/sys/kernel/osrelease", "5.10.0-32-amd64\n"),
        ("/proc/sys/fs/inotify/max_user_watches", "8192\n"),
        ("/proc/sys/fs/inotify/max_user_instances", "128\n"),
        ("/proc/meminfo", "MemAvailable:   12846500 kB\n"),
        ("/sys/fs/cgroup/memory/cgroup.procs", "1\n"),
    ]);
    // Free space is measured where the real engine keeps its data, as on a real host.
    let docker_root = lab.tmp.path().join("host/var/lib/docker");
    std::fs::create_dir_all(docker_root.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/var/lib/docker", &docker_root).unwrap();
    let run = lab.tp12(&[], &["--cluster", "lab"]);
    for warned in ["  [WARN] inotify ", "  [WARN] cgroups "] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(warned)),
            "{warned} missing:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    assert!(!run.stdout.contains("[FAIL]"), "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "→ sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512  "
        ),
        "{}",
        run.stdout
    );
    // The lab went on to create the cluster (it stops later: the stand-in cluster has no nodes).
    assert_eq!(
        creates(&lab),
        [format!(
            "kind create cluster --name lab --config {} --image {NODE_IMAGE_1_24}",
            tp12_config()
        )],
        "{}",
        run.stderr
    );
    assert_ne!(run.code, Some(2));
}

/// The real tools on a machine that has them (Docker engine, kind, helm, internet access for
/// the node image, the chart and its image): `cargo test --test labsh kind_helm:: -- --ignored`.
/// Creates the kind cluster `labsh-e2e` (1 worker), installs the podinfo chart with `set`
/// and `wait`, lists, uninstalls, deletes the cluster.
#[test]
#[ignore = "needs docker, kind, helm, internet"]
fn real_kind_cluster_is_created_gets_a_chart_and_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("e2e.rhai");
    std::fs::write(
        &script,
        r#"
        let name = "labsh-e2e";
        let c = cluster::create(name, #{workers: 1, recreate: true});
        if !cluster::list().contains(name) { throw "cluster not listed"; }
        let h = helm::version();
        print("helm " + h.version);
        let r = helm::upgrade_install("podinfo", "podinfo", #{
            repo: "https://stefanprodan.github.io/podinfo", namespace: "e2e",
            create_namespace: true, set: #{replicaCount: 1}, wait: true, timeout: "5m",
        });
        if r.info.status != "deployed" { throw "release not deployed: " + r.info.status; }
        if helm::list(#{namespace: "e2e"}).len() != 1 { throw "release not listed"; }
        helm::uninstall("podinfo", #{namespace: "e2e"});
        cluster::delete(name);
        if cluster::list().contains(name) { throw "cluster still there"; }
        print("ok");
        "#,
    )
    .unwrap();
    let out = std::process::Command::new(support::LABSH)
        .arg("run")
        .arg(&script)
        .output()
        .unwrap();
    let run: support::Run = out.into();
    if run.code != Some(0) {
        // Whatever failed, the cluster must not outlive the test.
        let _ = std::process::Command::new("kind")
            .args(["delete", "cluster", "--name", "labsh-e2e"])
            .status();
    }
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.ends_with("ok\n"), "{}", run.stdout);
}
