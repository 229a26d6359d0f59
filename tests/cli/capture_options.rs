//! `tcpdump::start` with a target and options that make no capture: an error saying why,
//! raised at the script's line before anything is looked up or run (the placement itself is
//! `labsh_core::tcpdump::place`, tested there case by case).

use super::test::Test;

fn fails(script: &str, stderr: &str) {
    Test::new()
        .write("t.rhai", script)
        .args(&["run", "t.rhai"])
        .stderr(stderr)
        .status(1)
        .run();
}

#[test]
fn an_interface_given_twice_is_refused() {
    fails(
        "tcpdump::start(\"lo\", #{iface: \"eth0\"});\n",
        "error: tcpdump::start: give the interface either as the target or as `iface`, not both\n  --> t.rhai:1:10\n  |\n1 | tcpdump::start(\"lo\", #{iface: \"eth0\"});\n  |          ^\n",
    );
}

#[test]
fn a_misspelt_side_names_the_two_sides() {
    fails(
        "let side = \"hots\";\ntcpdump::start(\"lo\", #{side: side});\n",
        "error: tcpdump::start: option `side` must be \"host\" or \"node\", got \"hots\"\n  --> t.rhai:2:10\n  |\n2 | tcpdump::start(\"lo\", #{side: side});\n  |          ^\n",
    );
}

#[test]
fn an_interface_of_this_host_has_no_node_side() {
    fails(
        "tcpdump::start(\"lo\", #{side: \"node\"});\n",
        "error: tcpdump::start: side \"node\" needs a Node or a Pod target, got the interface \"lo\"\n  --> t.rhai:1:10\n  |\n1 | tcpdump::start(\"lo\", #{side: \"node\"});\n  |          ^\n",
    );
}
