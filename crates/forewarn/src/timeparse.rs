//! Times and durations on the command line.

use jiff::{SignedDuration, Timestamp, Zoned};

use crate::errors::{CliError, CliResult};

/// Parses `now`, an RFC 3339 instant (`2026-12-08T18:00:00Z`, `2026-12-08T10:00:00-08:00`) or a zoned time
/// (`2026-12-08T10:00[America/Los_Angeles]`). A time without an offset or zone is refused: it would be ambiguous.
pub fn parse_time(s: &str, now: Timestamp) -> CliResult<Timestamp> {
    let s = s.trim();
    if s == "now" {
        return Ok(now);
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(z) = s.parse::<Zoned>() {
        return Ok(z.timestamp());
    }
    let shown: String = s.chars().take(40).collect();
    Err(CliError::user(format!(
        "{shown:?} is not a time; write it with an offset or a zone, e.g. 2026-12-08T18:00:00Z or 2026-12-08T10:00[America/Los_Angeles]"
    )))
}

/// Parses a moment where a date is meant too: a time as [`parse_time`] takes it, or a plain date (`2027-02-20`),
/// which is that day's start in `tz`.
pub fn parse_moment(s: &str, now: Timestamp, tz: &jiff::tz::TimeZone) -> CliResult<Timestamp> {
    parse_time(s, now).or_else(|e| match s.trim().parse::<jiff::civil::Date>() {
        Ok(d) => d.to_zoned(tz.clone()).map(|z| z.timestamp()).map_err(|_| e),
        Err(_) => Err(CliError::user(format!(
            "{:?} is neither a date (YYYY-MM-DD) nor a time with an offset or a zone (2026-12-08T18:00:00Z)",
            s.trim().chars().take(40).collect::<String>()
        ))),
    })
}

/// Parses a duration such as `90m`, `24h`, `3d` or `2w` (days are 24 hours).
pub fn parse_duration(s: &str) -> CliResult<SignedDuration> {
    let s = s.trim();
    let bad = || CliError::user(format!("{s:?} is not a duration; write e.g. 90m, 24h, 3d or 2w"));
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let hours = match unit {
        "m" => return Ok(SignedDuration::from_mins(n)),
        "h" => n,
        "d" => n.checked_mul(24).ok_or_else(bad)?,
        "w" => n.checked_mul(24 * 7).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if hours > 24 * 366 * 10 {
        return Err(bad());
    }
    Ok(SignedDuration::from_hours(hours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        let now: Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        assert_eq!(parse_time("now", now).unwrap(), now);
        assert_eq!(parse_time("2026-12-08T10:00:00-08:00", now).unwrap().to_string(), "2026-12-08T18:00:00Z");
        assert_eq!(
            parse_time("2026-12-08T10:00[America/Los_Angeles]", now).unwrap().to_string(),
            "2026-12-08T18:00:00Z"
        );
        assert!(parse_time("2026-12-08 10:00", now).is_err());
        assert!(parse_time("tomorrow", now).is_err());
        // Where a date is meant, a plain date is that day's start in the zone given.
        let la = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
        assert_eq!(parse_moment("2027-02-20", now, &la).unwrap().to_string(), "2027-02-20T08:00:00Z");
        assert_eq!(parse_moment("2027-02-20T00:00:00Z", now, &la).unwrap().to_string(), "2027-02-20T00:00:00Z");
        assert!(parse_moment("2027-02-30", now, &la).is_err());
        assert!(parse_moment("soon", now, &la).unwrap_err().to_string().contains("neither a date"));
        assert_eq!(parse_duration("24h").unwrap(), SignedDuration::from_hours(24));
        assert_eq!(parse_duration("3d").unwrap(), SignedDuration::from_hours(72));
        assert_eq!(parse_duration("90m").unwrap(), SignedDuration::from_mins(90));
        for bad in ["", "h", "24", "1y", "-1h", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
