//! `cluster::current` and `labsh clean` with bad input: a clear error naming the option or the
//! file, before anything is contacted or created (the real-tier tests in `tests/k8s/` cover
//! the rest).

use super::test::Test;

fn fails(script: &str, stderr: &str) {
    Test::new()
        .write("t.rhai", script)
        .args(&["run", "t.rhai"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .stderr(stderr)
        .status(1)
        .run();
}

#[test]
fn an_unknown_access_is_an_error_listing_the_known_ones() {
    fails(
        "cluster::current(#{access: \"ssh\"});\n",
        "error: cluster::current: the access must be \"auto\", \"docker\" or \"pod\", got \"ssh\"\n  --> t.rhai:1:10\n  |\n1 | cluster::current(#{access: \"ssh\"});\n  |          ^\n",
    );
}

#[test]
fn a_misspelt_option_is_an_error_not_a_default() {
    // A literal map is checked before the run (tests/cli/check.rs); a map built at run time
    // is refused by the function itself.
    fails(
        "let o = #{imag: \"x\"};\ncluster::current(o);\n",
        "error: cluster::current: unknown option `imag`; expected one of: image, namespace, access\n  --> t.rhai:2:10\n  |\n2 | cluster::current(o);\n  |          ^\n",
    );
}

#[test]
fn an_empty_image_is_an_error() {
    fails(
        "cluster::current(#{image: \" \"});\n",
        "error: cluster::current: option `image` is empty\n  --> t.rhai:1:10\n  |\n1 | cluster::current(#{image: \" \"});\n  |          ^\n",
    );
}

#[test]
fn without_a_kubeconfig_the_error_says_which_file_is_missing() {
    fails(
        "cluster::current();\n",
        "error: cannot load the kubeconfig (KUBECONFIG=/nonexistent/kubeconfig): /nonexistent/kubeconfig does not exist; create a cluster (kind writes the kubeconfig) or point KUBECONFIG at one\n  --> t.rhai:1:10\n  |\n1 | cluster::current();\n  |          ^\n",
    );
}

#[test]
fn labsh_clean_without_a_kubeconfig_says_which_file_is_missing() {
    Test::new()
        .args(&["clean"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .stderr("error: labsh clean: cannot load the kubeconfig (KUBECONFIG=/nonexistent/kubeconfig): /nonexistent/kubeconfig does not exist; create a cluster (kind writes the kubeconfig) or point KUBECONFIG at one\n")
        .status(1)
        .run();
}

#[test]
fn labsh_clean_of_an_unknown_context_lists_the_known_ones() {
    let kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: lab\n  context: {cluster: c, user: u}\ncurrent-context: lab\n";
    Test::new()
        .write("kubeconfig", kubeconfig)
        .args(&["clean", "--context", "labb"])
        .env("KUBECONFIG", "kubeconfig")
        .stderr("error: labsh clean: cannot load the kubeconfig (KUBECONFIG=kubeconfig): no context named `labb`; known contexts: lab\n")
        .status(1)
        .run();
}
