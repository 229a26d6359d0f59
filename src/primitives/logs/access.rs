//! `logs::parse_access`: Apache/nginx combined access-log lines as maps. (The Kubernetes
//! side, [`super::pods`], adds pod logs to the same `logs` module.)

use rhai::Dynamic;

use crate::context::Ctx;
use crate::primitives::{Family, Registry};
use crate::records::{ACCESS_ENTRY, Record};

/// `logs::parse_access`.
pub const FAMILY: Family = Family {
    name: "logs",
    summary: "parse Apache/nginx combined access-log lines",
    register,
};

const PARSE_ACCESS_DOC: &str = r#"Parses an Apache/nginx *combined* access-log line (the Guestbook frontend's format) into
`#{client, ident, user, time, method, path, protocol, status, bytes, referer, agent}`
(`status` and `bytes` are integers, `bytes` is `()` for `-`), or `()` for any other line.

```rhai
let e = logs::parse_access(`172.18.0.1 - - [14/Sep/2022:20:36:33 +0000] "GET / HTTP/1.1" 200 1172 "-" "curl/7.81.0"`);
print(e.client + " " + e.method + " " + e.path + " " + e.status);
```"#;

/// Registers `logs::parse_access`.
pub fn register(reg: &mut Registry, _ctx: &Ctx) {
    reg.func(
        "logs",
        "parse_access",
        &["line: String", "Dynamic"],
        PARSE_ACCESS_DOC,
        |line: &str| {
            crate::access_log::parse(line)
                .map(|e| Record::new(&ACCESS_ENTRY, &e).into_dynamic())
                .unwrap_or(Dynamic::UNIT)
        },
    );
}
