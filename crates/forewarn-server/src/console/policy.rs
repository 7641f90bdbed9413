//! The policy pages: the active policy and its history, the explanation of one partner × advisory (tier lead, each
//! rule that matched or not and why, with legal sources), and a dry run of a proposed policy — every visibility of
//! every scheduled advisory for every partner that it would change, earlier changes flagged. The dry run decides
//! nothing for anyone and stores nothing; setting a policy stays a deliberate CLI step (`forewarn policy set`).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use forewarn_core::Partner;
use forewarn_policy::{view, AdvisoryFacts, Policy, Visibility};
use jiff::tz::TimeZone;
use serde::Deserialize;

use super::{html, internal, session, staff, Chrome};
use crate::timeline::local;
use crate::AppState;

pub struct Version {
    pub version: i64,
    pub sha: String,
    pub by: String,
    pub at: String,
    pub note: String,
}

pub struct Explained {
    pub title: String,
    /// (section, tier lead, visible from, visible now).
    pub sections: Vec<(&'static str, String, String, bool)>,
    /// (rule, matched, description, why).
    pub rules: Vec<(String, bool, String, String)>,
    pub blockers: Vec<String>,
}

pub struct DiffRow {
    pub advisory: String,
    pub partner: String,
    pub section: &'static str,
    pub before: String,
    pub after: String,
    pub earlier: bool,
}

#[derive(Template)]
#[template(path = "console/policy.html")]
pub struct PolicyPage {
    pub chrome: Chrome,
    pub active: Version,
    pub body: String,
    pub timezone: String,
    pub history: Vec<Version>,
    pub partners: Vec<(String, String)>,
    pub advisories: Vec<(String, String)>,
    pub partner: String,
    pub advisory: String,
    pub explained: Option<Explained>,
    pub proposed: String,
    pub diff_problem: Option<String>,
    /// (rows, how many make something earlier), after a dry run.
    pub diff: Option<(Vec<DiffRow>, usize)>,
}

#[derive(Deserialize, Default)]
pub struct ExplainQuery {
    #[serde(default)]
    partner: String,
    #[serde(default)]
    advisory: String,
}

type Opened = (forewarn_core::Advisory, std::sync::Arc<forewarn_store::advisories::Outline>);

fn facts_of((a, o): &Opened) -> AdvisoryFacts<'_> {
    AdvisoryFacts { advisory: a, meta: &o.meta, sections: &o.sections }
}

fn when(v: Visibility, tz: &TimeZone) -> String {
    v.time().map_or_else(|| "never".to_owned(), |t| local(t, tz))
}

async fn render(
    s: &AppState,
    session: &forewarn_store::sessions::Session,
    q: ExplainQuery,
    proposed: Option<String>,
) -> Response {
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let history = match forewarn_store::policies::history(&mut conn).await {
        Ok(h) => h,
        Err(e) => return internal(e),
    };
    let current = match s.catalogue.get(&mut conn).await {
        Ok(c) => c,
        Err(_) => return internal("the catalogue could not be read"),
    };
    drop(conn);
    let Some(active) = history.first() else { return internal("no policy is set") };
    let tz = current.policy.timezone.clone();
    let version = |p: &forewarn_store::policies::StoredPolicy| Version {
        version: p.version,
        sha: p.sha256.chars().take(12).collect(),
        by: p.created_by.clone(),
        at: local(p.created_at, &tz),
        note: p.note.clone(),
    };
    let now = s.clock.now();
    let mut partners: Vec<Partner> = current.partners.values().map(|(p, _)| Partner::clone(p)).collect();
    partners.sort_by(|a, b| a.name.cmp(&b.name));
    // Every advisory with the revision partners are given (the newest while none is approved).
    let mut outlines: Vec<Opened> = Vec::new();
    for a in &current.advisories {
        let number = a.approved_revision.unwrap_or(a.current_revision);
        match s.content.outline(&s.store, &a.id, number).await {
            Ok(o) => outlines.push((a.clone(), o)),
            Err(_) => return internal("an advisory could not be opened"),
        }
    }
    let explained = match (
        partners.iter().find(|p| p.id.as_str() == q.partner),
        outlines.iter().find(|(a, _)| a.id.as_str() == q.advisory),
    ) {
        (Some(p), Some(pair)) => {
            let v = view(&current.policy, p, &facts_of(pair), now);
            let mut rules: Vec<(String, bool, String, String)> = Vec::new();
            let mut blockers: Vec<String> = Vec::new();
            for d in &v.decisions {
                if let Some(b) = &d.blocker {
                    let text = b.describe();
                    if !blockers.contains(&text) {
                        blockers.push(text);
                    }
                }
                for r in &d.rules {
                    if !rules.iter().any(|(id, ..)| **id == *r.id) {
                        rules.push((r.id.to_string(), r.matched, r.description.to_string(), r.why.join("; ")));
                    }
                }
            }
            Some(Explained {
                title: format!("{} as seen by {} ({}, tier {})", pair.0.id, p.name, p.country, p.tier),
                sections: v
                    .decisions
                    .iter()
                    .map(|d| {
                        (
                            d.section.as_str(),
                            d.tier_lead.to_string(),
                            when(d.visibility, &tz),
                            d.visibility.is_visible_at(now),
                        )
                    })
                    .collect(),
                rules,
                blockers,
            })
        }
        _ => None,
    };
    let (mut diff, mut diff_problem) = (None, None);
    if let Some(text) = &proposed {
        match Policy::parse(text) {
            Err(e) => diff_problem = Some(format!("The proposed policy does not parse: {e}")),
            Ok(new) => {
                let upcoming: Vec<usize> = (0..outlines.len())
                    .filter(|i| {
                        let a = &outlines[*i].0;
                        a.state == forewarn_core::AdvisoryState::Scheduled && a.release_at.is_some_and(|t| t > now)
                    })
                    .collect();
                let facts: Vec<AdvisoryFacts<'_>> = upcoming.iter().map(|i| facts_of(&outlines[*i])).collect();
                let changes = forewarn_policy::diff(&current.policy, &new, &partners, &facts, now);
                let earlier = changes.iter().filter(|c| c.4 < c.3).count();
                let rows = changes
                    .iter()
                    .map(|(i, p, section, before, after)| DiffRow {
                        advisory: outlines[upcoming[*i]].0.id.to_string(),
                        partner: p.name.clone(),
                        section: section.as_str(),
                        before: when(*before, &tz),
                        after: when(*after, &tz),
                        earlier: after < before,
                    })
                    .collect();
                diff = Some((rows, earlier));
            }
        }
    }
    let page = PolicyPage {
        chrome: Chrome::of(session),
        active: version(active),
        body: active.body.clone(),
        timezone: crate::timeline::zone_name(&current.policy.timezone_name),
        history: history.iter().map(version).collect(),
        partners: partners
            .iter()
            .map(|p| (p.id.to_string(), format!("{} ({}, {})", p.name, p.country, p.tier)))
            .collect(),
        advisories: outlines.iter().map(|(a, o)| (a.id.to_string(), format!("{}: {}", a.id, o.meta.title))).collect(),
        partner: q.partner,
        advisory: q.advisory,
        explained,
        proposed: proposed.unwrap_or_default(),
        diff_problem,
        diff,
    };
    let status = if page.diff_problem.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    html(status, &page)
}

pub async fn page(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<ExplainQuery>) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    render(&s, &session, q, None).await
}

#[derive(Deserialize)]
pub struct DiffForm {
    csrf: String,
    policy: String,
}

pub async fn dry_run(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<DiffForm>) -> Response {
    let session = match staff(&s, &headers, Some(&f.csrf), None).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    render(&s, &session, ExplainQuery::default(), Some(f.policy)).await
}
