//! The partner API and the CSAF provider. Each handler authenticates the partner (an extractor), asks
//! `delivery` for the view and the copy, records the delivery in the same transaction, and only then answers.

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use forewarn_core::{AdvisoryId, PartnerId};
use forewarn_render::{csaf, Personalised};
use forewarn_store::deliveries::Channel;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};

use crate::auth::ActivePartner;
use crate::delivery::{copy_for, listing};
use crate::dto::{
    AdvisoryCopy, AdvisoryList, ErrorBody, Fingerprint, Links, ListedAdvisory, OpenPgpKey, Upcoming, WebhookDelivery,
    WebhookInfo, WebhookRegistered, WebhookRequest,
};
use crate::{ApiError, AppState};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_bytes(v: &Value) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    b
}

fn respond(bytes: Vec<u8>, content_type: &'static str) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    r
}

/// The JSON form of a copy.
pub fn copy_json(c: &Personalised) -> Value {
    serde_json::to_value(AdvisoryCopy::from(c)).unwrap_or(Value::Null)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only advisories whose copy changed after this instant (RFC 3339).
    updated_since: Option<String>,
}

/// Advisories visible to the caller now, each with the sections visible and the schedule of sections to come.
#[utoipa::path(get, path = "/api/v1/advisories", tag = "partner", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = AdvisoryList), (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ActivePartner(partner, current): ActivePartner,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let since = match q.updated_since.as_deref() {
        Some(t) => Some(t.parse::<Timestamp>().map_err(|_| {
            ApiError::BadRequest("updated_since must be an RFC 3339 time such as 2026-12-01T00:00:00Z".into())
        })?),
        None => None,
    };
    let now = Timestamp::now();
    let mut conn = s.store.conn().await?;
    let advisories: Vec<ListedAdvisory> = listing(&s.store, &s.content, &mut conn, &current, &partner, now)
        .await?
        .into_iter()
        .filter(|l| since.is_none_or(|since| l.updated > since))
        .map(|l| {
            let id = l.published.advisory.id.to_string();
            ListedAdvisory {
                title: l.published.outline.meta.title.clone(),
                release_at: l.published.advisory.release_at.map(|t| t.to_string()),
                released: l.published.advisory.release_at.is_some_and(|t| t <= now),
                revision: l.published.outline.number,
                sections: l.view.visible.iter().map(|k| k.as_str().to_owned()).collect(),
                upcoming: l
                    .view
                    .upcoming
                    .iter()
                    .map(|(k, t)| Upcoming { section: k.as_str().to_owned(), visible_from: t.to_string() })
                    .collect(),
                updated: l.updated.to_string(),
                links: Links {
                    self_: format!("/api/v1/advisories/{id}"),
                    csaf: format!("/api/v1/advisories/{id}/csaf"),
                },
                id,
            }
        })
        .collect();
    let body = json_bytes(&serde_json::to_value(AdvisoryList { advisories }).unwrap_or(Value::Null));
    let etag = format!("\"{}\"", &hex(&Sha256::digest(&body))[..32]);
    if headers.get(IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|e| e.trim() == etag))
    {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(ETAG, HeaderValue::from_str(&etag).map_err(|_| ApiError::Internal)?);
        return Ok(r);
    }
    let mut r = respond(body, "application/json");
    r.headers_mut().insert(ETAG, HeaderValue::from_str(&etag).map_err(|_| ApiError::Internal)?);
    Ok(r)
}

/// Renders a copy with `render`, records its delivery durably, and only then returns the bytes; 404 when the copy
/// does not exist. The view is decided on a read connection; the record is group-committed (`recorder`), and the
/// caller waits for its own record to be durable before anything is sent.
async fn deliver(
    s: &AppState,
    current: &crate::delivery::Current,
    partner: &forewarn_core::Partner,
    id: &str,
    channel: Channel,
    render: impl FnOnce(&Personalised) -> Result<Vec<u8>, ApiError>,
) -> Result<Vec<u8>, ApiError> {
    let now = Timestamp::now();
    let mut conn = s.store.conn().await?;
    let copy = copy_for(&s.store, &s.content, &mut conn, current, partner, id, now).await?.ok_or(ApiError::NotFound)?;
    drop(conn);
    // A rendering failure records nothing: no copy was made.
    let bytes = render(&copy)?;
    let record = crate::recorder::Record {
        at: now,
        partner: PartnerId::parse(&copy.partner_id).map_err(|_| ApiError::Internal)?,
        advisory: AdvisoryId::parse(&copy.advisory_id).map_err(|_| ApiError::Internal)?,
        revision: copy.revision,
        sections: copy.sections.iter().map(|(k, _)| *k).collect(),
        channel,
        digest: hex(&Sha256::digest(&bytes)),
    };
    s.recorder.record(record).await.map_err(|e| {
        tracing::error!(error = %e, "a delivery could not be recorded; the copy is not sent");
        ApiError::Internal
    })?;
    Ok(bytes)
}

/// The caller's copy of one advisory, sections as Markdown.
#[utoipa::path(get, path = "/api/v1/advisories/{id}", tag = "partner", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AdvisoryCopy), (status = 404, description = "Unknown, or not visible to the caller yet (identical answers)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ActivePartner(partner, current): ActivePartner,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let bytes = deliver(&s, &current, &partner, &id, Channel::Api, |c| Ok(json_bytes(&copy_json(c)))).await?;
    Ok(respond(bytes, "application/json"))
}

/// The caller's copy of one advisory as a CSAF 2.0 document.
#[utoipa::path(get, path = "/api/v1/advisories/{id}/csaf", tag = "partner", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "A CSAF 2.0 csaf_security_advisory document", content_type = "application/json", body = Object),
        (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_csaf(
    State(s): State<AppState>,
    ActivePartner(partner, current): ActivePartner,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let publisher = s.program.publisher.clone();
    let bytes =
        deliver(&s, &current, &partner, &id, Channel::Csaf, |c| Ok(json_bytes(&csaf::document(c, &publisher)))).await?;
    Ok(respond(bytes, "application/json"))
}

// --- CSAF provider ------------------------------------------------------------------------------------------------

const FEED: &str = "/.well-known/csaf/tlp-amber/feed-tlp-amber.json";

/// Public: the provider's metadata (CSAF 2.0 section 7.1.7).
#[utoipa::path(get, path = "/.well-known/csaf/provider-metadata.json", tag = "csaf",
    responses((status = 200, description = "provider-metadata.json", content_type = "application/json", body = Object)))]
pub async fn provider_metadata(State(s): State<AppState>) -> Response {
    let base = &s.program.public_url;
    let doc = json!({
        "canonical_url": format!("{base}/.well-known/csaf/provider-metadata.json"),
        "distributions": [{"rolie": {"feeds": [{
            "summary": "TLP:AMBER advisories of this program, personalised for each partner; the bearer token of a partner is required",
            "tlp_label": "AMBER",
            "url": format!("{base}{FEED}"),
        }]}}],
        "last_updated": s.program.started_at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "list_on_CSAF_aggregators": false,
        "mirror_on_CSAF_aggregators": false,
        "metadata_version": "2.0",
        "publisher": {"category": "vendor", "name": s.program.publisher.name, "namespace": s.program.publisher.namespace},
        "role": "csaf_provider",
        "public_openpgp_keys": [{
            "fingerprint": s.program.signing_key.fingerprint(),
            "url": format!("{base}/.well-known/csaf/openpgp/{}.asc", s.program.signing_key.fingerprint()),
        }],
    });
    let mut r = (StatusCode::OK, json_bytes(&doc)).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn doc_path(year: i16, id: &str) -> String {
    format!("/.well-known/csaf/tlp-amber/{year}/{}", csaf::filename(id))
}

/// The caller's ROLIE feed: exactly the advisories it may see, `updated` when its copy last changed.
#[utoipa::path(get, path = "/.well-known/csaf/tlp-amber/feed-tlp-amber.json", tag = "csaf", security(("bearer" = [])),
    responses((status = 200, description = "A ROLIE feed", content_type = "application/json", body = Object), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn feed(
    State(s): State<AppState>,
    ActivePartner(partner, current): ActivePartner,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let base = &s.program.public_url;
    let mut conn = s.store.conn().await?;
    let listed = listing(&s.store, &s.content, &mut conn, &current, &partner, now).await?;
    let mut newest = s.program.started_at;
    let entries: Vec<Value> = listed
        .iter()
        .map(|l| {
            newest = newest.max(l.updated);
            let id = l.published.advisory.id.as_str();
            let first = l.view.decisions.iter().filter_map(|d| d.visibility.time()).filter(|t| *t <= now).min().unwrap_or(l.updated);
            let url = format!("{base}{}", doc_path(first.to_zoned(jiff::tz::TimeZone::UTC).year(), id));
            json!({
                "id": id,
                "title": l.published.outline.meta.title,
                "link": [
                    {"rel": "self", "href": url},
                    {"rel": "hash", "href": format!("{url}.sha256")},
                    {"rel": "hash", "href": format!("{url}.sha512")},
                    {"rel": "signature", "href": format!("{url}.asc")},
                ],
                "published": first.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "updated": l.updated.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "content": {"type": "application/json", "src": url},
                "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"},
            })
        })
        .collect();
    let doc = json!({"feed": {
        "id": format!("forewarn-tlp-amber-{}", partner.id),
        "title": format!("TLP:AMBER advisories for {}", partner.name),
        "link": [{"rel": "self", "href": format!("{base}{FEED}")}],
        "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
        "updated": newest.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "entry": entries,
    }});
    Ok(respond(json_bytes(&doc), "application/json"))
}

/// A document of the feed, or its `.sha256` / `.sha512` / `.asc`.
#[utoipa::path(get, path = "/.well-known/csaf/tlp-amber/{year}/{file}", tag = "csaf", security(("bearer" = [])),
    params(("year" = String, Path), ("file" = String, Path, description = "`<name>.json`, or that with `.sha256`, `.sha512` or `.asc` appended")),
    responses((status = 200, description = "The document, its hash, or its detached OpenPGP signature"), (status = 404, body = ErrorBody)))]
/// A document of the feed, or its `.sha256` / `.sha512`. The hashes are of exactly the bytes the document URL
/// serves (the document changes only when the partner's copy does).
pub async fn feed_document(
    State(s): State<AppState>,
    ActivePartner(partner, current): ActivePartner,
    Path((year, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (name, hash) = if let Some(n) = file.strip_suffix(".sha256") {
        (n, Some(256))
    } else if let Some(n) = file.strip_suffix(".sha512") {
        (n, Some(512))
    } else if let Some(n) = file.strip_suffix(".asc") {
        (n, Some(0))
    } else {
        (file.as_str(), None)
    };
    let now = Timestamp::now();
    let mut conn = s.store.conn().await?;
    let listed = listing(&s.store, &s.content, &mut conn, &current, &partner, now).await?;
    drop(conn);
    let Some(entry) = listed.iter().find(|l| csaf::filename(l.published.advisory.id.as_str()) == name) else {
        return Err(ApiError::NotFound);
    };
    // The year folder is that of the copy's initial release, as in the feed.
    let first = entry.view.decisions.iter().filter_map(|d| d.visibility.time()).filter(|t| *t <= now).min();
    if first.map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).year().to_string()) != Some(year) {
        return Err(ApiError::NotFound);
    }
    let id = entry.published.advisory.id.to_string();
    let publisher = s.program.publisher.clone();
    let render = |c: &Personalised| json_bytes(&csaf::document(c, &publisher));
    let bytes = match hash {
        // Hash files are not content: computed from the same rendering, not recorded as a delivery.
        Some(bits) => {
            let mut conn = s.store.conn().await?;
            let copy = copy_for(&s.store, &s.content, &mut conn, &current, &partner, &id, now)
                .await?
                .ok_or(ApiError::NotFound)?;
            let doc = render(&copy);
            if bits == 0 {
                let sig = s.program.signing_key.sign_detached(&doc).map_err(|e| {
                    tracing::error!(error = %e, "signing failed");
                    ApiError::Internal
                })?;
                return Ok(respond(sig.into_bytes(), "application/pgp-signature"));
            }
            let digest = if bits == 256 { hex(&Sha256::digest(&doc)) } else { hex(&Sha512::digest(&doc)) };
            return Ok(respond(format!("{digest}  {name}\n").into_bytes(), "text/plain; charset=utf-8"));
        }
        None => deliver(&s, &current, &partner, &id, Channel::Csaf, |c| Ok(render(c))).await?,
    };
    Ok(respond(bytes, "application/json"))
}

// --- OpenPGP -------------------------------------------------------------------------------------------------------

/// Public: the program's OpenPGP key, at the URL provider-metadata.json names.
#[utoipa::path(get, path = "/.well-known/csaf/openpgp/{file}", tag = "csaf", params(("file" = String, Path, description = "`<FINGERPRINT>.asc`")),
    responses((status = 200, description = "Armored OpenPGP public key", content_type = "application/pgp-keys"), (status = 404, body = ErrorBody)))]
pub async fn program_public_key(State(s): State<AppState>, Path(file): Path<String>) -> Result<Response, ApiError> {
    let key = &s.program.signing_key;
    if file != format!("{}.asc", key.fingerprint()) {
        return Err(ApiError::NotFound);
    }
    let text = key.public_armored().map_err(|_| ApiError::Internal)?;
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/pgp-keys"));
    Ok(r)
}

#[utoipa::path(get, path = "/api/v1/advisories/{id}/bundle", tag = "partner", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "Armored OpenPGP message: signed, encrypted to the caller's key, holding a tar of the CSAF document and visible PoC attachments", content_type = "application/pgp-encrypted"),
        (status = 409, description = "No OpenPGP key registered", body = ErrorBody), (status = 404, body = ErrorBody)))]
/// The caller's copy as an OpenPGP message signed by the program and encrypted to the caller's registered key:
/// a tar archive of the CSAF document and, when the PoC is visible, its attachments. 409 without a registered key —
/// never an unencrypted fallback.
pub async fn get_bundle(
    State(s): State<AppState>,
    ActivePartner(partner, current): ActivePartner,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let mut conn = s.store.conn().await?;
    let armored = forewarn_store::partners::openpgp_key(&mut conn, &partner.id).await?;
    drop(conn);
    // 404 comes before 409: whether the advisory exists for the caller is decided first.
    let now = Timestamp::now();
    {
        let mut conn = s.store.conn().await?;
        let probe = listing(&s.store, &s.content, &mut conn, &current, &partner, now).await?;
        if !probe.iter().any(|l| l.published.advisory.id.as_str() == id) {
            return Err(ApiError::NotFound);
        }
    }
    let Some(armored) = armored else {
        return Err(ApiError::Conflict(
            "no OpenPGP key is registered for your organisation; PUT one to /api/v1/me/openpgp-key first".into(),
        ));
    };
    let recipient = forewarn_openpgp::PartnerKey::parse(armored.as_bytes()).map_err(|e| {
        tracing::error!(partner = %partner.id, error = %e, "stored partner key no longer parses");
        ApiError::Internal
    })?;
    let publisher = s.program.publisher.clone();
    let signer = s.program.signing_key.clone();
    let bytes = deliver(&s, &current, &partner, &id, Channel::Bundle, |c| {
        let doc = json_bytes(&csaf::document(c, &publisher));
        let mut files = vec![(csaf::filename(&c.advisory_id), doc)];
        files.extend(c.attachments.iter().map(|a| (format!("poc/{}", a.name), a.bytes.clone())));
        forewarn_openpgp::tar(&files, c.updated().as_second())
            .map_err(|e| e.to_string())
            .and_then(|t| signer.encrypt_and_sign(&recipient, "bundle.tar", t).map_err(|e| e.to_string()))
            .map(String::into_bytes)
            .map_err(|e| {
                tracing::error!(error = %e, "bundle could not be built");
                ApiError::Internal
            })
    })
    .await?;
    Ok(respond(bytes, "application/pgp-encrypted"))
}

/// The caller's registered OpenPGP key.
#[utoipa::path(get, path = "/api/v1/me/openpgp-key", tag = "partner", security(("bearer" = [])),
    responses((status = 200, body = OpenPgpKey), (status = 404, description = "None registered", body = ErrorBody)))]
pub async fn get_key(
    State(s): State<AppState>,
    ActivePartner(partner, _): ActivePartner,
) -> Result<Response, ApiError> {
    let mut conn = s.store.conn().await?;
    let Some(armored) = forewarn_store::partners::openpgp_key(&mut conn, &partner.id).await? else {
        return Err(ApiError::NotFound);
    };
    let fingerprint =
        forewarn_openpgp::PartnerKey::parse(armored.as_bytes()).map(|k| k.fingerprint()).unwrap_or_default();
    Ok(respond(
        json_bytes(&serde_json::to_value(OpenPgpKey { fingerprint, key: armored }).unwrap_or(Value::Null)),
        "application/json",
    ))
}

#[utoipa::path(put, path = "/api/v1/me/openpgp-key", tag = "partner", security(("bearer" = [])),
    request_body(content = String, description = "Armored (or binary) OpenPGP certificate that can encrypt", content_type = "application/pgp-keys"),
    responses((status = 200, body = Fingerprint), (status = 400, body = ErrorBody)))]
/// Registers (replaces) the caller's OpenPGP key: an armored or binary certificate that can encrypt.
pub async fn put_key(
    State(s): State<AppState>,
    ActivePartner(partner, _): ActivePartner,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let key = forewarn_openpgp::PartnerKey::parse(&body).map_err(|e| ApiError::BadRequest(format!("{e}")))?;
    let armored = key.to_armored().map_err(|_| ApiError::Internal)?;
    let now = Timestamp::now();
    let mut tx = s.store.begin().await?;
    forewarn_store::partners::set_openpgp_key(&mut tx, &partner.id, Some(&armored), now).await?;
    forewarn_store::audit::record(
        &mut tx,
        now,
        &forewarn_store::audit::Actor::Partner(partner.id.to_string()),
        "partner.openpgp-key",
        partner.id.as_str(),
        None,
        json!({"fingerprint": key.fingerprint()}),
    )
    .await?;
    tx.commit().await.map_err(forewarn_store::StoreError::from)?;
    Ok(respond(
        json_bytes(&serde_json::to_value(Fingerprint { fingerprint: key.fingerprint() }).unwrap_or(Value::Null)),
        "application/json",
    ))
}

// --- Webhook self-service ------------------------------------------------------------------------------------------

#[utoipa::path(put, path = "/api/v1/me/webhook", tag = "partner", security(("bearer" = [])), request_body = WebhookRequest,
    responses((status = 200, body = WebhookRegistered), (status = 400, body = ErrorBody)))]
/// Registers (replaces) the caller's endpoint; answers with the new signing secret, shown this once.
pub async fn put_webhook(
    State(s): State<AppState>,
    ActivePartner(partner, _): ActivePartner,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // Parsed by hand so that a missing Content-Type or a malformed body gets our error format and a sentence.
    let req: WebhookRequest = serde_json::from_slice(&body).map_err(|_| {
        ApiError::BadRequest(r#"send JSON such as {"url": "http://hooks.example.com/forewarn"}"#.into())
    })?;
    crate::webhooks::check_url(&req.url).map_err(ApiError::BadRequest)?;
    let secret = crate::webhooks::new_secret()?;
    let now = Timestamp::now();
    let mut tx = s.store.begin().await?;
    forewarn_store::webhooks::set_endpoint(&mut tx, s.store.master_key()?, &partner.id, &req.url, &secret, now).await?;
    forewarn_store::audit::record(
        &mut tx,
        now,
        &forewarn_store::audit::Actor::Partner(partner.id.to_string()),
        "partner.webhook",
        partner.id.as_str(),
        None,
        json!({"url": req.url}),
    )
    .await?;
    tx.commit().await.map_err(forewarn_store::StoreError::from)?;
    Ok(respond(
        json_bytes(&serde_json::to_value(WebhookRegistered { url: req.url, secret }).unwrap_or(Value::Null)),
        "application/json",
    ))
}

/// The caller's endpoint and its recent deliveries.
#[utoipa::path(get, path = "/api/v1/me/webhook", tag = "partner", security(("bearer" = [])),
    responses((status = 200, body = WebhookInfo), (status = 404, description = "None registered", body = ErrorBody)))]
pub async fn get_webhook(
    State(s): State<AppState>,
    ActivePartner(partner, _): ActivePartner,
) -> Result<Response, ApiError> {
    let mut conn = s.store.conn().await?;
    let Some(endpoint) =
        forewarn_store::webhooks::endpoint(&mut conn, s.store.master_key()?, partner.id.as_str()).await?
    else {
        return Err(ApiError::NotFound);
    };
    let log = forewarn_store::webhooks::log(&mut conn, partner.id.as_str(), 100).await?;
    let hint: String = endpoint.secret.chars().take(10).collect();
    let info = WebhookInfo {
        url: endpoint.url.clone(),
        secret_hint: format!("{hint}…"),
        deliveries: log
            .into_iter()
            .map(|l| WebhookDelivery {
                webhook_id: l.event_id,
                type_: l.event_type,
                advisory_id: l.advisory_id,
                state: l.state,
                attempted_at: l.at.map(|t| t.to_string()),
                status_code: l.status_code,
                error: l.error,
            })
            .collect(),
    };
    Ok(respond(json_bytes(&serde_json::to_value(info).unwrap_or(Value::Null)), "application/json"))
}
