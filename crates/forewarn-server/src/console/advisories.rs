//! Console pages for one advisory: its timeline picture with every partner group's explanation, and "see it as a
//! partner" — the exact personalised copy a chosen partner gets at a chosen moment, made by the same
//! `delivery::copy_for` (view, then `render_for`) as the API. A preview shows that partner's fingerprinted copy, so
//! each one is recorded in the history (`advisory.preview`, with the staff user, the partner and the moment): an
//! investigation that names the partner can see who else looked at its copy.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use forewarn_core::{AdvisoryId, Partner, PartnerId, SectionKind};
use forewarn_policy::{schedule_groups, view, AdvisoryFacts, Visibility};
use forewarn_store::audit::{self, Actor};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::{html, internal, not_found, session, Chrome};
use crate::timeline::{self, local, Row};
use crate::AppState;

/// A moment for display: the viewer's reading (program time) and UTC for the tooltip.
pub struct Moment {
    pub local: String,
    pub utc: String,
}

impl Moment {
    pub fn new(t: Timestamp, tz: &TimeZone) -> Self {
        Self { local: local(t, tz), utc: t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string() }
    }
}

pub struct Group {
    pub label: String,
    pub partners: String,
    pub count: usize,
    pub restricted: bool,
    /// (section, from) for every section.
    pub schedule: Vec<(&'static str, String)>,
    pub reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/advisory.html")]
pub struct AdvisoryPage {
    pub chrome: Chrome,
    pub id: String,
    pub title: String,
    pub state: String,
    pub release: Option<Moment>,
    pub now: Moment,
    pub timezone: String,
    pub svg: String,
    pub groups: Vec<Group>,
    pub partners: Vec<(String, String)>,
    /// The signed-in user may approve and schedule.
    pub approver: bool,
    /// A revision awaits approval.
    pub pending: bool,
    pub author: String,
    pub revision: u32,
    pub scheduled: bool,
    /// The next Patch Tuesdays: (`YYYY-MM`, when in program time).
    pub patch_tuesdays: Vec<(String, String)>,
    /// The advisory's history: (when, who, what, reason).
    pub history: Vec<(String, String, String, String)>,
    /// What a whole leaked copy of the latest revision says about its source (empty if it could not be read).
    pub fingerprint: String,
    /// Below the program's threshold.
    pub fingerprint_low: bool,
}

/// The label of a group: its tiers and countries.
fn label(partners: &[&Partner]) -> String {
    let mut tiers: Vec<String> = partners.iter().map(|p| p.tier.to_string()).collect();
    tiers.sort();
    tiers.dedup();
    let mut countries: Vec<String> = partners.iter().map(|p| p.country.to_string()).collect();
    countries.sort();
    countries.dedup();
    if countries.len() > 4 {
        let n = countries.len();
        countries.truncate(3);
        countries.push(format!("+{}", n - 3));
    }
    format!("{} · {}", tiers.join("/"), countries.join(", "))
}

pub async fn page(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = AdvisoryId::parse(&id) else { return not_found(&session, "No such advisory.") };
    let now = s.clock.now();
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let current = match s.catalogue.get(&mut conn).await {
        Ok(c) => c,
        Err(_) => return internal("the catalogue could not be read"),
    };
    let history = match audit::list(&mut conn, Some(id.as_str()), 100).await {
        Ok(h) => h,
        Err(e) => return internal(e),
    };
    // What a whole leaked copy of the latest revision would say about its source, for an approver looking at a
    // revision that awaits approval (the only one shown it): nothing is opened for anyone else's view.
    let approving = super::has(&session, forewarn_core::Role::Approver);
    let awaiting = current.advisory(id.as_str()).filter(|a| approving && a.has_pending_revision());
    let fingerprint = match (awaiting, s.store.master_key()) {
        (Some(a), Ok(key)) => {
            match forewarn_store::advisories::revision(&mut conn, key, &a.id, a.current_revision).await {
                Ok(r) => Some(forewarn_render::fingerprint_summary(
                    &r.content.meta,
                    &r.content.sections,
                    &r.content.attachments,
                    current.partners.len(),
                    1e-6,
                    forewarn_render::fingerprint_margin(),
                )),
                Err(_) => None,
            }
        }
        _ => None,
    };
    drop(conn);
    let Some(advisory) = current.advisory(id.as_str()).cloned() else {
        return not_found(&session, "No such advisory.");
    };
    let number = advisory.approved_revision.unwrap_or(advisory.current_revision);
    let outline = match s.content.outline(&s.store, &advisory.id, number).await {
        Ok(o) => o,
        Err(_) => return internal("the advisory could not be opened"),
    };
    let tz = current.policy.timezone.clone();
    let mut partners: Vec<Partner> = current.partners.values().map(|(p, _)| Partner::clone(p)).collect();
    partners.sort_by(|a, b| a.name.cmp(&b.name));
    let facts = AdvisoryFacts { advisory: &advisory, meta: &outline.meta, sections: &outline.sections };
    let mut rows = Vec::new();
    let mut groups = Vec::new();
    for (visibilities, members) in schedule_groups(&current.policy, &partners, facts, now) {
        let Some(first) = members.first() else { continue };
        let v = view(&current.policy, first, &facts, now);
        let mut reasons: Vec<String> = Vec::new();
        let mut restricted = false;
        for d in &v.decisions {
            if let Some(b) = &d.blocker {
                let text = b.describe();
                if !reasons.contains(&text) {
                    reasons.push(text);
                }
            }
            for r in d.rules.iter().filter(|r| r.matched) {
                restricted |= r.cap.is_some();
                let text = format!("rule {}: {} — because {}", r.id, r.description, r.why.join("; "));
                if !reasons.contains(&text) {
                    reasons.push(text);
                }
            }
        }
        let group_label = label(&members);
        let schedule = SectionKind::ALL
            .iter()
            .zip(visibilities.iter())
            .filter(|(k, _)| outline.sections.contains(k))
            .map(|(k, vis)| {
                let when = match vis {
                    Visibility::Never => "never".to_owned(),
                    Visibility::From(t) => local(*t, &tz),
                };
                (k.as_str(), when)
            })
            .collect();
        rows.push(Row {
            label: group_label.clone(),
            partners: members.iter().map(|p| p.name.clone()).collect(),
            visibilities,
            restricted,
            reasons: reasons.clone(),
        });
        groups.push(Group {
            label: group_label,
            partners: members.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "),
            count: members.len(),
            restricted,
            schedule,
            reasons,
        });
    }
    let svg = timeline::svg(&rows, advisory.release_at, now, &tz);
    let calendar = current.policy.calendar();
    let mut patch_tuesdays = Vec::new();
    let mut t = now;
    while patch_tuesdays.len() < 6 {
        let Some(next) = calendar.next_after(t) else { break };
        let z = next.to_zoned(calendar.tz.clone());
        patch_tuesdays.push((format!("{:04}-{:02}", z.year(), z.month()), local(next, &tz)));
        t = next;
    }
    let page = AdvisoryPage {
        chrome: Chrome::of(&session),
        id: advisory.id.to_string(),
        title: outline.meta.title.clone(),
        state: format!("{:?}", advisory.state).to_lowercase(),
        release: advisory.release_at.map(|t| Moment::new(t, &tz)),
        now: Moment::new(now, &tz),
        timezone: timeline::zone_name(&current.policy.timezone_name),
        svg,
        groups,
        partners: partners
            .iter()
            .map(|p| (p.id.to_string(), format!("{} ({}, {})", p.name, p.country, p.tier)))
            .collect(),
        approver: super::has(&session, forewarn_core::Role::Approver),
        pending: advisory.has_pending_revision() && advisory.state != forewarn_core::AdvisoryState::Withdrawn,
        author: advisory.created_by.to_string(),
        revision: advisory.current_revision,
        scheduled: advisory.state == forewarn_core::AdvisoryState::Scheduled,
        patch_tuesdays,
        history: history
            .iter()
            .map(|h| (local(h.at, &tz), h.actor.clone(), h.action.clone(), h.reason.clone().unwrap_or_default()))
            .collect(),
        fingerprint: fingerprint.as_ref().map_or(String::new(), |f| f.sentence.clone()),
        fingerprint_low: fingerprint.as_ref().is_some_and(|f| f.low),
    };
    html(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct AsQuery {
    partner: String,
    /// A wall-clock time in the program's time zone (`YYYY-MM-DDTHH:MM`), or empty for now.
    #[serde(default)]
    at: String,
}

#[derive(Template)]
#[template(path = "console/as_partner.html")]
pub struct AsPartnerPage {
    pub chrome: Chrome,
    pub id: String,
    pub partner: String,
    pub at: Moment,
    pub timezone: String,
    /// None: nothing of the advisory exists for the partner then.
    pub copy: Option<Copy>,
}

pub struct Copy {
    pub title: String,
    pub sections: Vec<(&'static str, String)>,
    pub upcoming: Vec<(&'static str, Moment)>,
    pub attachments: Vec<String>,
    pub fingerprint: String,
}

/// The roles that may see an advisory as a partner would (the admin has every role).
const PREVIEW_ROLES: [forewarn_core::Role; 4] = [
    forewarn_core::Role::Author,
    forewarn_core::Role::Approver,
    forewarn_core::Role::ProgramManager,
    forewarn_core::Role::Investigator,
];

pub async fn as_partner(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<AsQuery>,
) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // A preview is a partner's copy, embargoed sections included: for the roles whose work needs it, not for the
    // auditor, who reads the history and the log.
    if !PREVIEW_ROLES.iter().any(|r| super::has(&session, *r)) {
        return super::problem(
            &session,
            StatusCode::FORBIDDEN,
            "Seeing an advisory as a partner shows its embargoed sections: it needs the author, approver, program \
             manager or investigator role.",
        );
    }
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let current = match s.catalogue.get(&mut conn).await {
        Ok(c) => c,
        Err(_) => return internal("the catalogue could not be read"),
    };
    let tz = current.policy.timezone.clone();
    let at = if q.at.trim().is_empty() {
        s.clock.now()
    } else {
        match q.at.trim().parse::<jiff::civil::DateTime>().ok().and_then(|d| d.to_zoned(tz.clone()).ok()) {
            Some(z) => z.timestamp(),
            None => {
                return super::problem(
                    &session,
                    StatusCode::BAD_REQUEST,
                    "That moment is not a date and time (YYYY-MM-DDTHH:MM, in program time).",
                )
            }
        }
    };
    let Some((partner, _)) = PartnerId::parse(&q.partner).ok().and_then(|p| current.partners.get(p.as_str())) else {
        return not_found(&session, "No such partner.");
    };
    let partner = partner.clone();
    let copy =
        match crate::delivery::copy_for(&s.store, &s.content, &s.program.fingerprint_key, &current, &partner, &id, at)
            .await
        {
            Ok(c) => c,
            Err(_) => return internal("the copy could not be made"),
        };
    let detail = json!({"partner": partner.id.as_str(), "at": at.to_string(), "exists": copy.is_some()});
    if let Err(e) = audit::record(
        &mut conn,
        Timestamp::now(),
        &Actor::Staff(session.user.username.to_string()),
        "advisory.preview",
        &id,
        None,
        detail,
    )
    .await
    {
        return internal(e);
    }
    drop(conn);
    let copy = copy.map(|c| Copy {
        title: c.meta.title.clone(),
        sections: c.sections.iter().map(|(k, body)| (k.as_str(), crate::markdown::to_html(body))).collect(),
        upcoming: c.upcoming.iter().map(|(k, t)| (k.as_str(), Moment::new(*t, &tz))).collect(),
        attachments: c.attachments.iter().map(|a| a.name.clone()).collect(),
        fingerprint: c.fingerprint.clone().unwrap_or_else(|| "not fingerprinted".into()),
    });
    let page = AsPartnerPage {
        chrome: Chrome::of(&session),
        id,
        partner: format!("{} ({}, {}, tier {})", partner.name, partner.id, partner.country, partner.tier),
        at: Moment::new(at, &tz),
        timezone: timeline::zone_name(&current.policy.timezone_name),
        copy,
    };
    html(StatusCode::OK, &page)
}
