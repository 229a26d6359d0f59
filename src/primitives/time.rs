//! `time::now()` and `time::stamp()`: the time without running `date`, and unique markers.

use crate::primitives::{Family, Registry};

/// `time::…`
pub const FAMILY: Family = Family {
    name: "time",
    summary: "the current time and unique stamps for markers",
    register,
};

const NOW_DOC: &str = r#"Seconds since the Unix epoch, with milliseconds, as a float: the difference of two
calls is a duration in seconds.

```rhai
let t0 = time::now();
http::get("http://172.18.0.2:30080/");
print(`took ${time::now() - t0} s`);
```"#;

const STAMP_DOC: &str = r#"A UTC stamp (`"20261205T091307.123Z"`) later than every stamp the run gave before:
a unique marker to send (a User-Agent, a file name) and then look for in logs or captures.

```rhai
let marker = `lab/${time::stamp()}`;
http::get(url, #{headers: #{"User-Agent": marker}});
```"#;

/// Registers `time::now` and `time::stamp`.
pub fn register(reg: &mut Registry, _ctx: &crate::context::Ctx) {
    reg.func("time", "now", &["f64"], NOW_DOC, crate::stamp::now_seconds);
    reg.func(
        "time",
        "stamp",
        &["String"],
        STAMP_DOC,
        crate::stamp::unique_stamp,
    );
}
