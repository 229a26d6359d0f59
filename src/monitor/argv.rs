//! The `cilium monitor` / `cilium-dbg monitor` command line from a script's options
//! `#{related_to, from, to, types, verbose, json}`: endpoint ids become repeated
//! `--related-to`/`--from`/`--to`, `types` repeated `-t`, `verbose` 0–2 that many `-v`,
//! `json` `-j`. Which program (`cilium-dbg` from Cilium 1.15, `cilium` before) is the
//! caller's to detect.

use rhai::{Array, Dynamic};

use crate::errors::{ScriptResult, error};
use crate::options::Opts;

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

/// The option keys [`MonitorArgs::from_opts`] reads.
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
    /// Reads the monitor options of `opts` (the primitive `func` names errors). Each
    /// endpoint option takes one value or an array; `endpoint(key, value)` turns a value
    /// into an endpoint id — the caller resolves Pods there and falls back to
    /// [`endpoint_id`] for integers.
    pub fn from_opts(
        func: &str,
        opts: &Opts,
        mut endpoint: impl FnMut(&str, &Dynamic) -> ScriptResult<i64>,
    ) -> ScriptResult<Self> {
        let mut args = MonitorArgs::default();
        for key in ["related_to", "from", "to"] {
            let Some(value) = opts.get(key) else { continue };
            let values: Vec<Dynamic> = match value.read_lock::<Array>() {
                Some(arr) => arr.iter().cloned().collect(),
                None => vec![value.clone()],
            };
            let mut ids = Vec::with_capacity(values.len());
            for v in &values {
                let id = endpoint(key, v)?;
                ids.push(check_id(func, key, id)?);
            }
            match key {
                "related_to" => args.related_to = ids,
                "from" => args.from = ids,
                _ => args.to = ids,
            }
        }
        if let Some(types) = opts.strings("types")? {
            for t in &types {
                if !MONITOR_TYPES.contains(&t.as_str()) {
                    return Err(error(format!(
                        "{func}: option `types`: unknown event type `{t}`; expected some of: {}",
                        MONITOR_TYPES.join(", ")
                    )));
                }
            }
            args.types = types;
        }
        if let Some(v) = opts.int("verbose")? {
            args.verbose = u8::try_from(v).ok().filter(|v| *v <= 2).ok_or_else(|| {
                error(format!(
                    "{func}: option `verbose` must be 0, 1 or 2, got {v}"
                ))
            })?;
        }
        args.json = opts.bool("json")?.unwrap_or(false);
        Ok(args)
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

/// The default endpoint resolver: integers only.
pub fn endpoint_id(func: &str, key: &str, value: &Dynamic) -> ScriptResult<i64> {
    value.as_int().map_err(|_| {
        error(format!(
            "{func}: option `{key}` takes endpoint ids (integers), got {} `{value}`",
            value.type_name()
        ))
    })
}

fn check_id(func: &str, key: &str, id: i64) -> ScriptResult<u16> {
    u16::try_from(id).ok().filter(|id| *id > 0).ok_or_else(|| {
        error(format!(
            "{func}: option `{key}`: endpoint id {id} is out of range (1-65535)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use rhai::Map;

    use super::*;

    fn opts(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    fn read(map: Map) -> ScriptResult<MonitorArgs> {
        let o = Opts::new("monitor::start", map, &MONITOR_ARG_KEYS)?;
        MonitorArgs::from_opts("monitor::start", &o, |k, v| {
            endpoint_id("monitor::start", k, v)
        })
    }

    #[test]
    fn no_options_is_the_bare_command() {
        let args = read(Map::new()).unwrap();
        assert_eq!(args.argv("cilium-dbg"), ["cilium-dbg", "monitor"]);
    }

    #[test]
    fn every_option_maps_to_its_flag() {
        let args = read(opts(&[
            ("related_to", Dynamic::from_int(1890)),
            (
                "from",
                Dynamic::from_array(vec![Dynamic::from_int(344), Dynamic::from_int(12)]),
            ),
            ("to", Dynamic::from_array(vec![Dynamic::from_int(7)])),
            (
                "types",
                Dynamic::from_array(vec!["drop".into(), "policy-verdict".into()]),
            ),
            ("verbose", Dynamic::from_int(2)),
            ("json", Dynamic::from_bool(true)),
        ]))
        .unwrap();
        assert_eq!(
            args.argv("cilium"),
            [
                "cilium",
                "monitor",
                "-v",
                "-v",
                "-j",
                "-t",
                "drop",
                "-t",
                "policy-verdict",
                "--related-to",
                "1890",
                "--from",
                "344",
                "--from",
                "12",
                "--to",
                "7"
            ]
        );
    }

    #[test]
    fn a_single_type_string_is_one_flag() {
        let args = read(opts(&[
            ("types", "trace".into()),
            ("verbose", Dynamic::from_int(1)),
        ]))
        .unwrap();
        assert_eq!(
            args.argv("cilium-dbg"),
            ["cilium-dbg", "monitor", "-v", "-t", "trace"]
        );
    }

    #[test]
    fn unknown_type_lists_the_known_ones() {
        let err = read(opts(&[("types", "drops".into())])).unwrap_err();
        assert!(
            err.to_string().contains(
                "monitor::start: option `types`: unknown event type `drops`; expected some of: agent, capture, debug, drop, l7, policy-verdict, recorder, trace, trace-sock"
            ),
            "{err}"
        );
    }

    #[test]
    fn verbose_beyond_two_is_refused() {
        let err = read(opts(&[("verbose", Dynamic::from_int(3))])).unwrap_err();
        assert!(
            err.to_string()
                .contains("option `verbose` must be 0, 1 or 2, got 3"),
            "{err}"
        );
    }

    #[test]
    fn endpoint_ids_must_be_integers_in_range() {
        let err = read(opts(&[("related_to", "frontend".into())])).unwrap_err();
        assert!(
            err.to_string().contains(
                "option `related_to` takes endpoint ids (integers), got string `frontend`"
            ),
            "{err}"
        );
        let err = read(opts(&[("to", Dynamic::from_int(70000))])).unwrap_err();
        assert!(
            err.to_string()
                .contains("option `to`: endpoint id 70000 is out of range (1-65535)"),
            "{err}"
        );
    }

    #[test]
    fn the_resolver_sees_every_endpoint_value() {
        let map = opts(&[(
            "related_to",
            Dynamic::from_array(vec!["pod-a".into(), Dynamic::from_int(5)]),
        )]);
        let o = Opts::new("monitor::start", map, &MONITOR_ARG_KEYS).unwrap();
        let args = MonitorArgs::from_opts("monitor::start", &o, |k, v| {
            if v.is_string() {
                Ok(1890)
            } else {
                endpoint_id("monitor::start", k, v)
            }
        })
        .unwrap();
        assert_eq!(args.related_to, [1890, 5]);
    }
}
