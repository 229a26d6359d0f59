//! `cluster::current` with bad input: a clear error naming the option, before anything is
//! contacted or created (the real-tier tests in `tests/k8s/nodes.rs` cover the rest).

use crate::test::Test;

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
    fails(
        "cluster::current(#{imag: \"x\"});\n",
        "error: cluster::current: unknown option `imag`; expected one of: image, namespace, access\n  --> t.rhai:1:10\n  |\n1 | cluster::current(#{imag: \"x\"});\n  |          ^\n",
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
