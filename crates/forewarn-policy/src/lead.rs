//! How far ahead of the release time T a section may be seen: a tier's lead or a rule's cap.

use std::fmt;

use forewarn_core::calendar::business_days_before;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// A span before T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ahead {
    /// Exact hours (a day is 24 hours).
    Hours(u32),
    /// Business days, Monday to Friday in the program's time zone, at T's wall-clock time.
    BusinessDays(u32),
}

/// When, relative to T, a section may first be seen. Ordered from most to least restrictive:
/// `Never` < `AtRelease` < any `Before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lead {
    /// Never shared through forewarn, not even at release.
    Never,
    /// From T.
    AtRelease,
    /// From the given span before T.
    Before(Ahead),
}

/// The longest lead accepted: 90 days. Programs share days ahead, not months.
const MAX_HOURS: u32 = 90 * 24;
const MAX_BUSINESS_DAYS: u32 = 60;

impl Lead {
    /// Parses `never`, `at-release`, or a span with an optional `before-release` prefix: `24 hours`, `1 day`,
    /// `3 business days`, `before-release 24h`, `36h`, `2d`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let text = s.trim();
        match text {
            "never" => return Ok(Self::Never),
            "at-release" => return Ok(Self::AtRelease),
            _ => {}
        }
        let bad = || {
            format!(
                "{text:?} is not a lead; write never, at-release, or a span such as \"24 hours\", \"2 days\", \"3 business days\" (optionally after before-release)"
            )
        };
        let span = text.strip_prefix("before-release").map_or(text, str::trim);
        let digits = span.find(|c: char| !c.is_ascii_digit()).unwrap_or(span.len());
        let (n, unit) = span.split_at(digits);
        let n: u32 = n.parse().map_err(|_| bad())?;
        let ahead = match unit.trim() {
            "h" | "hour" | "hours" => Ahead::Hours(n),
            "d" | "day" | "days" => Ahead::Hours(n.checked_mul(24).ok_or_else(bad)?),
            "business day" | "business days" | "bd" => Ahead::BusinessDays(n),
            _ => return Err(bad()),
        };
        match ahead {
            Ahead::Hours(h) if h > MAX_HOURS => Err(format!("{text:?} is longer than the 90 days a lead may be")),
            Ahead::BusinessDays(d) if d > MAX_BUSINESS_DAYS => {
                Err(format!("{text:?} is longer than the 60 business days a lead may be"))
            }
            _ => Ok(Self::Before(ahead)),
        }
    }

    /// The moment this lead gives for release time `t`, or `None` for never.
    pub fn moment(self, t: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        match self {
            Self::Never => None,
            Self::AtRelease => Some(t),
            Self::Before(Ahead::Hours(h)) => {
                Some(t.checked_sub(SignedDuration::from_hours(i64::from(h))).unwrap_or(Timestamp::MIN))
            }
            Self::Before(Ahead::BusinessDays(d)) => Some(business_days_before(t, d, tz)),
        }
    }
}

impl fmt::Display for Lead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Never => f.write_str("never"),
            Self::AtRelease => f.write_str("at-release"),
            Self::Before(Ahead::Hours(h)) if *h % 24 == 0 && *h > 0 => {
                let d = h / 24;
                write!(f, "{d} day{} before release", if d == 1 { "" } else { "s" })
            }
            Self::Before(Ahead::Hours(h)) => write!(f, "{h} hour{} before release", if *h == 1 { "" } else { "s" }),
            Self::Before(Ahead::BusinessDays(d)) => {
                write!(f, "{d} business day{} before release", if *d == 1 { "" } else { "s" })
            }
        }
    }
}

/// When a section becomes visible: from an instant, or never. Ordered by restrictiveness, so the *meet* of several
/// is their maximum: a later instant is more restrictive, and `Never` is the most restrictive of all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Visibility {
    From(Timestamp),
    Never,
}

impl Visibility {
    pub fn of(moment: Option<Timestamp>) -> Self {
        moment.map_or(Self::Never, Self::From)
    }

    /// The more restrictive of two.
    pub fn meet(self, other: Self) -> Self {
        self.max(other)
    }

    pub fn is_visible_at(self, now: Timestamp) -> bool {
        matches!(self, Self::From(t) if t <= now)
    }

    pub fn time(self) -> Option<Timestamp> {
        match self {
            Self::From(t) => Some(t),
            Self::Never => None,
        }
    }
}

impl fmt::Display for Visibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::From(t) => write!(f, "from {t}"),
            Self::Never => f.write_str("never"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_leads() {
        assert_eq!(Lead::parse("never"), Ok(Lead::Never));
        assert_eq!(Lead::parse("at-release"), Ok(Lead::AtRelease));
        assert_eq!(Lead::parse("24 hours"), Ok(Lead::Before(Ahead::Hours(24))));
        assert_eq!(Lead::parse("before-release 24h"), Ok(Lead::Before(Ahead::Hours(24))));
        assert_eq!(Lead::parse("1 day"), Ok(Lead::Before(Ahead::Hours(24))));
        assert_eq!(Lead::parse("3 business days"), Ok(Lead::Before(Ahead::BusinessDays(3))));
        for bad in ["", "soon", "-1 day", "3 weeks", "1.5 days", "100 days", "99999999999 hours", "before-release"] {
            assert!(Lead::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Lead::parse("2 days").unwrap().to_string(), "2 days before release");
    }

    #[test]
    fn visibility_order_is_restrictiveness() {
        let t: Timestamp = "2026-12-08T18:00:00Z".parse().unwrap();
        let earlier = Visibility::From(t - SignedDuration::from_hours(1));
        assert_eq!(earlier.meet(Visibility::From(t)), Visibility::From(t));
        assert_eq!(Visibility::From(t).meet(Visibility::Never), Visibility::Never);
        assert!(Visibility::From(t).is_visible_at(t));
        assert!(!Visibility::From(t).is_visible_at(t - SignedDuration::from_secs(1)));
        assert!(!Visibility::Never.is_visible_at(Timestamp::MAX));
    }
}
