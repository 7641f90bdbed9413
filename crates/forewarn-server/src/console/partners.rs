//! Console pages for partners: the list with filters (country, tier, status), and — for program managers —
//! suspension, reinstatement and revocation with a reason. A change takes effect on the partner's next request
//! (the catalogue is re-read when its version changes) and is recorded in the history like the CLI's and the API's.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use forewarn_core::{PartnerId, PartnerStatus, Role};
use forewarn_store::audit::{self, Actor};
use forewarn_store::partners::{self, PartnerFilter};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::{has, html, internal, problem, session, Chrome};
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
    let session = match session(&s, &headers).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if form.csrf != session.csrf {
        return (StatusCode::FORBIDDEN, "the form's CSRF token does not match your session; reload the page")
            .into_response();
    }
    if !has(&session, Role::ProgramManager) {
        return problem(&session, StatusCode::FORBIDDEN, "Changing a partner's status needs the program-manager role.");
    }
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
