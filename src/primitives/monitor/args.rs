//! `monitor::start`'s options `#{related_to, from, to, types, verbose, json}` as the core's
//! [`MonitorArgs`]: endpoint options take one value or an array; the caller resolves pods.

use rhai::{Array, Dynamic};

use crate::errors::{ScriptResult, error};
use crate::monitor::MonitorArgs;
use crate::options::Opts;

/// Reads the monitor options of `opts` (the primitive `func` names errors). Each endpoint
/// option takes one value or an array; `endpoint(key, value)` turns a value into an endpoint
/// id — the caller resolves Pods there and falls back to [`endpoint_id`] for integers.
pub fn monitor_args(
    func: &str,
    opts: &Opts,
    mut endpoint: impl FnMut(&str, &Dynamic) -> ScriptResult<i64>,
) -> ScriptResult<MonitorArgs> {
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
            ids.push(MonitorArgs::check_id(func, key, id).map_err(error)?);
        }
        match key {
            "related_to" => args.related_to = ids,
            "from" => args.from = ids,
            _ => args.to = ids,
        }
    }
    if let Some(types) = opts.strings("types")? {
        MonitorArgs::check_types(func, &types).map_err(error)?;
        args.types = types;
    }
    if let Some(v) = opts.int("verbose")? {
        args.verbose = MonitorArgs::check_verbose(func, v).map_err(error)?;
    }
    args.json = opts.bool("json")?.unwrap_or(false);
    Ok(args)
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

#[cfg(test)]
mod tests {
    use rhai::Map;

    use super::*;
    use crate::monitor::MONITOR_ARG_KEYS;

    fn opts(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    fn read(map: Map) -> ScriptResult<MonitorArgs> {
        let o = Opts::new("monitor::start", map, &MONITOR_ARG_KEYS)?;
        monitor_args("monitor::start", &o, |k, v| {
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
        let args = monitor_args("monitor::start", &o, |k, v| {
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
