//! The report's "generated at" line: a UTC date and time from the system clock.

use std::time::SystemTime;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// `2026-12-01 20:45 UTC` for `time`.
pub fn utc(time: SystemTime) -> String {
    // A clock outside Jiff's range (years -9999..=9999) prints as the epoch.
    let at = Timestamp::try_from(time).unwrap_or(Timestamp::UNIX_EPOCH);
    at.to_zoned(TimeZone::UTC)
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn known_instants_format_as_utc_dates() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01 00:00 UTC");
        // 2022-09-14 20:36:33 UTC, the handout's access-log line.
        assert_eq!(
            utc(UNIX_EPOCH + Duration::from_secs(1_663_187_793)),
            "2022-09-14 20:36 UTC"
        );
        // A leap day.
        assert_eq!(
            utc(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29 00:00 UTC"
        );
        // Before the epoch.
        assert_eq!(
            utc(UNIX_EPOCH - Duration::from_secs(86_400)),
            "1969-12-31 00:00 UTC"
        );
    }
}
