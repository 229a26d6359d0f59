//! Reading a primitive's option map (`#{timeout: "5s", namespace: "kube-system"}`) with
//! errors that name the primitive, the option and what was expected. Unknown options are
//! errors, so a typo like `#{timout: "5s"}` does not silently use the default.

use std::time::Duration;

use rhai::{Array, Dynamic, ImmutableString, Map};

use crate::errors::{ScriptResult, error};

/// The `idle` and `timeout` arguments of a `wait_idle` (durations; `idle` not longer than
/// `timeout`).
pub fn idle_and_timeout(
    func: &str,
    idle: &Dynamic,
    timeout: &Dynamic,
) -> ScriptResult<(Duration, Duration)> {
    let idle = duration_of(idle).map_err(|e| error(format!("{func}: idle: {e}")))?;
    let timeout = duration_of(timeout).map_err(|e| error(format!("{func}: timeout: {e}")))?;
    if idle > timeout {
        return Err(error(format!(
            "{func}: the idle interval ({}) is longer than the timeout ({}); swap them?",
            crate::kube::error::human(idle),
            crate::kube::error::human(timeout)
        )));
    }
    Ok((idle, timeout))
}

/// A duration from a script value: a string as `labsh_core::duration::parse` reads it
/// (`"500ms"`, `"1m30s"`), or a number of seconds.
pub fn duration_of(value: &Dynamic) -> Result<Duration, String> {
    if let Some(s) = value.read_lock::<ImmutableString>() {
        return crate::duration::parse(&s);
    }
    if let Ok(i) = value.as_int() {
        return crate::duration::from_seconds(i);
    }
    if let Ok(f) = value.as_float() {
        return crate::duration::from_seconds_f64(f);
    }
    Err(crate::duration::error_message(&value.to_string()))
}

/// An option map being read by the primitive `func`.
pub struct Opts<'a> {
    func: &'a str,
    map: Map,
}

impl<'a> Opts<'a> {
    /// Checks that every key of `map` is in `known`.
    pub fn new(func: &'a str, map: Map, known: &[&str]) -> ScriptResult<Self> {
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                return Err(crate::errors::error(format!(
                    "{func}: unknown option `{key}`; expected one of: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(Opts { func, map })
    }

    /// An empty option map (for the forms called without one).
    pub fn empty(func: &'a str) -> Self {
        Opts {
            func,
            map: Map::new(),
        }
    }

    fn wrong(&self, key: &str, expected: &str, got: &Dynamic) -> Box<rhai::EvalAltResult> {
        crate::errors::error(format!(
            "{}: option `{key}` must be {expected}, got {} `{got}`",
            self.func,
            got.type_name()
        ))
    }

    /// The raw value, when present and not `()`.
    pub fn get(&self, key: &str) -> Option<&Dynamic> {
        self.map.get(key).filter(|v| !v.is_unit())
    }

    /// A string option.
    pub fn string(&self, key: &str) -> ScriptResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .read_lock::<ImmutableString>()
                .map(|s| Some(s.to_string()))
                .ok_or_else(|| self.wrong(key, "a string", v)),
        }
    }

    /// An integer option.
    pub fn int(&self, key: &str) -> ScriptResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_int()
                .map(Some)
                .map_err(|_| self.wrong(key, "an integer", v)),
        }
    }

    /// A boolean option.
    pub fn bool(&self, key: &str) -> ScriptResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .map_err(|_| self.wrong(key, "true or false", v)),
        }
    }

    /// A duration option (`"5s"`, `"2m"`, or seconds).
    pub fn duration(&self, key: &str) -> ScriptResult<Option<Duration>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => duration_of(v).map(Some).map_err(|msg| {
                crate::errors::error(format!("{}: option `{key}`: {msg}", self.func))
            }),
        }
    }

    /// A map option.
    pub fn map(&self, key: &str) -> ScriptResult<Option<Map>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .read_lock::<Map>()
                .map(|m| Some(m.clone()))
                .ok_or_else(|| self.wrong(key, "a map", v)),
        }
    }

    /// A string or an array of strings, as a list.
    pub fn strings(&self, key: &str) -> ScriptResult<Option<Vec<String>>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                if let Some(s) = v.read_lock::<ImmutableString>() {
                    return Ok(Some(vec![s.to_string()]));
                }
                if let Some(arr) = v.read_lock::<Array>() {
                    return arr
                        .iter()
                        .map(|item| {
                            item.read_lock::<ImmutableString>()
                                .map(|s| s.to_string())
                                .ok_or_else(|| {
                                    self.wrong(key, "a string or an array of strings", v)
                                })
                        })
                        .collect::<ScriptResult<Vec<_>>>()
                        .map(Some);
                }
                Err(self.wrong(key, "a string or an array of strings", v))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect()
    }

    #[test]
    fn unknown_option_names_the_primitive_and_the_known_ones() {
        let err = Opts::new(
            "http::get",
            map(&[("timout", "5s".into())]),
            &["timeout", "headers"],
        )
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "Runtime error: http::get: unknown option `timout`; expected one of: timeout, headers"
        );
    }

    #[test]
    fn wrong_type_says_what_was_expected() {
        let o = Opts::new("f", map(&[("count", "ten".into())]), &["count"]).unwrap();
        let err = o.int("count").unwrap_err();
        assert!(
            err.to_string()
                .contains("option `count` must be an integer, got string `ten`"),
            "{err}"
        );
    }

    #[test]
    fn durations_and_lists_are_read() {
        let o = Opts::new(
            "f",
            map(&[
                ("timeout", "2m".into()),
                ("values", "a.yaml".into()),
                ("unit", Dynamic::UNIT),
            ]),
            &["timeout", "values", "unit"],
        )
        .unwrap();
        assert_eq!(
            o.duration("timeout").unwrap(),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            o.strings("values").unwrap(),
            Some(vec!["a.yaml".to_string()])
        );
        assert_eq!(o.string("unit").unwrap(), None);
    }
}
