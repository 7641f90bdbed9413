//! The admin API for staff tools (`/api/v1/admin/...`), authenticated by staff tokens with roles. Partners can
//! never reach it: the `Require` extractor refuses partner tokens. Every change is recorded in the history with the
//! staff user as the actor.

use axum::extract::{Path, Query, State};
use axum::Json;
use forewarn_core::{AdvisoryId, PartnerId, PartnerStatus, SectionKind};
use forewarn_policy::decide;
use forewarn_store::audit::{self, Actor};
use forewarn_store::partners::{self, PartnerFilter};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use crate::auth::{ProgramManager, RecordReader, Require};
use crate::dto::{AdminPartner, DeliveryRecord, ErrorBody, Explanation, StatusChange};
use crate::{ApiError, AppState};

/// Every partner.
#[utoipa::path(get, path = "/api/v1/admin/partners", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<AdminPartner>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_partners(
    State(s): State<AppState>,
    _: Require<ProgramManager>,
) -> Result<Json<Vec<AdminPartner>>, ApiError> {
    let mut conn = s.store.conn().await?;
    let list = partners::list(&mut conn, &PartnerFilter::default()).await?;
    Ok(Json(list.iter().map(AdminPartner::from).collect()))
}

async fn change_status(
    s: &AppState,
    who: &forewarn_store::users::StaffUser,
    id: &str,
    status: PartnerStatus,
    reason: Option<&str>,
) -> Result<Json<AdminPartner>, ApiError> {
    let id = PartnerId::parse(id).map_err(|_| ApiError::NotFound)?;
    let now = Timestamp::now();
    let mut tx = s.store.begin().await?;
    let p = match partners::set_status(&mut tx, &id, status, reason, now).await {
        Ok(p) => p,
        Err(forewarn_store::StoreError::NotFound { .. }) => return Err(ApiError::NotFound),
        Err(e) if e.is_user_error() => return Err(ApiError::Conflict(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let action = if status == PartnerStatus::Active { "partner.reinstate" } else { "partner.suspend" };
    audit::record(
        &mut tx,
        now,
        &Actor::Staff(who.username.to_string()),
        action,
        id.as_str(),
        reason,
        json!({"status": status.as_str(), "via": "api"}),
    )
    .await?;
    tx.commit().await.map_err(forewarn_store::StoreError::from)?;
    Ok(Json(AdminPartner::from(&p)))
}

/// Suspends a partner; it is refused from its next request on.
#[utoipa::path(post, path = "/api/v1/admin/partners/{id}/suspend", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = StatusChange,
    responses((status = 200, body = AdminPartner), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn suspend(
    State(s): State<AppState>,
    Require(who, _): Require<ProgramManager>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<AdminPartner>, ApiError> {
    let req: StatusChange = serde_json::from_slice(&body)
        .map_err(|_| ApiError::BadRequest(r#"send JSON such as {"reason": "leak investigation"}"#.into()))?;
    change_status(&s, &who, &id, PartnerStatus::Suspended, Some(&req.reason)).await
}

/// Reinstates a suspended partner.
#[utoipa::path(post, path = "/api/v1/admin/partners/{id}/reinstate", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AdminPartner), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reinstate(
    State(s): State<AppState>,
    Require(who, _): Require<ProgramManager>,
    Path(id): Path<String>,
) -> Result<Json<AdminPartner>, ApiError> {
    change_status(&s, &who, &id, PartnerStatus::Active, None).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DeliveryQuery {
    partner: Option<String>,
    advisory: Option<String>,
    limit: Option<i64>,
}

/// The record of copies delivered, newest first.
#[utoipa::path(get, path = "/api/v1/admin/deliveries", tag = "admin", security(("bearer" = [])), params(DeliveryQuery),
    responses((status = 200, body = Vec<DeliveryRecord>), (status = 403, body = ErrorBody)))]
pub async fn deliveries(
    State(s): State<AppState>,
    _: Require<RecordReader>,
    Query(q): Query<DeliveryQuery>,
) -> Result<Json<Vec<DeliveryRecord>>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be between 1 and 10000".into()));
    }
    let mut conn = s.store.conn().await?;
    let list = forewarn_store::deliveries::list(&mut conn, q.partner.as_deref(), q.advisory.as_deref(), limit).await?;
    Ok(Json(list.iter().map(DeliveryRecord::from).collect()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExplainQuery {
    partner: String,
    /// RFC 3339; default now.
    at: Option<String>,
}

/// What a partner sees of an advisory, when, and why (the same decisions the delivery paths use).
#[utoipa::path(get, path = "/api/v1/admin/advisories/{id}/explain", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path), ExplainQuery),
    responses((status = 200, body = Explanation), (status = 404, body = ErrorBody), (status = 400, body = ErrorBody)))]
pub async fn explain(
    State(s): State<AppState>,
    _: Require<ProgramManager>,
    Path(id): Path<String>,
    Query(q): Query<ExplainQuery>,
) -> Result<Json<Explanation>, ApiError> {
    let now = match q.at.as_deref() {
        Some(t) => t.parse().map_err(|_| ApiError::BadRequest("at must be an RFC 3339 time".into()))?,
        None => Timestamp::now(),
    };
    let aid = AdvisoryId::parse(&id).map_err(|_| ApiError::NotFound)?;
    let pid = PartnerId::parse(&q.partner).map_err(|_| ApiError::NotFound)?;
    let mut conn = s.store.conn().await?;
    let current = s.catalogue.get(&mut conn).await?;
    let partner = partners::find(&mut conn, &pid).await?.ok_or(ApiError::NotFound)?;
    let advisory = forewarn_store::advisories::find(&mut conn, &aid).await?.ok_or(ApiError::NotFound)?;
    let number = advisory.approved_revision.unwrap_or(advisory.current_revision);
    let outline = forewarn_store::advisories::outline(&mut conn, s.store.master_key()?, &aid, number).await?;
    let facts =
        forewarn_policy::AdvisoryFacts { advisory: &advisory, meta: &outline.meta, sections: &outline.sections };
    let decisions =
        SectionKind::ALL.into_iter().map(|k| decide(&current.policy, &partner, &facts, k, now)).collect::<Vec<_>>();
    Ok(Json(Explanation {
        partner: partner.id.to_string(),
        advisory: aid.to_string(),
        at: now.to_string(),
        release_at: advisory.release_at.map(|t| t.to_string()),
        decisions: decisions.iter().map(|d| crate::dto::decision_json(d, now)).collect(),
    }))
}

/// A leak investigation: the leaked material (text of any form), and optionally when it was first seen.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct InvestigationRequest {
    /// One or more pieces of leaked material believed to share a source.
    pub leaks: Vec<String>,
    /// RFC 3339: the evidence then says who held each matched section before this time.
    pub first_seen: Option<String>,
    /// Program-wide false-accusation probability (default 1e-6).
    pub error: Option<f64>,
}

/// Traces leaked material to the partner whose copy it came from (investigator role). The report names a partner
/// only when the bound on an innocent scoring as high is within the error divided over all partners; otherwise it
/// says that no partner can be named. Recorded in the history (with the leaks' SHA-256, never their text).
#[utoipa::path(post, path = "/api/v1/admin/investigations", tag = "admin", security(("bearer" = [])),
    request_body = InvestigationRequest,
    responses((status = 200, description = "The report", body = Object), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn investigate(
    State(s): State<AppState>,
    Require(who, _): Require<crate::auth::Investigator>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req: InvestigationRequest = serde_json::from_slice(&body).map_err(|_| {
        ApiError::BadRequest(
            r#"send JSON such as {"leaks": ["the leaked text"], "first_seen": "2026-12-01T00:00:00Z"}"#.into(),
        )
    })?;
    if req.leaks.is_empty() || req.leaks.iter().all(|l| l.trim().is_empty()) {
        return Err(ApiError::BadRequest("give at least one non-empty leak".into()));
    }
    let error = req.error.unwrap_or(crate::investigate::DEFAULT_ERROR);
    if !(error > 0.0 && error < 1.0) {
        return Err(ApiError::BadRequest("error must be a probability between 0 and 1, such as 1e-6".into()));
    }
    let first_seen =
        req.first_seen.as_deref().map(|t| t.parse::<Timestamp>()).transpose().map_err(|_| {
            ApiError::BadRequest("first_seen must be an RFC 3339 time such as 2026-12-01T00:00:00Z".into())
        })?;
    let found =
        crate::investigate::investigate(&s.store, &s.program.fingerprint_key, &req.leaks, first_seen, error, |_| {})
            .await?;
    let mut tx = s.store.begin().await?;
    audit::record(
        &mut tx,
        Timestamp::now(),
        &Actor::Staff(who.username.to_string()),
        "investigation.trace",
        "leak",
        None,
        crate::investigate::history_detail(&found),
    )
    .await?;
    tx.commit().await.map_err(forewarn_store::StoreError::from)?;
    Ok(Json(serde_json::to_value(&found).map_err(|_| ApiError::Internal)?))
}
