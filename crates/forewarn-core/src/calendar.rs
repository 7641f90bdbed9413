//! The release calendar: Patch Tuesday is the second Tuesday of the month at 10:00 in the program's time zone
//! (America/Los_Angeles by default, so 17:00 or 18:00 UTC depending on daylight saving time).

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// When a program releases its monthly updates.
#[derive(Debug, Clone)]
pub struct ReleaseCalendar {
    pub tz: TimeZone,
    /// Hour of day, in `tz`, at which updates are released.
    pub hour: i8,
}

impl ReleaseCalendar {
    /// Microsoft's: second Tuesday, 10:00 America/Los_Angeles.
    pub fn patch_tuesday() -> Self {
        // The zone is bundled with the binary (jiff's tzdb-bundle-always), so this lookup cannot fail at run time;
        // UTC is a fallback that the test below rules out.
        let tz = TimeZone::get("America/Los_Angeles").unwrap_or(TimeZone::UTC);
        Self { tz, hour: 10 }
    }

    /// The release moment of the given month.
    pub fn release_of_month(&self, year: i16, month: i8) -> Option<Timestamp> {
        let first = Date::new(year, month, 1).ok()?;
        let first_tuesday = first.nth_weekday_of_month(1, Weekday::Tuesday).ok()?;
        let second = first_tuesday.checked_add(7.days()).ok()?;
        let at = second.at(self.hour, 0, 0, 0).to_zoned(self.tz.clone()).ok()?;
        Some(at.timestamp())
    }

    /// The first release moment strictly after `t`.
    pub fn next_after(&self, t: Timestamp) -> Option<Timestamp> {
        let local = t.to_zoned(self.tz.clone());
        let mut date = local.date().first_of_month();
        for _ in 0..3 {
            let r = self.release_of_month(date.year(), date.month())?;
            if r > t {
                return Some(r);
            }
            date = date.checked_add(1.month()).ok()?;
        }
        None
    }

    /// The last release moment at or before `t`.
    pub fn previous_at_or_before(&self, t: Timestamp) -> Option<Timestamp> {
        let local = t.to_zoned(self.tz.clone());
        let mut date = local.date().first_of_month();
        for _ in 0..3 {
            let r = self.release_of_month(date.year(), date.month())?;
            if r <= t {
                return Some(r);
            }
            date = date.checked_sub(1.month()).ok()?;
        }
        None
    }
}

/// The instant `n` business days (Monday to Friday in `tz`) before `t`, at the same wall-clock time as `t`.
/// "3 business days before Patch Tuesday 10:00" is the Thursday before, 10:00. Weekend days are skipped and not
/// counted; a release on a weekend counts back from it the same way. Where that wall-clock time does not exist on
/// the target day (a daylight-saving gap), the instant just after the gap is used, which always exists; where it
/// exists twice (the hour repeated when clocks go back), the later of the two is used: leads restrict, so when in
/// doubt the later moment. Zero business days is T itself.
pub fn business_days_before(t: Timestamp, n: u32, tz: &TimeZone) -> Timestamp {
    if n == 0 {
        return t;
    }
    let local = t.to_zoned(tz.clone());
    let time = local.time();
    let mut date = local.date();
    let mut counted = 0;
    while counted < n {
        match date.yesterday() {
            Ok(d) => date = d,
            Err(_) => return Timestamp::MIN,
        }
        if !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
            counted += 1;
        }
    }
    tz.to_ambiguous_zoned(date.to_datetime(time)).later().map_or(Timestamp::MIN, |z| z.timestamp())
}

/// Whether `t` falls on a Saturday or Sunday in `tz`.
pub fn is_weekend(t: Timestamp, tz: &TimeZone) -> bool {
    matches!(t.to_zoned(tz.clone()).weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn known_patch_tuesdays() {
        let cal = ReleaseCalendar::patch_tuesday();
        assert_ne!(cal.tz, TimeZone::UTC, "the bundled time zone database is missing");
        // December 2026: 1st is a Tuesday, so the second Tuesday is the 8th; PST is UTC-8.
        assert_eq!(cal.release_of_month(2026, 12), Some(ts("2026-12-08T18:00:00Z")));
        // July 2025 (ToolShell): July 8, PDT is UTC-7.
        assert_eq!(cal.release_of_month(2025, 7), Some(ts("2025-07-08T17:00:00Z")));
        // March 2021 (ProxyLogon's planned date): March 9, still PST.
        assert_eq!(cal.release_of_month(2021, 3), Some(ts("2021-03-09T18:00:00Z")));
    }

    #[test]
    fn business_days() {
        let cal = ReleaseCalendar::patch_tuesday();
        let pt = ts("2026-12-08T18:00:00Z"); // Tuesday 10:00 PST
        assert_eq!(business_days_before(pt, 1, &cal.tz), ts("2026-12-07T18:00:00Z")); // Monday
        assert_eq!(business_days_before(pt, 3, &cal.tz), ts("2026-12-03T18:00:00Z")); // Thursday
        assert_eq!(business_days_before(pt, 5, &cal.tz), ts("2026-12-01T18:00:00Z")); // Tuesday before
        assert_eq!(business_days_before(pt, 0, &cal.tz), pt);
        // Across the start of daylight saving time (2027-03-14): wall-clock 10:00 is kept, so UTC moves an hour.
        let march = cal.release_of_month(2027, 3).unwrap(); // 2027-03-09, PST
        assert_eq!(march, ts("2027-03-09T18:00:00Z"));
        let april = cal.release_of_month(2027, 4).unwrap(); // 2027-04-13, PDT
        assert_eq!(business_days_before(april, 5, &cal.tz), ts("2027-04-06T17:00:00Z"));
        // Sydney, 2 April 2034: 02:00 happens twice when daylight saving ends; zero days is T itself, and a lead
        // landing in the repeated hour takes the later instant.
        let sydney = TimeZone::get("Australia/Sydney").unwrap();
        assert_eq!(business_days_before(ts("2034-04-01T16:00:00Z"), 0, &sydney), ts("2034-04-01T16:00:00Z"));
        // A release on a Saturday counts back from Friday.
        let saturday = ts("2026-12-12T18:00:00Z");
        assert_eq!(business_days_before(saturday, 1, &cal.tz), ts("2026-12-11T18:00:00Z"));
    }

    #[test]
    fn next_and_previous() {
        let cal = ReleaseCalendar::patch_tuesday();
        assert_eq!(cal.next_after(ts("2026-11-29T12:00:00Z")), Some(ts("2026-12-08T18:00:00Z")));
        assert_eq!(cal.next_after(ts("2026-12-08T18:00:00Z")), Some(ts("2027-01-12T18:00:00Z")));
        assert_eq!(cal.previous_at_or_before(ts("2026-11-29T12:00:00Z")), Some(ts("2026-11-10T18:00:00Z")));
        assert_eq!(cal.previous_at_or_before(ts("2026-12-08T18:00:00Z")), Some(ts("2026-12-08T18:00:00Z")));
    }
}
