//! Durations in scripts: `"500ms"`, `"5s"`, `"2m"`, `"1h"`, `"1m30s"`, or a number of seconds.
//! One parser, one error message, used by every primitive that takes a timeout.
//!
//! Jiff's "friendly" duration format reads and writes them (units from largest to smallest,
//! a fraction on the last one: `"1.5s"`). labsh adds what a script's timeout needs on top:
//! no sign and no spaces (`"-5s"`, `"5 s"` and `"5s ago"` are mistakes in a timeout), a
//! ceiling of a year, and one message saying what to type.

use std::time::Duration;

use jiff::Unit;
use jiff::fmt::friendly::{Designator, Spacing, SpanParser, SpanPrinter};

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

static PARSER: SpanParser = SpanParser::new();

static PRINTER: SpanPrinter = SpanPrinter::new()
    .designator(Designator::Compact)
    .spacing(Spacing::None)
    .zero_unit(Unit::Millisecond);

/// Parses `"500ms"`, `"5s"`, `"2m"`, `"1h"`, `"1m30s"`, `"1.5s"`, up to [`MAX`].
pub fn parse(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    // Jiff also reads a sign, `ago` and spaces between numbers and units; a timeout has none.
    if !s.starts_with(|c: char| c.is_ascii_digit()) || s.contains(char::is_whitespace) {
        return Err(error_message(input));
    }
    let d = PARSER
        .parse_unsigned_duration(s)
        .map_err(|_| error_message(input))?;
    if d > MAX {
        return Err(too_long(input));
    }
    Ok(d)
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

/// Formats a duration the way scripts write them (`"1m30s"`, `"500ms"`): whole
/// milliseconds below a second, whole seconds above.
pub fn format(d: Duration) -> String {
    let shown = if d < Duration::from_secs(1) {
        Duration::from_millis(d.as_millis() as u64)
    } else {
        Duration::from_secs(d.as_secs())
    };
    PRINTER.unsigned_duration_to_string(&shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `duration` fuzz target: a value this large lost precision as floating
    /// point and printed back as a different duration.
    #[test]
    fn a_duration_longer_than_a_year_is_an_error_not_a_rounded_value() {
        for input in ["142244444444444220m", "2370740740740737h52m16s", "8761h"] {
            assert_eq!(
                parse(input),
                Err(format!(
                    "duration `{input}` is too long: at most 365 days (8760h)"
                )),
            );
        }
        // The fuzzer's other finds repeat a unit, which Jiff's format refuses outright.
        for input in ["142244444444444220m44m", "366h8761h"] {
            assert_eq!(parse(input), Err(error_message(input)));
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
        for bad in [
            "", "5", "s", "5x", "-5s", "+5s", "5 s", "5s ago", "1..2s", "PT5S", "1d",
        ] {
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
        assert_eq!(format(Duration::from_millis(90_250)), "1m30s");
        assert_eq!(format(Duration::from_secs(3600 + 5)), "1h5s");
        assert_eq!(format(Duration::ZERO), "0ms");
    }
}
