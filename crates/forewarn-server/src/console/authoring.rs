//! Writing and releasing advisories in the console, with the same rules as the CLI: an author writes an advisory
//! (metadata and Markdown sections, fingerprint alternatives checked with their line) and submits it for approval;
//! someone other than its author approves it; an approver schedules it — on a Patch Tuesday from the program's
//! calendar or at a date — delays it, or breaks the embargo after typing the advisory's id and giving a reason.
//! Every change is recorded in the history. Bad input changes nothing and says what is wrong, never quoting section
//! text.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use forewarn_core::{AdvisoryId, CveId, Cvss, CweId, Product, RevisionMeta, Role, SectionKind, Sections};
use forewarn_store::advisories::{self, Content};
use forewarn_store::audit::{self, Actor};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::{html, internal, problem, staff, Chrome};
use crate::AppState;

#[derive(Deserialize, Default, Clone)]
pub struct AdvisoryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    /// Comma- or space-separated CVE ids.
    #[serde(default)]
    cves: String,
    #[serde(default)]
    cwe: String,
    #[serde(default)]
    cvss: String,
    /// One product per line: `Name: version range; version range`.
    #[serde(default)]
    products: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    detection: String,
    #[serde(default)]
    mitigation: String,
    #[serde(default)]
    poc: String,
    /// Why the revision is made (edits).
    #[serde(default)]
    note: String,
    /// Set by the preview button: show, save nothing.
    #[serde(default)]
    preview: String,
}

impl AdvisoryForm {
    fn section(&self, kind: SectionKind) -> &str {
        match kind {
            SectionKind::Summary => &self.summary,
            SectionKind::Details => &self.details,
            SectionKind::Detection => &self.detection,
            SectionKind::Mitigation => &self.mitigation,
            SectionKind::Poc => &self.poc,
        }
    }

    /// The content, or what is wrong with the form (never quoting section text).
    fn content(&self) -> Result<Content, String> {
        let products = self
            .products
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (name, versions) = l.split_once(':').unwrap_or((l, ""));
                let versions = versions.split(';').map(str::trim).filter(|v| !v.is_empty()).map(String::from);
                Product::new(name.trim(), versions.collect())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("Products: {e}"))?;
        let cves = self
            .cves
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(CveId::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("CVE: {e}"))?;
        let optional = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
        let meta = RevisionMeta {
            title: self.title.trim().to_owned(),
            products,
            cvss: optional(&self.cvss).map(|c| Cvss::parse(&c)).transpose().map_err(|e| format!("CVSS: {e}"))?,
            cwe: optional(&self.cwe).map(|c| CweId::parse(&c)).transpose().map_err(|e| format!("CWE: {e}"))?,
            cves,
            flags: Default::default(),
            marking: forewarn_mark::Scheme::CURRENT.number(),
        }
        .validated()
        .map_err(|e| e.to_string())?;
        let mut sections = Sections::new();
        for kind in SectionKind::ALL {
            let body = self.section(kind).replace("\r\n", "\n");
            if body.trim().is_empty() {
                continue;
            }
            forewarn_mark::syntax::parse_with(&body, forewarn_mark::Scheme::CURRENT).map_err(|e| {
                format!("{} section, line {}: fingerprint alternatives: {}", kind.heading(), e.line(), e.reason())
            })?;
            sections.set(kind, body.trim_end()).map_err(|e| format!("{} section: {e}", kind.heading()))?;
        }
        if sections.get(SectionKind::Summary).is_none() {
            return Err("Every advisory needs a Summary: it is what restricted partners receive.".into());
        }
        Ok(Content { meta, sections, attachments: Vec::new() })
    }
}

#[derive(Template)]
#[template(path = "console/advisory_new.html")]
pub struct NewPage {
    pub chrome: Chrome,
    pub form: AdvisoryForm,
    pub problem: Option<String>,
    /// Editing this advisory (a new revision), or writing a new one.
    pub editing: Option<String>,
    /// (section, the author's text with markers resolved, what its fingerprint can do).
    pub preview: Option<Vec<(&'static str, String, String)>>,
}

impl NewPage {
    fn new(session: &forewarn_store::sessions::Session, form: AdvisoryForm, editing: Option<String>) -> Self {
        Self { chrome: Chrome::of(session), form, problem: None, editing, preview: None }
    }

    fn with_problem(mut self, problem: String) -> Self {
        self.problem = Some(problem);
        self
    }
}

/// What each section will look like (the author's text), and how much verbatim text of it names one leaker among
/// `partners` at the program's default error rate — what the CLI prints on save.
fn preview(content: &Content, partners: usize) -> Vec<(&'static str, String, String)> {
    let needed = forewarn_mark::capacity::nats_needed(partners, 1e-6);
    content
        .sections
        .iter()
        .map(|(kind, body)| {
            let capacity = match forewarn_mark::prepare::prepare_with(body, forewarn_mark::Scheme::CURRENT) {
                Ok(p) => {
                    let c = forewarn_mark::capacity::capacity(&p);
                    let reach = match (c.sentences_for(needed), c.lines_for(needed)) {
                        (Some(n), _) => format!("a leaker among {partners} partners is named from about {n} sentences"),
                        (None, Some(n)) => {
                            format!("a leaker among {partners} partners is named from about {n} code lines")
                        }
                        (None, None) => {
                            "no fingerprint points: an excerpt names no one; add {{one|other}} alternatives".into()
                        }
                    };
                    format!("{} fingerprint points ({:.0} bits per 100 words); {reach}", c.slots(), c.per_100_words())
                }
                Err(e) => e.to_string(),
            };
            (
                kind.as_str(),
                crate::markdown::to_html(&forewarn_mark::base_text_with(body, forewarn_mark::Scheme::CURRENT)),
                capacity,
            )
        })
        .collect()
}

/// The form again, with the preview above it; nothing saved.
async fn preview_page(
    s: &AppState,
    session: &forewarn_store::sessions::Session,
    form: AdvisoryForm,
    editing: Option<String>,
    content: &Content,
) -> Response {
    let partners = s.catalogue.latest(&s.store).await.map(|c| c.partners.len()).unwrap_or(1);
    let mut page = NewPage::new(session, form, editing);
    page.preview = Some(preview(content, partners));
    html(StatusCode::OK, &page)
}

impl AdvisoryForm {
    /// The form filled with a stored revision's content.
    fn of(content: &Content) -> Self {
        let meta = &content.meta;
        let section = |k| content.sections.get(k).unwrap_or_default().to_owned();
        Self {
            title: meta.title.clone(),
            cves: meta.cves.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            cwe: meta.cwe.as_ref().map(ToString::to_string).unwrap_or_default(),
            cvss: meta.cvss.as_ref().map(|c| c.vector().to_owned()).unwrap_or_default(),
            products: meta
                .products
                .iter()
                .map(|p| format!("{}: {}", p.name, p.versions.join("; ")))
                .collect::<Vec<_>>()
                .join("\n"),
            summary: section(SectionKind::Summary),
            details: section(SectionKind::Details),
            detection: section(SectionKind::Detection),
            mitigation: section(SectionKind::Mitigation),
            poc: section(SectionKind::Poc),
            ..Self::default()
        }
    }
}

fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

pub async fn new_form(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let session =
        match staff(&s, &headers, None, Some((Role::Author, "Writing advisories needs the author role."))).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    html(StatusCode::OK, &NewPage::new(&session, AdvisoryForm::default(), None))
}

pub async fn create(State(s): State<AppState>, headers: HeaderMap, Form(form): Form<AdvisoryForm>) -> Response {
    let session =
        match staff(&s, &headers, Some(&form.csrf), Some((Role::Author, "Writing advisories needs the author role.")))
            .await
        {
            Ok(x) => x,
            Err(r) => return r,
        };
    let content = match form.content() {
        Ok(c) => c,
        Err(p) => return html(StatusCode::BAD_REQUEST, &NewPage::new(&session, form, None).with_problem(p)),
    };
    if !form.preview.is_empty() {
        return preview_page(&s, &session, form, None, &content).await;
    }
    let now = Timestamp::now();
    let result = async {
        let key = s.store.master_key()?;
        let mut tx = s.store.begin().await?;
        let a = advisories::create(&mut tx, key, None, &content, &session.user.username, now).await?;
        let sections: Vec<&str> = content.sections.kinds().map(|k| k.as_str()).collect();
        audit::record(
            &mut tx,
            now,
            &Actor::Staff(session.user.username.to_string()),
            "advisory.create",
            a.id.as_str(),
            None,
            json!({"revision": 1, "sections": sections, "attachments": 0, "via": "console", "submitted": true}),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, forewarn_store::StoreError>(a)
    }
    .await;
    match result {
        Ok(a) => see_other(&format!("/console/advisories/{}", a.id)),
        Err(e) if e.is_user_error() => {
            html(StatusCode::BAD_REQUEST, &NewPage::new(&session, form, None).with_problem(e.to_string()))
        }
        Err(e) => internal(e),
    }
}

/// The edit form: the newest revision's content, to be saved as a new revision.
pub async fn edit_form(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let session =
        match staff(&s, &headers, None, Some((Role::Author, "Writing advisories needs the author role."))).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Ok(id) = AdvisoryId::parse(&id) else { return problem(&session, StatusCode::NOT_FOUND, "No such advisory.") };
    let result = async {
        let mut conn = s.store.conn().await?;
        let a = advisories::get(&mut conn, &id).await?;
        advisories::revision(&mut conn, s.store.master_key()?, &id, a.current_revision).await
    }
    .await;
    match result {
        Ok(r) => html(StatusCode::OK, &NewPage::new(&session, AdvisoryForm::of(&r.content), Some(id.to_string()))),
        Err(forewarn_store::StoreError::NotFound { .. }) => {
            problem(&session, StatusCode::NOT_FOUND, "No such advisory.")
        }
        Err(e) => internal(e),
    }
}

/// Saves the edit as a new revision, which awaits approval; partners keep the approved one until then. The PoC's
/// attachments are carried over (the console does not upload files: `forewarn advisory edit` does).
pub async fn edit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<AdvisoryForm>,
) -> Response {
    let session =
        match staff(&s, &headers, Some(&form.csrf), Some((Role::Author, "Writing advisories needs the author role.")))
            .await
        {
            Ok(x) => x,
            Err(r) => return r,
        };
    let Ok(id) = AdvisoryId::parse(&id) else { return problem(&session, StatusCode::NOT_FOUND, "No such advisory.") };
    let editing = Some(id.to_string());
    let mut content = match form.content() {
        Ok(c) => c,
        Err(p) => return html(StatusCode::BAD_REQUEST, &NewPage::new(&session, form, editing).with_problem(p)),
    };
    if !form.preview.is_empty() {
        return preview_page(&s, &session, form, editing, &content).await;
    }
    let note = form.note.trim().to_owned();
    if note.is_empty() {
        let p = "Say what changed (the note is kept with the revision).".to_owned();
        return html(StatusCode::BAD_REQUEST, &NewPage::new(&session, form, editing).with_problem(p));
    }
    let now = Timestamp::now();
    let result = async {
        let key = s.store.master_key()?;
        let mut tx = s.store.begin().await?;
        let current = advisories::get(&mut tx, &id).await?;
        let previous = advisories::revision(&mut tx, key, &id, current.current_revision).await?;
        content.attachments = previous.content.attachments;
        let a = advisories::revise(&mut tx, key, &id, &content, &session.user.username, &note, now).await?;
        let detail = json!({"revision": a.current_revision, "via": "console"});
        let actor = Actor::Staff(session.user.username.to_string());
        audit::record(&mut tx, now, &actor, "advisory.edit", id.as_str(), Some(&note), detail).await?;
        tx.commit().await?;
        Ok::<_, forewarn_store::StoreError>(a)
    }
    .await;
    match result {
        Ok(a) => see_other(&format!("/console/advisories/{}", a.id)),
        Err(forewarn_store::StoreError::NotFound { .. }) => {
            problem(&session, StatusCode::NOT_FOUND, "No such advisory.")
        }
        Err(e) if e.is_user_error() => {
            html(StatusCode::BAD_REQUEST, &NewPage::new(&session, form, editing).with_problem(e.to_string()))
        }
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    /// `approve`, `schedule`, `delay`, `break-embargo`.
    action: String,
    /// A Patch Tuesday (`YYYY-MM`) or empty.
    #[serde(default)]
    patch_tuesday: String,
    /// A wall-clock time in program time (`YYYY-MM-DDTHH:MM`) or empty.
    #[serde(default)]
    at: String,
    #[serde(default)]
    reason: String,
    /// For an embargo break: the advisory's id, typed.
    #[serde(default)]
    confirm: String,
}

pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    let session = match staff(
        &s,
        &headers,
        Some(&f.csrf),
        Some((Role::Approver, "Approving and scheduling need the approver role.")),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = AdvisoryId::parse(&id) else { return problem(&session, StatusCode::NOT_FOUND, "No such advisory.") };
    let now = Timestamp::now();
    let calendar = match s
        .catalogue
        .get(&mut *match s.store.conn().await {
            Ok(c) => c,
            Err(e) => return internal(e),
        })
        .await
    {
        Ok(c) => c.policy.calendar(),
        Err(_) => return internal("the catalogue could not be read"),
    };
    let when = || -> Result<Timestamp, String> {
        if let Some((y, m)) = f.patch_tuesday.trim().split_once('-') {
            let (y, m): (i16, i8) = (y.parse().map_err(|_| "bad month")?, m.parse().map_err(|_| "bad month")?);
            return calendar.release_of_month(y, m).ok_or_else(|| "That month has no Patch Tuesday.".to_owned());
        }
        let at = f.at.trim();
        if at.is_empty() {
            return Err("Pick a Patch Tuesday or give a date and time.".into());
        }
        at.parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|d| d.to_zoned(calendar.tz.clone()).ok())
            .map(|z| z.timestamp())
            .ok_or_else(|| "That is not a date and time (YYYY-MM-DDTHH:MM, in program time).".to_owned())
    };
    let reason = f.reason.trim();
    let actor = Actor::Staff(session.user.username.to_string());
    let result: Result<Result<String, String>, forewarn_store::StoreError> = async {
        let mut tx = s.store.begin().await?;
        let outcome = match f.action.as_str() {
            "approve" => {
                let a = advisories::approve(&mut tx, &id, &session.user.username, now).await?;
                let detail = json!({"revision": a.current_revision, "via": "console"});
                audit::record(&mut tx, now, &actor, "advisory.approve", id.as_str(), None, detail).await?;
                Ok(format!("Approved revision {} of {id}.", a.current_revision))
            }
            "schedule" | "delay" | "break-embargo" => {
                let mut a = advisories::get(&mut tx, &id).await?;
                let previous = a.release_at;
                let target = match f.action.as_str() {
                    "break-embargo" if f.confirm.trim() != id.as_str() => {
                        Err(format!("Type {id} to confirm the embargo break."))
                    }
                    "break-embargo" if reason.is_empty() => Err("An embargo break needs a reason.".to_owned()),
                    "break-embargo" => Ok(now),
                    "delay" if reason.is_empty() => Err("A delay needs a reason.".to_owned()),
                    _ => when(),
                };
                match target {
                    Err(p) => Err(p),
                    Ok(t) => match a.schedule(t, (!reason.is_empty()).then_some(reason), now) {
                        Err(e) => Err(e.to_string()),
                        Ok(change) => {
                            advisories::save_lifecycle(&mut tx, &a).await?;
                            let detail = json!({"release_at": t.to_string(),
                                "previous": previous.map(|p| p.to_string()), "via": "console"});
                            let action = format!("advisory.{}", change.as_str());
                            let why = (!reason.is_empty()).then_some(reason);
                            audit::record(&mut tx, now, &actor, &action, id.as_str(), why, detail).await?;
                            Ok(format!("{id} {}.", change.as_str()))
                        }
                    },
                }
            }
            _ => Err("Unknown action.".to_owned()),
        };
        if outcome.is_ok() {
            tx.commit().await?;
        }
        Ok(outcome)
    }
    .await;
    match result {
        Ok(Ok(_)) => see_other(&format!("/console/advisories/{id}")),
        Ok(Err(p)) => problem(&session, StatusCode::BAD_REQUEST, &p),
        Err(forewarn_store::StoreError::NotFound { .. }) => {
            problem(&session, StatusCode::NOT_FOUND, "No such advisory.")
        }
        Err(e) if e.is_user_error() => problem(&session, StatusCode::CONFLICT, &e.to_string()),
        Err(e) => internal(e),
    }
}
