//! `--report lab.xml`: JUnit XML, one testcase per check, so CI systems show the lab's checks
//! as tests.

use super::escape::escape;
use crate::journal::checks::Check;

/// The report as JUnit XML: one testsuite for the script, one testcase per check; a script
/// error becomes an `<error>` testcase so it is not mistaken for success.
pub fn to_junit(script: &str, checks: &[Check], error: Option<&str>) -> String {
    let failed = checks.iter().filter(|c| !c.passed).count();
    let tests = checks.len() + usize::from(error.is_some());
    let errors = usize::from(error.is_some());
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites tests=\"{tests}\" failures=\"{failed}\" errors=\"{errors}\">\n"
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failed}\" errors=\"{errors}\">\n",
        escape(script)
    ));
    for c in checks {
        let class = c.step.as_deref().unwrap_or("lab");
        x.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"{}\">\n",
            escape(&c.name),
            escape(class)
        ));
        if c.passed {
            x.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                escape(&c.evidence)
            ));
        } else {
            x.push_str(&format!(
                "      <failure message=\"{}\">{}</failure>\n",
                escape(&c.evidence),
                escape(&c.evidence)
            ));
        }
        x.push_str("    </testcase>\n");
    }
    if let Some(e) = error {
        x.push_str("    <testcase name=\"script\" classname=\"lab\">\n");
        x.push_str(&format!(
            "      <error message=\"the script failed\">{}</error>\n",
            escape(e)
        ));
        x.push_str("    </testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
