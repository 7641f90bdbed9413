//! The timeline picture of one advisory, rendered on the server as SVG: partner groups (partners with the same
//! schedule) as rows, time as the x-axis, one bar per section from the moment it becomes visible to that group,
//! the release time T and "now" marked, restricted groups drawn differently. Pure: the caller gives the groups
//! (from `forewarn_policy::schedule_groups`) and the moments.
//!
//! No script and no inline style (the console's Content-Security-Policy forbids both): colours are SVG
//! presentation attributes and classes from the console's stylesheet, and each bar and row carries a `<title>`
//! that browsers show on hover. The explanation of every row is also written out below the picture, linked from the
//! row, for keyboards and screen readers.

use std::fmt::Write;

use forewarn_core::SectionKind;
use forewarn_policy::Visibility;
use jiff::{tz::TimeZone, SignedDuration, Timestamp};

/// One row: a group of partners that see the advisory on the same schedule.
#[derive(Debug, Clone)]
pub struct Row {
    /// Short label: tiers and countries.
    pub label: String,
    /// The partners' names.
    pub partners: Vec<String>,
    /// One per section, in section order.
    pub visibilities: [Visibility; 5],
    /// A rule restricts this group (a jurisdiction's obligations, say).
    pub restricted: bool,
    /// Why, in one line per reason (rules with their legal sources).
    pub reasons: Vec<String>,
}

const LEFT: i64 = 230;
const WIDTH: i64 = 960;
const LANE: i64 = 9;
const ROW_GAP: i64 = 10;
const TOP: i64 = 34;

/// A section's bar colour (presentation attribute, allowed under the console's CSP).
fn colour(section: SectionKind) -> &'static str {
    match section {
        SectionKind::Summary => "#4e79a7",
        SectionKind::Details => "#59a14f",
        SectionKind::Detection => "#9c755f",
        SectionKind::Mitigation => "#edc948",
        SectionKind::Poc => "#e15759",
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

tokio::task_local! {
    /// The time zone the person reading a console or portal page chose (the `fw_tz` cookie), for the duration of
    /// that request: set by [`crate::console::viewer_zone`], read by [`local`].
    pub static VIEWER_ZONE: TimeZone;
}

/// A moment as the viewer reads it: in the zone they chose, or else in `tz` (the program's), minutes precision, with
/// the zone's abbreviation. Pages give UTC beside it (tooltips).
pub fn local(t: Timestamp, tz: &TimeZone) -> String {
    let zone = VIEWER_ZONE.try_with(Clone::clone).unwrap_or_else(|_| tz.clone());
    t.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

/// The name of the zone [`local`] writes times in: the viewer's choice, or else `default`.
pub fn zone_name(default: &str) -> String {
    VIEWER_ZONE.try_with(|z| z.iana_name().map(str::to_owned)).ok().flatten().unwrap_or_else(|| default.to_owned())
}

/// The SVG picture. `tz` is the zone times are written in (UTC is in every tooltip too).
pub fn svg(rows: &[Row], release_at: Option<Timestamp>, now: Timestamp, tz: &TimeZone) -> String {
    // The time window: from a day before the first visible moment (or now) to three days after T (or the last).
    let moments: Vec<Timestamp> =
        rows.iter().flat_map(|r| r.visibilities.iter()).filter_map(|v| v.time()).chain(release_at).collect();
    let first = moments.iter().copied().chain([now]).min().unwrap_or(now);
    let last = moments.iter().copied().chain([now]).max().unwrap_or(now);
    let start = first - SignedDuration::from_hours(24);
    let end = last + SignedDuration::from_hours(72);
    let span = (end.as_second() - start.as_second()).max(1);
    let x = |t: Timestamp| LEFT + (t.as_second() - start.as_second()).clamp(0, span) * (WIDTH - LEFT - 10) / span;
    let row_height = 5 * LANE + ROW_GAP;
    let height = TOP + rows.len() as i64 * row_height + 24;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="timeline-title"><title id="timeline-title">When each partner group sees each section</title>"#
    );
    // Day ticks (at most about 16 labels).
    let days = span / 86_400 + 1;
    let step = (days / 16 + 1) * 86_400;
    let mut tick = start.as_second() - start.as_second().rem_euclid(86_400) + 86_400;
    while tick < end.as_second() {
        if let Ok(t) = Timestamp::from_second(tick) {
            let tx = x(t);
            let _ = write!(
                out,
                r##"<line x1="{tx}" y1="{TOP}" x2="{tx}" y2="{}" stroke="#e3e6ea"/><text x="{tx}" y="{}" font-size="10" text-anchor="middle" fill="#555">{}</text>"##,
                height - 20,
                height - 6,
                t.to_zoned(TimeZone::UTC).strftime("%b %d")
            );
        }
        tick += step;
    }
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + i as i64 * row_height;
        let class = if row.restricted { "row restricted" } else { "row" };
        let fill = if row.restricted {
            "#fdecea"
        } else if i % 2 == 0 {
            "#f6f7f9"
        } else {
            "#ffffff"
        };
        let who = row.partners.join(", ");
        let why = if row.reasons.is_empty() { "tier leads only".to_owned() } else { row.reasons.join("; ") };
        let _ = write!(
            out,
            r##"<g class="{class}" id="timeline-row-{i}"><title>{} — {} partner(s): {}. Why: {}</title><rect x="0" y="{}" width="{WIDTH}" height="{}" fill="{fill}"/>"##,
            esc(&row.label),
            row.partners.len(),
            esc(&who),
            esc(&why),
            y - ROW_GAP / 2,
            row_height,
        );
        let marker = if row.restricted { "⚠ " } else { "" };
        let _ = write!(
            out,
            r##"<a href="#group-{i}"><text x="6" y="{}" font-size="11" fill="{}">{marker}{}</text><text x="6" y="{}" font-size="9" fill="#666">{} partner(s)</text></a>"##,
            y + 14,
            if row.restricted { "#a61b1b" } else { "#222" },
            esc(&truncate(&row.label, 34)),
            y + 28,
            row.partners.len()
        );
        for (lane, (section, v)) in SectionKind::ALL.iter().zip(row.visibilities.iter()).enumerate() {
            let ly = y + lane as i64 * LANE;
            match v.time() {
                Some(t) => {
                    let bx = x(t.max(start));
                    let _ = write!(
                        out,
                        r#"<rect class="bar" x="{bx}" y="{ly}" width="{}" height="{}" rx="2" fill="{}"><title>{}: {} from {} ({} UTC)</title></rect>"#,
                        (WIDTH - 10 - bx).max(2),
                        LANE - 2,
                        colour(*section),
                        esc(&row.label),
                        section.as_str(),
                        esc(&local(t, tz)),
                        t.strftime("%Y-%m-%d %H:%M"),
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        r##"<text x="{}" y="{}" font-size="8" fill="#999">{} never</text>"##,
                        WIDTH - 70,
                        ly + LANE - 2,
                        section.as_str()
                    );
                }
            }
        }
        out.push_str("</g>");
    }
    let mut mark = |t: Timestamp, label: &str, colour: &str| {
        let mx = x(t);
        let _ = write!(
            out,
            r#"<g class="mark"><title>{label}: {} ({} UTC)</title><line x1="{mx}" y1="{}" x2="{mx}" y2="{}" stroke="{colour}" stroke-width="2"/><text x="{mx}" y="{}" font-size="11" text-anchor="middle" fill="{colour}">{label}</text></g>"#,
            esc(&local(t, tz)),
            t.strftime("%Y-%m-%d %H:%M"),
            TOP - 8,
            height - 20,
            TOP - 14
        );
    };
    if let Some(t) = release_at {
        mark(t, "T", "#111");
    }
    mark(now, "now", "#1f6feb");
    out.push_str("</svg>");
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn rows_bars_marks_and_restriction_are_drawn_and_text_is_escaped() {
        let t = at("2026-12-08T18:00:00Z");
        let early = Visibility::From(at("2026-12-03T18:00:00Z"));
        let rows = vec![
            Row {
                label: "tier validate · US".into(),
                partners: vec!["Kestrel <EDR>".into()],
                visibilities: [early, early, early, early, early],
                restricted: false,
                reasons: vec![],
            },
            Row {
                label: "tier ans · CN".into(),
                partners: vec!["Hanshan Antivirus".into()],
                visibilities: [
                    Visibility::From(t),
                    Visibility::Never,
                    Visibility::Never,
                    Visibility::Never,
                    Visibility::Never,
                ],
                restricted: true,
                reasons: vec!["restricted-jurisdiction: summary at release (RMSV Art. 7, https://example.org)".into()],
            },
        ];
        let svg = svg(&rows, Some(t), at("2026-12-01T00:00:00Z"), &TimeZone::UTC);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="bar""#).count(), 6, "five bars and one");
        assert_eq!(svg.matches("never</text>").count(), 4);
        assert_eq!(svg.matches(r#"class="row restricted""#).count(), 1);
        assert!(svg.contains(">T</text>") && svg.contains(">now</text>"));
        assert!(svg.contains("RMSV Art. 7"), "the legal source is in the row's tooltip");
        assert!(svg.contains("Kestrel &lt;EDR&gt;") && !svg.contains("<EDR>"));
        assert!(svg.contains("2026-12-08 18:00 UTC"));
        // The summary bar of the restricted row starts at T; the early bars start left of it.
        let t_x = x_of(&svg, "T");
        assert!(svg.contains(&format!(r#"<rect class="bar" x="{t_x}""#)), "{svg}");
    }

    /// The x of the mark labelled `label`.
    fn x_of(svg: &str, label: &str) -> String {
        let end = svg.find(&format!(">{label}</text>")).unwrap();
        let start = svg[..end].rfind("<text x=\"").unwrap() + 9;
        svg[start..].split('"').next().unwrap().to_owned()
    }
}
