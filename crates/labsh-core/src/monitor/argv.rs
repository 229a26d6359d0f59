//! The `cilium monitor` / `cilium-dbg monitor` command line from a script's options
//! `#{related_to, from, to, types, verbose, json}`: endpoint ids become repeated
//! `--related-to`/`--from`/`--to`, `types` repeated `-t`, `verbose` 0–2 that many `-v`,
//! `json` `-j`. Which program (`cilium-dbg` from Cilium 1.15, `cilium` before) is the
//! caller's to detect.

/// The event types `-t` accepts.
pub const MONITOR_TYPES: [&str; 9] = [
    "agent",
    "capture",
    "debug",
    "drop",
    "l7",
    "policy-verdict",
    "recorder",
    "trace",
    "trace-sock",
];

/// The option keys of a script that become [`MonitorArgs`].
pub const MONITOR_ARG_KEYS: [&str; 6] = ["related_to", "from", "to", "types", "verbose", "json"];

/// What to ask `cilium monitor` for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorArgs {
    /// `--related-to N`: events to or from these endpoints.
    pub related_to: Vec<u16>,
    /// `--from N`: events from these endpoints.
    pub from: Vec<u16>,
    /// `--to N`: events to these endpoints.
    pub to: Vec<u16>,
    /// `-t TYPE` (one of [`MONITOR_TYPES`]).
    pub types: Vec<String>,
    /// `-v` repeated (0–2).
    pub verbose: u8,
    /// `-j`: one JSON object per line.
    pub json: bool,
}

impl MonitorArgs {
    /// Checks event types against [`MONITOR_TYPES`] (`func` names the primitive in errors).
    pub fn check_types(func: &str, types: &[String]) -> Result<(), String> {
        for t in types {
            if !MONITOR_TYPES.contains(&t.as_str()) {
                return Err(format!(
                    "{func}: option `types`: unknown event type `{t}`; expected some of: {}",
                    MONITOR_TYPES.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// `-v` repeated `v` times: 0, 1 or 2.
    pub fn check_verbose(func: &str, v: i64) -> Result<u8, String> {
        u8::try_from(v)
            .ok()
            .filter(|v| *v <= 2)
            .ok_or_else(|| format!("{func}: option `verbose` must be 0, 1 or 2, got {v}"))
    }

    /// An endpoint id of option `key`: 1–65535.
    pub fn check_id(func: &str, key: &str, id: i64) -> Result<u16, String> {
        u16::try_from(id).ok().filter(|id| *id > 0).ok_or_else(|| {
            format!("{func}: option `{key}`: endpoint id {id} is out of range (1-65535)")
        })
    }

    /// The argument vector: `[program, "monitor", …]`, `program` being `cilium-dbg` or
    /// `cilium`.
    pub fn argv(&self, program: &str) -> Vec<String> {
        let mut argv = vec![program.to_string(), "monitor".to_string()];
        // Output flags first, then the filters, as the handout writes it:
        // `cilium monitor -v --related-to 1890`.
        for _ in 0..self.verbose {
            argv.push("-v".to_string());
        }
        if self.json {
            argv.push("-j".to_string());
        }
        for t in &self.types {
            argv.push("-t".to_string());
            argv.push(t.clone());
        }
        for (flag, ids) in [
            ("--related-to", &self.related_to),
            ("--from", &self.from),
            ("--to", &self.to),
        ] {
            for id in ids {
                argv.push(flag.to_string());
                argv.push(id.to_string());
            }
        }
        argv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_options_is_the_bare_command() {
        assert_eq!(
            MonitorArgs::default().argv("cilium-dbg"),
            ["cilium-dbg", "monitor"]
        );
    }

    #[test]
    fn unknown_type_lists_the_known_ones() {
        let err = MonitorArgs::check_types("monitor::start", &["drops".into()]).unwrap_err();
        assert_eq!(
            err,
            "monitor::start: option `types`: unknown event type `drops`; expected some of: agent, capture, debug, drop, l7, policy-verdict, recorder, trace, trace-sock"
        );
    }

    #[test]
    fn verbose_beyond_two_is_refused() {
        assert_eq!(MonitorArgs::check_verbose("f", 2), Ok(2));
        assert_eq!(
            MonitorArgs::check_verbose("f", 3).unwrap_err(),
            "f: option `verbose` must be 0, 1 or 2, got 3"
        );
    }

    #[test]
    fn endpoint_ids_are_in_range() {
        assert_eq!(MonitorArgs::check_id("f", "to", 1890), Ok(1890));
        assert_eq!(
            MonitorArgs::check_id("f", "to", 70000).unwrap_err(),
            "f: option `to`: endpoint id 70000 is out of range (1-65535)"
        );
        assert!(MonitorArgs::check_id("f", "to", 0).is_err());
    }
}
