//! Durations in scripts: `"500ms"`, `"5s"`, `"2m"`, `"1h"`, `"1m30s"`, or a number of seconds.
//! One parser, one error message, used by every primitive that takes a timeout.

use std::time::Duration;

/// The one error message for a bad duration.
pub fn error_message(input: &str) -> String {
    format!(
        "invalid duration `{input}`: expected a number with a unit, like \"500ms\", \"5s\", \"2m\", \"1h\" or \"1m30s\""
    )
}

/// The longest duration a script may write: a year is beyond any lab's wait, and far below
/// where the seconds lose precision as floating point (fuzzing found `142244444444444220m`
/// parsing to a value that printed back as another).
pub const MAX: Duration = Duration::from_secs(365 * 24 * 3600);

fn too_long(input: &str) -> String {
    format!("duration `{input}` is too long: at most 365 days (8760h)")
}

/// Parses `"500ms"`, `"5s"`, `"2m"`, `"1h"`, `"1m30s"`, `"1.5s"`, up to [`MAX`].
pub fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err(error_message(input));
    }
    let mut total = Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| error_message(input))?;
        if num_end == 0 {
            return Err(error_message(input));
        }
        let value: f64 = rest[..num_end].parse().map_err(|_| error_message(input))?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_end];
        rest = &rest[unit_end..];
        let secs = match unit {
            "ms" => value / 1000.0,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            _ => return Err(error_message(input)),
        };
        if secs > MAX.as_secs_f64() {
            return Err(too_long(input));
        }
        total += Duration::try_from_secs_f64(secs).map_err(|_| error_message(input))?;
        if total > MAX {
            return Err(too_long(input));
        }
    }
    Ok(total)
}

/// A whole number of seconds (scripts may write `timeout: 30`).
pub fn from_seconds(secs: i64) -> Result<Duration, String> {
    if secs < 0 {
        return Err(error_message(&secs.to_string()));
    }
    let d = Duration::from_secs(secs as u64);
    if d > MAX {
        Err(too_long(&secs.to_string()))
    } else {
        Ok(d)
    }
}

/// A number of seconds with a fraction (`timeout: 1.5`).
pub fn from_seconds_f64(secs: f64) -> Result<Duration, String> {
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if d > MAX => Err(too_long(&secs.to_string())),
        Ok(d) => Ok(d),
        Err(_) => Err(error_message(&secs.to_string())),
    }
}

/// Formats a duration the way scripts write them (`"1m30s"`, `"500ms"`).
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `duration` fuzz target: a value this large lost precision as floating
    /// point and printed back as a different duration.
    #[test]
    fn a_duration_longer_than_a_year_is_an_error_not_a_rounded_value() {
        for input in [
            "142244444444444220m44m",
            "2370740740740737h52m16s",
            "8761h",
            "366h8761h",
        ] {
            assert_eq!(
                parse(input),
                Err(format!(
                    "duration `{input}` is too long: at most 365 days (8760h)"
                )),
            );
        }
        assert_eq!(parse("8760h"), Ok(MAX));
        assert!(from_seconds(40_000_000).is_err());
    }

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn rejects_missing_or_unknown_units_with_one_message() {
        for bad in ["", "5", "s", "5x", "-5s", "5 s", "1..2s"] {
            assert_eq!(parse(bad), Err(error_message(bad)), "{bad:?}");
        }
    }

    #[test]
    fn integers_are_seconds() {
        assert_eq!(from_seconds(3), Ok(Duration::from_secs(3)));
        assert!(from_seconds(-3).is_err());
        assert_eq!(from_seconds_f64(1.5), Ok(Duration::from_millis(1500)));
        assert!(from_seconds_f64(-1.0).is_err());
    }

    #[test]
    fn formats_like_scripts_write_them() {
        assert_eq!(format(Duration::from_millis(250)), "250ms");
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
        assert_eq!(format(Duration::from_secs(600)), "10m");
    }
}
