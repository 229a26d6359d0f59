//! Terminal escape injection (issue 23, item 5): text from outside (here a file's contents;
//! tests/k8s.rs does the same with a real pod's log line) reaches the terminal with its
//! control characters escaped, by every way labsh prints it; labsh's own colours stay.

use super::test::Test;

const HOSTILE: &str = "evil\x1b]0;PWNED\x07\x1b[2J\x1b[H\x1b[1A\x1b[2K end";
const SHOWN: &str = r"evil\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[H\u{1b}[1A\u{1b}[2K end";

fn assert_no_raw_controls(text: &str) {
    assert!(
        !text.contains('\x1b') && !text.contains('\x07'),
        "raw control characters in {text:?}"
    );
}

#[test]
fn a_hostile_line_is_shown_escaped_by_print_say_check_summary_exec_explain_and_errors() {
    let (out, code) = Test::new()
        .write("hostile.txt", HOSTILE)
        .write(
            "x.rhai",
            "import \"lab\" as lab;\nlet line = fs::read(\"hostile.txt\");\nprint(line);\nlab::say(line);\nlab::check(line, true, line);\nlet r = proc::run([\"printf\", \"%s\", line]);\nprint(r.stdout);\nthrow line;\n",
        )
        .args(&["--explain", "run", "x.rhai"])
        .run_unchecked();
    assert_eq!(code, 1, "{}", out.stderr);
    assert_no_raw_controls(&out.stdout);
    assert_no_raw_controls(&out.stderr);
    // print, lab::say, the check line (name and evidence), the exec's output, the summary
    // (name and evidence).
    assert_eq!(out.stdout.matches(SHOWN).count(), 7, "{}", out.stdout);
    // The --explain line of proc::run, and the error.
    assert_eq!(out.stderr.matches(SHOWN).count(), 2, "{}", out.stderr);
    assert!(out.stderr.starts_with("$ printf %s "), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("error: {SHOWN}\n")),
        "{}",
        out.stderr
    );
}

#[test]
fn the_repl_echoes_and_reports_a_hostile_string_escaped() {
    let (out, code) = Test::new()
        .write("hostile.txt", HOSTILE)
        .stdin("fs::read(\"hostile.txt\")\nthrow fs::read(\"hostile.txt\")\n")
        .run_unchecked();
    assert_eq!(code, 1);
    assert_eq!(out.stdout, format!("{SHOWN}\n"));
    assert_no_raw_controls(&out.stderr);
    assert!(
        out.stderr.starts_with(&format!("error: {SHOWN}\n")),
        "{}",
        out.stderr
    );
}
