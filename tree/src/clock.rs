//! Injectable time source for `TStamp` (facts §4.3) and anything else that needs "now".

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A source of the current time in whole seconds since the Unix epoch (UTC).
pub trait Clock: Send + Sync {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now_unix(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to; clones share the same time. For tests and
/// replayable scenarios.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at `unix` seconds.
    pub fn at(unix: u64) -> Self {
        ManualClock(Arc::new(AtomicU64::new(unix)))
    }

    /// Set the time.
    pub fn set(&self, unix: u64) {
        self.0.store(unix, Ordering::SeqCst);
    }

    /// Move the time forward by `secs`.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `TStamp` text for a Unix time: ISO 8601 basic format in UTC, e.g. `20010711T163817Z`
/// (facts §4.3).
pub fn format_tstamp(unix: u64) -> String {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// The Unix time of a `TStamp` in the basic UTC form [`format_tstamp`] writes
/// (`YYYYMMDDTHHMMSSZ`, facts §4.3), or `None` when the text is not one (another form, an
/// impossible date, a year before 1970).
pub fn parse_tstamp(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = text.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, m, d) = (digits(0..4)?, digits(4..6)?, digits(6..8)?);
    let (hh, mm, ss) = (digits(9..11)?, digits(11..13)?, digits(13..15)?);
    if y < 1970 || !(1..=12).contains(&m) || d == 0 || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > month_days[(m - 1) as usize] {
        return None;
    }
    // Days from 1970-01-01 (Hinnant's days-from-civil, non-negative years).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2 / 400;
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's civil-from-days
/// algorithm, restricted to non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tstamp_matches_the_fact_sheet_example() {
        // facts §4.3: `20010711T163817Z`.
        assert_eq!(format_tstamp(994_869_497), "20010711T163817Z");
        assert_eq!(format_tstamp(0), "19700101T000000Z");
        assert_eq!(format_tstamp(951_782_400), "20000229T000000Z");
    }

    #[test]
    fn tstamp_parses_back() {
        for t in [0, 994_869_497, 951_782_400, 1_796_299_200, 4_102_444_799] {
            assert_eq!(parse_tstamp(&format_tstamp(t)), Some(t));
        }
        for bad in [
            "20010711T163817",
            "2001-07-11T16:38:17Z",
            "20010230T000000Z",
            "20010711T246000Z",
            "19691231T235959Z",
            "2001071xT163817Z",
            "",
        ] {
            assert_eq!(parse_tstamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let c = ManualClock::at(10);
        let d = c.clone();
        c.advance(5);
        assert_eq!(d.now_unix(), 15);
    }
}
