//! Times for scripts: the current time in seconds, and stamps that are unique within the
//! process, for markers a lab sends and then looks for (a User-Agent, a file name).

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::Timestamp;

/// Seconds since the Unix epoch, with milliseconds.
pub fn now_seconds() -> f64 {
    Timestamp::now().as_millisecond() as f64 / 1000.0
}

/// The last stamp handed out, in milliseconds since the epoch.
static LAST: AtomicI64 = AtomicI64::new(0);

/// A UTC stamp `20261205T091307.123Z`, later than every stamp this process gave before
/// (two calls in one millisecond get successive milliseconds), so each is a unique marker.
pub fn unique_stamp() -> String {
    let now = Timestamp::now().as_millisecond();
    let ms = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .map_or(now, |last| now.max(last + 1));
    format_stamp(ms)
}

/// `ms` (since the epoch) as `YYYYMMDDTHHMMSS.mmmZ`.
pub fn format_stamp(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y%m%dT%H%M%S%.3fZ").to_string(),
        Err(_) => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_as_utc_date_and_time() {
        assert_eq!(format_stamp(1_764_925_987_123), "20251205T091307.123Z");
    }

    #[test]
    fn stamps_never_repeat_even_within_a_millisecond() {
        let stamps: Vec<String> = (0..1000).map(|_| unique_stamp()).collect();
        let mut sorted = stamps.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), stamps.len());
        assert_eq!(sorted, stamps, "stamps sort in the order they were made");
    }
}
