//! The partner API and the CSAF provider. Each content handler runs through [`serve`]: it authenticates the
//! caller and asks `delivery` for the view and the copy on the latest catalogue snapshot, then has the decision
//! confirmed at the commit point (`recorder`), which writes the delivery record in the same transaction as it checks
//! that the snapshot was current — and only then answers.

use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use forewarn_core::{hex, AdvisoryId, PartnerId};
use forewarn_render::{csaf, Personalised};
use forewarn_store::deliveries::Channel;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};

use crate::auth::{ActivePartner, Caller};
use crate::delivery::{copy_for, listing, Current};
use crate::dto::{
    AdvisoryCopy, AdvisoryList, ErrorBody, Fingerprint, Links, ListedAdvisory, OpenPgpKey, Upcoming, WebhookDelivery,
    WebhookInfo, WebhookRegistered, WebhookRequest,
};
use crate::recorder::{Confirm, Record};
use crate::{ApiError, AppState};

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
    caller: Caller,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let since = match q.updated_since.as_deref() {
        Some(t) => Some(t.parse::<Timestamp>().map_err(|_| {
            ApiError::BadRequest("updated_since must be an RFC 3339 time such as 2026-12-01T00:00:00Z".into())
        })?),
        None => None,
    };
    let s = &s;
    serve(
        s,
        &caller,
        |current, partner, now| async move { Ok((list_body(s, &current, &partner, now, since).await?, None)) },
    )
    .await
    .and_then(|body| list_response(body, &headers))
}

async fn list_body(
    s: &AppState,
    current: &Current,
    partner: &forewarn_core::Partner,
    now: Timestamp,
    since: Option<Timestamp>,
) -> Result<Vec<u8>, ApiError> {
    let advisories: Vec<ListedAdvisory> = listing(&s.store, &s.content, current, partner, now)
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
    Ok(json_bytes(&serde_json::to_value(AdvisoryList { advisories }).unwrap_or(Value::Null)))
}

fn list_response(body: Vec<u8>, headers: &HeaderMap) -> Result<Response, ApiError> {
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

/// Most times a decision is made again because the catalogue changed under it (see `recorder`).
const ATTEMPTS: usize = 5;

/// Answers a partner read: checks the caller and runs `work` on the latest catalogue snapshot, then has the outcome
/// (an answer with the record of the copy it carries, or a refusal) confirmed at the commit point. When the snapshot
/// turns out to be stale, nothing was recorded or sent, and the whole decision is made again on a fresh one — so
/// what a partner receives, including a 401, 403 or 404, is always decided on a catalogue no older than its request.
pub(crate) async fn serve<T, F, Fut>(s: &AppState, caller: &Caller, work: F) -> Result<T, ApiError>
where
    F: Fn(std::sync::Arc<Current>, std::sync::Arc<forewarn_core::Partner>, Timestamp) -> Fut,
    Fut: std::future::Future<Output = Result<(T, Option<Record>), ApiError>>,
{
    let mut counted = false;
    let admit = |current: &Current, now: Timestamp| {
        let partner = caller.check(current, now)?;
        if !counted {
            counted = true;
            caller.rate_limit(s)?;
        }
        Ok(partner)
    };
    serve_as(s, admit, work).await
}

/// [`serve`] for any way of knowing the partner: `admit` finds it in the catalogue snapshot (or refuses).
pub(crate) async fn serve_as<T, F, Fut>(
    s: &AppState,
    mut admit: impl FnMut(&Current, Timestamp) -> Result<std::sync::Arc<forewarn_core::Partner>, ApiError>,
    work: F,
) -> Result<T, ApiError>
where
    F: Fn(std::sync::Arc<Current>, std::sync::Arc<forewarn_core::Partner>, Timestamp) -> Fut,
    Fut: std::future::Future<Output = Result<(T, Option<Record>), ApiError>>,
{
    for attempt in 0..ATTEMPTS {
        let current = if attempt == 0 {
            s.catalogue.latest(&s.store).await?
        } else {
            s.catalogue.get(&mut *s.store.conn().await?).await?
        };
        let now = s.clock.now();
        let mut outcome = match admit(&current, now) {
            Ok(partner) => work(current.clone(), partner, now).await,
            Err(e) => Err(e),
        };
        if matches!(outcome, Err(ApiError::Internal)) {
            return Err(ApiError::Internal);
        }
        let record = outcome.as_mut().ok().and_then(|(_, r)| r.take());
        let confirmed = s.recorder.confirm(current.version, record).await.map_err(|e| {
            tracing::error!(error = %e, "a delivery could not be recorded; the copy is not sent");
            ApiError::Internal
        })?;
        if confirmed == Confirm::Fresh {
            return outcome.map(|(t, _)| t);
        }
    }
    tracing::error!(attempts = ATTEMPTS, "the catalogue changed under every attempt to answer a request");
    Err(ApiError::Internal)
}

/// Renders the caller's copy of advisory `id` with `render` and the record of that copy; 404 when the copy does not
/// exist. A rendering failure records nothing: no copy was made.
pub(crate) async fn deliver(
    s: &AppState,
    current: &Current,
    partner: &forewarn_core::Partner,
    id: &str,
    now: Timestamp,
    channel: Channel,
    render: impl FnOnce(&Personalised) -> Result<Vec<u8>, ApiError>,
) -> Result<(Vec<u8>, Option<Record>), ApiError> {
    let copy = copy_for(&s.store, &s.content, &s.program.fingerprint_key, current, partner, id, now)
        .await?
        .ok_or(ApiError::NotFound)?;
    let bytes = render(&copy)?;
    let record = Record {
        at: now,
        partner: PartnerId::parse(&copy.partner_id).map_err(|_| ApiError::Internal)?,
        advisory: AdvisoryId::parse(&copy.advisory_id).map_err(|_| ApiError::Internal)?,
        revision: copy.revision,
        sections: copy.sections.iter().map(|(k, _)| *k).collect(),
        channel,
        digest: hex(&Sha256::digest(&bytes)),
        codeword: copy.fingerprint.clone(),
    };
    Ok((bytes, Some(record)))
}

/// The caller's copy of one advisory, sections as Markdown.
#[utoipa::path(get, path = "/api/v1/advisories/{id}", tag = "partner", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = AdvisoryCopy), (status = 404, description = "Unknown, or not visible to the caller yet (identical answers)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn get_one(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (s, id) = (&s, &id);
    let bytes = serve(s, &caller, |current, partner, now| async move {
        deliver(s, &current, &partner, id, now, Channel::Api, |c| Ok(json_bytes(&copy_json(c)))).await
    })
    .await?;
    Ok(respond(bytes, "application/json"))
}

/// The caller's copy of one advisory as a CSAF 2.0 document.
#[utoipa::path(get, path = "/api/v1/advisories/{id}/csaf", tag = "partner", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, description = "A CSAF 2.0 csaf_security_advisory document", content_type = "application/json", body = Object),
        (status = 404, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get_csaf(State(s): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (s, id) = (&s, &id);
    let bytes = serve(s, &caller, |current, partner, now| async move {
        let publisher = &s.program.publisher;
        deliver(s, &current, &partner, id, now, Channel::Csaf, |c| Ok(s.content.csaf(c, publisher))).await
    })
    .await?;
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
pub async fn feed(State(s): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let s = &s;
    let bytes =
        serve(
            s,
            &caller,
            |current, partner, now| async move { Ok((feed_body(s, &current, &partner, now).await?, None)) },
        )
        .await?;
    Ok(respond(bytes, "application/json"))
}

async fn feed_body(
    s: &AppState,
    current: &Current,
    partner: &forewarn_core::Partner,
    now: Timestamp,
) -> Result<Vec<u8>, ApiError> {
    let base = &s.program.public_url;
    let listed = listing(&s.store, &s.content, current, partner, now).await?;
    let mut newest = s.program.started_at;
    let entries: Vec<Value> = listed
        .iter()
        .map(|l| {
            newest = newest.max(l.updated);
            let id = l.published.advisory.id.as_str();
            let first = l.first_visible(now);
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
    Ok(json_bytes(&doc))
}

/// A document of the feed, or its `.sha256` / `.sha512` / `.asc`.
#[utoipa::path(get, path = "/.well-known/csaf/tlp-amber/{year}/{file}", tag = "csaf", security(("bearer" = [])),
    params(("year" = String, Path), ("file" = String, Path, description = "`<name>.json`, or that with `.sha256`, `.sha512` or `.asc` appended")),
    responses((status = 200, description = "The document, its hash, or its detached OpenPGP signature"), (status = 404, body = ErrorBody)))]
/// A document of the feed, or its `.sha256` / `.sha512`. The hashes are of exactly the bytes the document URL
/// serves (the document changes only when the partner's copy does).
pub async fn feed_document(
    State(s): State<AppState>,
    caller: Caller,
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
    let (s, year) = (&s, &year);
    let render = |c: &Personalised| s.content.csaf(c, &s.program.publisher);
    let render = &render;
    let (bytes, content_type) = serve(s, &caller, |current, partner, now| async move {
        let (current, partner) = (&current, &partner);
        let entry =
            crate::delivery::listed_one(&s.store, &s.content, current, partner, |id| csaf::filename(id) == name, now)
                .await?
                .ok_or(ApiError::NotFound)?;
        // The year folder is that of the copy's initial release, as in the feed.
        if entry.first_visible(now).to_zoned(jiff::tz::TimeZone::UTC).year().to_string() != *year {
            return Err(ApiError::NotFound);
        }
        let id = entry.published.advisory.id.as_str();
        let Some(bits) = hash else {
            let (bytes, record) = deliver(s, current, partner, id, now, Channel::Csaf, |c| Ok(render(c))).await?;
            return Ok(((bytes, "application/json"), record));
        };
        // Hash and signature files are not content: computed from the same rendering, not recorded as a delivery.
        let copy = copy_for(&s.store, &s.content, &s.program.fingerprint_key, current, partner, id, now)
            .await?
            .ok_or(ApiError::NotFound)?;
        let doc = render(&copy);
        if bits == 0 {
            let sig = s.program.signing_key.sign_detached(&doc).map_err(|e| {
                tracing::error!(error = %e, "signing failed");
                ApiError::Internal
            })?;
            return Ok(((sig.into_bytes(), "application/pgp-signature"), None));
        }
        let digest = if bits == 256 { hex(&Sha256::digest(&doc)) } else { hex(&Sha512::digest(&doc)) };
        Ok(((format!("{digest}  {name}\n").into_bytes(), "text/plain; charset=utf-8"), None))
    })
    .await?;
    Ok(respond(bytes, content_type))
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
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (s, id) = (&s, &id);
    let bytes =
        serve(s, &caller, |current, partner, now| async move { bundle_for(s, &current, &partner, id, now).await })
            .await?;
    Ok(respond(bytes, "application/pgp-encrypted"))
}

/// The partner's encrypted, signed bundle of advisory `id` (its CSAF document and the PoC attachments it may see),
/// with the record of the copy: 404 when the advisory does not exist for the partner, 409 when no OpenPGP key is
/// registered (decided in that order). Shared by the API and the portal.
pub(crate) async fn bundle_for(
    s: &AppState,
    current: &Current,
    partner: &forewarn_core::Partner,
    id: &str,
    now: Timestamp,
) -> Result<(Vec<u8>, Option<Record>), ApiError> {
    let (publisher, signer) = (&s.program.publisher, &s.program.signing_key);
    // 404 comes before 409: whether the advisory exists for the caller is decided first (by its view alone; the
    // copy is rendered once, below).
    crate::delivery::listed_one(&s.store, &s.content, current, partner, |a| a == id, now)
        .await?
        .ok_or(ApiError::NotFound)?;
    let armored = forewarn_store::partners::openpgp_key(&mut *s.store.conn().await?, &partner.id).await?;
    let Some(armored) = armored else {
        return Err(ApiError::Conflict(
            "no OpenPGP key is registered for your organisation; PUT one to /api/v1/me/openpgp-key first".into(),
        ));
    };
    let recipient = forewarn_openpgp::PartnerKey::parse(armored.as_bytes()).map_err(|e| {
        tracing::error!(partner = %partner.id, error = %e, "stored partner key no longer parses");
        ApiError::Internal
    })?;
    deliver(s, current, partner, id, now, Channel::Bundle, |c| {
        let doc = s.content.csaf(c, publisher);
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
    .await
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
