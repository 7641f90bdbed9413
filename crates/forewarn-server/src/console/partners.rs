//! Console pages for partners: the list with filters (country, tier, status), and — for program managers —
//! suspension, reinstatement and revocation with a reason. A change takes effect on the partner's next request
//! (the catalogue is re-read when its version changes) and is recorded in the history like the CLI's and the API's.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use forewarn_core::{PartnerId, PartnerStatus, Role};
use forewarn_store::audit::{self, Actor};
use forewarn_store::partners::{self, PartnerFilter};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::{html, internal, problem, session, staff, Chrome};
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default)]
    country: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    status: String,
}

pub struct PartnerRow {
    pub id: String,
    pub name: String,
    pub country: String,
    pub tier: String,
    pub status: String,
    pub reason: String,
    pub since: String,
    pub since_utc: String,
}

#[derive(Template)]
#[template(path = "console/partners.html")]
pub struct PartnersPage {
    pub chrome: Chrome,
    pub country: String,
    pub tier: String,
    pub status: String,
    pub rows: Vec<PartnerRow>,
    pub total: usize,
    pub notice: Option<String>,
}

pub async fn list(State(s): State<AppState>, headers: HeaderMap, Query(f): Query<Filters>) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    render(&s, &session, f, None, StatusCode::OK).await
}

async fn render(
    s: &AppState,
    session: &forewarn_store::sessions::Session,
    f: Filters,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let all = match partners::list(&mut conn, &PartnerFilter::default()).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let tz = match s.catalogue.get(&mut conn).await {
        Ok(c) => c.policy.timezone.clone(),
        Err(_) => jiff::tz::TimeZone::UTC,
    };
    let total = all.len();
    let wanted = |field: &str, value: &str| value.is_empty() || field.eq_ignore_ascii_case(value.trim());
    let rows = all
        .iter()
        .filter(|p| wanted(p.country.as_str(), &f.country))
        .filter(|p| wanted(p.tier.as_str(), &f.tier))
        .filter(|p| wanted(p.status.as_str(), &f.status))
        .map(|p| PartnerRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            country: p.country.to_string(),
            tier: p.tier.to_string(),
            status: p.status.as_str().to_owned(),
            reason: p.status_reason.clone().unwrap_or_default(),
            since: crate::timeline::local(p.status_changed_at, &tz),
            since_utc: p.status_changed_at.to_string(),
        })
        .collect();
    let page = PartnersPage {
        chrome: Chrome::of(session),
        country: f.country,
        tier: f.tier,
        status: f.status,
        rows,
        total,
        notice,
    };
    html(status, &page)
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    /// `suspend`, `reinstate` or `revoke`.
    action: String,
    #[serde(default)]
    reason: String,
}

pub async fn change_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Response {
    let session = match staff(
        &s,
        &headers,
        Some(&form.csrf),
        Some((Role::ProgramManager, "Changing a partner's status needs the program-manager role.")),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (status, action) = match form.action.as_str() {
        "suspend" => (PartnerStatus::Suspended, "partner.suspend"),
        "reinstate" => (PartnerStatus::Active, "partner.reinstate"),
        "revoke" => (PartnerStatus::Revoked, "partner.revoke"),
        _ => return problem(&session, StatusCode::BAD_REQUEST, "Unknown action."),
    };
    let reason = form.reason.trim();
    if status != PartnerStatus::Active && reason.is_empty() {
        return render(
            &s,
            &session,
            Filters::default(),
            Some("Give a reason: it is recorded in the history and shown to the partner.".into()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let Ok(pid) = PartnerId::parse(&id) else { return problem(&session, StatusCode::NOT_FOUND, "No such partner.") };
    let now = Timestamp::now();
    let reason = (!reason.is_empty()).then_some(reason);
    let result = async {
        let mut tx = s.store.begin().await?;
        let p = partners::set_status(&mut tx, &pid, status, reason, now).await?;
        audit::record(
            &mut tx,
            now,
            &Actor::Staff(session.user.username.to_string()),
            action,
            pid.as_str(),
            reason,
            json!({"status": status.as_str(), "via": "console"}),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, forewarn_store::StoreError>(p)
    }
    .await;
    match result {
        Ok(p) => {
            let notice = format!("{} is now {}.", p.name, p.status.as_str());
            render(&s, &session, Filters::default(), Some(notice), StatusCode::OK).await
        }
        Err(forewarn_store::StoreError::NotFound { .. }) => {
            problem(&session, StatusCode::NOT_FOUND, "No such partner.")
        }
        Err(e) if e.is_user_error() => {
            render(&s, &session, Filters::default(), Some(e.to_string()), StatusCode::CONFLICT).await
        }
        Err(e) => internal(e),
    }
}

pub struct TokenRow {
    pub id: String,
    pub label: String,
    pub created: String,
    pub state: String,
}

pub struct WebhookRow {
    pub event: String,
    pub kind: String,
    pub advisory: String,
    pub state: String,
    pub at: String,
    pub outcome: String,
}

pub struct HistoryRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "console/partner.html")]
pub struct PartnerPage {
    pub chrome: Chrome,
    pub row: PartnerRow,
    pub contacts: String,
    pub flags: String,
    pub agreement: String,
    pub tokens: Vec<TokenRow>,
    /// A token just issued: shown once.
    pub new_token: Option<String>,
    pub webhooks: Vec<WebhookRow>,
    pub history: Vec<HistoryRow>,
    pub notice: Option<String>,
}

async fn partner_page(
    s: &AppState,
    session: &forewarn_store::sessions::Session,
    id: &PartnerId,
    new_token: Option<String>,
    notice: Option<String>,
) -> Response {
    let mut conn = match s.store.conn().await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let p = match partners::find(&mut conn, id).await {
        Ok(Some(p)) => p,
        Ok(None) => return problem(session, StatusCode::NOT_FOUND, "No such partner."),
        Err(e) => return internal(e),
    };
    let tz = match s.catalogue.get(&mut conn).await {
        Ok(c) => c.policy.timezone.clone(),
        Err(_) => jiff::tz::TimeZone::UTC,
    };
    let now = Timestamp::now();
    let local = |t: Timestamp| crate::timeline::local(t, &tz);
    let tokens = match partners::tokens(&mut conn, id).await {
        Ok(t) => t,
        Err(e) => return internal(e),
    };
    let webhooks = match forewarn_store::webhooks::log(&mut conn, id.as_str(), 50).await {
        Ok(w) => w,
        Err(e) => return internal(e),
    };
    let history = match audit::list(&mut conn, Some(id.as_str()), 30).await {
        Ok(h) => h,
        Err(e) => return internal(e),
    };
    let page = PartnerPage {
        chrome: Chrome::of(session),
        row: PartnerRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            country: p.country.to_string(),
            tier: p.tier.to_string(),
            status: p.status.as_str().to_owned(),
            reason: p.status_reason.clone().unwrap_or_default(),
            since: local(p.status_changed_at),
            since_utc: p.status_changed_at.to_string(),
        },
        contacts: p.contacts.join(", "),
        flags: p.flags.iter().cloned().collect::<Vec<_>>().join(", "),
        agreement: p.agreement_expires_at.map_or_else(|| "no end date".to_owned(), local),
        tokens: tokens
            .iter()
            .map(|t| TokenRow {
                id: t.id.to_string(),
                label: t.label.clone(),
                created: local(t.created_at),
                state: match (t.revoked_at, t.expires_at) {
                    (Some(r), _) => format!("revoked {}", local(r)),
                    (None, Some(e)) if e <= now => format!("expired {}", local(e)),
                    (None, Some(e)) => format!("live until {}", local(e)),
                    (None, None) => "live".to_owned(),
                },
            })
            .collect(),
        new_token,
        webhooks: webhooks
            .iter()
            .map(|w| WebhookRow {
                event: w.event_id.clone(),
                kind: w.event_type.clone(),
                advisory: w.advisory_id.clone(),
                state: w.state.clone(),
                at: w.at.map(local).unwrap_or_default(),
                outcome: match (&w.status_code, &w.error) {
                    (Some(code), _) => format!("HTTP {code}"),
                    (None, Some(e)) => e.clone(),
                    (None, None) => String::new(),
                },
            })
            .collect(),
        history: history
            .iter()
            .map(|h| HistoryRow {
                at: local(h.at),
                actor: h.actor.clone(),
                action: h.action.clone(),
                reason: h.reason.clone().unwrap_or_default(),
            })
            .collect(),
        notice,
    };
    html(StatusCode::OK, &page)
}

pub async fn show(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = PartnerId::parse(&id) else { return problem(&session, StatusCode::NOT_FOUND, "No such partner.") };
    partner_page(&s, &session, &id, None, None).await
}

#[derive(Deserialize)]
pub struct RotateForm {
    csrf: String,
    /// Hours the old tokens keep working (0: they stop now).
    #[serde(default)]
    overlap_hours: String,
}

pub async fn rotate(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RotateForm>,
) -> Response {
    let session = match staff(
        &s,
        &headers,
        Some(&f.csrf),
        Some((Role::ProgramManager, "Rotating tokens needs the program-manager role.")),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = PartnerId::parse(&id) else { return problem(&session, StatusCode::NOT_FOUND, "No such partner.") };
    let hours: i64 = match f.overlap_hours.trim() {
        "" => 24,
        h => match h.parse() {
            Ok(n) if (0..=24 * 30).contains(&n) => n,
            _ => return problem(&session, StatusCode::BAD_REQUEST, "The overlap is a number of hours from 0 to 720."),
        },
    };
    let overlap = jiff::SignedDuration::from_hours(hours);
    let now = Timestamp::now();
    let result = async {
        let mut tx = s.store.begin().await?;
        let token = partners::rotate(&mut tx, &id, overlap, None, now).await?;
        audit::record(
            &mut tx,
            now,
            &Actor::Staff(session.user.username.to_string()),
            "partner.token-rotate",
            id.as_str(),
            None,
            json!({"token": token.id.as_str(), "overlap_seconds": overlap.as_secs(), "via": "console"}),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, forewarn_store::StoreError>(token)
    }
    .await;
    match result {
        Ok(token) => {
            let notice = if hours == 0 {
                "New token issued; older tokens stopped working now.".to_owned()
            } else {
                format!("New token issued; older tokens keep working for {hours} hours.")
            };
            partner_page(&s, &session, &id, Some(token.text.to_string()), Some(notice)).await
        }
        Err(forewarn_store::StoreError::NotFound { .. }) => {
            problem(&session, StatusCode::NOT_FOUND, "No such partner.")
        }
        Err(e) if e.is_user_error() => problem(&session, StatusCode::CONFLICT, &e.to_string()),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    name: String,
    country: String,
    tier: String,
    contact: String,
}

pub async fn add(State(s): State<AppState>, headers: HeaderMap, Form(f): Form<AddForm>) -> Response {
    let session = match staff(
        &s,
        &headers,
        Some(&f.csrf),
        Some((Role::ProgramManager, "Adding partners needs the program-manager role.")),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let new = match partners::NewPartner::new(
        f.name.trim(),
        None,
        f.country.trim(),
        f.tier.trim(),
        &[f.contact.trim().to_owned()],
        &[],
    ) {
        Ok(n) => n,
        Err(e) => return render(&s, &session, Filters::default(), Some(e.to_string()), StatusCode::BAD_REQUEST).await,
    };
    let now = Timestamp::now();
    let result = async {
        let mut tx = s.store.begin().await?;
        let p = partners::insert(&mut tx, &new, now).await?;
        let token = partners::issue(&mut tx, &p.id, "initial", None, now).await?;
        audit::record(
            &mut tx,
            now,
            &Actor::Staff(session.user.username.to_string()),
            "partner.add",
            p.id.as_str(),
            None,
            json!({"name": p.name, "country": p.country.as_str(), "tier": p.tier.as_str(),
                "token": token.id.as_str(), "via": "console"}),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, forewarn_store::StoreError>((p, token))
    }
    .await;
    match result {
        Ok((p, token)) => {
            let notice = format!("Added {}. Give them the API token below: it is shown only now.", p.name);
            partner_page(&s, &session, &p.id, Some(token.text.to_string()), Some(notice)).await
        }
        Err(e) if e.is_user_error() => {
            render(&s, &session, Filters::default(), Some(e.to_string()), StatusCode::BAD_REQUEST).await
        }
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
pub struct EditForm {
    csrf: String,
    country: String,
    tier: String,
    /// One address per line or comma-separated.
    contacts: String,
    /// Program-defined markers such as `probation`, comma-separated.
    #[serde(default)]
    flags: String,
}

/// Changes a partner's country, tier, contacts and flags (program managers). A change of tier or country changes
/// what it sees from its next request on, like any catalogue change; the history records before and after.
pub async fn edit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<EditForm>,
) -> Response {
    let session = match staff(
        &s,
        &headers,
        Some(&f.csrf),
        Some((Role::ProgramManager, "Editing partners needs the program-manager role.")),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = PartnerId::parse(&id) else { return problem(&session, StatusCode::NOT_FOUND, "No such partner.") };
    let list = |text: &str| -> Vec<String> {
        text.split([',', '\n']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
    };
    let now = Timestamp::now();
    let result = async {
        let mut tx = s.store.begin().await?;
        let mut p = partners::get(&mut tx, &id).await?;
        let before =
            json!({"country": p.country.as_str(), "tier": p.tier.as_str(), "contacts": p.contacts, "flags": p.flags});
        // Validated as a new partner's fields are: a bad value is refused and nothing changes.
        let checked = partners::NewPartner::new(
            &p.name,
            Some(id.as_str()),
            &f.country,
            &f.tier,
            &list(&f.contacts),
            &list(&f.flags),
        )?;
        p.country = checked.country;
        p.tier = checked.tier;
        p.contacts = checked.contacts;
        p.flags = checked.flags;
        partners::update(&mut tx, &p, now).await?;
        let after =
            json!({"country": p.country.as_str(), "tier": p.tier.as_str(), "contacts": p.contacts, "flags": p.flags});
        let detail = json!({"before": before, "after": after, "via": "console"});
        let actor = Actor::Staff(session.user.username.to_string());
        audit::record(&mut tx, now, &actor, "partner.edit", id.as_str(), None, detail).await?;
        tx.commit().await?;
        Ok::<_, forewarn_store::StoreError>(())
    }
    .await;
    match result {
        Ok(()) => partner_page(&s, &session, &id, None, Some("Saved.".into())).await,
        Err(forewarn_store::StoreError::NotFound { .. }) => {
            problem(&session, StatusCode::NOT_FOUND, "No such partner.")
        }
        Err(e) if e.is_user_error() => problem(&session, StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => internal(e),
    }
}
